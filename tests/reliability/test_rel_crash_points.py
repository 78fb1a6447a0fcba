"""A crash at every single write of an import, deterministically (the storms hit them at
random): the store opens afterwards, its posts are consistent, decisions are all there, and
re-running the import completes it. Also: a crash while the next open repairs the index."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from relsupport import copy_store

import seeds
import storage.jsonstore as jsonstore
import storage.store as store_module
from storage import Store, samples_dir


class Crash(BaseException):
    """Stands for kill -9: nothing after it runs (BaseException: no handler catches it)."""


def _crash_at_write(monkeypatch, crash_at: int) -> list[str]:
    """Make the ``crash_at``-th atomic write (0-based) die half-way: its temp file is left
    behind half-written, the target is not replaced. Returns the names written before."""
    written: list[str] = []
    real = jsonstore.atomic_write_bytes

    def crashing_write(path, data, **kwargs):
        path = Path(path)
        if len(written) == crash_at:
            stale = path.with_name(f".{path.name}.99999.1.tmp")
            stale.write_bytes(data[: len(data) // 2])
            raise Crash(str(path))
        written.append(path.name)
        return real(path, data, **kwargs)

    monkeypatch.setattr(jsonstore, "atomic_write_bytes", crashing_write)
    monkeypatch.setattr(store_module, "atomic_write_bytes", crashing_write)
    return written


@pytest.fixture(scope="module")
def base(tmp_path_factory, synth_corpus):
    """A store of the samples and 8 synthetic posts with three decisions, and a corpus in
    which two decided posts changed and 8 posts are new."""
    root = tmp_path_factory.mktemp("crash-base")
    corpus = root / "corpus"
    shutil.copytree(samples_dir(), corpus)
    for path in synth_corpus[200:208]:
        shutil.copy(path, corpus / path.name)
    db = root / "db.json"
    with Store.open(db) as store:
        store.import_paths([corpus])
        decided = dict(zip(store.ids()[:3], ("approved", "rejected", "approved"), strict=True))
        for pid, status in decided.items():
            store.set_review(pid, status, f"note {pid}")
    changed_ids = []
    for path in sorted(corpus.iterdir())[:2]:
        post = seeds.read_file(path)
        path.write_text(path.read_text().replace(post.title, post.title + " (edited)", 1))
        changed_ids.append(post.id)
    for path in synth_corpus[208:216]:
        shutil.copy(path, corpus / path.name)
    return db, corpus, decided, changed_ids


def _count_import_writes(base, tmp_path) -> list[str]:
    db, corpus, _, _ = base
    copy = copy_store(db, tmp_path / "count")
    with pytest.MonkeyPatch.context() as mp, Store.open(copy) as store:
        written = _crash_at_write(mp, 10**9)
        report = store.import_paths([corpus])
        assert len(report.imported) == 8 and len(report.updated) >= 2
    return written


def _assert_store_sound(db: Path, decided: dict[str, str]) -> None:
    with Store.open(db) as store:
        for post_id in store.ids():
            assert store.get(post_id).title == store.summary(post_id).title
        for post_id, status in decided.items():
            review = store.review(post_id)
            assert review is not None and review.status == status
            assert review.note == f"note {post_id}"


def test_crash_at_every_write_of_an_import_leaves_an_openable_consistent_store(
    base, tmp_path, monkeypatch
):
    db, corpus, decided, changed_ids = base
    writes = _count_import_writes(base, tmp_path)
    # the manifest goes dirty first and clean last; shards and the index cache in between
    assert writes[0] == writes[-1] == db.name and "index.pickle" in writes
    for crash_at in range(len(writes)):
        copy = copy_store(db, tmp_path / f"crash-{crash_at}")
        with monkeypatch.context() as mp:
            _crash_at_write(mp, crash_at)
            store = Store.open(copy)
            with pytest.raises(Crash):
                store.import_paths([corpus])
        _assert_store_sound(copy, decided)
        with Store.open(copy) as store:  # re-running the import completes it
            assert store.import_paths([corpus]).errors == []
            for path in corpus.iterdir():
                post = seeds.read_file(path)
                assert store.get(post.id).source["sha256"] == post.sha256
            assert len(store) == 5 + 16
            for post_id in changed_ids:
                assert store.get(post_id).changed is (post_id in decided)
        _assert_store_sound(copy, decided)


@pytest.mark.parametrize("crash_at", [0, 1])
def test_crash_while_the_next_open_repairs_the_index_is_repaired_by_the_one_after(
    base, tmp_path, monkeypatch, crash_at
):
    db, corpus, decided, _ = base
    copy = copy_store(db, tmp_path / "store")
    with monkeypatch.context() as mp:
        _crash_at_write(mp, 1)  # dies right after marking the manifest dirty
        with pytest.raises(Crash):
            Store.open(copy).import_paths([corpus])
    with monkeypatch.context() as mp:
        written = _crash_at_write(mp, crash_at)  # 0: index cache, 1: the clean manifest
        with pytest.raises(Crash):
            Store.open(copy)
        assert written == ["index.pickle"][:crash_at]
    _assert_store_sound(copy, decided)


def test_temp_files_of_dead_writers_are_removed_when_the_store_repairs_itself(
    base, tmp_path, monkeypatch
):
    db, corpus, decided, _ = base
    copy = copy_store(db, tmp_path / "store")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)  # a process that has exited: its temp files are litter
    data_dir = copy.with_name(copy.name + ".d")
    litter = [
        data_dir / f".posts-03.json.{dead_pid}.123.tmp",
        data_dir / f".index.pickle.{dead_pid}.456.tmp",
        data_dir / f".reviews.json.{dead_pid}.bak.tmp",
        copy.parent / f".{copy.name}.{dead_pid}.789.tmp",
    ]
    alive = data_dir / f".reviews.json.{os.getpid()}.1.tmp"  # a live writer's: kept
    unrelated = copy.parent / ".someone-elses.tmp"
    for path in [*litter, alive, unrelated]:
        path.write_bytes(b"half a file")
    with monkeypatch.context() as mp:
        _crash_at_write(mp, 1)  # an import dies after marking the manifest dirty
        with pytest.raises(Crash):
            Store.open(copy).import_paths([corpus])
    _assert_store_sound(copy, decided)  # this open repairs the index
    assert [p for p in litter if p.exists()] == []
    assert alive.exists() and unrelated.exists()
