"""The terms of the query language: one small class per kind of term.

Each term knows

* how it is built from what the grammar read (the grammar in storage/query.py splits the
  text and calls the classes; ``NAMED_TERMS`` are the terms spelt ``name:value``),
* how it describes itself: ``describe()``, one short sentence (search help, errors),
* whether ONE post matches it: ``matches(post)`` over ``PostFacts``, the plain
  specification (storage/query_spec.py runs it over whole corpora),
* how the fast index answers it: ``answer(lookups, callbacks)`` gives the posts found in
  the columns (``Slots``), a word match that ranks (``Ranked``), or a test asked per post
  through the store's callbacks (``PerPost``). ``SearchIndex`` combines the answers.

Negation is the ``negated`` attribute: ``matches`` applies it; an answer is always the
positive one and the index applies it (leaves the slots out, or inverts the test).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from rapidfuzz import fuzz

from .hints import HINT_CODES
from .models import Status

# Free words and phrases look at these fields (their values are text: storage.query).
TEXT_FIELDS = ("title", "topic", "summary")
TITLE = "title"

# How well a typed word matches one word of a post (0..100).
EXACT = 100.0
PREFIX = 90.0  # + up to 10 for how much of the word was typed
SUBSTRING = 80.0  # + up to 10 likewise
TYPO_CUTOFF = 80.0  # fuzz.ratio below this is not a match
TYPO_WEIGHT = 0.9  # a typo ranks below a prefix of similar length
TYPO_MIN_LENGTH = 4  # shorter words match by substring only
REST_PENALTY = 5  # a word found in topic/summary but not in the title ranks lower

COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "=": operator.eq,
}
_COMPARISON_WORDS = {
    "<=": "at most",
    ">=": "at least",
    "<": "less than",
    ">": "more than",
    "=": "equal to",
}

_WORD_CHARS = re.compile(r"[^\W_]+")
_ASCII_WORD_CHARS = re.compile(r"[a-z0-9]+")  # the same on lower-case ASCII, 3x faster
_INT = re.compile(r"[+-]?[0-9]{1,18}")  # 18 digits: always a 64-bit int, as the seeds


def words_of(text: str) -> list[str]:
    """The lower-case words of ``text``: the unit fuzzy matching works on."""
    text = text.lower()
    return (_ASCII_WORD_CHARS if text.isascii() else _WORD_CHARS).findall(text)


def as_int(text: str) -> int | None:
    """A query value as an integer (ASCII digits, optional sign), else None."""
    return int(text) if _INT.fullmatch(text) else None


def text_of(value: Any) -> str:
    """A title, topic or summary value as text: a number by its digits, a list by its items
    joined with spaces (storage.query.index_fields gives text fields as text this way)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " ".join(map(text_of, value))
    return str(value)


def word_score(typed: str, word: str) -> float | None:
    """How well ``typed`` (a query word) matches ``word`` (a post's word); None: not at all.

    The same word scores EXACT, a word it starts PREFIX and one it is inside SUBSTRING,
    both plus up to 10 for how much of the word was typed; from TYPO_MIN_LENGTH letters a
    word within rapidfuzz's ``fuzz.ratio`` >= TYPO_CUTOFF is a typo, scored below."""
    if typed == word:
        return EXACT
    share = 10.0 * len(typed) / len(word)
    if word.startswith(typed):
        return PREFIX + share
    if typed in word:
        return SUBSTRING + share
    if len(typed) >= TYPO_MIN_LENGTH:
        ratio = fuzz.ratio(typed, word)
        if ratio >= TYPO_CUTOFF:
            return ratio * TYPO_WEIGHT
    return None


def body_holds(body: Any, phrase: str) -> bool:
    """Whether a block of ``body`` holds ``phrase`` (lower case), read as the store reads
    bodies: a block's list items, else its text, else its image caption."""
    for block in body if isinstance(body, list) else ():
        if not isinstance(block, dict):
            continue
        parts = block.get("items") or [block.get("text") or block.get("caption") or ""]
        if any(phrase in str(part).lower() for part in parts):
            return True
    return False


def _items(value: Any) -> Sequence[Any]:
    if value is None:
        return ()
    return value if isinstance(value, list | tuple) else (value,)


def _equals(item: Any, text: str, number: int | None) -> bool:
    """One field value (a list: one item) against a query value: text by its lower case,
    numbers by value."""
    if isinstance(item, str):
        return item.lower() == text
    return number is not None and item == number


# --------------------------------------------------------------------------- the post


@dataclass(frozen=True, slots=True)
class PostFacts:
    """One post as the specification reads it: what the index and the store know of it."""

    id: str
    fields: Mapping[str, Any]  # storage.query.index_fields(post)
    queue_key: Any = 0
    body: list[Any] | None = None  # the post's body blocks; None: bodies are not searched
    status: str = Status.PENDING
    hints: tuple[str, ...] = ()
    changed: bool = False  # re-imported with other text after its decision


# --------------------------------------------------------------------------- the index's side


class WordMatch(Protocol):
    """The index's match of one free word (storage.search_index._WordMatch)."""

    estimate: int  # how many posts it may match; 0: none

    def matched(self) -> set[int]: ...


class IndexLookups(Protocol):
    """What terms ask of the fast index (slots are its numbers for posts)."""

    def equal(self, names: tuple[str, ...], text: str, number: int | None) -> set[int]:
        """Slots where one of the fields ``names`` equals ``text`` / ``number``."""
        ...

    def compare(self, name: str, op: str, number: int) -> set[int]:
        """Slots whose integer field ``name`` compares true with ``number``."""
        ...

    def phrase(self, phrase: str) -> set[int]:
        """Slots whose title, topic or summary holds ``phrase``."""
        ...

    def word(self, word: str) -> WordMatch:
        """The posts a free word matches, with their scores."""
        ...

    def phrase_ids(self, phrase: str) -> frozenset[str]:
        """The ids of the posts ``phrase`` finds (title, topic or summary)."""
        ...


def _pending(_post_id: str) -> str:
    return Status.PENDING


def _no_hints(_post_id: str) -> Iterable[str]:
    return ()


def _unchanged(_post_id: str) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class Callbacks:
    """What the store knows per post (by id), asked only for posts that passed every
    term the columns answer. Defaults: every post pending, no hints, unchanged; no body
    test (phrases then look at title, topic and summary only)."""

    status_of: Callable[[str], str] = _pending
    hints_of: Callable[[str], Iterable[str]] = _no_hints
    changed_of: Callable[[str], bool] = _unchanged
    body_contains: Callable[[str, str], bool] | None = None  # (id, lower-case phrase)


@dataclass(frozen=True, slots=True)
class Slots:
    """The posts the term holds for, found in the columns."""

    slots: set[int]


@dataclass(frozen=True, slots=True)
class Ranked:
    """A free word: the posts it matches and how well; they rank the results."""

    match: WordMatch


@dataclass(frozen=True, slots=True)
class PerPost:
    """A test of one post id, asked after every other answer (tests that read bodies
    last)."""

    holds: Callable[[str], bool]
    reads_bodies: bool = False


Answer = Slots | Ranked | PerPost


class TermError(ValueError):
    """A value a term cannot take; the grammar adds the term and its position."""

    def __init__(self, message: str, expected: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What the grammar knows beyond the field table: the flags of the indexed posts."""

    flags: Mapping[str, str]  # flag name -> its flat field name


# --------------------------------------------------------------------------- the terms


@dataclass(frozen=True, slots=True, kw_only=True)
class Term:
    """One term of a query. ``position``: 0-based offset in the query; ``raw``: as typed."""

    kind: ClassVar[str] = ""
    negated: bool = False
    position: int = 0
    raw: str = ""

    def __str__(self) -> str:
        return self.raw

    def matches(self, post: PostFacts) -> bool:
        """Whether ``post`` matches this term, negation included."""
        return self.holds(post) != self.negated

    def holds(self, post: PostFacts) -> bool:  # pragma: no cover - abstract
        """Whether ``post`` matches the term without its negation."""
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def answer(self, lookups: IndexLookups, callbacks: Callbacks) -> Answer:  # pragma: no cover
        """The fast index's answer, without the negation."""
        raise NotImplementedError

    def _no(self, positive: str, negative: str) -> str:
        return negative if self.negated else positive


@dataclass(frozen=True, slots=True)
class FreeWord(Term):
    """`kubernets`: a word of title, topic or summary, typos allowed; ranks the results."""

    kind: ClassVar[str] = "word"
    value: str  # one word of words_of

    def describe(self) -> str:
        how = self._no("a word like", "no word like")
        return f"{how} '{self.value}' in title, topic or summary"

    def score_in(self, post: PostFacts) -> int | None:
        """The post's score for this word: its best word's (each rounded down), a topic or
        summary word REST_PENALTY below a title word; None when no word matches."""
        best = None
        for name in TEXT_FIELDS:
            penalty = 0 if name == TITLE else REST_PENALTY
            for word in words_of(text_of(post.fields.get(name))):
                score = word_score(self.value, word)
                if score is not None and (best is None or int(score) - penalty > best):
                    best = int(score) - penalty
        return best

    def holds(self, post: PostFacts) -> bool:
        return self.score_in(post) is not None

    def answer(self, lookups: IndexLookups, callbacks: Callbacks) -> Answer:
        return Ranked(lookups.word(self.value))


@dataclass(frozen=True, slots=True)
class Phrase(Term):
    """`"rollback note"`: that text in title, topic, summary or body (any case)."""

    kind: ClassVar[str] = "phrase"
    value: str  # lower case

    def describe(self) -> str:
        return self._no(
            f"'{self.value}' in title, topic, summary or body",
            f"'{self.value}' nowhere in title, topic, summary or body",
        )

    def holds(self, post: PostFacts) -> bool:
        for name in TEXT_FIELDS:
            if self.value in text_of(post.fields.get(name)).lower():
                return True
        return post.body is not None and body_holds(post.body, self.value)

    def answer(self, lookups: IndexLookups, callbacks: Callbacks) -> Answer:
        body_contains = callbacks.body_contains
        if body_contains is None:
            return Slots(lookups.phrase(self.value))
        near_ids, phrase = lookups.phrase_ids(self.value), self.value
        return PerPost(
            lambda post_id: post_id in near_ids or body_contains(post_id, phrase),
            reads_bodies=True,
        )


@dataclass(frozen=True, slots=True)
class FieldEquals(Term):
    """`stack:php`: a field equals the value; a list when one item does; a structured
    field (`score`, `entities`) when one of its keys does."""

    kind: ClassVar[str] = "field"
    field: str  # the flat field name
    value: str  # lower case
    names: tuple[str, ...]  # the fields looked at: the field and its keys

    @property
    def number(self) -> int | None:
        return as_int(self.value)

    def describe(self) -> str:
        return f"{self.field} {self._no('is', 'is not')} '{self.value}'"

    def holds(self, post: PostFacts) -> bool:
        number = self.number
        return any(
            _equals(item, self.value, number)
            for name in self.names
            for item in _items(post.fields.get(name))
        )

    def answer(self, lookups: IndexLookups, callbacks: Callbacks) -> Answer:
        return Slots(lookups.equal(self.names, self.value, self.number))


@dataclass(frozen=True, slots=True)
class Compare(Term):
    """`quality<70`: a number field compared with a number (`<` `<=` `>` `>=` `=`); a
    list or text never compares."""

    kind: ClassVar[str] = "compare"
    field: str
    op: str  # a key of COMPARISONS
    value: int

    def describe(self) -> str:
        return f"{self.field} is {self._no('', 'not ')}{_COMPARISON_WORDS[self.op]} {self.value}"

    def holds(self, post: PostFacts) -> bool:
        value = post.fields.get(self.field)
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return is_number and COMPARISONS[self.op](value, self.value)

    def answer(self, lookups: IndexLookups, callbacks: Callbacks) -> Answer:
        return Slots(lookups.compare(self.field, self.op, self.value))


@dataclass(frozen=True, slots=True)
class FlagSet(Term):
    """`flag:needs_human_review`: that flag is 1."""

    kind: ClassVar[str] = "flag"
    name: ClassVar[str] = "flag"
    field: str  # the flag's flat field name
    value: int = 1

    @classmethod
    def parse(cls, value: str, context: ParseContext) -> FlagSet:
        flag = value.replace("-", "_").replace(" ", "_").removeprefix("flags.")
        field = context.flags.get(flag)
        if field is None:
            raise TermError(f"unknown flag '{value}'", ", ".join(context.flags))
        return cls(field)

    def describe(self) -> str:
        return f"flag {self.field.removeprefix('flags.')} {self._no('is set', 'is not set')}"

    def holds(self, post: PostFacts) -> bool:
        return any(_equals(item, "1", 1) for item in _items(post.fields.get(self.field)))

    def answer(self, lookups: IndexLookups, callbacks: Callbacks) -> Answer:
        return Slots(lookups.equal((self.field,), "1", 1))


@dataclass(frozen=True, slots=True)
class StatusIs(Term):
    """`status:approved`: the post's review status (storage.models.Status)."""

    kind: ClassVar[str] = "status"
    name: ClassVar[str] = "status"
    value: str

    @classmethod
    def parse(cls, value: str, context: ParseContext) -> StatusIs:
        status = Status.parse(value)
        if status is None:
            shown = value.replace("-", "_").replace(" ", "_")
            raise TermError(f"unknown status '{shown}'", ", ".join(Status))
        return cls(status.value)

    def describe(self) -> str:
        return f"review status {self._no('is', 'is not')} {self.value}"

    def holds(self, post: PostFacts) -> bool:
        return post.status == self.value

    def answer(self, lookups: IndexLookups, callbacks: Callbacks) -> Answer:
        status_of, value = callbacks.status_of, self.value
        return PerPost(lambda post_id: status_of(post_id) == value)


@dataclass(frozen=True, slots=True)
class HasHint(Term):
    """`hint:placeholder_image`: the post has that review hint (storage.hints)."""

    kind: ClassVar[str] = "hint"
    name: ClassVar[str] = "hint"
    value: str

    @classmethod
    def parse(cls, value: str, context: ParseContext) -> HasHint:
        code = value.replace("-", "_").replace(" ", "_")
        if code not in HINT_CODES:
            raise TermError(f"unknown hint '{value}'", ", ".join(HINT_CODES))
        return cls(code)

    def describe(self) -> str:
        return f"{self._no('has', 'does not have')} the review hint {self.value}"

    def holds(self, post: PostFacts) -> bool:
        return self.value in post.hints

    def answer(self, lookups: IndexLookups, callbacks: Callbacks) -> Answer:
        hints_of, value = callbacks.hints_of, self.value
        return PerPost(lambda post_id: value in hints_of(post_id))


@dataclass(frozen=True, slots=True)
class ChangedSinceReview(Term):
    """`changed:yes` / `changed:no`: re-imported with other text after its decision."""

    kind: ClassVar[str] = "changed"
    name: ClassVar[str] = "changed"
    value: bool

    @classmethod
    def parse(cls, value: str, context: ParseContext) -> ChangedSinceReview:
        if value not in ("yes", "no"):
            raise TermError("expected 'changed:yes' or 'changed:no'")
        return cls(value == "yes")

    def describe(self) -> str:
        changed = self.value != self.negated
        return "changed since its review" if changed else "not changed since its review"

    def holds(self, post: PostFacts) -> bool:
        return bool(post.changed) == self.value

    def answer(self, lookups: IndexLookups, callbacks: Callbacks) -> Answer:
        changed_of, value = callbacks.changed_of, self.value
        return PerPost(lambda post_id: bool(changed_of(post_id)) == value)


NamedTerm = FlagSet | StatusIs | HasHint | ChangedSinceReview
# The terms spelt `name:value` whose name is a grammar word, not a field.
NAMED_TERMS: dict[str, type[NamedTerm]] = {
    cls.name: cls for cls in (StatusIs, FlagSet, HasHint, ChangedSinceReview)
}
