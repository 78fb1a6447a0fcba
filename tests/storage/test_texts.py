"""Packed text columns (storage/texts.py): what a catalog file holds of titles and
references, read back as the texts written."""

from __future__ import annotations

from array import array

import pytest

from storage.codec import CodecError, Reader, Writer
from storage.texts import PackedTexts, inserted, listed, texts_data, texts_of

COLUMNS = [
    [],
    [""],
    ["how to cache", "", "ünïcödé — titles", "tabs\tand [bold]markup[/]", "\x1b[31mred"],
    [f"title {n}" for n in range(1000)],
    ["\udcff lone surrogate", "after it"],
]


def _round_trip(values):
    writer = Writer()
    data = texts_data(writer, values)
    reader = Reader(writer.finish("t", 1, data), "t", 1)
    return reader.data, texts_of(reader, reader.data, "titles")


@pytest.mark.parametrize("values", COLUMNS)
def test_a_column_read_back_is_the_texts_written(values):
    data, texts = _round_trip(values)
    assert isinstance(data, dict)  # packed: no text holds a newline
    assert isinstance(texts, PackedTexts)
    assert len(texts) == len(values)
    assert [texts[at] for at in range(len(values))] == values
    assert list(texts) == values == listed(texts)
    if values:
        assert texts[-1] == values[-1]
        assert texts[1:3] == values[1:3]
    with pytest.raises(IndexError):
        texts[len(values)]


def test_written_again_a_packed_column_is_the_same_bytes():
    writer = Writer()
    first = writer.finish("t", 1, texts_data(writer, COLUMNS[2]))
    again_writer = Writer()
    packed = texts_of(Reader(first, "t", 1), Reader(first, "t", 1).data, "titles")
    assert again_writer.finish("t", 1, texts_data(again_writer, packed)) == first


def test_a_column_holding_a_newline_stays_a_plain_list():
    values = ["one line", "two\nlines"]
    data, texts = _round_trip(values)
    assert data == values
    assert texts == values


def test_a_listed_column_is_the_callers_own():
    _, texts = _round_trip(["a", "b"])
    mine = listed(texts)
    mine[0] = "changed"
    assert texts[0] == "a"


@pytest.mark.parametrize(
    "data",
    [
        "not texts",
        ["a", 1],
        {"packed": {"$blob": 0}, "starts": {"$blob": 0}},  # starts are the texts' bytes
        {"starts": {"$blob": 1}},
    ],
)
def test_what_is_not_a_column_of_texts_is_refused(data):
    writer = Writer()
    writer.bytes(b"abc\n")
    writer.array(array("I", [0, 4]))
    reader = Reader(writer.finish("t", 1, data), "t", 1)
    with pytest.raises(CodecError):
        texts_of(reader, reader.data, "titles")


def test_starts_that_do_not_fit_the_texts_are_refused():
    writer = Writer()
    data = {"packed": writer.bytes(b"abc\n"), "starts": writer.array(array("I", [0, 9]))}
    reader = Reader(writer.finish("t", 1, data), "t", 1)
    with pytest.raises(CodecError):
        texts_of(reader, reader.data, "titles")


def test_starts_that_cut_a_character_give_a_replacement_not_an_error():
    # damage no checksum caught (a file made so): shown as such, never a crash
    texts = PackedTexts("é\nx\n".encode(), array("I", [0, 2, 5]))
    assert texts[0] == "\ufffd"
    assert len(texts.texts()) == 2
    cut = PackedTexts(b"\xc3\n", array("I", [0, 2]))
    assert cut.texts() == ["\ufffd"]


def _plain_insert(values, at, new):
    """The reference: every text keyed by where it goes (a new one before the old one at
    its position, new ones in their order), sorted."""
    keyed = [((i, 1, 0), v) for i, v in enumerate(values)]
    keyed += [((p, 0, j), t) for j, (p, t) in enumerate(zip(at, new, strict=True))]
    return [v for _, v in sorted(keyed, key=lambda item: item[0])]


def _packed(values):
    return _round_trip(values)[1]


@pytest.mark.parametrize("seed", range(40))
def test_texts_inserted_into_a_packed_column_are_those_inserted_into_a_list(seed):
    import random

    rng = random.Random(seed)
    alphabet = ["a", "é", "—", "\t", "[b]", "\x1b", "😀", "\udcff", ""]
    values = [
        "".join(rng.choices(alphabet, k=rng.randrange(0, 6))) for _ in range(rng.randrange(0, 30))
    ]
    count = rng.randrange(0, 8)
    at = sorted(rng.randrange(0, len(values) + 1) for _ in range(count))
    new = ["".join(rng.choices(alphabet, k=rng.randrange(0, 4))) for _ in range(count)]
    column = _packed(values)
    result = inserted(column, at, new)
    assert isinstance(result, PackedTexts)
    expected = _plain_insert(values, at, new)
    assert list(result) == expected
    assert [result[i] for i in range(len(result))] == expected  # each start, one by one
    assert list(_packed(result)) == expected  # written as it is, read back
    assert inserted(values, at, new) == expected  # a list column gives a list


def test_texts_appended_at_the_end_and_before_the_first():
    column = _packed(["b", "c"])
    assert list(inserted(column, [0, 2, 2], ["a", "d", "e"])) == ["a", "b", "c", "d", "e"]
    assert list(inserted(_packed([]), [0, 0], ["x", "y"])) == ["x", "y"]
    assert list(inserted(column, [], [])) == ["b", "c"]


def test_a_new_text_with_a_newline_makes_the_column_a_list():
    result = inserted(_packed(["a", "b"]), [1], ["two\nlines"])
    assert result == ["a", "two\nlines", "b"]


@pytest.mark.parametrize("at", [[2, 1], [3], [-1]])
def test_positions_out_of_order_or_outside_the_texts_are_refused(at):
    with pytest.raises(ValueError, match="ascending"):
        inserted(_packed(["a", "b"]), at, ["x"] * len(at))
