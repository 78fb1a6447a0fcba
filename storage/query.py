"""The search query language: one grammar for the TUI search box, `list`, `export` and views.

    from storage.query import parse_query, index_fields, QueryError, SearchIndex

Terms are separated by spaces and ANDed; everything is case-insensitive:

    kubernets                free word: fuzzy (typo-tolerant) on title, topic and summary
    "rollback note"          exact substring of title, topic, summary or body
    stack:php                field equals value; a list field matches when one item does
    topic:"a / b"            quoted value
    flag:needs_human_review  that flag is 1
    quality<70               <, <=, >, >=, = on integer fields (nested ones by their own name)
    status:approved          review status: pending, approved, rejected, changes_requested,
                             disputed (a team store's reviewers disagree)
    hint:CODE                the post has that review hint
    changed:yes              content changed since the decision (yes/no)
    -stack:php               `-` negates any term

`index_fields(post)` flattens one post dict (ARCHITECTURE.md) into the fields a query can
name; `SearchIndex` (storage/search_index.py) answers queries over many posts quickly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

TEXT = "text"
INT = "int"
LIST = "list"
MAPPING = "mapping"
RECORDS = "records"  # list of mappings

# The meta fields (same kinds as seeds.FIELDS; `title` is the post's own title).
_STATIC_TOP_LEVEL: dict[str, str] = {
    "title": TEXT,
    "topic": TEXT,
    "summary": TEXT,
    "ai_outline": MAPPING,
    "ai_brief": TEXT,
    "stack": LIST,
    "tools": LIST,
    "code_language": TEXT,
    "difficulty": TEXT,
    "reading_time": INT,
    "view_count": INT,
    "score": MAPPING,
    "revision": MAPPING,
    "reference": TEXT,
    "hash": TEXT,
    "flags": MAPPING,
    "checklist": LIST,
    "entities": RECORDS,
    "image_sources": RECORDS,
    "payload": MAPPING,
    "notes": LIST,
}

# The keys of the structured fields, as the seeds write them.
NESTED: dict[str, dict[str, str]] = {
    "ai_outline": {"context": TEXT, "problem": TEXT, "stack": TEXT, "recommended_action": TEXT},
    "score": {"quality": INT, "freshness": INT, "depth": INT, "clarity": INT},
    "revision": {"status": TEXT, "version": TEXT, "last_reviewed": TEXT},
    "flags": {
        "ai_generated_style": INT,
        "has_images": INT,
        "image_heavy": INT,
        "needs_human_review": INT,
    },
    "payload": {
        "source_id": TEXT,
        "generator": TEXT,
        "paragraphs": INT,
        "scenario": TEXT,
        "seed": INT,
    },
    "entities": {"name": TEXT, "type": TEXT},
    "image_sources": {"source": TEXT, "url": TEXT, "caption": TEXT},
}

# Names the grammar uses for things that are not meta fields.
STATUS, FLAG, HINT, CHANGED = "status", "flag", "hint", "changed"
RESERVED = frozenset({STATUS, FLAG, HINT, CHANGED})
# "disputed" is derived (a team store's reviewers disagree): found by queries, never set
REVIEW_STATUSES = ("pending", "approved", "rejected", "changes_requested", "disputed")
FLAG_PARENT = "flags"

# Free words, phrases and fuzzy matching look at these fields.
TEXT_FIELDS = ("title", "topic", "summary")


def _top_level() -> dict[str, str]:
    """TOP_LEVEL plus whatever the reader's field table adds (it is the source of truth)."""
    table = dict(_STATIC_TOP_LEVEL)
    try:
        from seeds import FIELDS
    except ImportError:  # pragma: no cover - seeds is part of the package
        return table
    for key, spec in FIELDS.items():
        table.setdefault(key, getattr(spec, "kind", TEXT))
    return table


TOP_LEVEL: dict[str, str] = _top_level()


def flat_name(parent: str, key: str) -> str:
    """The flat field name of `parent.key`: the key's own name when that is unambiguous.

    Keys of list-of-mapping fields and keys the seeds do not define are always dotted
    (`entities.name`, `flags.new_flag`); a known key that clashes with a top-level field or
    a grammar word is dotted too (`ai_outline.stack`, `revision.status`).
    """
    if (
        TOP_LEVEL.get(parent) == MAPPING
        and key in NESTED.get(parent, ())
        and key not in TOP_LEVEL
        and key not in RESERVED
    ):
        return key
    return f"{parent}.{key}"


def _known_fields() -> dict[str, str]:
    """Every flat field name a query may use -> its kind (parents included)."""
    known: dict[str, str] = {}
    for name, kind in TOP_LEVEL.items():
        known[name] = kind
        for key, key_kind in NESTED.get(name, {}).items():
            flat = flat_name(name, key)
            known[flat] = LIST if kind == RECORDS else key_kind
    return known


KNOWN_FIELDS: dict[str, str] = _known_fields()
# `score.quality` -> `quality`: the dotted spelling of a nested field always works.
ALIASES: dict[str, str] = {
    f"{parent}.{key}": flat_name(parent, key) for parent, keys in NESTED.items() for key in keys
}
KNOWN_FLAGS: tuple[str, ...] = tuple(NESTED[FLAG_PARENT])


# --------------------------------------------------------------------------- index_fields


def _scalar(value: Any) -> str | int | float | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str | int | float):
        return value
    if value is None:
        return None
    return str(value)


# flat_name of the (parent, key) pairs met so far: the same few dozen in every post
_FLAT_NAMES: dict[tuple[str, str], str] = {}


def _flat(parent: str, key: Any) -> str:
    name = _FLAT_NAMES.get((parent, key))
    if name is None:
        name = flat_name(parent, str(key))
        if len(_FLAT_NAMES) < 10_000:  # unknown fields are few; a hostile file has many
            _FLAT_NAMES[(parent, key)] = name
    return name


def index_fields(post: Mapping[str, Any]) -> dict[str, str | int | list]:
    """The flat, JSON-ready field map of one post dict: what queries can name.

    Every meta field by its snake_case name; the keys of mapping fields also by their own
    name (`quality`, `needs_human_review`, `source_id`) unless that clashes, then dotted
    (`revision.status`, `ai_outline.stack`); list-of-mapping fields as one list per key
    (`entities.name`, `image_sources.source`). No body.

    It runs for every imported post: the reader's types (dict, list, str, int) are told by
    their class first, the general ``Mapping`` / ``_scalar`` tests only decide the rest.
    """
    meta = post.get("meta")
    meta = meta if isinstance(meta, Mapping) else {}
    fields: dict[str, str | int | list] = {"title": str(post.get("title") or "")}
    for name, value in meta.items():
        if name in RESERVED or name == "title":
            # An unknown meta field cannot shadow the grammar or the post's own title.
            name = f"meta.{name}"
        kind = value.__class__
        if kind is str or kind is int:
            fields[name] = value
        elif kind is dict or (kind is not list and isinstance(value, Mapping)):
            for key, item in value.items():
                if item.__class__ is not str and item.__class__ is not int:
                    item = _scalar(item)
                    if item is None:
                        continue
                fields[_flat(name, key)] = item
        elif kind is list or isinstance(value, list | tuple):
            kinds = set(map(type, value))
            if kinds <= _PLAIN:
                fields[name] = list(value)
            elif dict in kinds or any(isinstance(v, Mapping) for v in value):
                per_key: dict[str, list] = {}
                for record in value:
                    if not isinstance(record, Mapping):
                        continue
                    for key, item in record.items():
                        item = _scalar(item)
                        if item is not None:
                            per_key.setdefault(f"{name}.{key}", []).append(item)
                fields.update(per_key)
            else:
                fields[name] = [v for v in map(_scalar, value) if v is not None]
        else:
            item = _scalar(value)
            if item is not None:
                fields[name] = item
    return fields


_PLAIN = frozenset({str, int})


def parents_of(names: Iterable[str]) -> dict[str, list[str]]:
    """Structured field name -> the flat names of its keys, for `entities:php`-style terms."""
    children: dict[str, list[str]] = {}
    for parent, keys in NESTED.items():
        children[parent] = [flat_name(parent, key) for key in keys]
    for name in names:
        parent, dot, _ = name.partition(".")
        if dot and name not in children.get(parent, ()):
            children.setdefault(parent, []).append(name)
    return children


# --------------------------------------------------------------------------- the grammar


class QueryError(ValueError):
    """A query that cannot be parsed; `position` is the 0-based offset of `term`."""

    def __init__(self, message: str, *, position: int, term: str, expected: str = "") -> None:
        text = f"{message} at position {position}"
        super().__init__(f"{text} (expected {expected})" if expected else text)
        self.message = message
        self.position = position
        self.term = term


WORD, PHRASE, FIELD, COMPARE = "word", "phrase", "field", "compare"
# FLAG, STATUS, HINT, CHANGED (above) are term kinds too.

COMPARISONS = ("<=", ">=", "<", ">", "=")


@dataclass(frozen=True, slots=True)
class Term:
    """One term of a query. `value` is lower-cased text, an int (compare) or a bool."""

    kind: str  # word | phrase | field | compare | flag | status | hint | changed
    value: str | int | bool
    field: str = ""  # flat field name (field, compare) or flag name (flag)
    op: str = ""  # comparison operator (compare)
    negated: bool = False
    position: int = 0
    raw: str = ""  # the term as typed

    def __str__(self) -> str:
        return self.raw


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    terms: tuple[Term, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not self.terms

    @property
    def words(self) -> tuple[str, ...]:
        """The positive free words (they rank the results)."""
        return tuple(t.value for t in self.terms if t.kind == WORD and not t.negated)

    @property
    def has_free_words(self) -> bool:
        return bool(self.words)

    def __str__(self) -> str:
        return self.text


_NAME = re.compile(r"[A-Za-z_][\w.\-]*")
_OPERATOR = re.compile(r"<=|>=|<|>|=|:")
_WORD_CHARS = re.compile(r"[^\W_]+")  # what a free word is split into (see SearchIndex)
_ASCII_WORD_CHARS = re.compile(r"[a-z0-9]+")  # the same on lower-case ASCII, 3x faster
_INT = re.compile(r"[+-]?\d{1,18}")


def words_of(text: str) -> list[str]:
    """The lower-case words of `text`, the unit fuzzy matching works on."""
    text = text.lower()
    return (_ASCII_WORD_CHARS if text.isascii() else _WORD_CHARS).findall(text)


def _field_key(name: str) -> str:
    return name.lower().replace("-", "_")


class _Parser:
    def __init__(self, text: str, extra_fields: Iterable[str], extra_flags: Iterable[str]):
        self.text = text
        self.pos = 0
        self.fields = dict(KNOWN_FIELDS)
        for name in extra_fields:
            self.fields.setdefault(name, "")  # kind unknown: any operator allowed
        self.flags = set(KNOWN_FLAGS) | set(extra_flags)

    def error(self, message: str, position: int, term: str, expected: str = "") -> QueryError:
        return QueryError(message, position=position, term=term, expected=expected)

    def parse(self) -> Query:
        terms: list[Term] = []
        text = self.text
        while True:
            while self.pos < len(text) and text[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(text):
                break
            terms.extend(self.term())
        return Query(text, tuple(terms))

    def quoted(self, start: int, raw_start: int) -> str:
        """The text between the quote at `start` and the next quote; moves past it."""
        end = self.text.find('"', start + 1)
        if end < 0:
            raise self.error("unterminated quote", start, self.text[raw_start:])
        self.pos = end + 1
        return self.text[start + 1 : end]

    def bare(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and not self.text[self.pos].isspace():
            self.pos += 1
        return self.text[start : self.pos]

    def term(self) -> list[Term]:
        text = self.text
        negated = False
        if text[self.pos] == "-":
            negated = True
            self.pos += 1
            if self.pos >= len(text) or text[self.pos].isspace():
                raise self.error("expected a term after '-'", self.pos - 1, "-")
        start = self.pos
        if text[start] == '"':
            phrase = self.quoted(start, start).lower()
            if not phrase.strip():
                raise self.error("empty phrase", start, text[start : self.pos])
            return [
                Term(PHRASE, phrase, negated=negated, position=start, raw=text[start : self.pos])
            ]
        name = _NAME.match(text, start)
        operator = _OPERATOR.match(text, name.end()) if name else None
        if name is None or operator is None:
            word = self.bare()
            raw = word
            if '"' in word:  # `foo"bar`: a quote inside a word is a typo, say so
                quote = start + word.index('"')
                raise self.error("unexpected quote", quote, raw)
            # `node.js` or `c++` are free words; each word part must match.
            parts = words_of(word)
            return [Term(WORD, part, negated=negated, position=start, raw=raw) for part in parts]
        self.pos = operator.end()
        if self.pos < len(text) and text[self.pos] == '"':
            value = self.quoted(self.pos, start)
        else:
            value_start = self.pos
            value = self.bare()
            if '"' in value:
                quote = value_start + value.index('"')
                raise self.error("unexpected quote", quote, text[start : self.pos])
        raw = text[start : self.pos]
        return [self.field_term(name.group(), operator.group(), value, negated, start, raw)]

    def field_term(
        self, name: str, op: str, value: str, negated: bool, start: int, raw: str
    ) -> Term:
        key = _field_key(name)
        prefix = f"{name}{op}"
        value = value.strip().lower()
        if not value:
            wanted = "a value" if op == ":" else "a number"
            raise self.error(f"expected {wanted} after '{prefix}'", start, raw)
        if key in (STATUS, FLAG, HINT, CHANGED):
            if op != ":":
                raise self.error(f"expected '{key}:' not '{prefix}'", start, raw)
            return self.special_term(key, value, negated, start, raw)
        key = ALIASES.get(key, key)
        kind = self.fields.get(key)
        if kind is None:
            raise self.error(f"unknown field '{name}'", start, name)
        if op == ":":
            if kind == INT and not _INT.fullmatch(value):
                raise self.error(f"expected a number after '{prefix}'", start, raw)
            return Term(FIELD, value, field=key, negated=negated, position=start, raw=raw)
        if kind and kind != INT:
            raise self.error(f"field '{name}' is not a number, use '{name}:'", start, raw)
        if not _INT.fullmatch(value):
            raise self.error(f"expected a number after '{prefix}'", start, raw)
        return Term(COMPARE, int(value), field=key, op=op, negated=negated, position=start, raw=raw)

    def special_term(self, key: str, value: str, negated: bool, start: int, raw: str) -> Term:
        if key == STATUS:
            value = value.replace("-", "_").replace(" ", "_")
            if value not in REVIEW_STATUSES:
                expected = ", ".join(REVIEW_STATUSES)
                raise self.error(f"unknown status '{value}'", start, raw, expected)
            return Term(STATUS, value, negated=negated, position=start, raw=raw)
        if key == CHANGED:
            if value not in ("yes", "no"):
                raise self.error("expected 'changed:yes' or 'changed:no'", start, raw)
            return Term(CHANGED, value == "yes", negated=negated, position=start, raw=raw)
        if key == FLAG:
            flag = _field_key(value).replace(" ", "_")
            flag = flag.removeprefix(f"{FLAG_PARENT}.")
            if flag not in self.flags:
                raise self.error(f"unknown flag '{value}'", start, raw)
            return Term(
                FLAG,
                1,
                field=flat_name(FLAG_PARENT, flag),
                negated=negated,
                position=start,
                raw=raw,
            )
        return Term(HINT, value, negated=negated, position=start, raw=raw)


def parse_query(
    text: str, *, extra_fields: Iterable[str] = (), extra_flags: Iterable[str] = ()
) -> Query:
    """Parse a query; raises QueryError naming the bad term and its position.

    `extra_fields` / `extra_flags` are names met in the indexed posts beyond the seeds'
    field table (unknown meta fields are kept by the reader).
    """
    return _Parser(text, extra_fields, extra_flags).parse()


def __getattr__(name: str) -> Any:
    # `from storage.query import SearchIndex` without a circular import at load time.
    if name == "SearchIndex":
        from .search_index import SearchIndex

        return SearchIndex
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
