"""The catalog (storage/catalog.py): queries as the store answers them, and its cache
format round-trips without pickle."""

from __future__ import annotations

import os
import re

import orjson
import pytest

import storage.catalog as catalog_module
from seeds import synth
from storage import Status, Store
from storage.analysis import DeriveTask, ShelveTask, derive_segment, shelve_chunk
from storage.catalog import Catalog, IndexEntry
from storage.codec import CodecError
from storage.models import Review

QUERIES = (
    "",
    "kubernets",
    "stack:php caching",
    "quality<70",
    "difficulty:advanced -stack:php",
    "flag:needs_human_review",
    "status:approved",
    "hint:placeholder_image",
    "postgress indexng",
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    synth.synthesize(300, out, seed=3)
    return out


@pytest.fixture(scope="module")
def entries(corpus, tmp_path_factory):
    segment = tmp_path_factory.mktemp("segment")
    files = [str(p) for p in sorted(corpus.glob("*.txt"))]
    shelved = shelve_chunk(ShelveTask(files, 1, str(segment / "1.json"))).posts()
    docs = [p.doc_id for p in shelved]
    derived = derive_segment(DeriveTask(str(segment / "1.json"), str(segment / "h.json"), docs))
    by_id = {d.id: d for d in derived}
    return [
        IndexEntry(
            p.id,
            p.doc_id,
            {**p.row, "hint_codes": list(by_id[p.id].hint_codes)},
            p.fields,
            by_id[p.id].features,
        )
        for p in shelved
    ]


def test_catalog_answers_like_the_store(tmp_path, corpus, entries):
    store = Store.open(tmp_path / "s.json")
    store.import_paths([corpus])
    ids = store.ids()
    store.set_review(ids[3], "approved")
    store.set_review(ids[7], "rejected", note="dup")
    catalog = Catalog.build(entries)
    decisions = store.reviews()
    for query in QUERIES:
        assert catalog.search_ids(query, 50, decisions) == store.search_ids(query, 50), query
        assert catalog.count(query, decisions) == store.count(query), query
    assert catalog.ids() == ids
    assert catalog.clusters() == store.clusters()
    assert catalog.progress(decisions) == store.progress()
    post = ids[0]
    assert catalog.similar(post, 5) == store.similar(post, 5)
    assert catalog.summary(ids[3], decisions).status is Status.APPROVED


def test_catalog_bytes_round_trip(entries):
    catalog = Catalog.build(entries)
    again = Catalog.from_bytes(catalog.to_bytes())
    decisions = {entries[0].id: Review(status="approved")}
    for query in QUERIES:
        assert again.search_ids(query, None, decisions) == catalog.search_ids(
            query, None, decisions
        )
    assert again.clusters() == catalog.clusters()
    assert again.similar(entries[5].id) == catalog.similar(entries[5].id)


def test_updated_equals_built_at_once(entries):
    half = len(entries) // 2
    stepwise = Catalog.build(entries[:half]).updated(entries[half:])
    whole = Catalog.build(entries)
    for query in QUERIES:
        assert stepwise.search_ids(query, None, {}) == whole.search_ids(query, None, {})
    assert stepwise.ids() == whole.ids()


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[:-1],
        lambda raw: raw[:100],
        lambda raw: b"\x80\x04" + raw,  # a pickle's opening bytes
        lambda raw: raw[:50] + bytes([raw[50] ^ 1]) + raw[51:],
        lambda raw: b"",
    ],
)
def test_damaged_catalog_bytes_are_refused(entries, damage):
    raw = Catalog.build(entries[:20]).to_bytes()
    with pytest.raises(CodecError):
        Catalog.from_bytes(damage(raw))


def _rewritten(raw: bytes, edit) -> bytes:
    """``raw`` with its JSON document edited and a valid checksum: a file whose bytes are
    intact but whose content is not what copydesk writes (a crafted or foreign file)."""
    import zlib

    import orjson

    from storage import codec

    (length,) = codec._LENGTH.unpack_from(raw, len(codec.MAGIC))
    start = len(codec.MAGIC) + codec._LENGTH.size
    header = orjson.loads(raw[start : start + length])
    edit(header["data"])
    blobs = raw[start + length + (-(start + length) % 8) : -codec._CRC.size]
    new = orjson.dumps(header)
    head = codec.MAGIC + codec._LENGTH.pack(len(new)) + new
    body = head + b"\x00" * (-len(head) % 8) + blobs
    return body + codec._CRC.pack(zlib.crc32(body))


def _set(path: tuple[str, ...], index: int, value):
    def edit(data):
        for key in path:
            data = data[key]
        data[index] = value

    return edit


def test_the_similarity_of_a_catalog_read_back_names_its_posts_by_the_rows_ids(entries):
    """Written as slots of the rows, the similarity's ids read back are the rows' own id
    objects (one copy of every id in memory), and its answers are those of the catalog
    written."""
    import orjson

    from storage import codec

    catalog = Catalog.build(entries)
    raw = catalog.to_bytes()
    (length,) = codec._LENGTH.unpack_from(raw, len(codec.MAGIC))
    start = len(codec.MAGIC) + codec._LENGTH.size
    header = orjson.loads(raw[start : start + length])
    assert set(header["data"]["similarity"]["ids"]) == {"row_slots"}
    again = Catalog.from_bytes(raw)
    by_id = {id(post_id) for post_id in again.rows.ids}
    assert all(id(post_id) in by_id for post_id in again._similarity.ids())
    assert sorted(again._similarity.ids()) == sorted(catalog._similarity.ids())
    for post_id in catalog.ids()[:10]:
        assert again.similar(post_id, 5) == catalog.similar(post_id, 5)
    assert again.clusters() == catalog.clusters()
    # the search index read back holds them too, as the ids of its queue keys
    search = again.search_index
    assert all(id(post_id) in by_id for post_id in search.ids())
    assert all(search._keys[s][1] is search._ids[s] for s in range(len(search._ids)))
    assert again.search("", 30, {}) == catalog.search("", 30, {})
    assert again.search("cache", 30, {}) == catalog.search("cache", 30, {})


def test_a_rewritten_catalog_with_nothing_changed_reads_back(entries):
    catalog = Catalog.build(entries[:20])
    again = Catalog.from_bytes(_rewritten(catalog.to_bytes(), lambda data: None))
    assert again.ids() == catalog.ids()
    assert [again.rows.hint_codes[s] for s in range(20)] == [
        catalog.rows.hint_codes[s] for s in range(20)
    ]


@pytest.mark.parametrize(
    "edit",
    [
        _set(("rows", "hint_codes", "combinations"), 0, [1]),  # a code that is not a text
        _set(("rows", "hint_codes", "combinations"), 0, "placeholder_image"),  # not a list
        _set(("rows", "hint_codes", "combinations"), 0, [["nested"]]),
        lambda data: data["rows"]["hint_codes"]["combinations"].clear(),  # numbers of none
        _set(("similarity",), "ids", "not a list"),
        # the needs-review bytes, not an array of I
        lambda data: data["similarity"].__setitem__("units", data["rows"]["needs_review"]),
        _set(("rows", "topics"), "distinct", [1]),  # a topic that is not a text
        lambda data: data["rows"]["topics"]["distinct"].clear(),  # numbers of none
        _set(("rows",), "topics", ["a list of texts"]),  # not numbered
        _set(("rows", "ids"), 5, 5),
        _set(("rows",), "titles", ["a title", None]),  # a plain list holding a non-text
        # packed titles whose starts are not an array of I
        lambda data: data["rows"]["titles"].__setitem__("starts", data["rows"]["doc_ids"]),
        _set(("similarity",), "titles", {"packed": None}),
        # ids as the slots of rows, one past the last row
        lambda data: data["similarity"]["ids"].__setitem__("row_slots", data["rows"]["doc_ids"]),
        _set(("similarity",), "ids", {"row_slots": None}),
    ],
)
def test_a_catalog_with_intact_bytes_but_wrong_types_is_refused(entries, edit):
    raw = Catalog.build(entries[:20]).to_bytes()
    with pytest.raises(CodecError):
        Catalog.from_bytes(_rewritten(raw, edit))


def test_near_duplicate_hints_are_those_of_the_similar_posts_above_the_threshold(entries):
    # near_duplicate_hints asks the similarity index for the pairs at or above the
    # threshold only (their reasons are the costly part): the plain version filters the
    # whole similar list
    from storage.hints import near_duplicate_hints
    from storage.similarity import NEAR_DUPLICATE_THRESHOLD

    catalog = Catalog.build(entries)
    assert catalog.near_dup_ids()  # the corpus has near duplicates
    for post_id in catalog.ids():
        plain = [s for s in catalog.similar(post_id, 10) if s.score >= NEAR_DUPLICATE_THRESHOLD]
        assert catalog.near_duplicate_hints(post_id) == near_duplicate_hints(plain)


def _with_search_edited(catalog: Catalog, edit) -> bytes:
    """``catalog.to_bytes()`` with its search index's JSON edited and valid checksums
    (catalog.py ``to_parts``, with the edit)."""
    from storage import catalog as catalog_module
    from storage.codec import Writer

    writer = Writer()
    data = {
        "rows": catalog.rows.to_data(writer),
        "search": writer.bytes(_search_container_edited(catalog, edit)),
        "search_delta": [],
        "similarity": catalog._similarity.to_data(writer, catalog.rows.slot_map()),
        "pending": [],
    }
    return writer.finish(catalog_module.CACHE_KIND, catalog_module.CACHE_VERSION, data)


def _search_container_edited(catalog: Catalog, edit) -> bytes:
    """The search index's own container (``Catalog.search_parts``), its JSON edited."""
    from storage import catalog as catalog_module
    from storage.codec import Writer

    inner = Writer()
    search = catalog.search_index.to_data(inner)
    edit(search)
    return inner.finish(catalog_module.SEARCH_KIND, catalog_module.SEARCH_VERSION, search)


def test_the_search_index_written_in_parts_is_the_container_joined_first(entries):
    """``to_parts`` hands the search index's container over in its parts (no copy of it
    joined); the bytes are those of the joined container."""
    catalog = Catalog.build(entries)
    assert catalog.to_bytes() == _with_search_edited(catalog, lambda search: None)


def _search_ids_wrong(search: dict) -> None:
    search["ids"][1] = ["x"]


def test_the_search_index_is_decoded_on_first_use_and_refused_then(entries):
    from storage.catalog import DamagedIndexError

    built = Catalog.build(entries[:20])
    again = Catalog.from_bytes(built.to_bytes())
    assert again._search_index is None  # the first screen needs none of it
    assert again.search_ids("", 5, {}) == built.search_ids("", 5, {})  # nor does the queue
    assert again._search_index is None
    assert again.search_ids("kubernetes", None, {}) == built.search_ids("kubernetes", None, {})
    crafted = Catalog.from_bytes(_with_search_edited(built, _search_ids_wrong))
    assert crafted.ids() == built.ids()  # the rows are sound
    with pytest.raises(DamagedIndexError, match="search index is damaged"):
        crafted.search_ids("kubernetes", None, {})
    told: list[str] = []

    def rebuild(why: str):
        told.append(why)
        return built.search_index

    mended = Catalog.from_bytes(_with_search_edited(built, _search_ids_wrong), rebuild)
    assert mended.search_ids("kubernetes", None, {}) == built.search_ids("kubernetes", None, {})
    assert told == ["search index: bad ids"]


def test_a_store_whose_search_index_is_refused_on_first_use_rebuilds_it(tmp_path, corpus):
    from storage.local import index_files

    db = tmp_path / "s.json"
    with Store.open(db) as store:
        store.import_paths([corpus])
        expected = store.search_ids("kubernetes", None)
        generation = store._shelf.state.generation
        catalog = store._catalog()
    assert expected
    path = index_files.search_path(store.layout, generation)
    stamp = path.read_bytes().split(b"\n", 1)[0]
    path.write_bytes(stamp + b"\n" + _search_container_edited(catalog, _search_ids_wrong))
    warnings: list[str] = []
    with Store.open(db, warn=warnings.append) as store:
        assert store.search_ids("", 3)  # the queue: rows only, nothing refused yet
        assert warnings == []
        assert store.search_ids("kubernetes", None) == expected
    assert len(warnings) == 1 and "damaged" in warnings[0] and str(path) in warnings[0]
    with Store.open(db, warn=warnings.append) as store:  # written sound again
        assert store.search_ids("kubernetes", None) == expected
    assert len(warnings) == 1


def _store_and_search_file(tmp_path, corpus, name="s.json"):
    from storage.local import index_files

    db = tmp_path / name
    with Store.open(db) as store:
        store.import_paths(corpus if isinstance(corpus, list) else [corpus])
        expected = store.search_ids("kubernetes", None)
        path = index_files.search_path(store.layout, store._shelf.state.generation)
    assert path.exists()
    return db, expected, path


def _searched_twice(db, expected) -> list[str]:
    """The warnings of two opens that search: the first rebuilds, the second must not."""
    warnings: list[str] = []
    with Store.open(db, warn=warnings.append) as store:
        assert store.search_ids("", 3)  # the first screen: rows only, nothing read yet
        assert warnings == []
        assert store.search_ids("kubernetes", None) == expected
    with Store.open(db, warn=warnings.append) as store:
        assert store.search_ids("kubernetes", None) == expected
    return warnings


def test_a_store_whose_search_file_is_missing_rebuilds_it_on_first_search(tmp_path, corpus):
    db, expected, path = _store_and_search_file(tmp_path, corpus)
    assert expected
    path.unlink()
    warnings = _searched_twice(db, expected)
    assert len(warnings) == 1 and str(path) in warnings[0] and "cannot be read" in warnings[0]
    assert path.exists()  # written again by the second open


def test_a_search_file_of_another_catalog_is_refused_and_rebuilt(tmp_path, corpus):
    """Sound bytes, checksums and all, but another store's (or generation's)."""
    db, expected, path = _store_and_search_file(tmp_path, corpus)
    assert expected
    _, _, other = _store_and_search_file(tmp_path, sorted(corpus.iterdir())[:3], "o.json")
    path.write_bytes(other.read_bytes())
    warnings = _searched_twice(db, expected)
    assert len(warnings) == 1 and "is of another catalog" in warnings[0]


def _two_phase_import(tmp_path, corpus, monkeypatch, between=None):
    """An import whose hints and similarity are committed apart (phase 2), with
    ``between(path of the phase-1 search file, store)`` run between the phases."""
    from storage.local import index_files, store_imports

    monkeypatch.setattr(store_imports, "DERIVE_BEFORE_COMMIT", 0)
    db = tmp_path / "two.json"
    warnings: list[str] = []
    with Store.open(db, warn=warnings.append) as store:
        store.import_paths([corpus], derive=False)
        phase_one = index_files.search_path(store.layout, store._shelf.state.generation)
        written = phase_one.read_bytes().split(b"\n", 1)[1]
        if between is not None:
            between(phase_one, store)
        store.finish_derived()
        generation = store._shelf.state.generation
        phase_two = index_files.search_file_of(store.layout, generation)
        expected = store._rebuild_catalog()
        assert store.search_ids("kubernetes", None) == expected.search_ids("kubernetes", None, {})
    after = phase_two.read_bytes().split(b"\n", 1)[1] if phase_two.exists() else None
    return written, after, expected, warnings, (phase_one, phase_two)


def _decodes_counted(monkeypatch, measure) -> list[int]:
    """``measure(raw, delta)`` of every search index decoded from now on."""
    decoded: list[int] = []
    decode = catalog_module._search_from_bytes

    def counted(raw, rows, delta=()):
        decoded.append(measure(raw, delta))
        return decode(raw, rows, delta)

    monkeypatch.setattr(catalog_module, "_search_from_bytes", counted)
    return decoded


def test_phase_two_shares_the_search_file_it_did_not_change(tmp_path, corpus, monkeypatch):
    decoded = _decodes_counted(monkeypatch, lambda raw, delta: len(raw))
    before, after, expected, warnings, (one, two) = _two_phase_import(tmp_path, corpus, monkeypatch)
    assert two == one  # phase 2's catalog names phase 1's search file: nothing written
    assert decoded == [len(after)]  # the final search only: phase 2 decoded nothing
    assert after == before == b"".join(expected.search_parts())  # the bytes of an encode
    assert warnings == []
    assert sorted(p.name for p in one.parent.glob("search-*.cdx")) == [one.name]


def test_a_damaged_search_file_phase_two_shares_is_rebuilt_on_first_search(
    tmp_path, corpus, monkeypatch
):
    def damage(path, store):
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0xFF  # the checksum no longer holds
        path.write_bytes(bytes(raw))

    _, after, expected, warnings, (one, two) = _two_phase_import(
        tmp_path, corpus, monkeypatch, damage
    )
    assert two == one and after is None  # found damaged by the search, and removed
    assert len(warnings) == 1 and "damaged" in warnings[0] and one.name in warnings[0]
    warnings.clear()
    with Store.open(tmp_path / "two.json", warn=warnings.append) as store:  # written anew
        assert store.search_ids("kubernetes", None) == expected.search_ids("kubernetes", None, {})
        from storage.local import index_files

        again = index_files.search_file_of(store.layout, store._shelf.state.generation)
        print("LISTING", sorted(p.name for p in again.parent.iterdir()), warnings)
    assert again.read_bytes().split(b"\n", 1)[1] == b"".join(expected.search_parts())
    assert warnings == []  # the catalog that named the damaged file went with it


def test_a_search_index_refused_when_read_is_not_copied_to_the_next_generation(
    tmp_path, corpus, monkeypatch
):
    """Sound checksums, wrong content: refused when decoded (before phase 2 commits), and
    phase 2 then writes the index rebuilt from the posts, not a copy of those bytes."""

    def craft_and_search(path, store):
        stamp = path.read_bytes().split(b"\n", 1)[0]
        path.write_bytes(
            stamp + b"\n" + _search_container_edited(store._catalog(), _search_ids_wrong)
        )
        store._loaded = None  # read again, from the crafted file
        store.search_ids("kubernetes", None)

    before, after, expected, warnings, (one, two) = _two_phase_import(
        tmp_path, corpus, monkeypatch, craft_and_search
    )
    assert two != one and not one.exists()  # a search file of its own
    assert after == b"".join(expected.search_parts()) == before
    assert len(warnings) == 1 and "bad ids" in warnings[0]


SEARCHES = ["kubernetes", "stack:php", "quality>80", "needs_human_review:1 postgres", "topic:cdn"]


def _batches(tmp_path, corpus, count):
    """The corpus's files in ``count`` directories of about equal size (hard links)."""
    files = sorted(corpus.glob("*.txt"))
    dirs = []
    for number in range(count):
        folder = tmp_path / f"batch{number}"
        folder.mkdir()
        for path in files[number::count]:
            os.link(path, folder / path.name)
        dirs.append(folder)
    return dirs


def _answers(store):
    return {query: store.search_ids(query, None) for query in SEARCHES}


def test_a_batch_keeps_the_search_index_and_its_delta_answers_as_one_import(
    tmp_path, corpus, monkeypatch
):
    """Each batch after the first leaves the search file's index as it was (copied, not
    decoded) and keeps its posts' fields as the delta; past SEARCH_DELTA_MAX the index is
    encoded again whole. Every step answers as a store that imported the files at once."""
    from storage.local import index_files

    monkeypatch.setattr(catalog_module, "SEARCH_DELTA_MAX", 130)  # 100 a batch: the third
    decoded = _decodes_counted(monkeypatch, lambda raw, delta: len(delta))
    db, so_far = tmp_path / "batches.json", tmp_path / "so-far"
    so_far.mkdir()
    encoded, deltas, names = [], [], []
    for number, folder in enumerate(_batches(tmp_path, corpus, 3)):
        with Store.open(db) as store:
            store.import_paths([folder])
            generation = store._shelf.state.generation
            named = index_files.search_file_of(store.layout, generation)
            encoded.append(named.read_bytes().split(b"\n", 1)[1])
            names.append(named.name)
            # the second batch decoded nothing; the third, past the delta's size, decoded
            # the index with the second's delta, to encode it whole
            assert decoded == {0: [], 1: [], 2: [100]}[number]
        for path in folder.glob("*.txt"):
            os.link(path, so_far / path.name)
        whole = Store.open(tmp_path / f"whole{number}.json")  # the same files, at once
        whole.import_paths([so_far])
        with Store.open(db) as store:  # read back from its files
            catalog = store._catalog()
            deltas.append(len(catalog.search_delta))
            assert _answers(store) == _answers(whole)
            assert catalog.ids() == whole._catalog().ids()
        decoded.clear()
    assert deltas == [0, 100, 0]
    # the second batch's catalog names the first's search file, its posts kept apart
    assert names[1] == names[0] and encoded[1] == encoded[0]
    assert names[2] != names[1]
    assert encoded[2] != encoded[1]  # the third was past the delta's size: encoded whole


def test_a_damaged_search_file_under_a_delta_is_rebuilt_with_the_delta(tmp_path, corpus):
    from storage.local import index_files

    first, second = _batches(tmp_path, corpus, 2)
    warnings: list[str] = []
    db = tmp_path / "s.json"
    for folder in (first, second):  # each import a process of its own, as the CLI's are
        with Store.open(db) as store:
            store.import_paths([folder])
    path = index_files.search_file_of(store.layout, store._shelf.state.generation)
    assert path != index_files.search_path(store.layout, store._shelf.state.generation)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    whole = Store.open(tmp_path / "whole.json")
    whole.import_paths([corpus])
    with Store.open(db, warn=warnings.append) as store:
        assert len(store._catalog().search_delta) == len(list(second.glob("*.txt")))
        assert _answers(store) == _answers(whole)
    assert len(warnings) == 1 and "damaged" in warnings[0] and path.name in warnings[0]


class _Bytes:
    """A search source of given bytes (``catalog.SearchSource``)."""

    def __init__(self, raw: bytes) -> None:
        self.raw, self.refused = raw, False

    def read(self) -> bytes:
        return self.raw

    def refuse(self) -> None:
        self.refused = True


def test_a_search_delta_round_trips_and_a_bad_one_is_refused(entries):
    catalog = Catalog.build(entries[:40])
    delta = tuple((e.id, e.fields, (e.row["reference"] or e.id, e.id)) for e in entries[40:45])
    rows = catalog.rows.updated([(e.row, e.doc_id) for e in entries[40:45]])
    written = Catalog(rows, catalog.search_index, catalog._similarity, search_delta=delta)
    source = _Bytes(b"".join(catalog.search_parts()))
    again = Catalog.from_bytes(b"".join(written.parts_without_search()), search_apart=source)
    assert [(pid, key) for pid, _, key in again.search_delta] == [(p, k) for p, _, k in delta]
    for (_, fields, _), (_, plain, _) in zip(again.search_delta, delta, strict=True):
        assert fields == {k: list(v) if isinstance(v, tuple) else v for k, v in plain.items()}
    whole = Catalog.build(entries[:45])
    for query in SEARCHES:
        assert again.search_ids(query, None, {}) == whole.search_ids(query, None, {})
    assert not source.refused
    for bad in ([["id", ["a"], [1, 2], ["k", "id"]]], [["id", ["a"], [1], ["k"]]], {"a": 1}):
        with pytest.raises(CodecError):
            catalog_module._delta_from_data(bad)


def test_near_duplicate_hints_kept_from_the_last_generation_are_those_worked_out(
    tmp_path, monkeypatch
):
    """A batch works out the near-duplicate hints of the posts whose similar lists it
    changed only; the file holds, for every post, what working them all out gives, through
    new posts, a changed post, and a batch of near copies of a post already stored."""
    from storage.local import index_files

    base = tmp_path / "base"
    synth.synthesize(240, base, seed=9)
    files = sorted(base.glob("*.txt"))
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    for n, path in enumerate(files):
        os.link(path, (first if n < 200 else second) / path.name)
    for n, path in enumerate(files[10:40]):  # near copies of 30 posts: another reference
        text = path.read_text()
        reference = re.search(r"anp-ref-[0-9]+-[0-9]+", text).group()
        (first / f"copy-{n}.txt").write_text(text.replace(reference, f"anp-ref-9{n:05}-1"))
    changed = first / files[12].name  # re-imported with another title (it has a copy)
    text = changed.read_text()
    changed.unlink()
    changed.write_text(text.replace("\n", " (revised)\n", 1))
    worked: list[str] = []
    plain = Catalog.near_duplicate_hints

    def counted(self, post_id):
        worked.append(post_id)
        return plain(self, post_id)

    monkeypatch.setattr(Catalog, "near_duplicate_hints", counted)
    db = tmp_path / "s.json"
    for step, folder in enumerate([first, second, first]):
        if step == 2:
            (first / files[12].name).write_text(text)  # back to what it was
        worked.clear()
        with Store.open(db) as store:
            store.import_paths([folder])
            generation = store._shelf.state.generation
            catalog = store._catalog()
            near = catalog.near_dup_ids()
            table = orjson.loads(index_files.near_dups_path(store.layout, generation).read_bytes())
        assert near, "the corpus has near copies"
        assert table["hints"] == {pid: plain(catalog, pid) for pid in near}
        if step:
            assert len(worked) < len(near)  # the others were taken from the last file
    assert table["generation"] == generation


def test_similarity_marks_the_posts_whose_lists_change(entries):
    catalog = Catalog.build(entries[:60])
    similarity = catalog._similarity
    similarity.mark_read(7)
    assert similarity.changed_since_read() == (7, set())
    before = {pid: similarity.similar(pid, 12) for pid in catalog.ids()}
    copy = similarity.copy()
    copy.add_many([(e.id, e.features) for e in entries[60:80]])
    copy.remove_many([entries[5].id])
    generation, touched = copy.changed_since_read()
    assert generation == 7
    after = {pid: copy.similar(pid, 12) for pid in copy._slot}
    moved = {pid for pid in after if before.get(pid) != after[pid]}
    assert moved <= touched  # every post whose list changed is marked
    assert {e.id for e in entries[60:80]} <= touched
    assert similarity.changed_since_read() == (7, set())  # the original is untouched
    assert Catalog.build(entries[:10]).near_duplicates_since_read() is None
