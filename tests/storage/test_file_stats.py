"""A re-import knows unchanged files by their stat (storage/local/file_stats.py) and gives
exactly what hashing every file gives: the cache only ever spares a read."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from storage import Store, samples_dir
from storage.local import file_stats, importing

DAY_NS = 86_400 * 1_000_000_000


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    shutil.copytree(samples_dir(), root)
    (root / "empty.txt").write_bytes(b"")  # fails on every import, saying why
    _age(root)
    return root


def _age(root: Path) -> None:
    """mtimes a day old: past the racy window."""
    old = time.time_ns() - DAY_NS
    for path in root.glob("*.txt"):
        os.utime(path, ns=(old, old))


@pytest.fixture
def hashed(monkeypatch) -> list[str]:
    """The files the import reads and hashes."""
    seen: list[str] = []
    real = importing._hash

    def counting(path: str):
        seen.append(os.path.basename(path))
        return real(path)

    monkeypatch.setattr(importing, "_hash", counting)
    return seen


def _summary(report) -> tuple:
    return (
        sorted(report.imported),
        sorted(report.updated),
        sorted(report.unchanged),
        sorted(report.moved),
        sorted(str(e) for e in report.errors),
    )


def test_a_re_import_reads_no_unchanged_file_and_reports_what_hashing_reports(
    corpus, tmp_path, hashed
):
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        first = store.import_paths([corpus])
        assert len(first.imported) == 5 and len(first.errors) == 1
        assert "empty.txt" in str(first.errors[0])
        with_cache = store.import_paths([corpus])
    assert hashed == ["empty.txt"]  # the file that failed is read again, nothing else
    assert len(with_cache.unchanged) == 5 and "empty.txt" in str(with_cache.errors[0])
    (tmp_path / "db.json.d" / file_stats.FILE).unlink()
    hashed.clear()
    with Store.open(db) as store:
        plain = store.import_paths([corpus])  # no cache: every file hashed
    assert sorted(hashed) == sorted(p.name for p in corpus.glob("*.txt"))
    assert _summary(with_cache) == _summary(plain)


def test_a_changed_file_is_read_and_updated(corpus, tmp_path, hashed):
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        store.import_paths([corpus])
        target = next(p for p in sorted(corpus.glob("*.txt")) if p.stat().st_size)
        post_id = next(iter(store.import_paths([target]).unchanged))
        hashed.clear()
        target.write_text("changed: " + target.read_text())  # the title
        report = store.import_paths([corpus])
        assert report.updated == [post_id]
        assert sorted(hashed) == sorted([target.name, "empty.txt"])
        assert store.get(post_id).title.startswith("changed: ")


def test_a_file_modified_just_before_its_stat_is_not_trusted_next_time(corpus, tmp_path, hashed):
    db = tmp_path / "db.json"
    target = sorted(corpus.glob("0*.txt"))[0]
    target.touch()  # mtime now: inside the racy window
    with Store.open(db) as store:
        store.import_paths([corpus])
        hashed.clear()
        store.import_paths([corpus])
        assert target.name in hashed  # read again, whatever its stat says
        assert len(hashed) == 2  # with empty.txt; the four old files by their stat


def test_a_damaged_or_foreign_cache_costs_one_hashing_pass(corpus, tmp_path, hashed):
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        store.import_paths([corpus])
    cache = tmp_path / "db.json.d" / file_stats.FILE
    for damage in (b"\x00garbage", b'{"format": 1, "paths": ["x"], "stats": [], "shas": []}'):
        cache.write_bytes(damage)
        hashed.clear()
        with Store.open(db) as store:
            report = store.import_paths([corpus])
        assert len(report.unchanged) == 5 and len(hashed) == 6
        assert file_stats.FileStats.read(store.layout).entries  # rewritten whole


def test_a_renamed_folder_is_moved_without_reading_its_files(corpus, tmp_path, hashed):
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        store.import_paths([corpus])
        moved = tmp_path / "moved"
        corpus.rename(moved)  # inode, device, size and mtime stay
        hashed.clear()
        report = store.import_paths([moved])
        assert len(report.moved) == 5 and not report.imported
        assert hashed == ["empty.txt"]
        assert all(store.get(pid).source["path"].startswith(str(moved)) for pid in report.moved)
        recorded = file_stats.FileStats.read(store.layout).entries
        assert sorted(recorded) == sorted(str(p) for p in moved.glob("0*.txt"))  # old paths gone


def test_a_copied_folder_is_read_whole(corpus, tmp_path, hashed):
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        store.import_paths([corpus])
        copy = tmp_path / "copy"
        shutil.copytree(corpus, copy)  # new inodes, the same mtimes
        shutil.rmtree(corpus)
        hashed.clear()
        report = store.import_paths([copy])
        assert len(report.moved) == 5
        assert len(hashed) == 6


def test_doc_ids_are_told_numbers_at_c_level_as_one_by_one():
    from storage.local import shelf

    cases = [[], ["1"], ["0", "12"], [""], ["1", ""], ["a"], ["1", "2x"], ["\u0661"], [" 1"]]
    cases += [["3", "\u00b2"], ["10", "-1"], ["1.5"]]
    for texts in cases:
        assert shelf._all_numbers(texts) == all(map(shelf._is_number, texts)), texts
