"""A crash at every single write of an import, deterministically (the storms hit them at
random): each atomic file write dies half-way (its temp file left half-written, the
target untouched), each removal of a stale file dies before it happens. Afterwards the
store opens, its posts are consistent, every decision is there, and re-running the import
completes it. Also: a crash while the next open rebuilds the derived index."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from relsupport import copy_store

import seeds
import storage.analysis as analysis_module
import storage.jsonstore as jsonstore
import storage.local.index_files as index_files_module
import storage.local.journal as journal_module
import storage.local.legacy as legacy_module
from storage import Store, samples_dir
from storage.local import store_imports

WRITERS = (jsonstore, analysis_module, index_files_module, journal_module, legacy_module)


class Crash(BaseException):
    """Stands for kill -9: nothing after it runs (BaseException: no handler catches it)."""


def _crash_at_write(monkeypatch, crash_at: int) -> list[str]:
    """Make the ``crash_at``-th write (0-based; an atomic file write or a removal of a
    store file) die. Returns the names written or removed before."""
    done: list[str] = []
    real_write = jsonstore.atomic_write_bytes
    real_unlink = Path.unlink

    def crashing_write(path, data, **kwargs):
        path = Path(path)
        if len(done) == crash_at:
            whole = data if isinstance(data, bytes) else b"".join(bytes(part) for part in data)
            stale = path.with_name(f".{path.name}.99999.1.tmp")
            stale.write_bytes(whole[: len(whole) // 2])
            raise Crash(str(path))
        done.append(path.name)
        return real_write(path, data, **kwargs)

    def crashing_unlink(self, missing_ok=False):
        if ".d" in str(self.parent) and not self.name.endswith((".tmp", ".lock")):
            if len(done) == crash_at:
                raise Crash(f"unlink {self}")
            done.append(f"unlink {self.name}")
        return real_unlink(self, missing_ok=missing_ok)

    for module in WRITERS:
        monkeypatch.setattr(module, "atomic_write_bytes", crashing_write)
    monkeypatch.setattr(Path, "unlink", crashing_unlink)
    return done


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


SEARCHES = ("edited", "stack:php", "needs_human_review:1", "quality>50 kubernetes")


def _answers(store) -> dict[str, list[str]]:
    return {query: store.search_ids(query, None) for query in SEARCHES}


def _assert_store_sound(db: Path, decided: dict[str, str], answers=None) -> int:
    """The store opens; its posts, decisions and (given ``answers``: post count -> the
    answers of a store that never crashed) its search index are sound."""
    with Store.open(db) as store:
        for post_id in store.ids():
            assert store.get(post_id).title == store.summary(post_id).title
        for post_id, status in decided.items():
            review = store.review(post_id)
            assert review is not None and review.status == status
            assert review.note == f"note {post_id}"
        if answers is not None:
            assert _answers(store) == answers[len(store)]
        return len(store)


@pytest.mark.parametrize("commits", [1, 2])
def test_crash_at_every_write_of_an_import_leaves_an_openable_consistent_store(
    base, tmp_path, monkeypatch, commits
):
    db, corpus, decided, changed_ids = base
    if commits == 2:  # as a big import: its posts committed, then hints and similarity
        monkeypatch.setattr(store_imports, "DERIVE_BEFORE_COMMIT", 0)
    writes = _count_import_writes(base, tmp_path)
    answers = {}  # the searches of the store before the import and after it, uncrashed
    with Store.open(copy_store(db, tmp_path / "uncrashed")) as store:
        answers[len(store)] = _answers(store)
        store.import_paths([corpus])
        answers[len(store)] = _answers(store)
    assert answers[21]["edited"] and answers[21]["edited"] != answers[13]["edited"]
    # phase 1: a segment, the derived files, the shelf commit, the old derived files
    # removed; phase 2: hints, derived files, the commit, removals (a small import: the
    # segment, its hints, the derived files, one commit, removals)
    assert [w for w in writes if w.startswith("shelf.json")] == ["shelf.json"] * commits
    assert any(w.endswith(".hints.json") for w in writes)
    assert any(w.startswith("unlink index-") for w in writes)
    seen = set()
    for crash_at in range(len(writes)):
        copy = copy_store(db, tmp_path / f"crash-{crash_at}")
        with monkeypatch.context() as mp:
            _crash_at_write(mp, crash_at)
            store = Store.open(copy)
            with pytest.raises(Crash):
                store.import_paths([corpus])
        seen.add(_assert_store_sound(copy, decided, answers))  # 13 posts or 21 (after)
        with Store.open(copy) as store:  # re-running the import completes it
            assert store.import_paths([corpus]).errors == []
            for path in corpus.iterdir():
                post = seeds.read_file(path)
                assert store.get(post.id).source["sha256"] == post.sha256
            assert len(store) == 5 + 16
            assert store.derived_pending == 0
            for post_id in changed_ids:
                assert store.get(post_id).changed is (post_id in decided)
        _assert_store_sound(copy, decided, answers)
    assert seen == {13, 21}  # crashes before and after the commit point


@pytest.mark.parametrize("crash_at", [0, 1, 2])
def test_crash_while_the_next_open_rebuilds_the_index_is_repaired_by_the_one_after(
    base, tmp_path, monkeypatch, crash_at
):
    db, corpus, decided, _ = base
    copy = copy_store(db, tmp_path / "store")
    data_dir = copy.with_name(copy.name + ".d")
    for index in data_dir.glob("index-*.cdx"):
        index.write_bytes(b"damaged")  # the next reader rebuilds it from the segments
    with monkeypatch.context() as mp:
        # 0: the search index's file, 1: the rest of the catalog, 2: the near-dups file
        written = _crash_at_write(mp, crash_at)
        with pytest.raises(Crash):
            Store.open(copy).search("")
        assert [w.split("-")[0] for w in written] == ["search", "index"][:crash_at]
    _assert_store_sound(copy, decided)
    with Store.open(copy, warn=(warnings := []).append) as store:
        assert len(store.search("", limit=None)) == 13
    assert warnings == []


def test_temp_files_of_dead_writers_are_removed_by_the_next_writer(base, tmp_path, monkeypatch):
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
        data_dir / "posts" / f".000001.json.{dead_pid}.123.tmp",
        data_dir / f".index-2.cdx.{dead_pid}.456.tmp",
        data_dir / f".decisions.json.{dead_pid}.bak.tmp",
        data_dir / f".shelf.json.{dead_pid}.789.tmp",
    ]
    alive = data_dir / f".decisions.json.{os.getpid()}.1.tmp"  # a live writer's: kept
    unrelated = copy.parent / ".someone-elses.tmp"
    for path in [*litter, alive, unrelated]:
        path.write_bytes(b"half a file")
    with Store.open(copy) as store:
        store.import_paths([corpus])
        store.set_review(store.ids()[5], "approved", "a write")
    _assert_store_sound(copy, decided)
    assert alive.exists() and unrelated.exists()
    assert [p for p in litter if p.exists()] == []


def test_a_crash_while_a_new_store_is_created_leaves_nothing_that_claims_lost_decisions(
    tmp_path, monkeypatch
):
    db = tmp_path / "db.json"
    with monkeypatch.context() as mp:
        written = _crash_at_write(mp, 1)  # the first file is written, then the crash
        with pytest.raises(Crash):
            Store.open(db)
        assert written == ["journal.jsonl"]  # the journal first, the manifest last
    with Store.open(db) as store:  # a new store, or the one begun: either is fine
        assert len(store) == 0
        store.import_paths([samples_dir()])
        store.set_review(store.ids()[0], "approved", "first")
