"""A column of mostly distinct texts (every post's title, reference) kept in one buffer.

Read from a catalog file as a list, a 1,000,000-post column of titles was 0.38 s of JSON
to parse at every open and ~150 MB of string objects; packed, it is the file's bytes and
an array of where each text starts, and a text is decoded when it is asked for (a screen
asks for forty). A caller that changes the column takes it as a list first (``listed``:
one C-level split) and packs it again when it writes (``texts_data``).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from itertools import accumulate, pairwise, repeat
from operator import add, gt
from typing import Any, overload

from .codec import Reader, Writer, expect, str_list

_END = "\n"  # each text is followed by one; a column whose texts hold one stays a list
_LIMIT = 2**32  # starts are 32-bit


class PackedTexts(Sequence[str]):
    """Texts ``raw[starts[i] : starts[i + 1] - 1]`` (UTF-8), read only."""

    __slots__ = ("_raw", "_starts")

    def __init__(self, raw: bytes, starts: array[int]) -> None:
        self._raw = raw
        self._starts = starts

    def __len__(self) -> int:
        return len(self._starts) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return self.texts()[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("text index out of range")
        piece = self._raw[self._starts[index] : self._starts[index + 1] - 1]
        return _decoded(piece)

    def __iter__(self) -> Iterator[str]:
        return iter(self.texts())

    def texts(self) -> list[str]:
        """Every text, as a list (one split at C level)."""
        count = len(self)
        if not count:
            return []
        try:
            texts = self._raw.decode("utf-8", "surrogatepass").split(_END)
        except UnicodeDecodeError:
            texts = []
        if len(texts) == count + 1 and not texts[-1]:
            texts.pop()
            return texts
        return [self[at] for at in range(count)]  # starts that do not match the ends


def _decoded(piece: bytes) -> str:
    try:
        return piece.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:  # starts that cut a character: damage, shown as such
        return piece.decode("utf-8", "replace")


def listed(texts: Sequence[str]) -> list[str]:
    """``texts`` as a list of its own, to change."""
    return texts.texts() if isinstance(texts, PackedTexts) else list(texts)


def inserted(texts: Sequence[str], at: Sequence[int], new: Sequence[str]) -> Sequence[str]:
    """``texts`` with ``new[i]`` put before ``texts[at[i]]`` (``at`` ascending; the length
    of ``texts`` appends): a ``PackedTexts`` stays packed, its kept texts copied as bytes,
    not decoded and encoded again (1,000 titles into 100,000: ~50 ms -> ~5 ms, and the
    catalog written after reuses the buffer). Otherwise, or when a new text holds a
    newline, a list; tests hold both equal to inserting into a list."""
    if (
        len(at) != len(new)
        or any(map(gt, at, at[1:]))
        or (at and not 0 <= at[0] <= at[-1] <= len(texts))
    ):
        raise ValueError("one position per new text, ascending, within the texts")
    if not isinstance(texts, PackedTexts) or any(_END in text for text in new):
        return _inserted_list(listed(texts), at, new)
    raw, starts = texts._raw, texts._starts
    encoded = [(text + _END).encode("utf-8", "surrogatepass") for text in new]
    if len(raw) + sum(map(len, encoded)) >= _LIMIT:
        return _inserted_list(texts.texts(), at, new)
    pieces: list[Any] = []
    out = array("I")
    added = 0  # bytes of new texts so far: how far the kept texts after them move on
    kept = 0  # the kept texts so far
    for position, text in zip(at, encoded, strict=True):
        _keep(pieces, out, raw, starts[kept:position], starts[position], added)
        out.append(starts[position] + added)
        pieces.append(text)
        added += len(text)
        kept = position
    _keep(pieces, out, raw, starts[kept:], starts[-1], added)
    return PackedTexts(b"".join(pieces), out)


def _keep(pieces: list[Any], out: array[int], raw: Any, run: array[int], end: int, by: int) -> None:
    """Kept texts (their ``run`` of starts, the last one's end) moved ``by`` bytes on."""
    if run:
        pieces.append(raw[run[0] : end])
        out.extend(array("I", map(add, run, repeat(by))) if by else run)


def _inserted_list(texts: list[str], at: Sequence[int], new: Sequence[str]) -> list[str]:
    out: list[str] = []
    for (begin, end), text in zip(pairwise([0, *at]), new, strict=True):
        out += texts[begin:end]
        out.append(text)
    out += texts[at[-1] if at else 0 :]
    return out


def texts_data(writer: Writer, texts: Sequence[str]) -> Any:
    """``texts`` packed (a blob of the texts and one of their starts), or as a plain list
    of texts when one holds a newline."""
    if isinstance(texts, PackedTexts):
        return {"packed": writer.bytes(texts._raw), "starts": writer.array(texts._starts)}
    values = list(texts)
    joined = _END.join(values)
    if joined.count(_END) != max(len(values) - 1, 0):
        return values
    raw = (joined + _END).encode("utf-8", "surrogatepass") if values else b""
    if len(raw) >= _LIMIT:
        return values
    if len(raw) == len(joined) + (1 if values else 0):  # ASCII: a character is a byte
        lengths: Any = map(len, values)
    else:
        lengths = (len(v.encode("utf-8", "surrogatepass")) for v in values)
    # each text and its newline, summed at C level
    starts = array("I", accumulate(map(add, lengths, repeat(1)), initial=0))
    return {"packed": writer.bytes(raw), "starts": writer.array(starts)}


def texts_of(reader: Reader, data: Any, what: str) -> Sequence[str]:
    """``texts_data`` read back; ``CodecError`` when it is not that."""
    if isinstance(data, list):
        return str_list(data, what)
    expect(isinstance(data, dict), f"{what}: not texts")
    raw = reader.bytes(data.get("packed"))
    starts = reader.array(data.get("starts"), "I")
    expect(
        len(starts) >= 1 and starts[0] == 0 and starts[-1] == len(raw),
        f"{what}: the starts do not fit the texts",
    )
    return PackedTexts(raw, starts)
