"""Issue 14, item 9: a status on disk that copydesk does not know (``approvxd``), or a
format field it does not read, is refused or left out with a warning naming it, and never
reaches an export, a list or the TUI."""

from __future__ import annotations

import json
import shutil
import zlib
from pathlib import Path

import legacystore
import orjson
import pytest
from click.testing import CliRunner
from relsupport import changed_names, copy_store, listing

import storage.local.layout as layout_module
from storage import STATUSES, Store, StoreError, samples_dir
from storage.local.decisions import DecisionsLostError
from storage.local.journal import decode
from tui.cli import main


def _cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def decided(tmp_path_factory):
    db = tmp_path_factory.mktemp("status") / "db.json"
    with Store.open(db) as store:
        store.import_paths([samples_dir()])
        ids = store.ids()
        for n, post_id in enumerate(ids):
            store.set_review(post_id, STATUSES[1 + n % 3], f"note {n}")
    return db, ids


@pytest.fixture
def db(decided, tmp_path):
    return copy_store(decided[0], tmp_path / "store"), decided[1]


def _set_status_in_journal(db: Path, names: tuple[str, ...], seq: int, status: str) -> str:
    """Record ``seq``'s decision gets ``status``, with a valid checksum (a hand edit, or a
    newer copydesk); returns the post id."""
    post_id = ""
    for name in names:
        path = db.with_name(db.name + ".d") / name
        lines = path.read_bytes().splitlines()
        record = decode(lines[seq])
        post_id, review = next(iter(record["decisions"].items()))
        review["status"] = status
        payload = orjson.dumps(record)
        lines[seq] = b"%08x %s" % (zlib.crc32(payload), payload)
        path.write_bytes(b"\n".join(lines) + b"\n")
    return post_id


def _exports(db: Path) -> str:
    return "".join(
        _cli("--db", str(db), "export", "--format", fmt, "--all").stdout
        for fmt in ("jsonl", "csv", "md", "json")
    )


@pytest.mark.parametrize("seq", [2, -1])
def test_an_unknown_status_in_both_journal_copies_is_refused_and_never_exported(db, seq):
    db, ids = db
    post_id = _set_status_in_journal(db, ("journal.jsonl", "journal-mirror.jsonl"), seq, "approvxd")
    before = listing(db.parent)
    for args in (["export", "--format", "jsonl"], ["list"], ["review", ids[0], "-s", "approved"]):
        result = _cli("--db", str(db), *args)
        assert result.exit_code == 1 and result.stdout == "", args
        (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("copydesk: ")]
        assert f"bad decision for '{post_id}'" in line and "copydesk repair" in line
    with pytest.raises(DecisionsLostError, match=post_id):
        Store.open(db, writable=False)
    assert [n for n in changed_names(before, listing(db.parent)) if not n.endswith(".lock")] == []


def test_an_unknown_status_in_one_journal_copy_is_named_and_the_other_copy_used(db):
    db, ids = db
    post_id = _set_status_in_journal(db, ("journal.jsonl",), -1, "approvxd")
    result = _cli("--db", str(db), "export", "--format", "jsonl")
    assert result.exit_code == 0
    (line,) = result.stderr.splitlines()
    assert "journal.jsonl: journal record" in line and f"bad decision for '{post_id}'" in line
    rows = {row["id"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert rows[post_id]["status"] in STATUSES and len(rows) == len(ids)
    assert "approvxd" not in _exports(db)


def test_an_unknown_status_in_the_checkpoint_is_named_and_never_exported(db, monkeypatch):
    db, ids = db
    import storage.local.decisions as decisions_module

    monkeypatch.setattr(decisions_module, "CHECKPOINT_EVERY", 1)
    with Store.open(db) as store:
        store.set_review(ids[0], "rejected", "checkpointed")
    checkpoint = db.with_name(db.name + ".d") / "decisions.json"
    data = orjson.loads(checkpoint.read_bytes())
    for doc in data["decisions"].values():
        doc["status"] = "approvxd"
    checkpoint.write_bytes(orjson.dumps(data))
    result = _cli("--db", str(db), "list", "--json")
    assert result.exit_code == 0
    (line,) = result.stderr.splitlines()
    assert f"{checkpoint}: not in the expected shape (a bad decision" in line
    statuses = {row["id"]: row["status"] for row in json.loads(result.stdout)}
    assert statuses[ids[0]] == "rejected" and set(statuses.values()) <= set(STATUSES)
    assert "approvxd" not in _exports(db)


def test_an_unknown_status_in_a_merged_file_is_a_bad_line_not_merged(db, tmp_path):
    db, ids = db
    theirs = tmp_path / "theirs.jsonl"
    theirs.write_text(
        json.dumps({"id": ids[0], "status": "approvxd", "reviewer": "bob"}) + "\n", "utf-8"
    )
    result = _cli("--db", str(db), "import-reviews", str(theirs))
    assert result.exit_code == 1
    assert f"{theirs}:1: unknown status 'approvxd'" in result.stderr
    assert "approvxd" not in _exports(db)


def test_a_format_1_store_with_an_unknown_status_converts_without_it_and_says_so(tmp_path):
    db = tmp_path / "old" / "db.json"
    corpus = tmp_path / "corpus"
    shutil.copytree(samples_dir(), corpus)
    built = legacystore.build(db, sorted(corpus.iterdir()))
    recent = db.with_name("db.json.d") / "reviews-recent.json"
    data = orjson.loads(recent.read_bytes())
    bad = data["reviews"]["3"]
    bad["status"] = "approvxd"
    recent.write_bytes(orjson.dumps(data))
    result = _cli("--db", str(db), "review", bad["id"], "-s", "approved", "-m", "decided again")
    assert result.exit_code == 0, result.stderr
    assert f"{bad['id']}" in result.stderr and "'approvxd'" in result.stderr
    with Store.open(db, warn=(warnings := []).append) as store:
        decisions = {pid: r.to_dict() for pid, r in store.reviews().items()}
    assert decisions.pop(bad["id"])["note"] == "decided again"
    expected = {pid: d for pid, d in built["decisions"].items() if pid != bad["id"]}
    assert decisions == expected and warnings == []
    assert "approvxd" not in _exports(db)


def test_a_manifest_of_a_newer_format_is_refused_not_recovered_from_its_backup(db):
    db, _ = db
    data = orjson.loads(db.read_bytes())
    shutil.copy(db, db.with_name(db.name + ".bak"))  # a valid generation beside it
    newer = layout_module.FORMAT + 1
    data["copydesk"]["1"]["format"] = newer
    db.write_bytes(orjson.dumps(data))
    before = listing(db.parent)
    for args in (["list"], ["review", "anp-ref-003275-2123", "-s", "approved"]):
        result = _cli("--db", str(db), *args)
        assert result.exit_code == 1
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"copydesk: {db}: ") and f"format {newer}" in line
        assert "newer copydesk" in line
    with pytest.raises(StoreError, match=f"format {newer}"):
        Store.open(db)
    assert [n for n in changed_names(before, listing(db.parent)) if not n.endswith(".lock")] == []
