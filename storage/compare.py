"""The passages two posts share, for a side-by-side comparison.

    from storage.compare import compare_posts, block_texts
    result = compare_posts(left.title, left.body, right.title, right.body)
    result.left.fraction            # 0..1 of the left post's words that the right one shares
    result.left.blocks[3][0]        # ((start, end), ...) shared in block 3's first text
    shared_words_text(result)       # "words shared: 97% of left · 95% of right"

How text is matched:

* Every body block is reduced to its texts (:func:`block_texts`): the ``text`` of a heading,
  paragraph or code block, each item of a list, the ``caption`` of an image. Spans are char
  offsets into exactly those strings, so a renderer that shows ``block_texts(block)`` can
  highlight ``blocks[i][k]`` in text ``k`` of block ``i``.
* Words are runs of letters and digits, joined by punctuation inside a word
  (``don't``, ``1.5.6``, ``created_at``), normalised to lower case without the punctuation.
  So "Idempotent, logged" matches "idempotent logged".
* A shingle of ``SHINGLE_WORDS`` (5) consecutive words of one text that also occurs in any
  text of the other post marks its five words shared on both sides. Shingles do not cross
  text boundaries (a heading does not glue onto the paragraph under it). Adjacent shared
  words merge into one span, which then covers the punctuation and spaces between them.
* A text of fewer than five words (a heading, a short list item, a one-word post) cannot
  hold a shingle: it is shared when the other post has a text of exactly the same words.
* Titles are compared only with each other, as a whole: they are made of the topic's
  words, so 5-word runs inside them (and the same words repeated in image captions) would
  mark any two posts on one topic. A changed title is shown as not shared at all.

The cost is linear in the text: one regex split per text, one set of shingle hashes per
side and a set lookup per word, all per-word work in C (measured, CPU time, on a 2 MB body:
~0.3 s against a normal post, ~0.65 s against another 2 MB body).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, compress, groupby
from operator import not_
from typing import Any

from .figures import percent
from .nogc import no_gc_passes

__all__ = [
    "SHINGLE_WORDS",
    "Comparison",
    "SideShare",
    "Span",
    "block_texts",
    "compare_posts",
    "compare_stored",
    "shared_words_text",
]

SHINGLE_WORDS = 5

Span = tuple[int, int]
"""``(start, end)`` char offsets, ``text[start:end]`` is the shared passage."""

# A word: letters/digits, possibly joined by punctuation (no spaces) to more letters/digits.
_WORD_SPLIT = re.compile(r"([^\W_]+(?:(?:[^\w\s]|_)+[^\W_]+)*)")
_NOT_ALNUM = re.compile(r"[\W_]+")


def _str(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def block_texts(block: Mapping[str, Any]) -> list[str]:
    """The texts of one stored body block that are compared, in order.

    heading / paragraph / code (and unknown kinds with a ``text``): ``[text]``;
    list: its items; image: ``[caption]``. Non-string values become strings.
    """
    kind = block.get("type")
    if kind == "list":
        items = block.get("items")
        if isinstance(items, list):
            return [_str(item) for item in items]
        return []
    if kind == "image":
        return [_str(block.get("caption"))]
    return [_str(block.get("text"))]


@dataclass(frozen=True, slots=True)
class SideShare:
    """What one post shares with the other.

    ``title``: shared spans of the title (empty, or the whole title).
    ``blocks[i][k]``: shared spans of text ``k`` of body block ``i`` (see :func:`block_texts`),
    sorted, non-overlapping, each within the text. ``words``/``shared_words`` count the
    words of the title and every block text; ``passages`` is the number of spans.
    """

    title: tuple[Span, ...]
    blocks: tuple[tuple[tuple[Span, ...], ...], ...]
    words: int
    shared_words: int
    passages: int

    @property
    def fraction(self) -> float:
        """Shared words / words, 0..1 (0.0 for a post without words)."""
        return self.shared_words / self.words if self.words else 0.0


@dataclass(frozen=True, slots=True)
class Comparison:
    """The result of :func:`compare_posts`: the left and right sides."""

    left: SideShare
    right: SideShare

    @property
    def passages(self) -> int:
        """Shared passages, counted on the left post (the sides can differ: one passage of
        the left can be split in two on the right by an inserted word)."""
        return self.left.passages


class _Unit:
    """One text: word offsets, normalised words, and which words are shared.

    Everything per word runs in C (``re.split``, ``map``, ``accumulate``, ``zip``): a Python
    loop per word would make a 2 MB body cost seconds.
    """

    __slots__ = ("_shingles", "norms", "positions", "shared")

    def __init__(self, text: str) -> None:
        # [gap, word, gap, word, ..., gap]: word k is parts[2k + 1].
        parts = _WORD_SPLIT.split(text)
        self.positions = list(accumulate(map(len, parts), initial=0))
        norms = list(map(str.casefold, parts[1::2]))
        for index in compress(range(len(norms)), map(not_, map(str.isalnum, norms))):
            norms[index] = _NOT_ALNUM.sub("", norms[index])
        self.norms = norms
        self.shared: list[bool] | None = None  # None: nothing shared
        self._shingles: list[int] | None = None

    def shingles(self) -> list[int]:
        """Hashes of the 5-word shingles, computed once (ints: nothing for the GC to track;
        a 64-bit collision between two posts' shingles is negligible)."""
        if self._shingles is None:
            n = self.norms
            self._shingles = list(map(hash, zip(n, n[1:], n[2:], n[3:], n[4:], strict=False)))
        return self._shingles

    def mark(self, other_shingles: set[int]) -> None:
        hits = list(map(other_shingles.__contains__, self.shingles()))
        if True not in hits:
            return
        if False not in hits:
            self.mark_all()
            return
        # Word i is shared when one of the shingles starting at i-4..i is.
        padded = [False] * (SHINGLE_WORDS - 1) + hits + [False] * (SHINGLE_WORDS - 1)
        windows = [padded[offset:] for offset in range(SHINGLE_WORDS)]
        self.shared = list(map(any, zip(*windows, strict=False)))

    def mark_all(self) -> None:
        self.shared = [True] * len(self.norms)

    def spans(self) -> tuple[Span, ...]:
        if self.shared is None:
            return ()
        positions = self.positions
        spans: list[Span] = []
        word = 0
        for flag, run in groupby(self.shared):
            length = len(list(run))
            if flag:
                spans.append((positions[2 * word + 1], positions[2 * (word + length)]))
            word += length
        return tuple(spans)

    def shared_count(self) -> int:
        return 0 if self.shared is None else self.shared.count(True)


def _units(body: Sequence[Mapping[str, Any]]) -> list[list[_Unit]]:
    return [
        [_Unit(text) for text in block_texts(block)] if isinstance(block, Mapping) else []
        for block in body or ()
    ]


def _index(units: list[list[_Unit]]) -> tuple[set[int], set[tuple[str, ...]]]:
    shingles: set[int] = set()
    short: set[tuple[str, ...]] = set()
    for block in units:
        for unit in block:
            if len(unit.norms) >= SHINGLE_WORDS:
                shingles.update(unit.shingles())
            elif unit.norms:
                short.add(tuple(unit.norms))
    return shingles, short


def _mark(units: list[list[_Unit]], shingles: set[int], short: set[tuple[str, ...]]) -> None:
    for block in units:
        for unit in block:
            if len(unit.norms) >= SHINGLE_WORDS:
                if shingles:
                    unit.mark(shingles)
            elif unit.norms and tuple(unit.norms) in short:
                unit.mark_all()


def _side(title: _Unit, units: list[list[_Unit]]) -> SideShare:
    blocks = tuple(tuple(unit.spans() for unit in block) for block in units)
    every = [title, *(unit for block in units for unit in block)]
    title_spans = title.spans()
    passages = len(title_spans) + sum(len(spans) for block in blocks for spans in block)
    return SideShare(
        title=title_spans,
        blocks=blocks,
        words=sum(len(unit.norms) for unit in every),
        shared_words=sum(unit.shared_count() for unit in every),
        passages=passages,
    )


def compare_posts(
    left_title: object,
    left_body: Sequence[Mapping[str, Any]],
    right_title: object,
    right_body: Sequence[Mapping[str, Any]],
) -> Comparison:
    """Find the passages two posts share (see the module docstring for the rules).

    Bodies are lists of stored block dicts (``StoredPost.body``); anything that is not a
    mapping counts as a block without text.
    """
    # Nothing made here is cyclic: GC passes over the per-word lists of a 2 MB body are
    # pure cost (~20%).
    with no_gc_passes():
        return _compare(left_title, left_body, right_title, right_body)


def _compare(
    left_title: object,
    left_body: Sequence[Mapping[str, Any]],
    right_title: object,
    right_body: Sequence[Mapping[str, Any]],
) -> Comparison:
    left_units, right_units = _units(left_body), _units(right_body)
    left_shingles, left_short = _index(left_units)
    right_shingles, right_short = _index(right_units)
    _mark(left_units, right_shingles, right_short)
    _mark(right_units, left_shingles, left_short)

    left_title_unit, right_title_unit = _Unit(_str(left_title)), _Unit(_str(right_title))
    if left_title_unit.norms and left_title_unit.norms == right_title_unit.norms:
        left_title_unit.mark_all()
        right_title_unit.mark_all()
    return Comparison(
        left=_side(left_title_unit, left_units), right=_side(right_title_unit, right_units)
    )


def compare_stored(left: Any, right: Any) -> Comparison:
    """:func:`compare_posts` of two ``StoredPost`` (anything with ``title`` and ``body``)."""
    return compare_posts(left.title, left.body, right.title, right.body)


def shared_words_text(comparison: Comparison) -> str:
    """How a pair's word shares are shown, everywhere: ``words shared: 97% of left · 95% of
    right`` (the share of each post's words that the other holds, the words highlighted on
    the compare screen; rounded by ``storage.figures.percent``). Not the similarity
    score's body measure, which is named ``sentences alike`` (``storage.similarity``)."""
    left, right = percent(comparison.left.fraction), percent(comparison.right.fraction)
    return f"words shared: {left} of left · {right} of right"
