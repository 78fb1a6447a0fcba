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


# ---------------------------------------------------------------- the log of the records


@pytest.fixture(scope="module")
def posts(tmp_path_factory) -> list[Path]:
    """60 synthesized seed files, a day old."""
    from seeds.synth import synthesize

    root = tmp_path_factory.mktemp("posts")
    paths = synthesize(60, root / "all", seed=3)
    _age(root / "all")
    return paths


def _place(paths: list[Path], folder: Path) -> Path:
    """Hard links of ``paths`` in ``folder`` (the same inodes: what a move keeps)."""
    folder.mkdir(parents=True)
    for path in paths:
        os.link(path, folder / path.name)
    return folder


def _log_lines(db: Path) -> list[dict]:
    log = db.with_name(db.name + ".d") / file_stats.LOG
    import orjson

    return [orjson.loads(line) for line in log.read_bytes().splitlines()] if log.exists() else []


def test_a_batch_into_a_bigger_store_appends_its_records_and_leaves_the_base(
    posts, tmp_path, hashed
):
    db = tmp_path / "db.json"
    base = tmp_path / "db.json.d" / file_stats.FILE
    with Store.open(db) as store:
        store.import_paths([_place(posts[:50], tmp_path / "first")])
        written = base.read_bytes()
        batch = _place(posts[50:55], tmp_path / "batch")
        assert len(store.import_paths([batch]).imported) == 5
        assert base.read_bytes() == written  # not rewritten
        (line,) = _log_lines(db)
        assert sorted(line["paths"]) == sorted(str(p) for p in batch.glob("*.txt"))
        hashed.clear()
        again = store.import_paths([tmp_path / "first", batch])
    assert hashed == [] and len(again.unchanged) == 55  # every file known by its stat


def _steps(posts: list[Path], root: Path) -> list:
    """Imports of a reviewer's days, each a function of the store giving what to import."""

    def first(_):
        return [_place(posts[:40], root / "first")]

    def batch(_):
        return [_place(posts[40:46], root / "batch")]

    def again(_):
        return [root / "first", root / "batch"]

    def changed(_):
        target = sorted((root / "batch").glob("*.txt"))[0]
        target.unlink()  # its own inode, not the corpus's: the change stays here
        target.write_text((posts[40]).read_text().replace("\n", "\n\nan edit\n", 1))
        return [root / "batch"]

    def aged(_):
        _age(root / "batch")
        return [root / "batch"]

    def moved(_):
        (root / "batch").rename(root / "moved")
        return [root / "moved", _place(posts[46:48], root / "more")]

    def racy(_):
        target = root / "more" / posts[46].name
        target.unlink()  # a file of its own (a touch would reach the corpus's through the link)
        target.write_bytes(posts[46].read_bytes())  # the same bytes, written just now
        return [root / "first", root / "moved", root / "more"]

    def copied(_):
        shutil.copytree(root / "more", root / "copy")
        shutil.rmtree(root / "more")
        return [root / "copy"]

    def everything(_):
        return [root / "first", root / "moved", root / "copy"]

    return [first, batch, again, changed, aged, moved, racy, copied, everything, everything]


def test_the_log_gives_the_answers_a_whole_write_gives(posts, tmp_path, monkeypatch, hashed):
    """The same days imported twice, with the log and with each import's records written
    whole: the same files read, the same reports, the same posts at the same paths."""
    seen = []
    for logged in (True, False):
        if not logged:
            monkeypatch.setattr(file_stats.FileStats, "can_log", lambda self, changes: False)
        root = tmp_path / f"logged-{logged}"
        db = root / "db.json"
        days = []
        with Store.open(db) as store:
            for step in _steps(posts, root):
                hashed.clear()
                report = store.import_paths(step(store))
                days.append((step.__name__, sorted(hashed), _summary(report)))
            paths = {pid: store.get(pid).source["path"] for pid in store.ids()}
        relative = {pid: os.path.relpath(path, root) for pid, path in paths.items()}
        lines = _log_lines(db)
        assert bool(lines) == logged
        seen.append((days, relative))
    assert seen[0] == seen[1]
    # the log was used in the middle of the days, not only at the start or end
    assert any(name == "again" and files == [] for name, files, _ in seen[0][0])


def test_a_torn_log_line_costs_its_files_a_read(posts, tmp_path, hashed):
    db = tmp_path / "db.json"
    log = tmp_path / "db.json.d" / file_stats.LOG
    with Store.open(db) as store:
        store.import_paths([_place(posts[:40], tmp_path / "first")])
        store.import_paths([_place(posts[40:43], tmp_path / "one")])
        store.import_paths([_place(posts[43:46], tmp_path / "two")])
    assert len(_log_lines(db)) == 2
    log.write_bytes(log.read_bytes()[:-20])  # a crash in the middle of the second line
    hashed.clear()
    with Store.open(db) as store:
        report = store.import_paths([tmp_path / "first", tmp_path / "one", tmp_path / "two"])
    assert sorted(hashed) == sorted(p.name for p in posts[43:46])
    assert len(report.unchanged) == 46 and not report.imported
    # a log that was not whole is not appended to: the records are written whole again
    assert not log.exists()
    assert len(file_stats.FileStats.read(store.layout).entries) == 46


def test_the_log_is_folded_into_a_new_base_without_what_it_left_behind(posts, tmp_path):
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        store.import_paths([_place(posts[:40], tmp_path / "first")])
        store.import_paths([_place(posts[40:45], tmp_path / "one")])
        (tmp_path / "one").rename(tmp_path / "one-moved")  # the old paths are dropped
        store.import_paths([tmp_path / "one-moved"])
        assert len(_log_lines(db)) == 2
        known = file_stats.FileStats.read(store.layout)
        assert sorted(known.entries) == sorted(
            str(p) for folder in ("first", "one-moved") for p in (tmp_path / folder).iterdir()
        )
        # 5 + 5 records in the log: past a quarter of the base's 40 with 2 more
        store.import_paths([_place(posts[45:47], tmp_path / "two")])
        assert _log_lines(db) == []
        folded = file_stats.FileStats.read(store.layout)
    assert folded.base_count == len(folded.entries) == 47 and folded.logged == 0


def test_the_workers_start_early_for_the_files_the_records_cannot_vouch_for(
    corpus, tmp_path, hashed, monkeypatch
):
    """The plan tells how many files it will read before it goes on (the worker server
    starts meanwhile for a batch into a big store): exactly the files then hashed, so a
    re-import of unchanged or renamed files starts nothing."""
    told: list[int] = []
    monkeypatch.setattr(importing, "start_workers_early", told.append)
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        store.import_paths([corpus])  # an empty store: every file is parsed, none planned
        assert told == []
        for step in ("again", "renamed", "copied"):
            if step == "renamed":
                corpus = corpus.rename(tmp_path / "renamed")
            elif step == "copied":
                corpus = Path(shutil.copytree(corpus, tmp_path / "copied"))
            hashed.clear()
            store.import_paths([corpus])
            assert told[-1] == len(hashed), step
    assert told == [1, 1, 6]  # empty.txt fails each time; a copy has new inodes
