"""The store's fast paths give the answers of the slow ones: columnar rows, the saved
catalog, incremental imports, phrase scans over segments, the two-pass queue order."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import seeds
import storage.analysis as analysis_module
import storage.catalog as catalog_module
import storage.importer as importer_module
import storage.search_index as search_index_module
from seeds.synth import synthesize
from storage import Store
from storage.codec import Reader, Writer
from storage.local import index_files
from storage.local.store import _body_holds
from storage.postrows import ROW_KEYS, PostRows

COUNT = 48


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scale") / "corpus"
    synthesize(COUNT, out, seed=7)
    return out


@pytest.fixture(scope="module")
def full(tmp_path_factory, corpus):
    """A store of the whole corpus in one import, with a few decisions."""
    db = tmp_path_factory.mktemp("full") / "db.json"
    with Store.open(db) as store:
        assert len(store.import_paths([corpus]).imported) == COUNT
        ids = store.ids()
        for post_id in ids[::5]:
            store.set_review(post_id, "approved", reviewer="t")
        store.set_review(ids[1], "rejected", reviewer="t")
    return db


def _row(post_id: str, reference: str, **extra) -> dict:
    return {
        "id": post_id,
        "reference": reference,
        "title": f"title {post_id}",
        "topic": "a / b",
        "needs_human_review": post_id.endswith("1"),
        "hint_codes": ["placeholder_image"] if post_id.endswith("2") else [],
        "sha256": "ab" * 32,
        **extra,
    }


def test_post_rows_read_like_dicts_in_queue_order_and_survive_saving():
    rows = PostRows(
        [
            (_row("p2", "ref-b"), 7),
            (_row("p1", "ref-a", sha256="not hex"), 3),
            (_row("x3", ""), 9),  # no reference: sorted by its id
            (_row("p1", "ref-c"), 4),  # a repeated id: the last one wins
        ]
    )
    assert list(rows) == ["p2", "p1", "x3"]  # ref-b < ref-c < x3
    assert rows["p1"]["reference"] == "ref-c" and rows.doc_id("p1") == 4
    assert dict(rows["p2"]) == {
        "id": "p2",
        "reference": "ref-b",
        "title": "title p2",
        "topic": "a / b",
        "needs_human_review": False,
        "hint_codes": ("placeholder_image",),
        "sha256": "ab" * 32,
    }
    assert rows["p1"]["sha256"] == "ab" * 32 and rows["p1"]["needs_human_review"] is True
    odd = PostRows([(_row("q", "r", sha256="not hex"), 1)])
    assert odd["q"]["sha256"] == "not hex"
    assert "x3" in rows and "zz" not in rows and rows.get("zz") is None
    with pytest.raises(KeyError):
        rows["zz"]
    writer = Writer()
    data = rows.to_data(writer)
    reader = Reader(writer.finish("rows", 1, data), "rows", 1)
    again = PostRows.from_data(reader, reader.data)
    assert [dict(again[i]) for i in again] == [dict(rows[i]) for i in rows]
    assert list(again.doc_ids) == [7, 4, 9] and set(ROW_KEYS) == set(again["x3"])


def _everything(db: Path, queries: list[str]) -> dict:
    with Store.open(db) as store:
        return {
            "ids": store.ids(),
            "summaries": [store.summary(i) for i in store.ids()],
            "results": {q: store.search_ids(q, limit=None) for q in queries},
            "counts": {q: store.count(q) for q in queries},
            "similar": {i: store.similar(i) for i in store.ids()},
            "clusters": store.clusters(),
        }


QUERIES = [
    "",
    "caching",
    "postgress indexng",
    "flag:needs_human_review",
    "-stack:php quality>50",
    '"rollback note"',
    '"zebra crossing"',
    "status:approved",
    "status:pending deploys",
]


def test_incremental_imports_in_a_pool_equal_one_import(tmp_path, corpus, full, monkeypatch):
    # small thresholds: the pool, and the similarity built in a pool worker, at 48 files
    monkeypatch.setattr(analysis_module, "PARALLEL_THRESHOLD", 10)
    monkeypatch.setattr(catalog_module, "PARALLEL_SIMILARITY", 10)
    files = sorted(corpus.iterdir())
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    for path in files[: COUNT // 2]:
        shutil.copy(path, first / path.name)
    for path in files[COUNT // 3 :]:  # overlaps the first batch: unchanged posts
        shutil.copy(path, second / path.name)
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        assert len(store.import_paths([first]).imported) == COUNT // 2
        report = store.import_paths([second])
        # the same bytes at another path while the first copy is still there: known
        assert len(report.unchanged) == COUNT // 2 - COUNT // 3 and not report.updated
        assert sum("same content as" in w for w in report.warnings) == len(report.unchanged)
        assert len(report.imported) == COUNT - COUNT // 2
        ids = store.ids()
        for post_id in ids[::5]:
            store.set_review(post_id, "approved", reviewer="t")
        store.set_review(ids[1], "rejected", reviewer="t")
    ours, theirs = _everything(db, QUERIES), _everything(full, QUERIES)
    for key in ("ids", "results", "counts", "similar", "clusters"):
        assert ours[key] == theirs[key], key
    strip = [(s.id, s.title, s.status, s.hint_codes, s.changed) for s in ours["summaries"]]
    assert strip == [
        (s.id, s.title, s.status, s.hint_codes, s.changed) for s in theirs["summaries"]
    ]


def test_an_import_of_many_files_and_few_new_texts_equals_one_import(tmp_path, corpus, monkeypatch):
    """More files to parse than ``DERIVE_BEFORE_COMMIT``, fewer new texts than it: the
    workers of phase 1 have ended (``shelve(keep_pool=False)``), and phase 2 runs in its
    own pool. Both imports go through two phases with a real pool."""
    from storage.local import store_imports

    monkeypatch.setattr(analysis_module, "PARALLEL_THRESHOLD", 10)
    monkeypatch.setattr(store_imports, "DERIVE_BEFORE_COMMIT", 20)
    files = sorted(corpus.iterdir())
    posts = tmp_path / "posts"
    posts.mkdir()
    for path in files[:30]:
        shutil.copy(path, posts / path.name)
    db, once = tmp_path / "db.json", tmp_path / "once.json"
    with Store.open(db) as store:
        assert len(store.import_paths([posts]).imported) == 30
        for path in sorted(posts.iterdir())[:25]:  # other bytes, the same text
            path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
        for path in files[30:35]:
            shutil.copy(path, posts / path.name)
        report = store.import_paths([posts])
        assert (len(report.imported), len(report.unchanged), report.updated) == (5, 30, [])
        assert store.derived_pending == 0
    with Store.open(once) as store:
        assert len(store.import_paths([posts]).imported) == 35
    ours, theirs = _everything(db, QUERIES), _everything(once, QUERIES)
    for key in ("ids", "summaries", "results", "counts", "similar", "clusters"):
        assert ours[key] == theirs[key], key


def test_phrases_in_bodies_match_reading_every_post(full):
    with Store.open(full) as store:
        ids = store.ids()
        for phrase in ("rollback note", "visual reference", "zebra crossing", "café", "x"):
            expected = [i for i in ids if _body_holds(store.get(i).body, phrase)]
            assert store.search_ids(f'"{phrase}"', limit=None) == [
                i for i in store.search_ids("", limit=None) if i in set(expected)
            ]
        assert store.search_ids('"rollback note"', limit=None)  # the phrase is common
        assert store.search_ids('"zebra crossing"', limit=None) == []


@pytest.mark.parametrize("limit", [1, 3, 7, 20, 500])
@pytest.mark.parametrize(
    "query", ["", "flag:needs_human_review", "-stack:php", '"rollback note"', "quality>40"]
)
def test_queue_order_with_a_limit_is_the_start_of_the_whole_queue(full, query, limit):
    with Store.open(full) as store:
        whole = store.search_ids(query, limit=None)
        assert store.search_ids(query, limit=limit) == whole[:limit]
        # pending posts needing review come first
        front = [
            i
            for i in whole
            if store.summary(i).needs_human_review and store.status_of(i) == "pending"
        ]
        assert whole[: len(front)] == front


def test_a_catalog_written_by_other_code_is_rebuilt_not_trusted(full, tmp_path):
    db = tmp_path / "db.json"
    shutil.copy(full, db)
    shutil.copytree(full.with_name(full.name + ".d"), tmp_path / "db.json.d")
    [index] = (tmp_path / "db.json.d").glob("index-*.cdx")
    stamp, _, body = index.read_bytes().partition(b"\n")
    other = catalog_module.Catalog.empty().to_bytes()  # what it says must not be believed
    index.write_bytes(
        stamp.replace(index_files.code_fingerprint().encode(), b"older") + b"\n" + other
    )
    with Store.open(db) as store:
        assert len(store) == COUNT
        assert store.search_ids("", limit=None) == _everything(full, [""])["results"][""]
    assert index_files.code_fingerprint().encode() in index.read_bytes().split(b"\n")[0]


def test_open_reads_the_catalog_without_rebuilding_the_search_index(full, monkeypatch):
    built: list[int] = []
    real = search_index_module.SearchIndex.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        real(self, *args, **kwargs)

    monkeypatch.setattr(search_index_module.SearchIndex, "__init__", counting)
    with Store.open(full) as store:
        assert store.search_ids("caching", limit=5)
        post = seeds.read_file(store.get(store.ids()[0]).source["path"])
        assert post.id == store.ids()[0]
    assert built == []


def _rglob_files(paths) -> list[Path]:
    """What collect_files did before it used scandir: rglob, is_file, resolve."""
    files, seen = [], set()
    for raw in paths:
        path = Path(raw)
        found = sorted(p for p in path.rglob("*.txt") if p.is_file()) if path.is_dir() else [path]
        for file in found:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                files.append(file)
    return files


def test_collecting_files_finds_what_rglob_finds_in_the_same_order(tmp_path, monkeypatch):
    import os

    (tmp_path / "a").mkdir()
    (tmp_path / "a-b").mkdir()  # "a-b" < "a/..." as text, but "a" < "a-b" as path parts
    (tmp_path / "a" / "x.txt").write_text("x")
    (tmp_path / "a-b" / "y.txt").write_text("y")
    (tmp_path / ".txt").write_text("hidden")
    (tmp_path / "upper.TXT").write_text("not *.txt")
    (tmp_path / "dir.txt").mkdir()
    (tmp_path / "dir.txt" / "in.txt").write_text("in")
    os.symlink(tmp_path / "a", tmp_path / "linked-dir")  # not entered
    os.symlink(tmp_path / "a" / "x.txt", tmp_path / "link.txt")  # the same file as a/x.txt
    os.symlink(tmp_path / "nowhere", tmp_path / "broken.txt")
    os.link(tmp_path / "a" / "x.txt", tmp_path / "hard.txt")  # another file to resolve()
    cases = [[tmp_path], [tmp_path / "a", tmp_path], [tmp_path / "link.txt", tmp_path]]
    for paths in cases:
        assert importer_module.collect_files(paths)[0] == _rglob_files(paths)
    monkeypatch.chdir(tmp_path)
    for paths in (["."], ["a", "."], ["./a/"]):
        assert importer_module.collect_files(paths)[0] == _rglob_files(paths)
    assert [str(p) for p in importer_module.collect_files(["."])[0]] == [
        ".txt",
        "a/x.txt",
        "a-b/y.txt",
        "dir.txt/in.txt",
        "hard.txt",
    ]


def test_a_catalog_rebuilt_from_the_segments_answers_as_the_one_imported(
    tmp_path, corpus, monkeypatch
):
    """The rebuild (its posts' values interned and fields packed, in a pool) gives the
    answers of the catalog the import wrote."""
    monkeypatch.setattr(analysis_module, "PARALLEL_THRESHOLD", 10)
    monkeypatch.setattr(catalog_module, "PARALLEL_SIMILARITY", 10)
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        store.import_paths([corpus])
        store.set_review(store.ids()[3], "approved", reviewer="t")
    imported = _everything(db, QUERIES)
    data_dir = db.with_name(db.name + ".d")
    for derived in [*data_dir.glob("index-*.cdx"), *data_dir.glob("search-*.cdx")]:
        derived.unlink()
    rebuilt = _everything(db, QUERIES)
    assert rebuilt == imported
    assert list(data_dir.glob("index-*.cdx"))  # written by the open that rebuilt it
