"""The import's fast paths give what the plain ones give (file names as strings, ...)."""

from __future__ import annotations

import os
from pathlib import Path

from storage import importer


def _tree(root: Path) -> None:
    (root / "a").mkdir()
    (root / "a-b").mkdir()
    (root / "a" / "x.txt").write_text("x")
    (root / "a-b" / "y.txt").write_text("y")
    (root / "dir.txt").mkdir()
    (root / "dir.txt" / "in.txt").write_text("in")
    (root / "skip.md").write_text("no")
    os.symlink(root / "a" / "x.txt", root / "link.txt")  # the same file as a/x.txt


def test_collected_names_are_the_strings_of_the_collected_paths(tmp_path, monkeypatch):
    _tree(tmp_path)
    cases = [
        [tmp_path],
        [tmp_path / "a", tmp_path],
        [str(tmp_path) + "//a/", tmp_path / "link.txt"],
        [tmp_path / "missing", tmp_path / "skip.md"],
    ]
    monkeypatch.chdir(tmp_path)
    cases += [["."], ["./a/"], ["a", "a-b/y.txt", "a/../a-b"]]
    for paths in cases:
        names, name_errors = importer.collect_names(paths)
        files, file_errors = importer.collect_files(paths)
        assert names == [str(f) for f in files]
        assert all(type(n) is str for n in names)
        assert name_errors == file_errors
    assert importer.collect_names(["."])[0] == ["a/x.txt", "a-b/y.txt", "dir.txt/in.txt"]


DATA = Path(__file__).resolve().parents[1] / "data"


def _seed_files() -> list[str]:
    from storage.paths import samples_dir

    files = sorted(str(p) for p in Path(samples_dir()).glob("*.txt"))
    files += sorted(str(p) for p in DATA.rglob("*") if p.is_file())
    return files


def test_hints_of_many_posts_are_the_hints_of_each_post():
    import datetime

    import seeds
    from storage.hints import compute_hints_many

    posts = []
    for path in _seed_files():
        try:
            posts.append(seeds.read_file(path).to_dict())
        except seeds.ParseError:
            continue
    posts.append({"title": "", "body": None, "meta": None, "warnings": ["no meta box"]})
    today = datetime.date(2031, 1, 1)  # every sample's review is stale by then
    together = compute_hints_many(posts, today=today)
    assert together == [compute_hints_many([p], today=today)[0] for p in posts]
    assert sum(1 for hints in together for h in hints if h["code"] == "stale_review") >= 5
    assert any(len(hints) > 2 for hints in together)


def test_a_chunk_is_shelved_as_its_files_one_by_one(tmp_path):
    from storage.analysis import ShelveTask, read_segment, shelve_chunk

    bad = tmp_path / "empty.txt"
    bad.write_text("")
    files = _seed_files()
    files.insert(2, str(bad))
    files.append(str(tmp_path / "gone.txt"))
    together = shelve_chunk(ShelveTask(files, 100, str(tmp_path / "all.json")))
    alone = [
        shelve_chunk(ShelveTask([f], 100 + n, str(tmp_path / f"{n}.json")))
        for n, f in enumerate(files)
    ]
    assert [(e.path, e.reason) for e in together.errors] == [
        (e.path, e.reason) for r in alone for e in r.errors
    ]
    assert {str(bad), str(tmp_path / "gone.txt")} <= {e.path for e in together.errors}
    records = read_segment(str(tmp_path / "all.json"))
    for n, result in enumerate(alone):
        for post in result.posts():
            [mine] = [p for p in together.posts() if p.path == post.path]
            assert (mine.id, mine.doc_id, mine.row, mine.fields, mine.warnings) == (
                post.id,
                post.doc_id,
                post.row,
                post.fields,
                post.warnings,
            )
            assert (
                records[str(mine.doc_id)]
                == read_segment(str(tmp_path / f"{n}.json"))[str(post.doc_id)]
            )
    assert len(together.posts()) >= 5 and len(records) == len(together.posts())


def _rows_reference(pairs):
    """What PostRows holds, the plain way: last pair per id, sorted by (reference or id, id),
    text columns as str, odd sha256 values kept as they are."""
    by_id = {row["id"]: (row, doc_id) for row, doc_id in pairs}
    ordered = sorted(by_id.values(), key=lambda p: (p[0]["reference"] or p[0]["id"], p[0]["id"]))
    return [
        (
            {
                "id": row["id"],
                "reference": str(row["reference"] or ""),
                "title": str(row["title"] or ""),
                "topic": str(row["topic"]),
                "needs_human_review": bool(row["needs_human_review"]),
                "hint_codes": tuple(row["hint_codes"]),
                "sha256": row["sha256"],
            },
            doc_id,
        )
        for row, doc_id in ordered
    ]


def test_post_rows_built_in_bulk_hold_what_the_rows_say():
    from storage.postrows import PostRows

    def row(post_id, reference, sha="ab" * 32, **extra):
        base = {
            "id": post_id,
            "reference": reference,
            "title": f"t {post_id}",
            "topic": "a / b",
            "needs_human_review": post_id.endswith("1"),
            "hint_codes": ["reading_time"],
            "sha256": sha,
        }
        return {**base, **extra}

    plain = [(row(f"p{n}", f"ref-{(n * 7) % 10}"), n) for n in range(10)]
    odd = [
        (row("q1", None, sha="AB" * 32), 11),  # upper case: kept as is
        (row("q2", "", sha="ab" * 31), 12),  # 62 digits ...
        (row("q3", "r", sha="ab" * 33), 13),  # ... and 66: together 128, still odd
        (row("q4", None, sha="not hex", title=None, topic=3), 14),
        (row("p3", "ref-0", needs_human_review=1), 15),  # a repeated id: the last wins
    ]
    for pairs in (plain, plain + odd, odd, []):
        rows = PostRows(pairs)
        got = [(dict(rows[i]), rows.doc_id(i)) for i in rows]
        assert got == _rows_reference(pairs)
        assert list(rows.doc_ids) == [doc_id for _, doc_id in got]


def _frozen(value):
    """What the interner keeps of a value, the plain way: lists (nested too) as tuples."""
    return tuple(map(_frozen, value)) if isinstance(value, list | tuple) else value


def test_interned_fields_and_rows_are_the_plain_values_shared():
    import seeds
    from storage.analysis import Interner, post_record, post_row
    from storage.query import index_fields

    posts = []
    for path in _seed_files():
        try:
            posts.append(seeds.read_file(path))
        except seeds.ParseError:
            continue
    odd = {
        "title": "t",
        "n": 1,
        "flag": True,
        "nested": [["a", 1], "b"],
        "map": {"k": [1]},
        "mixed": ["x", True, 2.5],
        "empty": [],
        "float": 2.5,
    }
    intern = Interner()
    kept = []
    for post in posts + posts:  # the second time round, every value was seen before
        fields = index_fields(post.to_dict())
        row = post_row(post_record(post))
        packed, row_kept = intern.fields(fields), intern.row(row)
        assert dict(packed.items()) == {k: _frozen(v) for k, v in fields.items()}
        assert row_kept == {k: _frozen(v) for k, v in row.items()}
        assert [type(v) for v in row_kept.values()] == [type(_frozen(v)) for v in row.values()]
        kept.append(packed)
    assert len(posts) >= 5
    first, second = kept[: len(posts)], kept[len(posts) :]
    for a, b in zip(first, second, strict=True):  # equal values are one object
        assert all(
            x is y for x, y in zip(a._values, b._values, strict=True) if not isinstance(x, int)
        )
        assert a._names is b._names
    packed = intern.fields(odd)
    assert dict(packed.items()) == {k: _frozen(v) for k, v in odd.items()}
    assert packed["flag"] is True and packed["mixed"][1] is True  # never 1 for True
    assert intern.row({"needs_human_review": False, "n": 0}) == {
        "needs_human_review": False,
        "n": 0,
    }
    assert intern.row({"needs_human_review": False})["needs_human_review"] is False


_ODD_VALUES = [
    "a", "", 1, 0, True, False, 1.0, 0.0, -0.0, float("nan"), None, 2.5,
    ["a", 1], ("a", 1), [1, True], [1.0], ["x", ["y", 1]], [], {"k": [1]},
]  # fmt: skip


def _typed(value):
    """A value with the type of every part (``==`` alone takes 1 for True, 0.0 for -0.0)."""
    if isinstance(value, list | tuple):
        return (type(value), tuple(map(_typed, value)))
    if isinstance(value, dict):
        return (dict, tuple((k, _typed(v)) for k, v in value.items()))
    if isinstance(value, float):
        return (float, repr(value))
    return (type(value), value)


def test_numbered_rows_and_fields_unpack_to_what_plain_interning_keeps():
    """A chunk's rows and fields travel from a worker as numbers into its distinct values;
    unpacked (after pickling, as from a pool) they are what ``Interner`` makes of the values
    themselves, types included, and one object per distinct value across chunks."""
    import pickle
    import random

    from storage.analysis import (
        Interner,
        ShelveResult,
        ShelveTask,
        _NumberedPost,
        _Numbering,
    )

    chance = random.Random(5)
    chunks = []
    for _ in range(3):
        number, numbered, plain = _Numbering(), [], []
        for n in range(40):
            fields = {f"f{k}": chance.choice(_ODD_VALUES) for k in range(chance.randrange(6))}
            row = {"id": f"p{n}", "needs_human_review": chance.choice([True, False, 1, 0])}
            numbered.append(
                _NumberedPost("x", f"p{n}", n, "s", number.mapping(row), number.mapping(fields), [])
            )
            plain.append((row, fields))
        result = ShelveResult(ShelveTask([], 0, ""), numbered, [], number.values)
        chunks.append((pickle.loads(pickle.dumps(result)), plain))
    unpacking, interning = Interner(), Interner()
    seen: dict = {}
    for result, plain in chunks:
        for post, (row, fields) in zip(result.posts(unpacking), plain, strict=True):
            assert _typed(post.row) == _typed(interning.row(row))
            expected = dict(interning.fields(fields).items())
            assert _typed(dict(post.fields.items())) == _typed(expected)
            for value in post.fields._values:  # equal texts and flat lists: one object
                if type(value) in (str, tuple) and all(type(v) in (str, int) for v in value):
                    assert seen.setdefault(value, value) is value
