"""Every store write is atomic and durable: written to a temp file in the same directory,
fsynced, renamed over the target, then the directory fsynced; the previous generation is
kept as ``NAME.bak`` and is a valid file after every write. Checked by watching the
system calls the store makes, for a decision and for an import."""

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
from storage import Store, samples_dir

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class SyscallLog:
    """Records writes, fsyncs and renames under ``root`` (the lock file aside)."""

    def __init__(self, root: Path, monkeypatch) -> None:
        self.root = root
        self.events: list[tuple] = []
        self._fd_paths: dict[int, Path] = {}
        real_open, real_fsync, real_close = os.open, os.fsync, os.close
        real_replace, real_rename = os.replace, os.rename
        real_builtin_open = builtins.open

        def spy_open(path, flags, *args, **kwargs):
            fd = real_open(path, flags, *args, **kwargs)
            resolved = Path(path).resolve()
            self._fd_paths[fd] = resolved
            if flags & WRITE_FLAGS and self._mine(resolved):
                self.events.append(("open_write", resolved))
            return fd

        def spy_fsync(fd):
            path = self._fd_paths.get(fd)
            if path is not None and (self._mine(path) or path == root):
                kind = "fsync_dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync"
                self.events.append((kind, path))
            return real_fsync(fd)

        def spy_close(fd):
            self._fd_paths.pop(fd, None)
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

        def spy_builtin_open(file, mode="r", *args, **kwargs):
            if isinstance(file, (str, os.PathLike)) and any(c in mode for c in "wax+"):
                resolved = Path(file).resolve()
                if self._mine(resolved):
                    self.events.append(("open_write_inplace", resolved))
            return real_builtin_open(file, mode, *args, **kwargs)

        monkeypatch.setattr(os, "open", spy_open)
        monkeypatch.setattr(os, "fsync", spy_fsync)
        monkeypatch.setattr(os, "close", spy_close)
        monkeypatch.setattr(os, "replace", spy_replace)
        monkeypatch.setattr(os, "rename", spy_rename)
        monkeypatch.setattr(builtins, "open", spy_builtin_open)
        monkeypatch.setattr(io, "open", spy_builtin_open)

    def _mine(self, path: Path) -> bool:
        return path.is_relative_to(self.root) and not path.name.endswith(".lock")

    def check_atomic(self) -> set[Path]:
        """Assert the write protocol for every file written; return the targets."""
        assert not [e for e in self.events if e[0] in ("open_write_inplace", "rename")]
        temp_files = {e[1] for e in self.events if e[0] == "open_write"}
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
        # every file opened for writing was a temp file that was renamed into place (or a
        # .bak link's temp name)
        renamed = {e[1] for e in self.events if e[0] == "replace"}
        assert temp_files <= renamed
        return targets


@pytest.fixture
def db(tmp_path) -> Path:
    corpus = tmp_path / "corpus"
    shutil.copytree(samples_dir(), corpus)
    db = tmp_path / "store" / "db.json"
    with Store.open(db) as store:
        store.import_paths([corpus])
    return db


def test_a_decision_is_written_atomically_and_durably(db, monkeypatch):
    with Store.open(db) as store:
        first, second = store.ids()[:2]
        store.set_review(first, "rejected", "first")
        before = (db.parent / "db.json.d" / "reviews.json").read_bytes()
        log = SyscallLog(db.parent, monkeypatch)
        store.set_review(second, "approved", "ok")
        monkeypatch.undo()
    reviews = db.parent / "db.json.d" / "reviews.json"
    assert log.check_atomic() == {reviews.resolve()}
    assert reviews.with_name("reviews.json.bak").read_bytes() == before
    saved = orjson.loads(reviews.read_bytes())
    assert sorted(d["id"] for d in saved["reviews"].values()) == sorted([first, second])


def test_an_import_writes_every_file_atomically_and_durably(db, monkeypatch, tmp_path):
    corpus = tmp_path / "corpus"
    path = sorted(corpus.iterdir())[0]
    title = seeds.read_file(path).title
    path.write_text(path.read_text().replace(title, title + " (new)", 1))
    extra = tmp_path / "extra.txt"
    extra.write_text("a new post\n\nwith a paragraph of text.\n", encoding="utf-8")
    with Store.open(db) as store:
        log = SyscallLog(db.parent, monkeypatch)
        report = store.import_paths([corpus, extra])
        monkeypatch.undo()
    assert len(report.updated) == 1 and len(report.imported) == 1
    targets = log.check_atomic()
    names = {p.name for p in targets}
    assert {"db.json", "index.pickle"} <= names
    assert len([n for n in names if n.startswith("posts-")]) == 2  # updated + new post
    # the manifest is written twice: dirty first, clean last
    manifest_writes = [e for e in log.events if e[0] == "replace" and e[2].name == "db.json"]
    assert len(manifest_writes) == 2
    assert log.events.index(manifest_writes[0]) < min(
        log.events.index(e)
        for e in log.events
        if e[0] == "replace" and e[2].name != "db.json" and not e[2].name.endswith(".bak")
    )


def test_reviews_backup_is_a_valid_previous_generation_after_every_write(db):
    reviews = db.parent / "db.json.d" / "reviews.json"
    backup = reviews.with_name("reviews.json.bak")
    with Store.open(db) as store:
        ids = store.ids()
        for n in range(24):
            previous = reviews.read_bytes() if reviews.exists() else None
            post_id = ids[n % len(ids)]
            if n % 6 == 5:
                store.restore_review(post_id, None)
            else:
                store.set_review(post_id, ("approved", "rejected")[n % 2], f"note {n}")
            if previous is not None:
                assert backup.read_bytes() == previous
                orjson.loads(backup.read_bytes())  # parses: a usable backup
                assert os.stat(backup).st_ino != os.stat(reviews).st_ino  # never the same file
