"""shelf.json's locations (storage/local/shelf.py ``Locations``): format 2 holds them as one
text of rows with a crc32, searched for one post without splitting the rest; format 1 (four
JSON lists) is still read, and a store with a tab or newline in an id or path keeps lists."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from seeds.synth import synthesize
from storage import Store, samples_dir
from storage.local.shelf import Location, Locations, rows_crc32

SOURCE = Path("shelf.json")


def shelf_file(db: Path) -> Path:
    return db.with_name(db.name + ".d") / "shelf.json"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "db.json"
    with Store.open(path) as store:
        assert store.import_paths([samples_dir()]).ok
    return path


def _everything(db: Path) -> dict:
    with Store.open(db, writable=False) as store:
        return {
            post_id: (post.title, post.source["path"], post.source["sha256"], post.hints)
            for post_id in store.ids()
            for post in [store.get(post_id)]
        }


def test_a_store_writes_format_2_rows_with_a_crc32(db):
    data = orjson.loads(shelf_file(db).read_bytes())
    header, locations = data["shelf"]["1"], data["locations"]
    assert header["format"] == 2 and header["posts"] == 5
    assert set(locations) == {"rows", "crc32"}
    rows = locations["rows"].split("\n")
    assert len(rows) == 5 and all(len(row.split("\t")) == 4 for row in rows)
    assert locations["crc32"] == rows_crc32(5, locations["rows"])


def test_a_format_1_shelf_reads_the_same_and_the_next_commit_writes_format_2(db, tmp_path):
    before = _everything(db)
    path = shelf_file(db)
    data = orjson.loads(path.read_bytes())
    rows = [row.split("\t") for row in data["locations"]["rows"].split("\n")]
    data["shelf"]["1"]["format"] = 1
    data["locations"] = {  # as format 1 wrote it
        "ids": [row[0] for row in rows],
        "doc_ids": [int(row[1]) for row in rows],
        "paths": [row[2] for row in rows],
        "file_sha256": [row[3] for row in rows],
    }
    path.write_bytes(orjson.dumps(data))
    warnings: list[str] = []
    with Store.open(db, warn=warnings.append) as store:
        assert len(store) == 5 and warnings == []
    assert _everything(db) == before
    assert orjson.loads(path.read_bytes())["shelf"]["1"]["format"] == 1  # reading wrote nothing
    extra = synthesize(1, tmp_path / "extra", seed=3)
    with Store.open(db) as store:
        assert store.import_paths(extra).ok
        assert len(store) == 6
    after = orjson.loads(path.read_bytes())
    assert after["shelf"]["1"]["format"] == 2 and "rows" in after["locations"]
    assert {k: v for k, v in _everything(db).items() if k in before} == before


def test_edited_rows_fail_their_crc32_and_the_bak_is_read(db):
    path = shelf_file(db)
    data = orjson.loads(path.read_bytes())
    data["locations"]["rows"] = data["locations"]["rows"].replace(".txt", ".TXT", 1)
    path.write_bytes(orjson.dumps(data))
    warnings: list[str] = []
    with Store.open(db, writable=False, warn=warnings.append) as store:
        assert len(store) == 5
    assert any("do not match their crc32" in w and "shelf.json" in w for w in warnings)


def _columns() -> tuple[list[str], list[int], list[str], list[str]]:
    # ids that are prefixes and suffixes of one another, one that looks like a path
    ids = ["a", "ab", "b", "xa", "dir/one.txt", "é-ü", "last"]
    doc_ids = [1, 2, 3, 40, 41, 1000, 7]
    paths = ["dir/one.txt", "ab", "", "a\u202eb", "p", "q", "r"]
    shas = ["0" * 64, "1" * 64, "", "2" * 64, "3" * 64, "4" * 64, "5" * 64]
    return ids, doc_ids, paths, shas


def test_rows_answer_like_columns_without_splitting_them():
    columns = Locations(*_columns())
    data = columns.to_data()
    assert set(data) == {"rows", "crc32"}
    assert Locations.problem(data, len(columns)) is None
    rows = Locations.from_data(data, len(columns), SOURCE)
    for post_id in columns:
        assert post_id in rows
        assert rows[post_id] == columns[post_id]
        assert rows.doc_id(post_id) == columns.doc_id(post_id)
        assert rows.path(post_id) == columns.path(post_id)
    for missing in ("", "x", "a\tdir", "one.txt", "dir", "1", "0" * 64, "ab\n", 5):
        assert missing not in rows
        assert rows.get(missing) is None  # type: ignore[call-overload]
    assert len(rows) == 7
    assert rows._columns is None  # one post at a time: nothing was split
    assert dict(rows) == dict(columns)  # every post: the columns, made from the rows
    assert list(rows) == list(columns)
    assert rows.by_file() == columns.by_file()
    assert (
        rows.files_since(40)
        == columns.files_since(40)
        == {"a\u202eb": "2" * 64, "p": "3" * 64, "q": "4" * 64}
    )


def test_updated_locations_are_the_mapping_with_the_changes_made():
    columns = Locations(*_columns())
    first, last = list(columns)[0], list(columns)[-1]
    changes = {
        last: Location(900, "moved/there.txt", "9" * 64),  # replaced
        "new-b": Location(901, "b.txt", "8" * 64),  # added, in this order
        first: Location(columns.doc_id(first), "renamed.txt", columns[first].file_sha256),
        "new-a": Location(902, "a.txt", "7" * 64),
    }
    before = dict(columns)
    for base in (columns, Locations.from_data(columns.to_data(), len(columns), SOURCE)):
        made = base.updated(changes)
        plain = {**before, **changes}
        assert dict(made) == plain and list(made) == list(plain) and len(made) == len(plain)
        assert dict(base) == before  # unchanged
        assert made.by_file() == {loc.file_sha256: pid for pid, loc in plain.items()}
        again = Locations.from_data(made.to_data(), len(made), SOURCE)
        assert dict(again) == plain
        assert made.doc_id("new-a") == 902 and made.path(first) == "renamed.txt"
    assert columns.updated({}) is columns


def test_new_posts_append_to_the_rows_text_and_write_what_the_columns_would():
    columns = Locations(*_columns())
    rows = Locations.from_data(columns.to_data(), len(columns), SOURCE)
    assert dict(rows) == dict(columns)  # split into columns; the text is kept
    new = {"n1": Location(901, "n/1.txt", "8" * 64), "n2": Location(902, "n/2.txt", "7" * 64)}
    made = rows.updated(new)
    plain = Locations.of({**dict(columns), **new})
    assert made._rows is not None  # appended, not joined again
    assert made.to_data() == plain.to_data()
    assert dict(Locations.from_data(made.to_data(), len(made), SOURCE)) == dict(plain)
    first = next(iter(columns))
    replaced = rows.updated({**new, first: Location(5, "x.txt", "6" * 64)})
    assert replaced._rows is None and replaced.to_data() == Locations.of(dict(replaced)).to_data()
    tabbed = rows.updated({"n\tx": Location(903, "t.txt", "5" * 64)})
    assert tabbed._rows is None and set(tabbed.to_data()) == {
        "ids",
        "doc_ids",
        "paths",
        "file_sha256",
    }


@pytest.mark.parametrize("bad", ["id\twith a tab", "id\nwith a newline"])
@pytest.mark.parametrize("where", ["id", "path"])
def test_a_tab_or_newline_in_an_id_or_path_keeps_the_four_lists(bad, where):
    ids, doc_ids, paths, shas = _columns()
    if where == "id":
        ids[2] = bad
    else:
        paths[2] = bad
    locations = Locations(ids, doc_ids, paths, shas)
    data = locations.to_data()
    assert set(data) == {"ids", "doc_ids", "paths", "file_sha256"}
    assert Locations.problem(data, len(ids)) is None
    again = Locations.from_data(orjson.loads(orjson.dumps(data)), len(ids), SOURCE)
    assert dict(again) == dict(locations)
    assert again[ids[2]] == Location(3, paths[2], "")


def test_no_posts_are_four_empty_lists():
    data = Locations([], [], [], []).to_data()
    assert data == {"ids": [], "doc_ids": [], "paths": [], "file_sha256": []}
    assert len(Locations.from_data(data, 0, SOURCE)) == 0


def test_what_problem_finds_in_rows():
    data = Locations(*_columns()).to_data()
    assert Locations.problem(data, 6) is not None  # the post count is in the crc32
    assert Locations.problem({**data, "crc32": str(data["crc32"])}, 7) is not None
    assert Locations.problem({**data, "rows": ["a"]}, 7) is not None
    assert Locations.problem([], 7) == "no locations"


def test_a_malformed_row_is_named_when_read():
    # only a writer's bug makes one (an edit fails the crc32): never a wrong answer
    rows = "a\t1\tp\ts\nb\tx2\tp\ts\nc\t3\tp"
    locations = Locations.from_rows(rows, 3, SOURCE)
    assert locations["a"] == Location(1, "p", "s")
    for post_id in ("b", "c"):
        with pytest.raises(Exception, match=f"the row of post {post_id} is malformed"):
            locations[post_id]
    with pytest.raises(Exception, match="copydesk repair"):
        dict(Locations.from_rows(rows, 3, SOURCE))


def test_the_ids_of_either_form_compare_with_a_set_as_the_mapping_s_keys(tmp_path):
    from storage.local.shelf import Locations

    ids = [f"post-{n}" for n in range(50)]
    columns = Locations(ids, list(range(50)), [f"/p/{n}.txt" for n in range(50)], ["0" * 64] * 50)
    rows = Locations.from_data(columns.to_data(), 50, tmp_path / "shelf.json")
    for locations in (columns, rows):
        assert locations.keys() == set(ids) and set(locations.keys()) == set(ids)
        assert locations.keys() != set(ids[1:]) and list(locations.keys()) == ids
        assert "post-3" in locations.keys() and "post-x" not in locations.keys()


def test_the_posts_digest_is_of_the_set_of_ids():
    from storage.local.shelf import posts_digest

    ids = ["a", "ab", "b", "é-ü", "dir/one.txt"]
    assert posts_digest(ids) == posts_digest(reversed(ids))
    assert posts_digest(ids) != posts_digest(ids[:-1])
    assert posts_digest(ids) != posts_digest([*ids[:-1], "dir/one.TXT"])
    assert posts_digest([]) == "0:0:0"


def _catalog_builds(monkeypatch) -> list[int]:
    from storage.local.store_base import LocalStoreBase

    built: list[int] = []
    real = LocalStoreBase._rebuild_catalog

    def counted(self, progress=None):
        built.append(1)
        return real(self, progress)

    monkeypatch.setattr(LocalStoreBase, "_rebuild_catalog", counted)
    return built


def test_opening_compares_the_digests_not_every_id(db, monkeypatch):
    built = _catalog_builds(monkeypatch)
    with Store.open(db) as store:
        expected = store.search_ids("", None)
    # the shelf's ids are not read at all when the shelf and the catalog name one digest
    monkeypatch.setattr(Locations, "keys", lambda self: pytest.fail("read every id"))
    with Store.open(db) as store:
        assert store.search_ids("", None) == expected
    assert built == []


def test_a_catalog_of_other_posts_than_the_shelf_is_rebuilt(db, monkeypatch):
    data_dir = db.with_name(db.name + ".d")
    (index,) = data_dir.glob("index-*.cdx")
    stamp, rest = index.read_bytes().split(b"\n", 1)
    fields = orjson.loads(stamp)
    assert fields["posts"].startswith("5:")
    fields["posts"] = "5:0:0"  # as a catalog of another store's five posts would say
    index.write_bytes(orjson.dumps(fields) + b"\n" + rest)
    built = _catalog_builds(monkeypatch)
    with Store.open(db) as store:
        assert len(store.search_ids("", None)) == 5
    assert built == [1]
    assert orjson.loads(index.read_bytes().split(b"\n", 1)[0])["posts"] != "5:0:0"


def test_a_shelf_without_a_digest_is_checked_id_by_id(db, monkeypatch):
    path = shelf_file(db)
    data = orjson.loads(path.read_bytes())
    del data["shelf"]["1"]["posts_digest"]  # as a shelf written before it was recorded
    path.write_bytes(orjson.dumps(data))
    built = _catalog_builds(monkeypatch)
    with Store.open(db, writable=False) as store:
        assert len(store.search_ids("", None)) == 5
    assert built == []  # the ids compared, and equal
