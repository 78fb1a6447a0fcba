"""Every store write is durable before copydesk says it is done, watched through the real
system calls (``os.open``/``write``/``fsync``/``replace``/``unlink`` wrapped):

- a decision appends to ``journal.jsonl`` and ``journal-mirror.jsonl`` (opened O_APPEND,
  never truncated), each fsynced before the call returns, and writes nothing else;
- every other file (checkpoint, shelf, segments, hints, derived files, manifest) goes to a
  temp file in the same directory, is fsynced, renamed over the target, then the
  directory is fsynced; ``decisions.json.bak`` and ``shelf.json.bak`` hold the previous
  generation;
- an import commits by writing ``shelf.json`` after everything it names (segments, the
  index of its generation), and removes the previous generation's derived files after.
"""

from __future__ import annotations

import builtins
import io
import os
import shutil
import stat
from pathlib import Path

import orjson
import pytest

import seeds
import storage.local.decisions as decisions_module
from storage import Store, samples_dir
from storage.local import store_imports

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
JOURNALS = ("journal.jsonl", "journal-mirror.jsonl")
# appended to, not fsynced: a cache whose lost or torn line costs a read (file_stats.py)
CACHE_LOGS = ("file-stats.log",)


class SyscallLog:
    """Records opens for writing, writes, fsyncs, renames and unlinks under ``root`` (the
    lock files aside)."""

    def __init__(self, root: Path, monkeypatch) -> None:
        self.root = root
        self.events: list[tuple] = []
        self._fd_paths: dict[int, Path] = {}
        real_open, real_fsync, real_close = os.open, os.fsync, os.close
        real_write, real_replace, real_rename = os.write, os.replace, os.rename
        real_unlink, real_builtin_open = os.unlink, builtins.open

        def spy_open(path, flags, *args, **kwargs):
            fd = real_open(path, flags, *args, **kwargs)
            resolved = Path(path).resolve()
            self._fd_paths[fd] = resolved
            if flags & WRITE_FLAGS and self._mine(resolved):
                self.events.append(("open_write", resolved, flags))
            return fd

        def spy_write(fd, data):
            path = self._fd_paths.get(fd)
            if path is not None and self._mine(path):
                self.events.append(("write", path))
            return real_write(fd, data)

        def spy_fsync(fd):
            path = self._fd_paths.get(fd)
            if path is not None and (self._mine(path) or path == root):
                kind = "fsync_dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync"
                self.events.append((kind, path))
            return real_fsync(fd)

        def spy_close(fd):
            path = self._fd_paths.pop(fd, None)
            if path is not None and self._mine(path):
                self.events.append(("close", path))
            return real_close(fd)

        def spy_replace(src, dst, *args, **kwargs):
            result = real_replace(src, dst, *args, **kwargs)
            if self._mine(Path(dst).resolve()):
                self.events.append(("replace", Path(src).resolve(), Path(dst).resolve()))
            return result

        def spy_rename(src, dst, *args, **kwargs):
            if self._mine(Path(dst).resolve()):
                self.events.append(("rename", Path(src).resolve(), Path(dst).resolve()))
            return real_rename(src, dst, *args, **kwargs)

        def spy_unlink(path, *args, **kwargs):
            if self._mine(Path(path).resolve()):
                self.events.append(("unlink", Path(path).resolve()))
            return real_unlink(path, *args, **kwargs)

        def spy_builtin_open(file, mode="r", *args, **kwargs):
            if isinstance(file, (str, os.PathLike)) and any(c in mode for c in "wax+"):
                resolved = Path(file).resolve()
                if self._mine(resolved):
                    self.events.append(("open_write_inplace", resolved))
            return real_builtin_open(file, mode, *args, **kwargs)

        for name, spy in (
            ("open", spy_open),
            ("write", spy_write),
            ("fsync", spy_fsync),
            ("close", spy_close),
            ("replace", spy_replace),
            ("rename", spy_rename),
            ("unlink", spy_unlink),
        ):
            monkeypatch.setattr(os, name, spy)
        monkeypatch.setattr(builtins, "open", spy_builtin_open)
        monkeypatch.setattr(io, "open", spy_builtin_open)

    def _mine(self, path: Path) -> bool:
        return path.is_relative_to(self.root) and not path.name.endswith(".lock")

    def replaced(self) -> list[Path]:
        return [e[2] for e in self.events if e[0] == "replace" and not e[2].name.endswith(".bak")]

    def index_of(self, kind: str, name: str) -> int:
        """The position of the first ``kind`` event whose target is named ``name``."""
        for n, event in enumerate(self.events):
            if event[0] == kind and event[-1].name == name:
                return n
        raise AssertionError(f"no {kind} of {name}")

    def check_appends(self) -> set[Path]:
        """Assert the append protocol for the journal copies; return them."""
        appended = set()
        for n, event in enumerate(self.events):
            if event[0] != "open_write" or event[1].name not in JOURNALS:
                continue
            path, flags = event[1], event[2]
            assert flags & os.O_APPEND and not flags & os.O_TRUNC, path
            rest = self.events[n + 1 :]
            close = rest.index(("close", path))
            assert ("write", path) in rest[:close], f"{path.name}: nothing appended"
            last_write = max(i for i, e in enumerate(rest[:close]) if e == ("write", path))
            assert ("fsync", path) in rest[last_write:close], f"{path.name} closed unsynced"
            appended.add(path)
        return appended

    def check_atomic(self) -> set[Path]:
        """Assert the write protocol for every other file written; return the targets."""
        assert not [e for e in self.events if e[0] in ("open_write_inplace", "rename")]
        temp_files = {
            e[1]
            for e in self.events
            if e[0] == "open_write" and e[1].name not in JOURNALS + CACHE_LOGS
        }
        for event in self.events:
            if event[0] == "open_write" and event[1].name in CACHE_LOGS:
                assert event[2] & os.O_APPEND and not event[2] & os.O_TRUNC, event[1]
        targets: set[Path] = set()
        for index, event in enumerate(self.events):
            if event[0] != "replace":
                continue
            _, src, dst = event
            assert src.parent == dst.parent  # same directory: rename is atomic
            assert src.name.startswith(".") and src.name.endswith(".tmp")
            if dst.name.endswith(".bak"):
                continue  # the previous generation, a hard link: its data was synced before
            assert src in temp_files
            before, after = self.events[:index], self.events[index + 1 :]
            assert ("fsync", src) in before, f"{dst.name} renamed before its data was synced"
            assert ("fsync_dir", dst.parent) in after, f"rename of {dst.name} not made durable"
            targets.add(dst)
        # every other file opened for writing was a temp file renamed into place
        renamed = {e[1] for e in self.events if e[0] == "replace"}
        assert temp_files <= renamed, temp_files - renamed
        return targets


@pytest.fixture
def corpus(tmp_path) -> Path:
    corpus = tmp_path / "corpus"
    shutil.copytree(samples_dir(), corpus)
    return corpus


@pytest.fixture
def db(tmp_path, corpus) -> Path:
    db = tmp_path / "store" / "db.json"
    with Store.open(db) as store:
        store.import_paths([corpus])
    return db


def test_a_decision_is_appended_to_both_journal_copies_and_fsynced(db, monkeypatch):
    data_dir = db.with_name(db.name + ".d")
    with Store.open(db) as store:
        first, second = store.ids()[:2]
        store.set_review(first, "rejected", "first")
        log = SyscallLog(db.parent, monkeypatch)
        store.set_review(second, "approved", "ok")
        monkeypatch.undo()
    assert log.check_appends() == {(data_dir / name).resolve() for name in JOURNALS}
    assert log.check_atomic() == set()  # nothing else written: no checkpoint, no rewrite
    written = {e[1].name for e in log.events if e[0] in ("open_write", "write")}
    assert written == set(JOURNALS)
    last = [
        orjson.loads(line.split(b" ", 1)[1])
        for line in (data_dir / JOURNALS[0]).read_bytes().splitlines()
    ][-1]
    assert last["decisions"][second]["note"] == "ok"


def test_a_checkpoint_is_written_atomically_and_keeps_the_previous_one(db, monkeypatch):
    monkeypatch.setattr(decisions_module, "CHECKPOINT_EVERY", 3)
    checkpoint = db.with_name(db.name + ".d") / "decisions.json"
    backup = checkpoint.with_name("decisions.json.bak")
    with Store.open(db) as store:
        ids = store.ids()
        for n in range(3):
            store.set_review(ids[n], "approved", f"note {n}")
        previous = checkpoint.read_bytes()
        for n in range(2):
            store.set_review(ids[n], "rejected", f"again {n}")
        log = SyscallLog(db.parent, monkeypatch)
        store.set_review(ids[4], "approved", "sixth record: a checkpoint")
        spied = log.events
    monkeypatch.undo()
    assert log.check_appends() and log.check_atomic() == {checkpoint.resolve()}
    # the record is in both journal copies before the checkpoint that holds it is written
    assert max(n for n, e in enumerate(spied) if e[0] == "fsync" and e[1].name in JOURNALS) < (
        log.index_of("replace", "decisions.json")
    )
    assert backup.read_bytes() == previous
    assert os.stat(backup).st_ino != os.stat(checkpoint).st_ino
    saved = orjson.loads(checkpoint.read_bytes())
    assert saved["checkpoint"]["1"]["seq"] == 6 and saved["checkpoint"]["1"]["count"] == 4


def _change_one_and_add_one(corpus: Path, tmp_path: Path) -> Path:
    path = sorted(corpus.iterdir())[0]
    title = seeds.read_file(path).title
    path.write_text(path.read_text().replace(title, title + " (new)", 1))
    extra = tmp_path / "extra.txt"
    extra.write_text("a new post\n\nwith a paragraph of text.\n", encoding="utf-8")
    return extra


def test_a_small_import_writes_every_file_atomically_and_commits_once(
    db, monkeypatch, tmp_path, corpus
):
    # at most DERIVE_BEFORE_COMMIT posts: hints and similarity before the one commit
    extra = _change_one_and_add_one(corpus, tmp_path)
    data_dir = db.with_name(db.name + ".d")
    shelf = orjson.loads((data_dir / "shelf.json").read_bytes())["shelf"]["1"]
    old_generation, new_generation = shelf["generation"], shelf["generation"] + 1
    with Store.open(db) as store:
        log = SyscallLog(db.parent, monkeypatch)
        report = store.import_paths([corpus, extra], derive=False)
        monkeypatch.undo()
        assert store.derived_pending == 0
    assert len(report.updated) == 1 and len(report.imported) == 1
    targets = {p.name for p in log.check_atomic()}
    assert {"shelf.json", f"index-{new_generation}.cdx", f"near-dups-{new_generation}.json"} <= (
        targets
    )
    (segment,) = [n for n in targets if n[:6].isdigit() and "hints" not in n]
    commits = [
        n for n, e in enumerate(log.events) if e[0] == "replace" and e[2].name == "shelf.json"
    ]
    assert len(commits) == 1
    for written in (
        segment,
        segment.replace(".json", ".hints.json"),
        f"index-{new_generation}.cdx",
    ):
        assert log.index_of("replace", written) < commits[0]
    assert log.index_of("unlink", f"index-{old_generation}.cdx") > commits[0]
    assert sorted(p.name for p in data_dir.glob("index-*.cdx")) == [f"index-{new_generation}.cdx"]


def test_an_import_writes_every_file_atomically_and_commits_last(db, monkeypatch, tmp_path, corpus):
    # a big import (here: any) commits its posts, then their hints and similarity
    monkeypatch.setattr(store_imports, "DERIVE_BEFORE_COMMIT", 0)
    path = sorted(corpus.iterdir())[0]
    title = seeds.read_file(path).title
    path.write_text(path.read_text().replace(title, title + " (new)", 1))
    extra = tmp_path / "extra.txt"
    extra.write_text("a new post\n\nwith a paragraph of text.\n", encoding="utf-8")
    data_dir = db.with_name(db.name + ".d")
    old_generation = orjson.loads((data_dir / "shelf.json").read_bytes())["shelf"]["1"][
        "generation"
    ]
    with Store.open(db) as store:
        log = SyscallLog(db.parent, monkeypatch)
        report = store.import_paths([corpus, extra])
        monkeypatch.undo()
    assert len(report.updated) == 1 and len(report.imported) == 1
    targets = {p.name for p in log.check_atomic()}
    phase1, phase2 = old_generation + 1, old_generation + 2
    assert {"shelf.json", f"index-{phase1}.cdx", f"index-{phase2}.cdx"} <= targets
    assert {f"near-dups-{phase1}.json", f"near-dups-{phase2}.json"} <= targets
    segments = sorted(
        n for n in targets if n.endswith(".json") and n[:6].isdigit() and "hints" not in n
    )
    hints = sorted(n for n in targets if n.endswith(".hints.json"))
    assert len(segments) == 1 and hints == [segments[0].replace(".json", ".hints.json")]
    # commit order: each shelf.json write comes after what it names, the old derived
    # files are removed after it
    commits = [
        n for n, e in enumerate(log.events) if e[0] == "replace" and e[2].name == "shelf.json"
    ]
    assert len(commits) == 2
    assert log.index_of("replace", segments[0]) < commits[0]
    assert log.index_of("replace", f"index-{phase1}.cdx") < commits[0]
    assert log.index_of("replace", hints[0]) < commits[1]
    assert log.index_of("replace", f"index-{phase2}.cdx") < commits[1]
    assert log.index_of("unlink", f"index-{old_generation}.cdx") > commits[0]
    assert log.index_of("unlink", f"index-{phase1}.cdx") > commits[1]
    assert sorted(p.name for p in data_dir.glob("index-*.cdx")) == [f"index-{phase2}.cdx"]
    # no journal write: an import touches no decision
    assert not [e for e in log.events if e[0] == "open_write" and e[1].name in JOURNALS]


def test_a_new_store_is_made_durable_file_by_file(tmp_path, monkeypatch):
    db = tmp_path / "new" / "db.json"
    log = SyscallLog(tmp_path, monkeypatch)
    Store.open(db).close()
    monkeypatch.undo()
    assert {p.name for p in log.check_atomic()} >= {"db.json"}
    assert sorted(p.name for p in db.with_name("db.json.d").iterdir()) == [
        "journal-mirror.jsonl",
        "journal.jsonl",
        "posts",
    ]
