"""PostRows (storage/postrows.py): the columns of every post's list row."""

from __future__ import annotations

import hashlib
import random

import pytest

from storage import postrows
from storage.postrows import ROW_KEYS, PostRows


def _row(n: int, rng: random.Random, *, version: int = 0) -> dict:
    sha = hashlib.sha256(f"{n} {version}".encode()).hexdigest()
    if n % 17 == 0:
        sha = "not hex " + sha[:8]  # kept as it is (an old store's odd value)
    return {
        "id": f"post-{n:05d}",
        "reference": "" if n % 13 == 0 else f"ref-{rng.randrange(10**6):06d}",
        "title": f"title {n} v{version}",
        "topic": rng.choice(["caching / php", "jobs / go", "logs / rust"]),
        "needs_human_review": n % 3 == 0,
        "hint_codes": tuple(rng.sample(["stale_review", "placeholder_image", "thin"], n % 3)),
        "sha256": sha,
    }


def _columns(rows: PostRows) -> dict:
    return {
        "slots": [rows.slot(post_id) for post_id in rows.ids],
        **{key: [rows.value(s, key) for s in range(len(rows))] for key in ROW_KEYS},
        "doc_ids": list(rows.doc_ids),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_update_equals_the_rows_built_whole(seed):
    rng = random.Random(seed)
    base = [(_row(n, rng), 10 + n) for n in range(400)]
    changes = [(_row(n, rng, version=1), 1000 + n) for n in rng.sample(range(400), 60)]
    changes += [(_row(n, rng), 2000 + n) for n in range(400, 450)]  # new posts
    changes.append((_row(401, rng, version=2), 3000))  # the same id twice: the last wins
    whole = PostRows([*base, *changes])
    stepwise = PostRows(base).updated(changes)
    assert _columns(stepwise) == _columns(whole)
    assert len(stepwise) == 450
    assert stepwise["post-00401"]["title"] == "title 401 v2"
    assert PostRows(base).updated([]) is not None
    assert _columns(PostRows([]).updated(base)) == _columns(PostRows(base))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("added", [100, 3])  # many: one list of keys; a few: keyed bisects
def test_new_rows_merged_in_equal_the_rows_built_whole(seed, added):
    """Posts none of the rows hold (an import's new posts): merged into the queue order,
    not sorted again, and the same columns as built whole (odd sha256 values included)."""
    rng = random.Random(seed)
    numbers = list(range(400 + added))
    rng.shuffle(numbers)
    if added < 17:  # an odd sha256 among the few new ones, and one with no reference
        numbers.remove(17 * 13)
        numbers.append(17 * 13)
    base = [(_row(n, rng), 10 + n) for n in numbers[:400]]
    new = [(_row(n, rng), 2000 + n) for n in numbers[400:]]
    assert (len(new) * postrows.FEW_NEW_ROWS_SHARE < len(base)) == (added == 3)
    assert any(n % 17 == 0 for n in numbers[400:])  # an odd sha256 among the new ones
    kept = PostRows(base)
    merged = kept.updated(new)
    assert _columns(merged) == _columns(PostRows([*base, *new]))
    assert merged._odd_sha == PostRows([*base, *new])._odd_sha
    assert _columns(kept) == _columns(PostRows(base))  # the rows it came from
    assert _columns(PostRows([]).updated(new)) == _columns(PostRows(new))
    assert [merged.sha256(merged.slot(row["id"])) for row, _ in base + new] == [
        row["sha256"] for row, _ in base + new
    ]


def test_rows_read_back_are_the_rows_written_with_each_topic_one_object():
    from storage.codec import Reader, Writer

    rng = random.Random(5)
    rows = PostRows([(_row(n, rng), 10 + n) for n in range(300)])
    writer = Writer()
    reader = Reader(writer.finish("t", 1, rows.to_data(writer)), "t", 1)
    assert sorted(reader.data["topics"]["distinct"]) == [
        "caching / php",
        "jobs / go",
        "logs / rust",
    ]
    again = PostRows.from_data(reader, reader.data)
    assert _columns(again) == _columns(rows)
    assert len({id(topic) for topic in again.topics}) == 3


def test_an_update_leaves_the_rows_it_came_from():
    rng = random.Random(4)
    base = PostRows([(_row(n, rng), n) for n in range(50)])
    before = _columns(base)
    base.updated([(_row(n, rng, version=1), 100 + n) for n in range(0, 60, 2)])
    assert _columns(base) == before


@pytest.mark.parametrize("added", [100, 3])
def test_new_rows_merged_into_rows_read_back_keep_their_texts_packed(added):
    """Rows read from a catalog file hold packed titles and references: new rows merged
    in leave them packed (the bytes copied), with the same columns as built whole."""
    from storage.codec import Reader, Writer
    from storage.texts import PackedTexts

    rng = random.Random(added)
    numbers = list(range(400 + added))
    rng.shuffle(numbers)
    base = [(_row(n, rng), 10 + n) for n in numbers[:400]]
    new = [(_row(n, rng), 2000 + n) for n in numbers[400:]]
    for row, _ in new[:2]:
        row["title"] = f"ünïcödé [b]{row['title']}[/b] \x1b[31m"
    writer = Writer()
    reader = Reader(writer.finish("t", 1, PostRows(base).to_data(writer)), "t", 1)
    read_back = PostRows.from_data(reader, reader.data)
    assert isinstance(read_back.titles, PackedTexts)
    merged = read_back.updated(new)
    assert isinstance(merged.titles, PackedTexts)
    assert isinstance(merged.references, PackedTexts)
    assert _columns(merged) == _columns(PostRows([*base, *new]))
