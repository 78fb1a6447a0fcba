"""The index rows of every post, held column by column.

A row is what the post list, the queue order, "changed since the decision" and the import's
"unchanged?" test need, without a body: ``id, reference, title, topic, needs_human_review,
hint_codes, sha256`` and the post's doc id (where the store files its record). At 100,000 posts a dict per row
costs ~900 bytes; columns with shared topics and hint tuples and the sha256 as raw bytes
cost well under half of that, and save and load several times faster (``to_data``).

``PostRows`` is a read-only ``Mapping[id, row]``; ``rows[id]["title"]`` reads like the dict
it replaces. Slots are in queue order: sorted by ``(reference or id, id)``.
"""

from __future__ import annotations

import copy
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

from .codec import Reader, Writer, expect, str_list
from .texts import inserted, listed, texts_data, texts_of

# New rows fewer than 1/FEW_NEW_ROWS_SHARE of the kept ones find their places by a bisect
# that makes the keys it compares (~20 a row), not a list of every kept row's key.
FEW_NEW_ROWS_SHARE = 32
ROW_KEYS = (
    "id",
    "reference",
    "title",
    "topic",
    "needs_human_review",
    "hint_codes",
    "sha256",
)
_SHA_BYTES = 32


_ROW_VALUES = itemgetter(*ROW_KEYS)


def _all_str(values: list) -> bool:
    return set(map(type, values)) <= {str}


def _texts(values: list, *, empty: bool) -> list[str]:
    """``[str(v or "") ...]`` (``empty``) or ``[str(v) ...]``; as is when all are str."""
    if _all_str(values):
        return values
    if empty:
        return [str(v or "") for v in values]
    return [str(v) for v in values]


def _shared(values: list) -> list:
    """Equal values as one object each (topics, hint tuples repeat across posts)."""
    first: dict = {}
    return [first.setdefault(v, v) for v in values]


def _numbers(values: list[Any]) -> tuple[list[Any], array[int]]:
    """The distinct values (in first-seen order) and, per value, the number of its one."""
    numbers: dict[Any, int] = {}
    of = array("I", [numbers.setdefault(v, len(numbers)) for v in values])
    return list(numbers), of


def _numbered_data(writer: Writer, values: list[str]) -> dict[str, Any]:
    """A column of few distinct texts (topics) as those texts and, per post, the number of
    its one (a blob): the topics as a list of texts were 0.35 s of a 1,000,000-post open
    (their JSON, then made one object each)."""
    distinct, of = _numbers(values)
    return {"distinct": distinct, "of": writer.array(of)}


def _numbered_texts(reader: Reader, data: Any, what: str) -> list[str]:
    """``_numbered_data`` read back: equal texts as one object."""
    expect(isinstance(data, dict), f"{what}: not a mapping")
    distinct = str_list(data.get("distinct"), what)
    of = reader.array(data.get("of"), "I")
    expect(not of or max(of) < len(distinct), f"{what}: no such text")
    return list(map(distinct.__getitem__, of))


def _hint_data(writer: Writer, codes: list[tuple[str, ...]]) -> dict[str, Any]:
    """The posts' hint codes as their few distinct combinations and, per post, the number
    of its combination (a blob): a list of codes per post was ~0.85 s of JSON to read at
    1,000,000 posts."""
    combinations, of = _numbers(codes)
    return {"combinations": [list(c) for c in combinations], "of": writer.array(of)}


def _hint_tuples(reader: Reader, data: Any, count: int) -> list[tuple[str, ...]]:
    """``_hint_data`` read back: each post's codes as a tuple, equal ones as one object."""
    expect(isinstance(data, dict), "hint codes: not a mapping")
    combinations = data.get("combinations")
    expect(isinstance(combinations, list), "hint codes: no combinations")
    tuples = [tuple(str_list(c, "hint codes")) for c in combinations]
    of = reader.array(data.get("of"), "I")
    expect(len(of) == count, "hint codes: not one a post")
    expect(not of or max(of) < len(tuples), "hint codes: no such combination")
    return list(map(tuples.__getitem__, of))


def _columns_of(pairs: list[tuple[Mapping[str, Any], int]]) -> list[Any]:
    """The rows of ``pairs`` transposed: one value sequence per ``ROW_KEYS`` entry."""
    values = list(map(_ROW_VALUES, (row for row, _ in pairs)))
    return list(zip(*values, strict=True)) if values else [()] * len(ROW_KEYS)


class Row(Mapping[str, Any]):
    """One row, read through to the columns."""

    __slots__ = ("_rows", "_slot")

    def __init__(self, rows: PostRows, slot: int) -> None:
        self._rows = rows
        self._slot = slot

    def __getitem__(self, key: str) -> Any:
        return self._rows.value(self._slot, key)

    def __iter__(self) -> Iterator[str]:
        return iter(ROW_KEYS)

    def __len__(self) -> int:
        return len(ROW_KEYS)

    def __repr__(self) -> str:
        return f"Row({dict(self)!r})"


class PostRows(Mapping[str, Row]):
    """Rows by post id; see the module docstring."""

    def __init__(self, rows: Iterable[tuple[Mapping[str, Any], int]] = ()) -> None:
        """``rows``: (row dict with ROW_KEYS, doc id) pairs, any order; a repeated id keeps
        the last one.

        Built column by column with C-level passes (one ``itemgetter`` per row, a transpose,
        two keyed sorts): 100,000 rows in well under a second."""
        pairs = rows if isinstance(rows, list) else list(rows)
        self._assign(*_columns_of(pairs), [doc_id for _, doc_id in pairs])

    def updated(self, rows: Iterable[tuple[Mapping[str, Any], int]]) -> PostRows:
        """These rows with ``rows`` added, or replacing the rows of their ids: the same as
        ``PostRows`` of every row (a test holds the two equal) without a dict per kept row
        (100,000 kept rows: 0.78 s -> 0.27 s)."""
        pairs = rows if isinstance(rows, list) else list(rows)
        if not pairs:
            return self
        changed = {row["id"] for row, _ in pairs}
        if len(changed) == len(pairs) and self._slot.keys().isdisjoint(changed):
            return self._with_new_rows(PostRows(pairs))
        keep = [slot for slot, post_id in enumerate(self.ids) if post_id not in changed]
        every_sha = self._sha.hex()
        odd = self._odd_sha
        kept = (
            list(map(self.ids.__getitem__, keep)),
            list(map(listed(self.references).__getitem__, keep)),
            list(map(listed(self.titles).__getitem__, keep)),
            list(map(self.topics.__getitem__, keep)),
            list(map(self.needs_review.__getitem__, keep)),
            list(map(self.hint_codes.__getitem__, keep)),
            [odd[s] if s in odd else every_sha[s * 64 : s * 64 + 64] for s in keep],
        )
        rows_out = PostRows.__new__(PostRows)
        rows_out._assign(
            *(old + list(new) for old, new in zip(kept, _columns_of(pairs), strict=True)),
            list(map(self.doc_ids.__getitem__, keep)) + [doc_id for _, doc_id in pairs],
        )
        return rows_out

    def _with_new_rows(self, new: PostRows) -> PostRows:
        """These rows and ``new``'s (posts these rows do not hold), merged in queue order:
        what ``updated`` makes of them, without sorting or converting every kept row
        again (1,000 new rows into 100,000: ~0.2 s -> ~0.05 s; tests hold it equal)."""
        if not len(self):
            return new
        keys = [new.queue_key(slot) for slot in range(len(new))]
        if len(new) * FEW_NEW_ROWS_SHARE < len(self):
            # a few: each bisected with the kept rows' keys made as it goes (3 new rows
            # into 1,000,000 made every key: 0.78 s)
            at = [bisect_right(range(len(self)), key, key=self.queue_key) for key in keys]
        else:
            queue = [ref or pid for ref, pid in zip(listed(self.references), self.ids, strict=True)]
            old_keys = list(zip(queue, self.ids, strict=True))
            at = [bisect_right(old_keys, key) for key in keys]
            del queue, old_keys

        def merged(old: Any, added: Any, width: int = 1) -> list[Any]:
            parts, start = [], 0
            for slot, position in enumerate(at):
                parts.append(old[start * width : position * width])
                parts.append(added[slot * width : (slot + 1) * width])
                start = position
            parts.append(old[start * width :])
            return parts

        out = PostRows.__new__(PostRows)
        out.ids = list(chain.from_iterable(merged(self.ids, new.ids)))
        out._slot = dict(zip(out.ids, range(len(out.ids)), strict=True))
        # packed columns stay packed: their bytes are copied, not decoded and packed again
        out.references = inserted(self.references, at, new.references)
        out.titles = inserted(self.titles, at, new.titles)
        out.topics = list(chain.from_iterable(merged(self.topics, new.topics)))
        out.needs_review = bytearray().join(merged(self.needs_review, new.needs_review))
        out.hint_codes = list(chain.from_iterable(merged(self.hint_codes, new.hint_codes)))
        out.doc_ids = array("Q", chain.from_iterable(merged(self.doc_ids, new.doc_ids)))
        out._sha = bytearray().join(merged(self._sha, new._sha, _SHA_BYTES))
        # a slot moves down by the new rows merged in before it
        out._odd_sha = {slot + bisect_right(at, slot): sha for slot, sha in self._odd_sha.items()}
        out._odd_sha.update((at[slot] + slot, sha) for slot, sha in new._odd_sha.items())
        return out

    def _assign(
        self,
        ids: Any,
        refs: Any,
        titles: Any,
        topics: Any,
        review: Any,
        codes: Any,
        shas: Any,
        docs: list[int],
    ) -> None:
        """Set the columns from one value sequence per row key, in any order."""
        last = dict(zip(ids, range(len(ids)), strict=True))  # id -> its last pair
        keep = list(last.values()) if len(last) < len(ids) else range(len(ids))
        # two stable C-keyed sorts == one sort by (reference or id, id)
        queue = [ref or post_id for ref, post_id in zip(refs, ids, strict=True)]
        order = sorted(keep, key=ids.__getitem__)
        order.sort(key=queue.__getitem__)

        def column(values: tuple) -> list:
            return list(map(values.__getitem__, order))

        self.ids: list[str] = column(ids)
        self._slot: dict[str, int] = dict(zip(self.ids, range(len(self.ids)), strict=True))
        # a list, or packed when read from a file (storage/texts.py)
        self.references: Sequence[str] = _texts(column(refs), empty=True)
        self.titles: Sequence[str] = _texts(column(titles), empty=True)
        self.topics: list[str] = _shared(_texts(column(topics), empty=False))
        self.needs_review = bytearray(map(bool, column(review)))
        self.hint_codes: list[tuple[str, ...]] = _shared(list(map(tuple, column(codes))))
        self.doc_ids = array("Q", column(docs))
        self._sha = bytearray(_SHA_BYTES * len(order))
        self._odd_sha: dict[int, str] = {}  # anything that is not 64 hex digits, as is
        sha_values = column(shas)
        plain = _all_str(sha_values) and set(map(len, sha_values)) <= {2 * _SHA_BYTES}
        joined = "".join(sha_values) if plain else ""
        try:
            raw = bytes.fromhex(joined)
        except ValueError:
            raw = b""
        if len(raw) == _SHA_BYTES * len(order) and raw.hex() == joined:
            self._sha[:] = raw  # the usual case: all 64 lower-case hex digits, in C
        else:
            for slot, sha in enumerate(sha_values):
                self._set_sha(slot, sha)

    def _set_sha(self, slot: int, sha: Any) -> None:
        try:
            raw = bytes.fromhex(sha)
        except (TypeError, ValueError):
            raw = b""
        if len(raw) == _SHA_BYTES and raw.hex() == sha:
            self._sha[slot * _SHA_BYTES : (slot + 1) * _SHA_BYTES] = raw
        else:
            self._odd_sha[slot] = sha

    # ------------------------------------------------------------------ access

    def slot(self, post_id: str) -> int | None:
        return self._slot.get(post_id)

    def slot_map(self) -> Mapping[str, int]:
        """Post id -> slot, every row's (read only)."""
        return self._slot

    def sha256(self, slot: int) -> str:
        odd = self._odd_sha.get(slot)
        if odd is not None:
            return odd
        return self._sha[slot * _SHA_BYTES : (slot + 1) * _SHA_BYTES].hex()

    def value(self, slot: int, key: str) -> Any:
        if key == "id":
            return self.ids[slot]
        if key == "reference":
            return self.references[slot]
        if key == "title":
            return self.titles[slot]
        if key == "topic":
            return self.topics[slot]
        if key == "needs_human_review":
            return bool(self.needs_review[slot])
        if key == "hint_codes":
            return self.hint_codes[slot]
        if key == "sha256":
            return self.sha256(slot)
        raise KeyError(key)

    def queue_key(self, slot: int) -> tuple[str, str]:
        """What the slots are sorted by (the static queue order)."""
        post_id = self.ids[slot]
        return (self.references[slot] or post_id, post_id)

    def with_hint_codes(self, codes: Mapping[str, Iterable[str]]) -> PostRows:
        """A copy whose posts in ``codes`` carry those hint codes (the other columns are
        shared, not copied: rows are never changed in place)."""
        rows = copy.copy(self)
        hint_codes = list(self.hint_codes)
        for post_id, found in codes.items():
            slot = self._slot.get(post_id)
            if slot is not None:
                hint_codes[slot] = tuple(found)
        rows.hint_codes = _shared(hint_codes)
        return rows

    def doc_id(self, post_id: str) -> int:
        return self.doc_ids[self._slot[post_id]]

    def doc_id_map(self) -> dict[str, int]:
        return dict(zip(self.ids, self.doc_ids, strict=True))

    def items_with_doc_ids(self) -> Iterator[tuple[dict[str, Any], int]]:
        """Every row as a plain dict with its doc id (to build the next PostRows from)."""
        for slot, doc_id in enumerate(self.doc_ids):
            yield {key: self.value(slot, key) for key in ROW_KEYS}, doc_id

    # ------------------------------------------------------------------ Mapping

    def __getitem__(self, post_id: str) -> Row:
        slot = self._slot.get(post_id)
        if slot is None:
            raise KeyError(post_id)
        return Row(self, slot)

    def get(self, post_id: str, default: Any = None) -> Any:  # type: ignore[override]
        slot = self._slot.get(post_id)
        return default if slot is None else Row(self, slot)

    def __contains__(self, post_id: object) -> bool:
        return post_id in self._slot

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    # ------------------------------------------------------------------ persistence

    def to_data(self, writer: Writer) -> dict[str, Any]:
        """JSON-ready data (arrays as ``writer`` blobs); ``from_data`` reads it back."""
        return {
            "ids": self.ids,
            "references": texts_data(writer, self.references),
            "titles": texts_data(writer, self.titles),
            "topics": _numbered_data(writer, self.topics),
            "needs_review": writer.bytes(self.needs_review),
            "hint_codes": _hint_data(writer, self.hint_codes),
            "doc_ids": writer.array(self.doc_ids),
            "sha": writer.bytes(self._sha),
            "odd_sha": {str(slot): sha for slot, sha in self._odd_sha.items()},
        }

    @classmethod
    def from_data(cls, reader: Reader, data: Any) -> PostRows:
        expect(isinstance(data, dict), "post rows: not a mapping")
        rows = cls.__new__(cls)
        rows.ids = str_list(data.get("ids"), "post ids")
        rows._slot = dict(zip(rows.ids, range(len(rows.ids)), strict=True))
        rows.references = texts_of(reader, data.get("references"), "references")
        rows.titles = texts_of(reader, data.get("titles"), "titles")
        rows.topics = _numbered_texts(reader, data.get("topics"), "topics")
        rows.needs_review = bytearray(reader.bytes(data.get("needs_review")))
        rows.hint_codes = _hint_tuples(reader, data.get("hint_codes"), len(rows.ids))
        rows.doc_ids = reader.array(data.get("doc_ids"), "Q")
        rows._sha = bytearray(reader.bytes(data.get("sha")))
        odd = data.get("odd_sha")
        expect(isinstance(odd, dict), "odd sha: not a mapping")
        rows._odd_sha = {int(slot): str(sha) for slot, sha in odd.items() if slot.isdigit()}
        count = len(rows.ids)
        expect(
            len(rows.references) == len(rows.titles) == len(rows.topics) == count
            and len(rows.needs_review) == len(rows.hint_codes) == count
            and len(rows.doc_ids) == count
            and len(rows._sha) == count * _SHA_BYTES,
            "post rows are inconsistent",
        )
        return rows
