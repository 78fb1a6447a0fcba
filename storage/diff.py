"""What changed in a post: the reviewed version against the current one, block by block.

Each body block becomes a list of text units (a paragraph: its sentences, line by line; a
list: its items; code: its lines; a heading: its text; an image: its caption and source).
``difflib.SequenceMatcher`` over the blocks finds the blocks kept, added and removed; in a
run of replaced blocks, a block is paired with the next one of the same type that shares
enough of its units (``PAIR_RATIO``), and is then "changed": its units diffed the same way
(the sentences or lines added and removed, the rest kept for context). Title and meta
fields that differ are listed as field changes.

Pure functions of two post records (``StoredPost`` or post dicts); no I/O. Text is
returned as stored: whoever shows it makes it safe.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

__all__ = [
    "ADDED",
    "CHANGED",
    "REMOVED",
    "SAME",
    "BlockChange",
    "FieldChange",
    "LineChange",
    "PostDiff",
    "block_units",
    "diff_posts",
]

ADDED, REMOVED, CHANGED, SAME = "added", "removed", "changed", "same"
# Two blocks of a replaced run are one block changed when this share of their units match.
PAIR_RATIO = 0.4

_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True, slots=True)
class LineChange:
    op: str  # SAME, ADDED or REMOVED
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"op": self.op, "text": self.text}


@dataclass(frozen=True, slots=True)
class BlockChange:
    change: str  # ADDED, REMOVED or CHANGED
    type: str  # the block's type (heading, paragraph, list, code, image, ...)
    old_index: int | None  # its place in the reviewed body (0-based); None when added
    new_index: int | None  # its place in the current body; None when removed
    lines: tuple[LineChange, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "change": self.change,
            "type": self.type,
            "old_index": self.old_index,
            "new_index": self.new_index,
            "lines": [line.to_dict() for line in self.lines],
        }


@dataclass(frozen=True, slots=True)
class FieldChange:
    name: str  # "title", or a meta field's name
    old: Any  # None when the field was not there
    new: Any  # None when the field is gone

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.name, "old": self.old, "new": self.new}


@dataclass(frozen=True, slots=True)
class PostDiff:
    title: FieldChange | None
    meta: tuple[FieldChange, ...]
    blocks: tuple[BlockChange, ...]  # in body order (a removed block where it stood)
    unchanged_blocks: int

    @property
    def changed(self) -> bool:
        return bool(self.title or self.meta or self.blocks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title.to_dict() if self.title else None,
            "meta": [change.to_dict() for change in self.meta],
            "blocks": [change.to_dict() for change in self.blocks],
            "unchanged_blocks": self.unchanged_blocks,
        }


# ---------------------------------------------------------------------------- units


def _sentences(text: str) -> list[str]:
    units: list[str] = []
    for line in text.split("\n"):
        units.extend(part for part in _SENTENCE_BREAK.split(line.strip()) if part)
    return units


def block_units(block: Any) -> tuple[str, ...]:
    """The text units of one body block (see the module docstring)."""
    if not isinstance(block, Mapping):
        return (str(block),)
    kind = block.get("type")
    if kind == "list":
        items = block.get("items")
        return tuple(str(item) for item in items) if isinstance(items, list) else ()
    if kind == "image":
        caption = str(block.get("caption") or "")
        where = " ".join(str(block[k]) for k in ("source", "url") if block.get(k))
        return (f"{caption} (image: {where})" if where else caption,)
    text = block.get("text")
    text = text if isinstance(text, str) else ""
    if kind == "paragraph":
        return tuple(_sentences(text))
    if kind == "code":
        return tuple(text.split("\n"))
    return (text,) if text else ()


def _type(block: Any) -> str:
    kind = block.get("type") if isinstance(block, Mapping) else None
    return kind if isinstance(kind, str) and kind else "text"


def _unit_diff(old: Sequence[str], new: Sequence[str]) -> tuple[LineChange, ...]:
    lines: list[LineChange] = []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            lines.extend(LineChange(SAME, text) for text in old[i1:i2])
            continue
        lines.extend(LineChange(REMOVED, text) for text in old[i1:i2])
        lines.extend(LineChange(ADDED, text) for text in new[j1:j2])
    return tuple(lines)


def _ratio(old: Sequence[str], new: Sequence[str]) -> float:
    if not old and not new:
        return 1.0
    return SequenceMatcher(None, old, new, autojunk=False).ratio()


# ---------------------------------------------------------------------------- diff


def _field(post: Any, name: str) -> Any:
    return post.get(name) if isinstance(post, Mapping) else getattr(post, name, None)


def _meta_changes(old: Any, new: Any) -> tuple[FieldChange, ...]:
    old = old if isinstance(old, Mapping) else {}
    new = new if isinstance(new, Mapping) else {}
    names = list(old) + [name for name in new if name not in old]
    return tuple(
        FieldChange(str(name), old.get(name), new.get(name))
        for name in names
        if old.get(name) != new.get(name)
    )


def _replaced(
    old: Sequence[Any],
    new: Sequence[Any],
    old_units: Sequence[tuple[str, ...]],
    new_units: Sequence[tuple[str, ...]],
    i1: int,
    i2: int,
    j1: int,
    j2: int,
) -> list[BlockChange]:
    """A run of replaced blocks: pairs of alike blocks are changed, the rest removed or
    added, in body order."""
    out: list[BlockChange] = []
    j = j1
    for i in range(i1, i2):
        match = next(
            (
                k
                for k in range(j, j2)
                if _type(new[k]) == _type(old[i])
                and _ratio(old_units[i], new_units[k]) >= PAIR_RATIO
            ),
            None,
        )
        if match is None:
            out.append(_removed(old, old_units, i))
            continue
        out.extend(_added(new, new_units, k) for k in range(j, match))
        lines = _unit_diff(old_units[i], new_units[match])
        out.append(BlockChange(CHANGED, _type(new[match]), i, match, lines))
        j = match + 1
    out.extend(_added(new, new_units, k) for k in range(j, j2))
    return out


def _added(new: Sequence[Any], units: Sequence[tuple[str, ...]], k: int) -> BlockChange:
    lines = tuple(LineChange(ADDED, text) for text in units[k])
    return BlockChange(ADDED, _type(new[k]), None, k, lines)


def _removed(old: Sequence[Any], units: Sequence[tuple[str, ...]], i: int) -> BlockChange:
    lines = tuple(LineChange(REMOVED, text) for text in units[i])
    return BlockChange(REMOVED, _type(old[i]), i, None, lines)


def diff_posts(old: Any, new: Any) -> PostDiff:
    """The changes from ``old`` (the reviewed version) to ``new`` (the current one): a
    ``StoredPost`` or a post dict each."""
    old_body = _field(old, "body")
    new_body = _field(new, "body")
    old_body = old_body if isinstance(old_body, list) else []
    new_body = new_body if isinstance(new_body, list) else []
    old_units = [block_units(block) for block in old_body]
    new_units = [block_units(block) for block in new_body]
    old_keys = [(_type(b), u) for b, u in zip(old_body, old_units, strict=True)]
    new_keys = [(_type(b), u) for b, u in zip(new_body, new_units, strict=True)]
    blocks: list[BlockChange] = []
    unchanged = 0
    matcher = SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            unchanged += i2 - i1
        elif op == "delete":
            blocks.extend(_removed(old_body, old_units, i) for i in range(i1, i2))
        elif op == "insert":
            blocks.extend(_added(new_body, new_units, k) for k in range(j1, j2))
        else:
            blocks.extend(_replaced(old_body, new_body, old_units, new_units, i1, i2, j1, j2))
    old_title, new_title = _field(old, "title") or "", _field(new, "title") or ""
    title = FieldChange("title", old_title, new_title) if old_title != new_title else None
    meta = _meta_changes(_field(old, "meta"), _field(new, "meta"))
    return PostDiff(title, meta, tuple(blocks), unchanged)
