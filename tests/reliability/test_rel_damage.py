"""Damage and trouble through the CLI, one line each: a damaged file with a valid ``.bak``
is recovered with a warning (the damaged file kept beside it) and the next command is
quiet; a damaged derived index is rebuilt with one warning; a full disk, a held lock, an
unwritable directory or a store path that cannot be one are one clear line; the real
program never prints a traceback. (Every file x every kind of damage: the fault matrix.)"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import filelock
import pytest
from click.testing import CliRunner
from relsupport import changed_names, copy_store, journal_decisions, listing, run_cli

import storage.local.store_base as store_module
from storage import Store, StoreError
from tui.cli import main

DAMAGE = {
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "garbage": lambda data: b"\x00\xff\xfe garbage \x1b[31m{{{" * 3,
    "wrong shape": lambda data: b'{"reviews": "x"}',
}
PROBLEM = {
    "truncated": "not valid JSON",
    "empty": "empty (truncated?)",
    "garbage": "not valid JSON",
    "wrong shape": "not in the expected shape",
}


@pytest.fixture(scope="module")
def base(tmp_path_factory, synth_corpus):
    """40 synthetic posts imported, then 4 more (so that shelf.json.bak is the generation
    before), decisions on two posts with a checkpoint between them (decisions.json.bak
    holds the first only)."""
    import storage.local.decisions as decisions_module
    from storage.local import store_imports

    root = tmp_path_factory.mktemp("damage")
    corpus = root / "corpus"
    corpus.mkdir()
    for path in synth_corpus[:44]:
        (corpus / path.name).write_bytes(path.read_bytes())
    db = root / "db.json"
    every = decisions_module.CHECKPOINT_EVERY
    decisions_module.CHECKPOINT_EVERY = 1
    # imports in two commits, as a big batch does: shelf.json.bak then holds the same
    # posts (a small import's one commit leaves the previous import's shelf there, and
    # reading it back takes the newer posts in again, with a warning of its own)
    derive_at_once = store_imports.DERIVE_BEFORE_COMMIT
    store_imports.DERIVE_BEFORE_COMMIT = 0
    try:
        with Store.open(db) as store:
            store.import_paths(sorted(corpus.iterdir())[:40])
            store.import_paths([corpus])
            first, second = store.ids()[:2]
            store.set_review(first, "approved", "first decision")
            store.set_review(second, "rejected", "second decision")
    finally:
        decisions_module.CHECKPOINT_EVERY = every
        store_imports.DERIVE_BEFORE_COMMIT = derive_at_once
    return {"db": db, "corpus": corpus, "first": first, "second": second}


@pytest.fixture
def case(base, tmp_path):
    db = copy_store(base["db"], tmp_path / "store")
    return {**base, "db": db, "data_dir": db.with_name(db.name + ".d")}


def _target(case, which: str) -> Path:
    if which == "manifest":
        return case["db"]
    if which == "index":
        (index,) = case["data_dir"].glob("index-*.cdx")
        return index
    return case["data_dir"] / which


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
@pytest.mark.parametrize("which", ["shelf.json", "decisions.json"])
def test_damaged_file_with_a_valid_backup_is_recovered_with_one_warning(case, which, damage):
    db, target = case["db"], _target(case, which)
    backup = target.with_name(target.name + ".bak")
    damaged_bytes = DAMAGE[damage](target.read_bytes())
    target.write_bytes(damaged_bytes)

    before = listing(db.parent)
    read_only = _cli("--db", str(db), "list", "--json")  # works around it, writes nothing
    assert read_only.exit_code == 0 and changed_names(before, listing(db.parent)) == []
    (line,) = read_only.stderr.splitlines()
    assert line.startswith(f"warning: {target}: {PROBLEM[damage]}")
    assert f"read the previous generation from {backup.name} (left as it is)" in line

    result = _cli("--db", str(db), "review", case["first"], "-s", "changes_requested")
    assert result.exit_code == 0, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"warning: {target}: {PROBLEM[damage]}")
    assert f"recovered the previous generation from {backup.name}" in line
    (kept,) = target.parent.glob(target.name + ".damaged-*")
    assert kept.read_bytes() == damaged_bytes and kept.name in line

    listed = _listed(db)
    assert len(listed) == 44  # the shelf's previous generation lists the same posts
    # the checkpoint's previous generation holds one decision; the journal the rest
    assert listed[case["first"]]["status"] == "changes_requested"
    assert listed[case["second"]]["status"] == "rejected"
    assert _cli("--db", str(db), "list").stderr == ""  # recovered for good: quiet


def test_following_the_advice_for_a_lost_shelf_keeps_every_decision(case):
    db = case["db"]
    for name in ("shelf.json", "shelf.json.bak"):
        (case["data_dir"] / name).write_bytes(b"garbage")
    failed = _cli("--db", str(db), "list")
    assert failed.exit_code == 1 and "copydesk repair" in failed.stderr
    repaired = _cli("--db", str(db), "repair")
    assert repaired.exit_code == 0, repaired.stderr
    assert _cli("--db", str(db), "import", str(case["corpus"])).exit_code == 0
    listed = _listed(db)
    assert len(listed) == 44
    assert listed[case["first"]]["status"] == "approved"
    assert listed[case["second"]]["status"] == "rejected"


def test_both_journal_copies_damaged_refuses_and_repair_goes_on_from_the_checkpoint(case):
    db = case["db"]
    for name in ("journal.jsonl", "journal-mirror.jsonl"):
        (case["data_dir"] / name).write_bytes(b"garbage\n" * 3)
    before = listing(db.parent)
    for args in (["list"], ["review", case["first"], "-s", "rejected"]):
        failed = _cli("--db", str(db), *args)
        assert failed.exit_code == 1 and failed.stdout == ""
        (line,) = [ln for ln in failed.stderr.splitlines() if ln.startswith("copydesk: ")]
        assert "decisions.json holds decisions up to record 2" in line
        assert "Restore the files from a backup, or run `copydesk repair`" in line
    assert [n for n in changed_names(before, listing(db.parent)) if not n.endswith(".lock")] == []
    repaired = _cli("--db", str(db), "repair")
    assert repaired.exit_code == 0, repaired.stderr
    assert "journal restarted with 2 decisions" in repaired.stdout
    listed = _listed(db)
    assert listed[case["first"]]["status"] == "approved"
    assert listed[case["second"]]["status"] == "rejected"
    assert _cli("--db", str(db), "review", case["first"], "-s", "rejected").exit_code == 0


DERIVED_DAMAGE = {
    "truncated": lambda data: data[: len(data) // 2],
    "body garbage": lambda data: data[: data.index(b"\n") + 1] + b"\x00garbage",
    "garbage": lambda data: b"\x00\xff\xfe garbage",
    "empty object": lambda data: b"{}",
}


@pytest.mark.parametrize(
    "damage",
    [
        "truncated",
        "body garbage",
        "garbage",
        "empty object",
    ],
)
def test_damaged_index_is_named_and_rebuilt_from_the_segments_with_one_warning(case, damage):
    db, target = case["db"], _target(case, "index")
    target.write_bytes(DERIVED_DAMAGE[damage](target.read_bytes()))
    before = listing(db.parent)
    result = _cli("--db", str(db), "list", "--json")  # read-only: rebuilt in memory only
    assert result.exit_code == 0 and changed_names(before, listing(db.parent)) == []
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"warning: {target}: damaged (")
    assert line.endswith("rebuilding it from the post segments")
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert len(rows) == 44 and rows[case["second"]]["status"] == "rejected"
    with Store.open(db, warn=(warnings := []).append) as store:  # a writer (the TUI's)
        assert len(store.search("", limit=None)) == 44
    assert len(warnings) == 1  # rebuilt for good:
    assert _cli("--db", str(db), "list").stderr == ""


def test_real_process_prints_one_line_and_no_traceback(case, env):
    db = case["db"]
    checkpoint = _target(case, "decisions.json")
    checkpoint.write_bytes(b"\x00garbage")
    recovered = run_cli(["--db", str(db), "list"], env)
    assert recovered.returncode == 0
    (line,) = recovered.stderr.splitlines()
    assert line.startswith(f"warning: {checkpoint}: not valid JSON") and "previous" in line
    assert len(recovered.stdout.splitlines()) == 44

    for name in ("journal.jsonl", "journal-mirror.jsonl"):
        (case["data_dir"] / name).unlink()
    failed = run_cli(["--db", str(db), "review", case["first"], "-s", "rejected"], env)
    assert failed.returncode == 1
    (line,) = [ln for ln in failed.stderr.splitlines() if not ln.startswith("warning: ")]
    assert line.startswith(f"copydesk: {case['data_dir']}: both journal copies")
    assert "Traceback" not in failed.stderr


def test_store_path_that_is_a_directory_or_under_a_file_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        Store.open(tmp_path)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    result = _cli("--db", str(plain / "db.json"), "import", str(plain))
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
    assert line == f"copydesk: {case['db']}: locked by another copydesk process"
    assert _listed(case["db"])[case["first"]]["status"] == "approved"


@pytest.mark.parametrize("call", ["write", "fsync"])
def test_disk_full_while_saving_is_one_line_and_leaves_the_journal_as_it_was(
    case, monkeypatch, call
):
    data_dir = case["data_dir"]
    before = {p.name: p.read_bytes() for p in data_dir.iterdir() if p.is_file()}
    real = getattr(os, call)

    def no_space(fd, *args):
        if "journal" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, *args)

    monkeypatch.setattr(os, call, no_space)
    result = _cli("--db", str(case["db"]), "review", case["first"], "-s", "rejected")
    monkeypatch.undo()
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"copydesk: {data_dir / 'journal.jsonl'}: ")
    assert "No space left on device" in line
    after = {p.name: p.read_bytes() for p in data_dir.iterdir() if p.is_file()}
    assert after == before  # not acknowledged, so not there: no half-written record either
    assert not list(data_dir.glob(".*.tmp"))
    assert _listed(case["db"])[case["first"]]["status"] == "approved"


def test_disk_full_while_writing_a_checkpoint_keeps_the_acknowledged_decision(case, monkeypatch):
    import storage.local.decisions as decisions_module

    monkeypatch.setattr(decisions_module, "CHECKPOINT_EVERY", 1)
    real = decisions_module.write_json

    def no_space(path, data, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(decisions_module, "write_json", no_space)
    result = _cli("--db", str(case["db"]), "review", case["first"], "-s", "rejected", "-m", "x")
    monkeypatch.setattr(decisions_module, "write_json", real)
    # the decision is in both journal copies: it is saved, and said to be
    assert result.exit_code == 0, result.stderr
    assert f"{case['first']}: rejected" in result.stdout
    (line,) = result.stderr.splitlines()
    assert line.startswith("warning: ") and "No space left on device" in line
    assert journal_decisions(case["db"])[case["first"]]["status"] == "rejected"
    assert _listed(case["db"])[case["first"]]["status"] == "rejected"


def test_stale_temp_files_are_never_read(case):
    db, data_dir = case["db"], case["data_dir"]
    lies = b'{"checkpoint": {}, "decisions": {}, "shelf": {}, "locations": {}}'
    for name in (
        ".decisions.json.4242.17.tmp",
        ".shelf.json.4242.bak.tmp",
        ".index-3.cdx.4242.9.tmp",
        ".journal.jsonl.4242.2.tmp",
        "posts/.000001.json.4242.5.tmp",
    ):
        (data_dir / name).write_bytes(lies)
    (db.parent / f".{db.name}.4242.3.tmp").write_bytes(b'{"copydesk": {}}')
    listed = _listed(db)
    assert len(listed) == 44 and listed[case["first"]]["status"] == "approved"
    assert _cli("--db", str(db), "review", case["second"], "-s", "approved").exit_code == 0
    assert _listed(db)[case["second"]]["status"] == "approved"


def test_a_reader_recovering_the_checkpoint_never_loses_a_decision_saved_meanwhile(
    case, monkeypatch
):
    # A handle holding no lock (the TUI) finds decisions.json damaged; before it puts the
    # backup in place, another writer saves a decision and a checkpoint on top.
    import storage.jsonstore as jsonstore
    import storage.local.decisions as decisions_module

    db, checkpoint = case["db"], _target(case, "decisions.json")
    monkeypatch.setattr(decisions_module, "CHECKPOINT_EVERY", 1)
    writer = Store.open(db)
    checkpoint.write_bytes(b"garbage")
    real_decode = jsonstore._decode
    armed = [True]

    def decode_then_let_the_writer_in(path, validate=None):
        result = real_decode(path, validate)
        if armed[0] and Path(path) == checkpoint and result[1] is not None:
            armed[0] = False
            writer.set_review(case["second"], "changes_requested", "saved meanwhile")
        return result

    monkeypatch.setattr(jsonstore, "_decode", decode_then_let_the_writer_in)
    reader = Store.open(db)
    monkeypatch.undo()
    assert not armed[0]
    assert reader.review(case["second"]).note == "saved meanwhile"
    assert journal_decisions(db)[case["second"]]["note"] == "saved meanwhile"
    with Store.open(db) as again:
        assert again.review(case["second"]).note == "saved meanwhile"
        assert again.review(case["first"]).note == "first decision"
    writer.close()
    reader.close()
