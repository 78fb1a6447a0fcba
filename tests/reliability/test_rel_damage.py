"""Damaged store files, through the CLI: the file and the problem are named in one line;
a valid ``.bak`` is recovered with a warning (the damaged file kept beside it); otherwise
exit 1 with what to do. Never a traceback, never a silently empty store."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import filelock
import pytest
from click.testing import CliRunner
from relsupport import copy_store, read_reviews_file, run_cli

import seeds
import storage.store as store_module
from storage import Store, StoreError, samples_dir
from tui.cli import main

DAMAGE = {
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "garbage": lambda data: b"\x00\xff\xfe garbage \x1b[31m{{{" * 3,
}
PROBLEM = {
    "truncated": "not valid JSON",
    "empty": "empty (truncated?)",
    "garbage": "not valid JSON",
}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """Samples imported twice (the second time with one post edited, so its shard has a
    ``.bak``), decisions on two posts, one after the other (``reviews.json.bak`` holds the
    first only)."""
    root = tmp_path_factory.mktemp("damage")
    corpus = root / "corpus"
    shutil.copytree(samples_dir(), corpus)
    db = root / "db.json"
    with Store.open(db) as store:
        store.import_paths([corpus])
        first, second = store.ids()[:2]
        store.set_review(first, "approved", "first decision")
        store.set_review(second, "rejected", "second decision")
    edited = sorted(corpus.iterdir())[0]
    post = seeds.read_file(edited)
    edited.write_text(edited.read_text().replace(post.title, post.title + " v2", 1))
    with Store.open(db) as store:
        assert store.import_paths([corpus]).updated == [post.id]
    return {
        "db": db,
        "corpus": corpus,
        "first": first,
        "second": second,
        "edited": post.id,
        "old_title": post.title,
        "new_title": post.title + " v2",
    }


@pytest.fixture
def case(base, tmp_path):
    db = copy_store(base["db"], tmp_path / "store")
    return {**base, "db": db}


def _target(case, which: str) -> Path:
    db = case["db"]
    data_dir = db.with_name(db.name + ".d")
    if which == "manifest":
        return db
    if which == "reviews":
        return data_dir / "reviews.json"
    if which == "index":
        return data_dir / "index.pickle"
    (shard,) = [p for p in data_dir.glob("posts-*.json") if case["edited"] in p.read_text()]
    return shard


def _cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def _listed(db: Path) -> dict[str, dict]:
    result = _cli("--db", str(db), "list", "--json")
    assert result.exit_code == 0, result.stderr
    return {row["id"]: row for row in json.loads(result.stdout)}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("which", ["manifest", "reviews", "shard"])
def test_damaged_file_with_a_valid_backup_is_recovered_with_one_warning(case, which, damage):
    db = case["db"]
    target = _target(case, which)
    backup = target.with_name(target.name + ".bak")
    damaged_bytes = DAMAGE[damage](target.read_bytes())
    target.write_bytes(damaged_bytes)

    if which == "shard":
        result = _cli("--db", str(db), "show", case["edited"], "--json")
    else:
        result = _cli("--db", str(db), "list", "--json")
    assert result.exit_code == 0, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"warning: {target}: {PROBLEM[damage]}")
    assert f"recovered the previous generation from {backup.name}" in line
    (kept,) = target.parent.glob(target.name + ".damaged-*")
    assert kept.read_bytes() == damaged_bytes and kept.name in line
    if which == "manifest":  # the previous generation, in place (then re-indexed: clean)
        assert json.loads(target.read_bytes())["store"]["1"]["clean"] is True
    else:  # the previous generation, in place
        assert target.read_bytes() == backup.read_bytes()

    listed = _listed(db)
    assert len(listed) == 5
    if which == "reviews":  # the backup is the generation before the second decision
        assert listed[case["first"]]["status"] == "approved"
        assert listed[case["second"]]["status"] == "pending"
    else:
        assert listed[case["first"]]["status"] == "approved"
        assert listed[case["second"]]["status"] == "rejected"
    if which == "shard":
        # the backup holds the post as it was before the edit: list and show agree on it,
        shown = json.loads(result.stdout)
        assert shown["title"] == case["old_title"] == listed[case["edited"]]["title"]
        # and importing again brings the edit back
        imported = _cli("--db", str(db), "import", str(case["corpus"]))
        assert imported.exit_code == 0, imported.stderr
        assert "1 updated" in imported.stdout
        again = _cli("--db", str(db), "show", case["edited"], "--json")
        assert json.loads(again.stdout)["title"] == case["new_title"]
    # recovered for good: the next command is quiet
    assert _cli("--db", str(db), "list").stderr == ""


@pytest.mark.parametrize("backup_state", ["missing", "damaged"])
@pytest.mark.parametrize("which", ["manifest", "reviews", "shard"])
def test_damaged_file_without_a_valid_backup_exits_1_saying_what_to_do(case, which, backup_state):
    db = case["db"]
    target = _target(case, which)
    backup = target.with_name(target.name + ".bak")
    target.write_bytes(b'{"half": ')
    if backup_state == "missing":
        backup.unlink(missing_ok=True)
    else:
        backup.write_bytes(b"")
    before = {p: p.read_bytes() for p in db.parent.rglob("*") if p.is_file()}

    args = ["show", case["edited"]] if which == "shard" else ["list"]
    result = _cli("--db", str(db), *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"copydesk: {target}: not valid JSON")
    assert f"no valid backup ({backup.name}: " in line
    advice = {
        "manifest": "Move it aside: copydesk rebuilds it from db.json.d.",
        "reviews": "Restore it from your own backup, or move it aside",
        "shard": "Move it aside, then `copydesk import` your seed files again",
    }[which]
    assert advice in line
    # nothing was replaced, renamed or started afresh
    after = {p: p.read_bytes() for p in db.parent.rglob("*") if p.is_file()}
    assert {p: b for p, b in after.items() if not p.name.endswith(".lock")} == {
        p: b for p, b in before.items() if not p.name.endswith(".lock")
    }


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_index_cache_is_named_and_rebuilt_from_the_shards(case, damage):
    db = case["db"]
    target = _target(case, "index")
    target.write_bytes(DAMAGE[damage](target.read_bytes()))
    result = _cli("--db", str(db), "list", "--json")
    assert result.exit_code == 0
    if damage == "empty":  # an empty cache is as good as none: rebuilt without a word
        assert result.stderr == "" or str(target) in result.stderr
    else:
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"warning: {target}: damaged (")
        assert line.endswith("rebuilding it from the post shards")
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert len(rows) == 5 and rows[case["second"]]["status"] == "rejected"
    assert rows[case["edited"]]["title"] == case["new_title"]
    assert _cli("--db", str(db), "list").stderr == ""


def test_following_the_advice_for_a_lost_manifest_keeps_every_post(case, synth_corpus, tmp_path):
    db = case["db"]
    db.unlink()
    db.with_name(db.name + ".bak").unlink()
    listed = _listed(db)  # rebuilt from the shards
    assert len(listed) == 5 and listed[case["second"]]["status"] == "rejected"
    extra = tmp_path / "extra"
    extra.mkdir()
    for path in synth_corpus[:6]:
        shutil.copy(path, extra / path.name)
    assert _cli("--db", str(db), "import", str(extra)).exit_code == 0
    listed = _listed(db)
    assert len(listed) == 11
    for post_id, row in listed.items():  # new posts did not overwrite old ones in the shards
        shown = json.loads(_cli("--db", str(db), "show", post_id, "--json").stdout)
        assert (shown["id"], shown["title"]) == (post_id, row["title"])


def test_following_the_advice_for_a_lost_shard_reimports_its_posts(case):
    db = case["db"]
    shard = _target(case, "shard")
    shard.write_bytes(b"garbage")
    shard.with_name(shard.name + ".bak").unlink(missing_ok=True)
    failed = _cli("--db", str(db), "show", case["edited"])
    assert failed.exit_code == 1 and "Move it aside" in failed.stderr
    shard.rename(shard.with_name("moved-aside.json"))
    result = _cli("--db", str(db), "import", str(case["corpus"]))
    assert result.exit_code == 0, result.stderr
    assert "1 imported" in result.stdout
    shown = json.loads(_cli("--db", str(db), "show", case["edited"], "--json").stdout)
    assert shown["title"] == case["new_title"]
    listed = _listed(db)
    assert len(listed) == 5 and listed[case["first"]]["status"] == "approved"


def test_real_process_prints_one_line_and_no_traceback(case, env):
    db = case["db"]
    reviews = _target(case, "reviews")
    reviews.write_bytes(b"\x00garbage")
    recovered = run_cli(["--db", str(db), "list"], env)
    assert recovered.returncode == 0
    (line,) = recovered.stderr.splitlines()
    assert line.startswith(f"warning: {reviews}: not valid JSON") and "recovered" in line
    assert len(recovered.stdout.splitlines()) == 5

    manifest = _target(case, "manifest")
    manifest.write_bytes(b"")
    manifest.with_name(manifest.name + ".bak").write_bytes(b"[]")
    failed = run_cli(["--db", str(db), "review", case["first"], "-s", "rejected"], env)
    assert failed.returncode == 1
    (line,) = failed.stderr.splitlines()
    assert line.startswith(f"copydesk: {manifest}: empty (truncated?)")
    assert "not a copydesk store" in line and "Traceback" not in failed.stderr


def test_store_path_that_is_a_directory_or_under_a_file_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        Store.open(tmp_path)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    result = _cli("--db", str(plain / "db.json"), "list")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"copydesk: {tmp_path}") or line.startswith(f"copydesk: {plain}")
    assert "cannot create the store directory" in line


def test_unwritable_store_directory_is_a_clear_error(case, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self.lock_file))

    monkeypatch.setattr(filelock.FileLock, "acquire", refuse)
    result = _cli("--db", str(case["db"]), "review", case["first"], "-s", "rejected")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line == f"copydesk: {case['db']}.lock: cannot create the lock file (Permission denied)"


def test_lock_held_by_another_process_times_out_with_a_clear_message(case, monkeypatch):
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT_S", 0.3)
    holder = filelock.FileLock(str(case["db"]) + ".lock")
    with holder.acquire():
        result = _cli("--db", str(case["db"]), "review", case["first"], "-s", "rejected")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line == (f"copydesk: {case['db']}: locked by another copydesk process for over 0.3s")
    assert _listed(case["db"])[case["first"]]["status"] == "approved"


def test_disk_full_while_saving_is_one_line_and_keeps_the_saved_file(case, monkeypatch):
    reviews = _target(case, "reviews")
    before = reviews.read_bytes()

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    result = _cli("--db", str(case["db"]), "review", case["first"], "-s", "rejected")
    monkeypatch.undo()
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("copydesk: ") and "No space left on device" in line
    assert reviews.read_bytes() == before
    assert not list(reviews.parent.glob(".*.tmp"))


def test_stale_temp_files_are_never_read(case):
    db = case["db"]
    data_dir = db.with_name(db.name + ".d")
    for name in (
        ".reviews.json.4242.17.tmp",
        ".posts-01.json.4242.bak.tmp",
        ".index.pickle.4242.9.tmp",
        f".{db.name}.4242.3.tmp",
    ):
        (db.parent if name.startswith(f".{db.name}") else data_dir).joinpath(name).write_bytes(
            b'{"reviews": {}, "posts": {}}'
        )
    listed = _listed(db)
    assert len(listed) == 5 and listed[case["first"]]["status"] == "approved"
    assert _cli("--db", str(db), "review", case["second"], "-s", "approved").exit_code == 0
    assert _listed(db)[case["second"]]["status"] == "approved"
    shown = json.loads(_cli("--db", str(db), "show", case["edited"], "--json").stdout)
    assert shown["title"] == case["new_title"]


def test_a_reader_recovering_a_file_never_moves_aside_a_decision_saved_meanwhile(case, monkeypatch):
    # The reader (the TUI, say, holding no lock) finds reviews.json damaged; before it puts
    # the backup in place, a writer recovers the file itself and saves a decision on top.
    import storage.jsonstore as jsonstore

    db = case["db"]
    reviews = _target(case, "reviews")
    reviews.write_bytes(b"garbage")
    writer, reader = Store.open(db), Store.open(db)
    real_decode = jsonstore._decode
    armed = [True]

    def decode_then_let_the_writer_in(path):
        result = real_decode(path)
        if armed[0] and Path(path) == reviews and result[1] is not None:
            armed[0] = False
            writer.set_review(case["second"], "changes_requested", "saved meanwhile")
        return result

    monkeypatch.setattr(jsonstore, "_decode", decode_then_let_the_writer_in)
    seen = reader.reviews()
    monkeypatch.undo()
    assert not armed[0]
    assert seen[case["second"]].note == "saved meanwhile"
    saved = read_reviews_file(db)
    assert saved[case["second"]]["note"] == "saved meanwhile"
    assert len(list(reviews.parent.glob("reviews.json.damaged-*"))) == 1
    writer.close()
    reader.close()
