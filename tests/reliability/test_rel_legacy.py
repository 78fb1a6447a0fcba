"""A store of copydesk's first format (64 post shards, reviews.json + reviews-recent.json;
built by hand in legacystore.py) converts on the first writing command with every post,
decision, conflict and saved view; a read-only command on it says what to do and writes
nothing; a crash at any write of the conversion loses nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import legacystore
import orjson
import pytest
from click.testing import CliRunner
from relsupport import changed_names, listing, run_cli

import storage.jsonstore as jsonstore
import storage.local.decisions as decisions_module
import storage.local.journal as journal_module
import storage.local.layout as layout_module
import storage.local.legacy as legacy_module
from storage import Store, samples_dir
from tui.cli import main

READ_ONLY = [["list"], ["show", "anp-ref-003275-2123"], ["views"], ["export"], ["conflicts"]]


@pytest.fixture
def old(tmp_path, synth_corpus):
    corpus = tmp_path / "corpus"
    shutil.copytree(samples_dir(), corpus)
    for path in synth_corpus[:25]:
        shutil.copy(path, corpus / path.name)
    db = tmp_path / "store" / "db.json"
    built = legacystore.build(db, sorted(corpus.iterdir()))
    return {**built, "db": db, "corpus": corpus}


def _cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def _assert_converted(db: Path, old: dict, extra: dict[str, str] | None = None) -> None:
    with Store.open(db, warn=(warnings := []).append) as store:
        assert sorted(store.ids()) == sorted(old["records"])
        for post_id, record in old["records"].items():
            post = store.get(post_id)
            assert (post.title, post.body, post.meta) == (
                record["title"],
                record["body"],
                record["meta"],
            )
            assert post.source == record["source"]
            assert [h["code"] for h in post.hints if h["code"] != "near_duplicate"] == [
                h["code"] for h in record["hints"] if h["code"] != "near_duplicate"
            ]
        decisions = {pid: r.to_dict() for pid, r in store.reviews().items()}
        for post_id, note in (extra or {}).items():
            assert decisions.pop(post_id)["note"] == note
        assert decisions == old["decisions"]
        (conflict,) = store.conflicts()
        assert conflict.post_id == old["conflict"]["post_id"]
        assert conflict.theirs.to_dict() == old["conflict"]["theirs"]
        assert [(v.name, v.query) for v in store.views() if not v.builtin] == old["views"]
        assert store.count("stack:php") == sum(
            "php" in r["meta"].get("stack", []) for r in old["records"].values()
        )
    assert warnings == []  # converted for good: the next open is quiet
    manifest = orjson.loads(db.read_bytes())
    assert manifest["copydesk"]["1"]["format"] == layout_module.FORMAT  # the current one
    old_dir = db.with_name(db.name + ".d") / "format-1"
    moved = sorted(p.name for p in old_dir.iterdir())
    assert moved == sorted([*old["old_files"], "db.json.bak"])  # kept, out of the way
    assert orjson.loads((old_dir / "db.json.bak").read_bytes())["store"]["1"]["format"] == 1


def test_a_read_only_command_on_a_format_1_store_says_what_to_do_and_writes_nothing(old, env):
    db = old["db"]
    before = listing(db.parent)
    for args in READ_ONLY:
        result = _cli("--db", str(db), *args)
        assert result.exit_code == 1 and result.stdout == "", args
        (line,) = result.stderr.splitlines()
        assert line == (
            f"copydesk: {db}: a store of copydesk's first format; open it once with "
            "`copydesk` (or run `copydesk import`) to convert it, then run this again"
        )
    real = run_cli(["--db", str(db), "list"], env)
    assert real.returncode == 1 and "first format" in real.stderr
    assert "Traceback" not in real.stderr
    assert changed_names(before, listing(db.parent)) == []


def test_the_first_writing_command_converts_everything(old):
    db = old["db"]
    post_id = sorted(old["records"])[-1]
    result = _cli("--db", str(db), "review", post_id, "-s", "rejected", "-m", "after")
    assert result.exit_code == 0, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"warning: {db}: converted to the current store format")
    assert f"({len(old['records'])} posts, {len(old['decisions'])} decisions)" in line
    _assert_converted(db, old, {post_id: "after"})
    exported = _cli("--db", str(db), "export", "--format", "jsonl")
    rows = {r["id"]: r for r in map(json.loads, exported.stdout.splitlines())}
    assert {pid: r["note"] for pid, r in rows.items() if pid != post_id} == {
        pid: d["note"] for pid, d in old["decisions"].items()
    }


def test_an_import_converts_then_imports_nothing_twice(old):
    db = old["db"]
    result = _cli("--db", str(db), "import", str(old["corpus"]))
    assert result.exit_code == 0, result.stderr
    assert f"0 imported, 0 updated, {len(old['records'])} unchanged" in result.stdout
    _assert_converted(db, old)


class Crash(BaseException):
    """Stands for kill -9."""


def _crash_at(monkeypatch, crash_at: int) -> list[str]:
    done: list[str] = []
    real = jsonstore.atomic_write_bytes

    def crashing(path, data, **kwargs):
        if len(done) == crash_at:
            raise Crash(str(path))
        done.append(Path(path).name)
        return real(path, data, **kwargs)

    for module in (jsonstore, legacy_module, journal_module, decisions_module):
        if hasattr(module, "atomic_write_bytes"):
            monkeypatch.setattr(module, "atomic_write_bytes", crashing)
    import storage.analysis as analysis_module

    monkeypatch.setattr(analysis_module, "atomic_write_bytes", crashing)
    return done


def test_a_crash_at_any_write_of_the_conversion_loses_nothing(old, tmp_path, monkeypatch):
    template = old["db"].parent
    with monkeypatch.context() as mp:
        count_copy = tmp_path / "count"
        shutil.copytree(template, count_copy)
        writes = _crash_at(mp, 10**9)
        Store.open(count_copy / "db.json").close()
    assert writes[-1] == "db.json"  # the manifest switch is the commit point
    for crash_at in range(len(writes)):
        copy = tmp_path / f"crash-{crash_at}"
        shutil.copytree(template, copy)
        with monkeypatch.context() as mp:
            _crash_at(mp, crash_at)
            with pytest.raises(Crash):
                Store.open(copy / "db.json")
        Store.open(copy / "db.json").close()  # converts (again) from the old files
        _assert_converted(copy / "db.json", old)
