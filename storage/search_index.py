"""The in-memory search index: answers a query over 100,000 posts per keystroke.

What a query means is defined by its terms (storage/terms.py) and, over whole corpora, by
the plain specification (storage/query_spec.py); tests hold this index equal to it. Built
once from the store's index rows `(id, index_fields(post), queue_key)`, it keeps

* one column per field, values lower-cased. A column whose values repeat (notes, tools,
  topic, summary, scores...) holds one shared object per distinct value, and a term on it
  is decided once per distinct value, then mapped back to posts with one C-level scan;
* a vocabulary of the words of title, topic and summary with, per word, the posts holding
  it in the title and in topic/summary. A free word is matched against the vocabulary, not
  against every post: exact, prefix and substring hits by `in`, typos by rapidfuzz
  (`fuzz.ratio`, `processor=None`, a score cutoff) over the distinct words; the matched
  words' posts are then combined with set operations;
* the queue order (slots sorted by `(queue_key, id)`), for unranked results and for ties.

Each term answers from the columns or the vocabulary (`_Lookups`), or as a test asked per
post through the store's callbacks (review status, hints, "changed", bodies): those run
only for posts that passed every other term, bodies last, and stop as soon as `limit`
posts pass. The answers of the previous query's terms are kept, so typing one more
character only re-asks the term being typed. `to_data`/`from_data` save and load the index
as data (storage/codec.py), so the store caches it instead of rebuilding it at every open.
"""

from __future__ import annotations

import bisect
import gc
import operator
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import accumulate, chain, compress, filterfalse, islice, repeat
from typing import Any

from rapidfuzz import fuzz, process

from .codec import CodecError, Reader, Writer, expect, str_list
from .query import KNOWN_FIELDS, Query, extra_names, parse_query
from .terms import (
    COMPARISONS,
    EXACT,
    PREFIX,
    REST_PENALTY,
    SUBSTRING,
    TEXT_FIELDS,
    TITLE,
    TYPO_CUTOFF,
    TYPO_MIN_LENGTH,
    TYPO_WEIGHT,
    Callbacks,
    PerPost,
    Ranked,
    Slots,
    text_of,
    words_of,
)

StatusOf = Callable[[str], str]
HintsOf = Callable[[str], Iterable[str]]
ChangedOf = Callable[[str], bool]
BodyContains = Callable[[str, str], bool]
Row = tuple[str, Mapping[str, Any], Any]  # (id, index_fields(post), queue_key)

# A result group holding at least 1/_SCAN_SHARE of all posts is walked in queue order
# (stopping at the limit); smaller groups are sorted by queue rank.
_SCAN_SHARE = 8
# Incremental queue-order updates (each moves the order list in memory) before the index
# falls back to one sort at the next search.
_MAX_INCREMENTAL = 256
# Past this share of slots out of queue order (see _Placing), groups sort by rank.
_OUT_OF_LINE_SHARE = 4
# A column shares its values when it has at most this share of distinct values; a column
# whose first values are nearly all distinct (ids, hashes, titles) is not even counted.
_SHARE_RATIO = 0.1
_SAMPLE = 2000
_UNIQUE_RATIO = 0.9
# A word whose posts outnumber the candidates this many times is scored per candidate.
_CANDIDATE_SHARE = 8
# Distinct (topic, summary) pairs whose words are remembered for per-candidate scoring.
_REST_WORDS_CACHE = 20_000

_NAN = float("nan")  # compares false with everything: "no number" in numeric scans
_EXACT_FLOAT = 2**53  # integers below this are exact as doubles
_MAX_PATCHES = 64  # changed values of a packed column kept aside before packing again
_MISSING = object()
_NONE = type(None)
_NUMBERS = (int, float)  # index_fields makes bools ints


def _norm(value: Any) -> Any:
    """Lower-cased, hashable form of one field value."""
    if value is None or value.__class__ is int:
        return value
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple):
        return tuple(v for v in map(_norm, value) if v is not None)
    return str(value).lower()


def _is_missing(value: Any) -> bool:
    """No value for a query to name: None, "", or a list of nothing but ""."""
    if value is None or value == "":
        return True
    return isinstance(value, tuple) and all(item == "" for item in value)


def _thaw(value: Any) -> Any:
    """A normalised value back from JSON: lists were tuples (``_norm`` makes no lists)."""
    if value.__class__ is list:  # (JSON gives plain lists) a call per nested list only
        return tuple([_thaw(v) if v.__class__ is list else v for v in value])
    return value


def _where(size: int, mask: Iterable[Any]) -> set[int]:
    """The slots (0..size-1) whose mask item is true."""
    return set(compress(range(size), mask))


def _key(value: Any) -> Any:
    return tuple(value) if value.__class__ is list else value


def _targets(text: str, number: int | None) -> frozenset[Any]:
    """What a field value (a list: one item) is compared with: a str equals `text`, a
    number equals `number` (set membership tells them apart: "5" != 5)."""
    return frozenset((text,) if number is None else (text, number))


# --------------------------------------------------------------------------- columns


class _Column:
    """The values of one field, slot by slot, compactly; see the subclasses.

    `put` returns the column to keep using (a column may need another encoding).
    """

    __slots__ = ("is_list",)

    def __init__(self, is_list: bool) -> None:
        self.is_list = is_list

    @staticmethod
    def build(raw: list) -> _Column:
        """The best encoding for one raw value per slot (None: missing)."""
        types = set(map(type, raw))
        types.discard(_NONE)
        if types <= {str}:
            if _repetitive(raw):
                return _Coded.build(raw, False)
            return _Packed.build(raw, False)
        if types <= {int} and max(map(abs, filter(None, raw)), default=0) < _EXACT_FLOAT:
            if _repetitive(raw):
                return _Coded.build(raw, False)
            return _Numbers.build(raw)
        if types <= {list, tuple}:
            keys = [() if v is None else tuple(v) for v in raw]
            if _repetitive(keys):
                return _Coded.build(keys, True)
            if set(map(type, chain.from_iterable(keys))) <= {str}:
                return _Packed.build(keys, True)
            return _Plain([None if v is None else _norm(v) for v in raw], True)
        keys = list(map(_key, raw))  # mixed kinds, lists among them (as tuples: hashable)
        if _repetitive(keys):
            return _Coded.build(keys, False)
        return _Plain([None if v is None else _norm(v) for v in raw], False)

    def value(self, slot: int) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_data(self, writer: Writer) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def from_data(reader: Reader, data: Any) -> _Column:
        """The column ``to_data`` wrote; ``CodecError`` for anything else."""
        expect(isinstance(data, dict), "column: not a mapping")
        kinds: dict[str, Callable[[Reader, dict[str, Any]], _Column]] = {
            "coded": _Coded.from_data,
            "numbers": _Numbers.from_data,
            "packed": _Packed.from_data,
            "plain": _Plain.from_data,
        }
        make = kinds.get(data.get("kind"))  # type: ignore[arg-type]
        expect(make is not None, f"column: unknown kind {data.get('kind')!r}")
        try:
            return make(reader, data)  # type: ignore[misc]
        except (KeyError, TypeError, AttributeError) as exc:
            raise CodecError(f"column: {exc}") from exc

    def copy(self) -> _Column:  # pragma: no cover - abstract
        raise NotImplementedError

    def put(self, slot: int, value: Any) -> _Column:  # pragma: no cover - abstract
        raise NotImplementedError

    def equal(self, text: str, number: int | None) -> set[int]:
        """Slots whose value (a list: one of its items) is the str `text` or the number
        `number`."""
        targets = _targets(text, number)

        def test(value: Any) -> bool:
            if value.__class__ is tuple:  # a list (any column may be given one)
                return not targets.isdisjoint(value)
            return value in targets

        return self.where(test)

    def compare(self, op: str, number: int) -> set[int]:
        """Slots whose number value (int or float) compares true with `number`."""
        compare = COMPARISONS[op]
        return self.where(lambda v: v.__class__ in _NUMBERS and compare(v, number))

    def contains(self, phrase: str) -> set[int]:
        """Slots whose text holds `phrase`."""
        return self.where(lambda v: isinstance(v, str) and phrase in v)

    def where(self, test: Callable[[Any], bool]) -> set[int]:  # pragma: no cover - abstract
        """Slots whose value is present and passes `test`."""
        raise NotImplementedError

    def holds_values(self, size: int) -> bool:
        """Whether some slot below `size` has a value a query could name."""
        return any(not _is_missing(self.value(slot)) for slot in range(size))

    def settle(self) -> None:
        """After a batch of `put` calls: tidy up (a packed column packs its changes)."""

    def text(self, slot: int) -> str:
        """The value of a text field ("" when missing or not text)."""
        value = self.value(slot)
        return value if isinstance(value, str) else ""

    def texts(self, size: int) -> list[str]:
        """`text(slot)` for slots 0..size-1."""
        return list(map(self.text, range(size)))


def _repetitive(keys: list) -> bool:
    """Few distinct values (notes, tools, topic, scores...): worth a dictionary."""
    sample = keys[:_SAMPLE]
    if len(set(sample)) > len(sample) * _UNIQUE_RATIO:
        return False  # ids, hashes, titles: not even counted
    return len(set(keys)) <= max(len(keys) * _SHARE_RATIO, 1)


class _Coded(_Column):
    """Dictionary-encoded: one small int per slot into a list of distinct values.

    A term is decided once per distinct value, then found with one C-level scan of the
    codes. Code 0 is "missing".
    """

    __slots__ = ("codes", "distinct", "lookup")

    def __init__(self, codes: array, distinct: list, lookup: dict, is_list: bool) -> None:
        super().__init__(is_list)
        self.codes = codes
        self.distinct = distinct  # code -> normalised value
        self.lookup = lookup  # raw value (tuple for a list) or normalised value -> code

    def to_data(self, writer: Writer) -> dict[str, Any]:
        return {
            "kind": "coded",
            "list": self.is_list,
            "wide": self.codes.typecode == "I",
            "codes": writer.array(self.codes),
            "distinct": self.distinct,
        }

    @classmethod
    def from_data(cls, reader: Reader, data: dict[str, Any]) -> _Coded:
        is_list = data.get("list") is True
        codes = reader.array(data["codes"], "I" if data.get("wide") is True else "H")
        distinct = [_thaw(v) for v in data.get("distinct") or []]
        expect(bool(distinct) and distinct[0] in (None, ()), "coded column: no missing code")
        expect(max(codes, default=0) < len(distinct), "coded column: code out of range")
        lookup: dict[Any, int] = {None: 0, (): 0}
        for code, value in enumerate(distinct[1:], 1):
            lookup[value] = code
        return cls(codes, distinct, lookup, is_list)

    @classmethod
    def build(cls, keys: list, is_list: bool) -> _Coded:
        missing = () if is_list else None
        lookup: dict[Any, int] = {None: 0, (): 0}
        distinct: list[Any] = [missing]
        for key in dict.fromkeys(keys):
            if key in lookup:
                continue
            norm = _norm(key)
            code = lookup.get(norm)
            if code is None:
                code = len(distinct)
                distinct.append(norm)
                lookup[norm] = code
            lookup[key] = code
        typecode = "H" if len(distinct) < 2**16 else "I"
        return cls(array(typecode, map(lookup.__getitem__, keys)), distinct, lookup, is_list)

    @classmethod
    def empty(cls, is_list: bool) -> _Coded:
        return cls(array("H"), [() if is_list else None], {None: 0, (): 0}, is_list)

    def copy(self) -> _Coded:
        return _Coded(self.codes[:], list(self.distinct), dict(self.lookup), self.is_list)

    def value(self, slot: int) -> Any:
        return self.distinct[self.codes[slot]] if slot < len(self.codes) else None

    def put(self, slot: int, value: Any) -> _Column:
        code = 0
        if value is not None:
            key = _key(value)
            code = self.lookup.get(key)
            if code is None:
                norm = _norm(value)
                code = self.lookup.get(norm)
                if code is None:
                    code = len(self.distinct)
                    self.distinct.append(norm)
                    self.lookup[norm] = code
                    if code >= 2**16 and self.codes.typecode == "H":
                        self.codes = array("I", self.codes)
                self.lookup[key] = code
        codes = self.codes
        if slot >= len(codes):
            codes.extend(repeat(0, slot + 1 - len(codes)))
        codes[slot] = code
        return self

    def where(self, test: Callable[[Any], bool]) -> set[int]:
        hits = [code for code, v in enumerate(self.distinct) if code and test(v)]
        codes = self.codes
        if not hits:
            return set()
        if len(hits) == 1:
            return _where(len(codes), map(operator.eq, codes, repeat(hits[0])))
        return _where(len(codes), map(set(hits).__contains__, codes))

    def holds_values(self, size: int) -> bool:
        distinct = self.distinct
        return any(not _is_missing(distinct[code]) for code in set(self.codes[:size]))

    def texts(self, size: int) -> list[str]:
        strings = [v if isinstance(v, str) else "" for v in self.distinct]
        texts = list(map(strings.__getitem__, self.codes[:size]))
        return texts + [""] * (size - len(texts))


class _Numbers(_Column):
    """Integers as doubles (exact below 2**53), NaN for missing: scans without objects."""

    __slots__ = ("numbers",)

    def __init__(self, numbers: array) -> None:
        super().__init__(False)
        self.numbers = numbers

    def to_data(self, writer: Writer) -> dict[str, Any]:
        return {"kind": "numbers", "numbers": writer.array(self.numbers)}

    @classmethod
    def from_data(cls, reader: Reader, data: dict[str, Any]) -> _Numbers:
        return cls(reader.array(data["numbers"], "d"))

    @classmethod
    def build(cls, raw: list) -> _Numbers:
        if None in raw:
            return cls(array("d", [_NAN if v is None else v for v in raw]))
        return cls(array("d", raw))

    def value(self, slot: int) -> int | None:
        if slot >= len(self.numbers) or self.numbers[slot] != self.numbers[slot]:
            return None
        return int(self.numbers[slot])

    def copy(self) -> _Numbers:
        return _Numbers(self.numbers[:])

    def put(self, slot: int, value: Any) -> _Column:
        if value is not None and not (value.__class__ is int and abs(value) < _EXACT_FLOAT):
            # not a number after all: a plain column from here on
            plain = _Plain([self.value(s) for s in range(len(self.numbers))], False)
            return plain.put(slot, value)
        numbers = self.numbers
        if slot >= len(numbers):
            numbers.extend(repeat(_NAN, slot + 1 - len(numbers)))
        numbers[slot] = _NAN if value is None else value
        return self

    def equal(self, text: str, number: int | None) -> set[int]:
        if number is None:
            return set()
        return _where(len(self.numbers), map(operator.eq, self.numbers, repeat(number)))

    def compare(self, op: str, number: int) -> set[int]:
        compare = COMPARISONS[op]
        return _where(len(self.numbers), map(compare, self.numbers, repeat(number)))

    def contains(self, phrase: str) -> set[int]:
        return set()

    def holds_values(self, size: int) -> bool:
        numbers = self.numbers[:size]
        return any(map(operator.eq, numbers, numbers))  # NaN (missing) is not equal to itself


_SEPARATORS = frozenset("\n\x1f")


class _Packed(_Column):
    """Mostly distinct text (titles, hashes, urls) in one string: no object per post.

    `packed` is a newline, the values each followed by a newline, list items joined by
    the unit separator (0x1F); slot i is packed[starts[i] : starts[i + 1] - 1]. Values
    holding a separator are not packed (a plain column takes them). Values changed later
    live in `patches` until there are enough of them to pack again.
    """

    __slots__ = ("packed", "starts", "patches")

    def __init__(self, packed: str, starts: array, is_list: bool) -> None:
        super().__init__(is_list)
        self.packed = packed
        self.starts = starts
        self.patches: dict[int, Any] = {}

    def to_data(self, writer: Writer) -> dict[str, Any]:
        if self.patches:
            self._repack()
        return {
            "kind": "packed",
            "list": self.is_list,
            "starts": writer.array(self.starts),
            "packed": writer.bytes(self.packed.encode("utf-8", "surrogatepass")),
        }

    @classmethod
    def from_data(cls, reader: Reader, data: dict[str, Any]) -> _Packed:
        packed = reader.bytes(data["packed"]).decode("utf-8", "surrogatepass")
        starts = reader.array(data["starts"], "I")
        expect(len(starts) >= 1 and starts[-1] == len(packed), "packed column: bad starts")
        return cls(packed, starts, data.get("list") is True)

    @classmethod
    def build(cls, values: list, is_list: bool) -> _Column:
        """Texts (is_list: tuples of texts) or None; a plain column when one holds a
        separator."""
        if is_list:
            texts = ["\x1f".join(map(str.lower, items)) for items in values]
            separators = sum(max(len(items) - 1, 0) for items in values)
        else:
            strings = [v or "" for v in values] if None in values else values
            texts = list(map(str.lower, strings))
            separators = 0
        joined = "\n".join(texts)
        if joined.count("\n") != max(len(texts) - 1, 0) or joined.count("\x1f") != separators:
            return _Plain([None if v is None else _norm(v) for v in values], is_list)
        lengths = map(operator.add, map(len, texts), repeat(1))
        starts = array("I", accumulate(lengths, initial=1))
        return cls("\n" + joined + "\n", starts, is_list)

    def _size(self) -> int:
        return len(self.starts) - 1

    def value(self, slot: int) -> Any:
        patched = self.patches.get(slot, _MISSING)
        if patched is not _MISSING:
            return patched
        if slot >= self._size():
            return () if self.is_list else None
        text = self.packed[self.starts[slot] : self.starts[slot + 1] - 1]
        if self.is_list:
            return tuple(text.split("\x1f")) if text else ()
        return text

    def _holds(self, value: Any) -> bool:
        """Whether this column can pack `value`."""
        if value is None:
            return True
        if self.is_list:
            return isinstance(value, list | tuple) and all(
                isinstance(v, str) and _SEPARATORS.isdisjoint(v) for v in value
            )
        return isinstance(value, str) and _SEPARATORS.isdisjoint(value)

    def copy(self) -> _Packed:
        packed = _Packed(self.packed, self.starts[:], self.is_list)  # a str: shared
        packed.patches = dict(self.patches)
        return packed

    def put(self, slot: int, value: Any) -> _Column:
        if not self._holds(value):
            size = max(self._size(), max(self.patches, default=-1) + 1)
            plain = _Plain([self.value(s) for s in range(size)], self.is_list)
            return plain.put(slot, value)
        self.patches[slot] = _norm(value) if value is not None else (() if self.is_list else None)
        return self

    def settle(self) -> None:
        if len(self.patches) > max(_MAX_PATCHES, self._size() // 100):
            self._repack()

    def _repack(self) -> None:
        if min(self.patches) >= self._size():
            self._append_patches()  # new posts only (a batch import): the packed part stays
        else:
            self._repack_all()

    def _append_patches(self) -> None:
        """Pack the patched slots past the end onto the end (the same result as
        ``_repack_all``, a test holds them equal; 100,000 values repacked for 1,000 new
        ones cost ~0.2 s a column)."""
        size = self._size()
        missing = () if self.is_list else None
        tail_values = [self.patches.get(s, missing) for s in range(size, max(self.patches) + 1)]
        tail = self.build(tail_values, self.is_list)
        assert isinstance(tail, _Packed)  # every value passed _holds
        shift = len(self.packed) - 1
        self.packed += tail.packed[1:]
        self.starts.extend(array("I", [start + shift for start in tail.starts[1:]]))
        self.patches = {}

    def _repack_all(self) -> None:
        size = max(self._size(), max(self.patches, default=-1) + 1)
        values = [self.value(s) for s in range(size)]
        self.patches = {}
        packed = self.build(values, self.is_list)
        assert isinstance(packed, _Packed)  # every value passed _holds
        self.packed, self.starts = packed.packed, packed.starts

    def _slots_at(self, positions: Iterable[int]) -> set[int]:
        starts = self.starts
        slots = {bisect.bisect_right(starts, p) - 1 for p in positions}
        if self.patches:
            slots.difference_update(self.patches)
        return slots

    def where(self, test: Callable[[Any], bool]) -> set[int]:
        found = {s for s in range(self._size()) if s not in self.patches and test(self.value(s))}
        found.update(s for s, v in self.patches.items() if v is not None and test(v))
        return found

    def equal(self, text: str, number: int | None) -> set[int]:
        if not text or not _SEPARATORS.isdisjoint(text):
            return set()
        pattern = re.compile(f"(?<=[\n\x1f]){re.escape(text)}(?=[\n\x1f])")
        found = self._slots_at(m.start() for m in pattern.finditer(self.packed))
        for slot, v in self.patches.items():
            if v is not None and (text in v if isinstance(v, tuple) else v == text):
                found.add(slot)
        return found

    def contains(self, phrase: str) -> set[int]:
        if self.is_list or not phrase or not _SEPARATORS.isdisjoint(phrase):
            return set()  # lists hold no text to search (text fields are text)
        starts, find = self.starts, self.packed.find
        found: set[int] = set()
        position = find(phrase)
        while position >= 0:
            slot = bisect.bisect_right(starts, position) - 1
            found.add(slot)
            position = find(phrase, starts[slot + 1])  # next post
        if self.patches:
            found.difference_update(self.patches)
            for slot, v in self.patches.items():
                if isinstance(v, str) and phrase in v:
                    found.add(slot)
        return found

    def compare(self, op: str, number: int) -> set[int]:
        return set()

    def texts(self, size: int) -> list[str]:
        if self.is_list or self.patches or size != self._size():
            return super().texts(size)
        return self.packed[1:-1].split("\n") if size else []


class _Plain(_Column):
    """One normalised object per slot: the fallback for mixed values."""

    __slots__ = ("values",)

    def __init__(self, values: list, is_list: bool) -> None:
        super().__init__(is_list)
        self.values = values

    def to_data(self, writer: Writer) -> dict[str, Any]:
        return {"kind": "plain", "list": self.is_list, "values": self.values}

    @classmethod
    def from_data(cls, reader: Reader, data: dict[str, Any]) -> _Plain:
        values = data.get("values")
        expect(isinstance(values, list), "plain column: no values")
        return cls([_thaw(v) for v in values], data.get("list") is True)

    def value(self, slot: int) -> Any:
        return self.values[slot] if slot < len(self.values) else None

    def copy(self) -> _Plain:
        return _Plain(list(self.values), self.is_list)  # the values themselves: immutable

    def put(self, slot: int, value: Any) -> _Column:
        values = self.values
        if slot >= len(values):
            values.extend(repeat(None, slot + 1 - len(values)))
        values[slot] = None if value is None else _norm(value)
        return self

    def where(self, test: Callable[[Any], bool]) -> set[int]:
        return {s for s, v in enumerate(self.values) if v is not None and v != () and test(v)}


def _raw_columns(fields: list[Mapping[str, Any]]) -> dict[str, list]:
    """Field name -> its value in each post (None: missing); text fields always present,
    as text.

    One pass over the posts' maps: a pass per field (``[f.get(name) for f in fields]``)
    revisits 100,000 scattered dicts 40 times, ~3x slower at that size."""
    size = len(fields)
    columns: dict[str, list] = {name: [None] * size for name in TEXT_FIELDS}
    get = columns.get
    for slot, post in enumerate(fields):
        for name, value in post.items():
            column = get(name)
            if column is None:
                column = columns[name] = [None] * size
            column[slot] = value
    for name in TEXT_FIELDS:
        raw = columns[name]
        if not set(map(type, raw)) <= {str, _NONE}:
            columns[name] = [v if v is None else text_of(v) for v in raw]
    return columns


# --------------------------------------------------------------------------- the vocabulary


def _postings_to_data(writer: Writer, postings: dict[str, array]) -> dict[str, Any]:
    """Word -> slots as one word list, one array of lengths and one of all the slots."""
    words = list(postings)
    lengths = array("I", map(len, postings.values()))
    slots = array("I")
    for posts in postings.values():
        slots.extend(posts)
    return {"words": words, "lengths": writer.array(lengths), "slots": writer.array(slots)}


def _postings_from_data(reader: Reader, data: Any, size: int) -> dict[str, array]:
    expect(isinstance(data, dict), "postings: not a mapping")
    words = str_list(data.get("words"), "postings words")
    lengths = reader.array(data.get("lengths"), "I")
    slots = reader.array(data.get("slots"), "I")
    expect(len(lengths) == len(words) and sum(lengths) == len(slots), "postings: bad lengths")
    expect(max(slots, default=0) < max(size, 1), "postings: slot out of range")
    postings: dict[str, array] = {}
    start = 0
    for word, length in zip(words, lengths, strict=True):
        postings[word] = slots[start : start + length]
        start += length
    return postings


class _Vocabulary:
    """The words of title, topic and summary: per word the slots holding it in the title
    (`title_posts`) and in topic/summary (`rest_posts`), and every distinct word (`words`,
    for rapidfuzz). Words of removed posts stay in `words` with no posts."""

    __slots__ = ("title_posts", "rest_posts", "words", "_known", "_rest_words")

    def __init__(
        self, title_posts: dict[str, array], rest_posts: dict[str, array], words: list[str]
    ) -> None:
        self.title_posts = title_posts
        self.rest_posts = rest_posts
        self.words = words
        self._known = set(words)
        # (topic, summary) -> its words, for per-candidate scoring
        self._rest_words: dict[tuple[str, str], frozenset[str]] = {}

    @classmethod
    def build(cls, columns: Mapping[str, _Column], ids: list[str | None]) -> _Vocabulary:
        size = len(ids)
        title_posts: dict[str, array] = {}
        for slot, text in enumerate(columns[TITLE].texts(size)):
            if text:
                for word in words_of(text):
                    posts = title_posts.get(word)
                    if posts is None:
                        posts = title_posts[word] = array("I")
                    posts.append(slot)
        # Topic and summary repeat across posts: group the posts by the pair, then add each
        # group to the words of the pair at once.
        groups: dict[tuple[str, str], array] = {}
        pairs = zip(columns["topic"].texts(size), columns["summary"].texts(size), strict=True)
        for slot, pair in enumerate(pairs):
            if ids[slot] is not None:
                group = groups.get(pair)
                if group is None:
                    group = groups[pair] = array("I")
                group.append(slot)
        rest_posts: dict[str, array] = {}
        for (topic, summary), slots in groups.items():
            for word in set(words_of(topic)) | set(words_of(summary)):
                posts = rest_posts.get(word)
                if posts is None:
                    rest_posts[word] = array("I", slots)
                else:
                    posts.extend(slots)
        return cls(title_posts, rest_posts, list(dict.fromkeys(chain(title_posts, rest_posts))))

    def to_data(self, writer: Writer) -> dict[str, Any]:
        return {
            "title_posts": _postings_to_data(writer, self.title_posts),
            "rest_posts": _postings_to_data(writer, self.rest_posts),
            "words": self.words,
        }

    @classmethod
    def from_data(cls, reader: Reader, data: dict[str, Any], size: int) -> _Vocabulary:
        return cls(
            _postings_from_data(reader, data.get("title_posts"), size),
            _postings_from_data(reader, data.get("rest_posts"), size),
            str_list(data.get("words"), "search index words"),
        )

    def copy(self) -> _Vocabulary:
        return _Vocabulary(
            {word: posts[:] for word, posts in self.title_posts.items()},
            {word: posts[:] for word, posts in self.rest_posts.items()},
            list(self.words),
        )

    @staticmethod
    def post_words(columns: Mapping[str, _Column], slot: int) -> tuple[set[str], set[str]]:
        """The words of one post's title, and of its topic and summary."""
        title = set(words_of(columns[TITLE].text(slot)))
        rest = set(words_of(columns["topic"].text(slot)))
        rest.update(words_of(columns["summary"].text(slot)))
        return title, rest

    def add(self, columns: Mapping[str, _Column], slot: int) -> None:
        """Post the words of `slot` (its text columns are set)."""
        for words, postings in zip(
            self.post_words(columns, slot), (self.title_posts, self.rest_posts), strict=True
        ):
            for word in words:
                postings.setdefault(word, array("I")).append(slot)
                if word not in self._known:
                    self._known.add(word)
                    self.words.append(word)

    def remove(self, columns: Mapping[str, _Column], slots: Iterable[int]) -> None:
        """Take the words of these posts out of the postings (before their text changes)."""
        leaving: tuple[dict[str, set[int]], dict[str, set[int]]] = ({}, {})
        for slot in slots:
            for words, gone in zip(self.post_words(columns, slot), leaving, strict=True):
                for word in words:
                    gone.setdefault(word, set()).add(slot)
        for gone, postings in zip(leaving, (self.title_posts, self.rest_posts), strict=True):
            for word, slots_gone in gone.items():
                posts = postings.get(word)
                if not posts:
                    continue
                if len(slots_gone) <= 2:  # a remove scans only up to the slot
                    for slot in slots_gone:
                        try:
                            while True:  # a word twice in a title is posted twice
                                posts.remove(slot)
                        except ValueError:
                            pass
                else:
                    postings[word] = array("I", filterfalse(slots_gone.__contains__, posts))

    def match(self, word: str) -> _WordMatch:
        """The posts `word` matches, in score buckets (storage.terms.word_score: a title
        word at its score, a topic/summary word REST_PENALTY below)."""
        by_score: dict[int, list[array]] = {}
        scores = self._scores(word)
        for other, score in scores.items():
            title = self.title_posts.get(other)
            if title:
                by_score.setdefault(int(score), []).append(title)
            rest = self.rest_posts.get(other)
            if rest:
                by_score.setdefault(int(score) - REST_PENALTY, []).append(rest)
        return _WordMatch(scores, sorted(by_score.items(), reverse=True))

    def _scores(self, word: str) -> dict[str, float]:
        """Vocabulary word -> storage.terms.word_score(word, it), for matches only: the
        words holding `word` found by one C-level `in` scan, typos by rapidfuzz."""
        length = len(word)
        scores: dict[str, float] = {}
        words = self.words
        for other in compress(words, map(str.__contains__, words, repeat(word))):
            share = 10.0 * length / len(other)
            if other == word:
                scores[other] = EXACT
            elif other.startswith(word):
                scores[other] = PREFIX + share
            else:
                scores[other] = SUBSTRING + share
        if length >= TYPO_MIN_LENGTH:
            for other, ratio, _ in process.extract(
                word,
                words,
                scorer=fuzz.ratio,
                processor=None,
                score_cutoff=TYPO_CUTOFF,
                limit=None,
            ):
                scores.setdefault(other, ratio * TYPO_WEIGHT)
        return scores

    def slot_score(
        self, columns: Mapping[str, _Column], slot: int, scores: dict[str, float]
    ) -> int | None:
        """One post's score for one word (as its buckets would give it), None: no match."""
        best = None
        for word in scores.keys() & words_of(columns[TITLE].text(slot)):
            score = int(scores[word])
            if best is None or score > best:
                best = score
        pair = (columns["topic"].text(slot), columns["summary"].text(slot))
        rest = self._rest_words.get(pair)
        if rest is None:
            if len(self._rest_words) >= _REST_WORDS_CACHE:
                self._rest_words.clear()
            rest = self._rest_words[pair] = frozenset(words_of(pair[0] + " " + pair[1]))
        for word in scores.keys() & rest:
            score = int(scores[word]) - REST_PENALTY
            if best is None or score > best:
                best = score
        return best


class _WordMatch:
    """One free word against the index: vocabulary scores and score buckets of posts.

    The buckets (disjoint slot sets, best score first) are built on demand, one at a time.
    """

    __slots__ = ("scores", "estimate", "_pending", "_buckets", "_matched")

    def __init__(self, scores: dict[str, float], by_score: list[tuple[int, list[array]]]):
        self.scores = scores
        self.estimate = sum(len(posts) for _, group in by_score for posts in group)
        self._pending = iter(by_score)
        self._buckets: list[tuple[int, set[int]]] = []
        self._matched: set[int] = set()

    def buckets(self) -> Iterator[tuple[int, set[int]]]:
        yield from self._buckets  # safe: only this generator appends, after the last item
        for score, group in self._pending:
            slots = set().union(*group)
            if self._matched:
                slots -= self._matched
            if slots:
                self._matched |= slots
                self._buckets.append((score, slots))
                yield score, slots

    def matched(self) -> set[int]:
        """Every slot the word matches (builds all buckets)."""
        for _ in self.buckets():
            pass
        return self._matched


# --------------------------------------------------------------------------- queue order


def _shared_ids(
    ids: list[str | None], keys: list[Any], slot_of: Mapping[str, int], known: list[str]
) -> tuple[list[str | None], list[Any]]:
    """``ids`` as the objects of ``known`` where it holds them, and so the keys that are
    ``(text, id)`` (the catalog's queue keys), their text too when it is the id. Read from
    a file, each id was two objects more than the catalog's rows hold (~150 MB at
    1,000,000 posts)."""
    get = slot_of.get
    at = [None if post_id is None else get(post_id) for post_id in ids]
    shared = [i if n is None else known[n] for i, n in zip(ids, at, strict=True)]
    keys = [
        (same if key[0] == same else key[0], same)
        if key.__class__ is tuple and len(key) == 2 and key[1] == same
        else key
        for key, same in zip(keys, shared, strict=True)
    ]
    return shared, keys


class _QueueOrder:
    """The slots sorted by (queue key, id), kept up to date by insertion for a few changes
    and by one sort after many. `ids` and `keys` are the index's lists (slot -> value)."""

    __slots__ = ("ids", "keys", "_order", "_dirty", "_incremental", "_placing")

    def __init__(self, ids: list[str | None], keys: list[Any], order: array | None = None):
        self.ids = ids
        self.keys = keys
        if order is None:
            order = self._sorted(i for i, post_id in enumerate(ids) if post_id is not None)
        self._order = order
        self._dirty = False
        self._incremental = 0
        self._placing: _Placing | None = None

    def _sort_key(self, slot: int) -> tuple:
        return (self.keys[slot], self.ids[slot])

    def _sorted(self, slots: Iterable[int]) -> array:
        # two stable C-keyed sorts == one sort by (queue_key, id), without a Python key call
        order = sorted(slots, key=self.ids.__getitem__)
        order.sort(key=self.keys.__getitem__)
        return array("I", order)

    def remove(self, slot: int) -> None:
        """Take `slot` out (before its key changes)."""
        self._placing = None
        if not self._dirty and self._incremental < _MAX_INCREMENTAL:
            order = self._order
            position = bisect.bisect_left(order, self._sort_key(slot), key=self._sort_key)
            if position < len(order) and order[position] == slot:
                del order[position]
                self._incremental += 1
                return
        self._dirty = True

    def insert(self, slot: int) -> None:
        self._placing = None
        if self._dirty or self._incremental >= _MAX_INCREMENTAL:
            self._dirty = True
            return
        bisect.insort(self._order, slot, key=self._sort_key)
        self._incremental += 1

    def slots(self) -> array:
        """Every live slot in queue order."""
        if self._dirty:
            live = (i for i, post_id in enumerate(self.ids) if post_id is not None)
            self._order = self._sorted(live)
            self._dirty = False
        self._incremental = 0
        return self._order

    def sort(self, group: Iterable[int]) -> list[int]:
        """`group`'s slots in queue order."""
        order = self.slots()
        if self._placing is None:
            self._placing = _Placing(order, len(self.ids))
        return self._placing.sort(group)


class _Placing:
    """Sorts sets of slots into one queue order.

    An index built from rows in queue order has its slots in that order; the posts added
    later (a day's batch) take new slots, wherever their keys put them. So the slots below
    `in_line` come in increasing order in the queue, and a group sorts as plain ints (in C),
    the few later slots merged in where the queue has them: 1.2 ms against 4.3 ms for a
    12,000-slot group with a key per slot, 1,000 posts added to 100,000. Once more than
    1/_OUT_OF_LINE_SHARE of the slots are out of line, each is sorted by its rank."""

    __slots__ = ("in_line", "_after", "_rank")

    def __init__(self, order: array, size: int) -> None:
        in_line = low = size
        for slot in reversed(order):  # a slot with a smaller one after it is out of line
            if slot < low:
                low = slot
            elif slot < in_line:
                in_line = slot
        self.in_line = in_line
        # out-of-line slot -> (the in-line slot before it in the queue or -1, its position)
        self._after: dict[int, tuple[int, int]] = {}
        self._rank: dict[int, int] | None = None
        if in_line == size:
            return
        before = -1
        for position, slot in enumerate(order):
            if slot < in_line:
                before = slot
            else:
                self._after[slot] = (before, position)
        if len(self._after) * _OUT_OF_LINE_SHARE > len(order):
            self._after = {}
            self._rank = dict(zip(order, range(len(order)), strict=True))

    def sort(self, group: Iterable[int]) -> list[int]:
        if self._rank is not None:
            return sorted(group, key=self._rank.__getitem__)
        ordered = sorted(group)
        cut = bisect.bisect_left(ordered, self.in_line)
        if cut == len(ordered):
            return ordered
        in_line = ordered[:cut]
        placed = sorted(
            (bisect.bisect_right(in_line, before), position, slot)
            for slot in ordered[cut:]
            for before, position in (self._after[slot],)
        )
        merged: list[int] = []
        start = 0
        for at, _, slot in placed:
            merged += in_line[start:at]
            merged.append(slot)
            start = at
        merged += in_line[start:]
        return merged


# --------------------------------------------------------------------------- lookups


class _Lookups:
    """What terms ask of the index (storage.terms.IndexLookups), answered from its columns
    and vocabulary. Answers are kept for the next query: typing one more character re-asks
    only the term being typed."""

    __slots__ = ("_index", "_cache", "_previous", "_version")

    def __init__(self, index: SearchIndex) -> None:
        self._index = index
        self._cache: dict[tuple, Any] = {}  # question -> answer, for the current query
        self._previous: dict[tuple, Any] = {}  # the same for the previous query
        self._version = -1

    def begin(self, version: int) -> None:
        """A new query on the index as of `version` (answers of older versions go)."""
        if self._version != version:
            self._cache = {}
            self._version = version
        self._previous, self._cache = self._cache, {}

    def end(self) -> None:
        self._previous = {}

    def _cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        value = self._cache.get(key, _MISSING)
        if value is _MISSING:
            value = self._previous.get(key, _MISSING)
            if value is _MISSING:
                value = compute()
            self._cache[key] = value
        return value

    def equal(self, names: tuple[str, ...], text: str, number: int | None) -> set[int]:
        def compute() -> set[int]:
            found: set[int] = set()
            for name in names:
                column = self._index._columns.get(name)
                if column is not None:
                    found |= column.equal(text, number)
            return found

        return self._cached(("equal", names, text, number), compute)

    def compare(self, name: str, op: str, number: int) -> set[int]:
        def compute() -> set[int]:
            column = self._index._columns.get(name)
            return set() if column is None else column.compare(op, number)

        return self._cached(("compare", name, op, number), compute)

    def phrase(self, phrase: str) -> set[int]:
        def compute() -> set[int]:
            columns = self._index._columns
            return set().union(*(columns[name].contains(phrase) for name in TEXT_FIELDS))

        return self._cached(("phrase", phrase), compute)

    def word(self, word: str) -> _WordMatch:
        return self._cached(("word", word), lambda: self._index._vocabulary.match(word))

    def phrase_ids(self, phrase: str) -> frozenset[str]:
        ids = self._index._ids
        return self._cached(
            ("phrase ids", phrase),
            lambda: frozenset(map(ids.__getitem__, self.phrase(phrase))),  # type: ignore[arg-type]
        )


# --------------------------------------------------------------------------- the index


# (groups, excluded, tests): groups None (all posts) or [(score, slots)] best first, each
# group listed in queue order; excluded: slot sets left out; tests: (per-id test, negated).
_Plan = tuple[
    Iterable[tuple[int, set[int]]] | None,
    list[set[int]],
    list[tuple[Callable[[str], bool], bool]],
]


class SearchIndex:
    """Query answering over many posts; see the module docstring.

    `rows`: `(id, fields, queue_key)` with `fields` from `storage.query.index_fields` and
    `queue_key` any sortable value giving the queue order (ties broken by id). Rows given
    already in queue order make construction cheaper.
    """

    def __init__(self, rows: Iterable[Row] = ()) -> None:
        rows = rows if isinstance(rows, list) else list(rows)
        # The build allocates a few hundred thousand objects next to the callers' rows:
        # cyclic GC passes over all of them are pure overhead here (nothing is cyclic).
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._build(rows)
        finally:
            if collecting:
                gc.enable()
        self._init_caches()

    def _build(self, rows: list[Row]) -> None:
        self._ids: list[str | None] = [row[0] for row in rows]
        self._keys: list[Any] = [row[2] for row in rows]
        self._slot: dict[str, int] = dict(zip(self._ids, range(len(rows)), strict=True))
        fields: list[Mapping[str, Any]] = [row[1] for row in rows]
        if len(self._slot) != len(rows):  # a repeated id: the last row wins
            for slot, post_id in enumerate(self._ids):
                if self._slot[post_id] != slot:  # type: ignore[index]
                    self._ids[slot] = self._keys[slot] = None
                    fields[slot] = {}
        self._free: list[int] = [s for s, i in enumerate(self._ids) if i is None]
        raw = _raw_columns(fields)
        del fields
        self._columns: dict[str, _Column] = {}
        for name in sorted(raw):
            self._columns[name] = _Column.build(raw.pop(name))
        self._vocabulary = _Vocabulary.build(self._columns, self._ids)
        self._order = _QueueOrder(self._ids, self._keys)

    def _init_caches(self) -> None:
        self._version = 0
        self._lookups = _Lookups(self)
        self._extras: tuple[frozenset[str], frozenset[str]] | None = None

    # ------------------------------------------------------------------ persistence

    def to_data(self, writer: Writer) -> dict[str, Any]:
        """JSON-ready data (arrays as ``writer`` blobs); ``from_data`` reads it back."""
        return {
            "ids": self._ids,
            "keys": self._keys,
            "free": self._free,
            "order": writer.array(self._order.slots()),
            "columns": {name: column.to_data(writer) for name, column in self._columns.items()},
            **self._vocabulary.to_data(writer),
        }

    @classmethod
    def from_data(
        cls, reader: Reader, data: Any, known: tuple[Mapping[str, int], list[str]] | None = None
    ) -> SearchIndex:
        """``to_data`` read back. ``known``: a caller's ids (id -> slot, slot -> id), whose
        objects this index then holds for the ids it shares with them, in its keys too
        (see ``_shared_ids``)."""
        expect(isinstance(data, dict), "search index: not a mapping")
        index = cls.__new__(cls)
        ids = data.get("ids")
        keys = data.get("keys")
        expect(isinstance(ids, list) and isinstance(keys, list), "search index: no ids")
        expect(len(ids) == len(keys), "search index: ids and keys differ in length")
        expect(all(i is None or type(i) is str for i in ids), "search index: bad ids")
        keys = [None if k is None else _thaw(k) for k in keys]
        if known is not None:
            ids, keys = _shared_ids(ids, keys, *known)
        index._ids = ids
        index._keys = keys
        index._slot = {post_id: slot for slot, post_id in enumerate(ids) if post_id is not None}
        index._free = [s for s in data.get("free") or [] if isinstance(s, int)]
        columns = data.get("columns")
        expect(isinstance(columns, dict), "search index: no columns")
        index._columns = {name: _Column.from_data(reader, col) for name, col in columns.items()}
        for name in TEXT_FIELDS:
            expect(name in index._columns, f"search index: no {name} column")
        index._vocabulary = _Vocabulary.from_data(reader, data, len(ids))
        order = reader.array(data.get("order"), "I")
        expect(len(order) == len(index._slot), "search index: order has other posts")
        index._order = _QueueOrder(index._ids, index._keys, order)
        index._init_caches()
        return index

    def copy(self) -> SearchIndex:
        """An independent copy (to update while this one keeps answering): every mutable
        part copied, the immutable values shared. (It was a round trip through ``to_data``:
        1.0 s at 100,000 posts, this ~0.1 s; tests hold the two equal.)"""
        index = SearchIndex.__new__(SearchIndex)
        index._ids = list(self._ids)
        index._keys = list(self._keys)
        index._slot = dict(self._slot)
        index._free = list(self._free)
        index._columns = {name: column.copy() for name, column in self._columns.items()}
        index._vocabulary = self._vocabulary.copy()
        index._order = _QueueOrder(index._ids, index._keys, self._order.slots()[:])
        index._init_caches()
        return index

    def serialized_copy(self) -> SearchIndex:
        """The plain copy ``copy`` stands for: a round trip through the cache format."""
        writer = Writer()
        data = self.to_data(writer)
        raw = writer.finish("search", 1, data)
        return SearchIndex.from_data(Reader(raw, "search", 1), Reader(raw, "search", 1).data)

    # ------------------------------------------------------------------ changes

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, post_id: object) -> bool:
        return post_id in self._slot

    def add_or_update(self, post_id: str, fields: Mapping[str, Any], queue_key: Any) -> None:
        """Insert or replace one post."""
        self.add_or_update_many([(post_id, fields, queue_key)])

    def add_or_update_many(self, rows: Iterable[Row]) -> None:
        """Insert or replace many posts (rows as for the constructor), in one pass over the
        postings of the words they leave; the last row of a repeated id wins."""
        rows = list({row[0]: row for row in rows}.values())
        replaced = [self._slot[row[0]] for row in rows if row[0] in self._slot]
        self._vocabulary.remove(self._columns, replaced)
        for post_id, fields, queue_key in rows:
            self._put(post_id, fields, queue_key)
        for column in self._columns.values():
            column.settle()
        self._changed()

    def _put(self, post_id: str, fields: Mapping[str, Any], queue_key: Any) -> None:
        slot = self._slot.get(post_id)
        if slot is not None:
            self._order.remove(slot)
        elif self._free:
            slot = self._free.pop()
        else:
            slot = len(self._ids)
            self._ids.append(None)
            self._keys.append(None)
        self._ids[slot] = post_id
        self._keys[slot] = queue_key
        self._slot[post_id] = slot
        for name, value in fields.items():
            if name not in self._columns:
                self._columns[name] = _Coded.empty(isinstance(value, list | tuple))
        for name, column in self._columns.items():
            value = fields.get(name)
            if name in TEXT_FIELDS and value is not None and value.__class__ is not str:
                value = text_of(value)
            self._columns[name] = column.put(slot, value)
        self._vocabulary.add(self._columns, slot)
        self._order.insert(slot)

    def set_queue_key(self, post_id: str, queue_key: Any) -> None:
        """Move one post in the queue (after a decision, say); its fields stay."""
        slot = self._slot[post_id]
        if self._keys[slot] == queue_key:
            return
        self._order.remove(slot)
        self._keys[slot] = queue_key
        self._order.insert(slot)

    def remove(self, post_id: str) -> None:
        """Forget one post; an unknown id is ignored."""
        slot = self._slot.pop(post_id, None)
        if slot is None:
            return
        self._vocabulary.remove(self._columns, [slot])
        self._order.remove(slot)
        self._ids[slot] = self._keys[slot] = None
        for name, column in self._columns.items():
            self._columns[name] = column.put(slot, None)
            column.settle()
        self._free.append(slot)
        self._changed()

    def _changed(self) -> None:
        self._version += 1
        self._extras = None

    # ------------------------------------------------------------------ queries

    def ids(self) -> list[str]:
        """All ids in queue order."""
        return list(map(self._ids.__getitem__, self._order.slots()))  # type: ignore[arg-type]

    def parse(self, text: str) -> Query:
        """`parse_query`, also knowing the unknown fields and flags the indexed posts hold
        values for (storage.query.extra_names)."""
        if self._extras is None:
            size = len(self._ids)
            self._extras = extra_names(
                name
                for name, column in self._columns.items()
                if name not in KNOWN_FIELDS and column.holds_values(size)
            )
        fields, flags = self._extras
        return parse_query(text, extra_fields=fields, extra_flags=flags)

    def search(
        self,
        query: str | Query,
        *,
        limit: int | None = 50,
        status_of: StatusOf | None = None,
        hints_of: HintsOf | None = None,
        changed_of: ChangedOf | None = None,
        body_contains: BodyContains | None = None,
    ) -> list[str]:
        """Ids matching `query`: ranked best first when it has free words, else in queue
        order; at most `limit` (None: all).

        Raises QueryError for a malformed query string. `status_of` (default: every post
        pending), `hints_of` (default: no hints) and `changed_of` (default: unchanged) are
        asked only for posts that passed every field term; `body_contains(id, phrase)`
        (phrase lower-cased; None: phrases look at title, topic and summary only) only for
        posts that passed every other term and whose title, topic and summary lack it.
        """
        callbacks = _callbacks(status_of, hints_of, changed_of, body_contains)
        plan = self._plan(query, callbacks)
        if plan is None:
            return []
        return list(islice(self._enumerate(*plan), limit))

    def count(
        self,
        query: str | Query,
        *,
        status_of: StatusOf | None = None,
        hints_of: HintsOf | None = None,
        changed_of: ChangedOf | None = None,
        body_contains: BodyContains | None = None,
    ) -> int:
        """How many posts `search` would return without a limit."""
        callbacks = _callbacks(status_of, hints_of, changed_of, body_contains)
        plan = self._plan(query, callbacks)
        if plan is None:
            return 0
        groups, excluded, tests = plan
        if not tests:
            left_out = set().union(*excluded)
            if groups is None:
                return len(self._slot) - len(left_out)
            return sum(len(group - left_out) for _, group in groups)
        return sum(1 for _ in self._enumerate(groups, excluded, tests))

    def _plan(self, query: str | Query, callbacks: Callbacks) -> _Plan | None:
        """Each term's answer, combined; None when nothing can match."""
        if isinstance(query, str):
            query = self.parse(query)
        positive: list[set[int]] = []
        excluded: list[set[int]] = []
        ranked: list[_WordMatch] = []
        late: list[tuple[PerPost, bool]] = []
        self._lookups.begin(self._version)
        try:
            for term in query.terms:
                answer = term.answer(self._lookups, callbacks)
                if isinstance(answer, Slots):
                    if term.negated:
                        excluded.append(answer.slots)
                    elif not answer.slots:
                        return None
                    else:
                        positive.append(answer.slots)
                elif isinstance(answer, Ranked):
                    match: _WordMatch = answer.match  # type: ignore[assignment]
                    if term.negated:
                        excluded.append(match.matched())
                    elif not match.estimate:
                        return None
                    else:
                        ranked.append(match)
                else:
                    late.append((answer, term.negated))
        finally:
            self._lookups.end()
        late.sort(key=lambda item: item[0].reads_bodies)  # callbacks first, bodies last
        tests = [(answer.holds, negated) for answer, negated in late]
        base: set[int] | None = None
        if positive:
            positive.sort(key=len)
            base = positive[0]
            for slots in positive[1:]:
                base = base & slots
                if not base:
                    return None
        if not ranked:
            return (None if base is None else [(0, base)]), excluded, tests
        return self._rank_groups(ranked, base, excluded), [], tests

    def _rank_groups(
        self, ranked: list[_WordMatch], base: set[int] | None, excluded: list[set[int]]
    ) -> Iterable[tuple[int, set[int]]]:
        """The candidates split by total score: (score, slots), best first.

        One word: its score buckets, built lazily (the first ones usually fill the limit).
        More: the most selective word's buckets are split by the others' buckets with set
        operations, or, when the candidates are few next to a word's posts (a word being
        typed: `postgress i`), by scoring each candidate against that word.
        """

        def restrict(slots: set[int]) -> set[int]:
            if base is not None:
                slots = slots & base
            for other in excluded:
                slots = slots - other
            return slots

        ranked = sorted(ranked, key=lambda match: match.estimate)
        if len(ranked) == 1:
            groups = ((score, restrict(slots)) for score, slots in ranked[0].buckets())
            return (group for group in groups if group[1])
        parts: dict[int, set[int]] = {}
        for score, slots in ranked[0].buckets():
            slots = restrict(slots)
            if slots:
                parts[score] = slots
        for match in ranked[1:]:
            merged: dict[int, set[int]] = {}
            candidates = sum(map(len, parts.values()))
            if candidates * _CANDIDATE_SHARE < match.estimate:
                for total, part in parts.items():
                    for slot in part:
                        score = self._vocabulary.slot_score(self._columns, slot, match.scores)
                        if score is not None:
                            merged.setdefault(total + score, set()).add(slot)
            else:
                for total, part in parts.items():
                    for score, slots in match.buckets():
                        both = part & slots
                        if both:
                            key = total + score
                            merged[key] = merged[key] | both if key in merged else both
            parts = merged
            if not parts:
                break
        return sorted(parts.items(), key=lambda item: -item[0])

    def _enumerate(
        self,
        groups: Iterable[tuple[int, set[int]]] | None,
        excluded: list[set[int]],
        tests: list[tuple[Callable[[str], bool], bool]],
    ) -> Iterator[str]:
        """The ids of the plan, in order, that pass every per-post test."""
        excluded = [e for e in excluded if e]
        if groups is None:
            order = self._order.slots()
            left_out = set().union(*excluded)
            if left_out:
                kept = map(operator.not_, map(left_out.__contains__, order))
                slots: Iterator[int] = compress(order, kept)
            else:
                slots = iter(order)
        else:
            slots = chain.from_iterable(self._group_in_order(g, excluded) for _, g in groups)
        found: Iterator[str] = map(self._ids.__getitem__, slots)  # type: ignore[arg-type]
        for holds, negated in tests:
            found = filterfalse(holds, found) if negated else filter(holds, found)
        return found

    def _group_in_order(self, group: set[int], excluded: list[set[int]]) -> Iterator[int]:
        for other in excluded:
            group = group - other
        if len(group) * _SCAN_SHARE >= len(self._slot):
            # a big group: walk the queue order, usually stopping early at the limit
            order = self._order.slots()
            return compress(order, map(group.__contains__, order))
        return iter(self._order.sort(group))


def _callbacks(
    status_of: StatusOf | None,
    hints_of: HintsOf | None,
    changed_of: ChangedOf | None,
    body_contains: BodyContains | None,
) -> Callbacks:
    given = {"status_of": status_of, "hints_of": hints_of, "changed_of": changed_of}
    return Callbacks(
        **{name: f for name, f in given.items() if f is not None}, body_contains=body_contains
    )
