"""Packed text columns (storage/texts.py): what a catalog file holds of titles and
references, read back as the texts written."""

from __future__ import annotations

from array import array

import pytest

from storage.codec import CodecError, Reader, Writer
from storage.texts import PackedTexts, listed, texts_data, texts_of

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
