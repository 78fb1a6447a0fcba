"""The search query language: one grammar for the TUI search box, `list`, `export` and views.

    from storage.query import parse_query, index_fields, QueryError, SearchIndex

Terms are separated by spaces and ANDed; everything is case-insensitive:

    kubernets                free word: fuzzy (typo-tolerant) on title, topic and summary
    "rollback note"          exact substring of title, topic, summary or body
    stack:php                field equals value; a list field matches when one item does
    topic:"a / b"            quoted value
    flag:needs_human_review  that flag is 1
    quality<70               <, <=, >, >=, = on integer fields (nested ones by their own name)
    status:approved          review status: pending, approved, rejected, changes_requested
    hint:CODE                the post has that review hint
    changed:yes              content changed since the decision (yes/no)
    -stack:php               `-` negates any term

`index_fields(post)` flattens one post dict (ARCHITECTURE.md) into the fields a query can
name; `SearchIndex` (storage/search_index.py) answers queries over many posts quickly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from seeds.meta import FIELDS, INT, LIST, MAPPING, RECORDS, TEXT, Field

from .errors import QueryError
from .terms import (
    COMPARISONS,
    NAMED_TERMS,
    TEXT_FIELDS,
    ChangedSinceReview,
    Compare,
    FieldEquals,
    FlagSet,
    FreeWord,
    HasHint,
    ParseContext,
    Phrase,
    StatusIs,
    Term,
    TermError,
    as_int,
    text_of,
    words_of,
)

__all__ = [
    "ALIASES",
    "CHANGED",
    "COMPARE",
    "FIELD",
    "FLAG",
    "HINT",
    "INT",
    "KNOWN_FIELDS",
    "KNOWN_FLAGS",
    "LIST",
    "MAPPING",
    "NESTED",
    "PHRASE",
    "RECORDS",
    "STATUS",
    "TEXT",
    "TEXT_FIELDS",
    "TOP_LEVEL",
    "WORD",
    "Query",
    "QueryError",
    "Term",
    "extra_names",
    "flat_name",
    "index_fields",
    "parents_of",
    "parse_query",
    "words_of",
]


# --------------------------------------------------------------------------- the field table
# Derived from seeds.meta.FIELDS, the one table of meta fields, their kinds and the keys of
# the structured ones: a field added there is known here with no other edit.


def top_level(meta_fields: Mapping[str, Field]) -> dict[str, str]:
    """Every top-level name a query may use -> its kind: the meta fields and the title."""
    return {"title": TEXT, **{key: spec.kind for key, spec in meta_fields.items()}}


def nested(meta_fields: Mapping[str, Field]) -> dict[str, dict[str, str]]:
    """Mapping and records fields -> their keys -> the keys' kinds."""
    return {key: dict(spec.keys) for key, spec in meta_fields.items() if spec.keys}


TOP_LEVEL: dict[str, str] = top_level(FIELDS)
NESTED: dict[str, dict[str, str]] = nested(FIELDS)

# Names the grammar uses for things that are not meta fields (`status:`, `flag:`, ...).
RESERVED = frozenset(NAMED_TERMS)
FLAG_PARENT = "flags"


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
KNOWN_FLAGS: tuple[str, ...] = tuple(NESTED.get(FLAG_PARENT, ()))


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
        if name.__class__ is not str:
            name = str(name)
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
    for name in _TEXT_META:  # text whatever the reader made of it (an all-digit topic)
        value = fields.get(name)
        if value is not None and value.__class__ is not str:
            fields[name] = text_of(value)
    return fields


_PLAIN = frozenset({str, int})
_TEXT_META = tuple(name for name in TEXT_FIELDS if name != "title")


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


def extra_names(names: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The field and flag names among ``names`` (those of indexed posts) beyond the field
    table: unknown fields, their parents (`extra_map` of `extra_map.colour`) and unknown
    flags (`shiny` of `flags.shiny`). Queries may name them (``parse_query``)."""
    unknown = {name for name in names if name not in KNOWN_FIELDS}
    unknown.update(parent for parent in parents_of(unknown) if parent not in KNOWN_FIELDS)
    prefix = f"{FLAG_PARENT}."
    flags = {name.removeprefix(prefix) for name in unknown if name.startswith(prefix)}
    return frozenset(unknown), frozenset(flags)


# --------------------------------------------------------------------------- the grammar


# The kinds of terms (each a class of storage/terms.py).
WORD, PHRASE, FIELD, COMPARE = FreeWord.kind, Phrase.kind, FieldEquals.kind, Compare.kind
FLAG, STATUS, HINT, CHANGED = FlagSet.kind, StatusIs.kind, HasHint.kind, ChangedSinceReview.kind


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
        return tuple(t.value for t in self.terms if isinstance(t, FreeWord) and not t.negated)

    @property
    def has_free_words(self) -> bool:
        return bool(self.words)

    def describe(self) -> str:
        """What the query finds, in words: its terms' descriptions, ANDed."""
        if not self.terms:
            return "every post"
        return " and ".join(term.describe() for term in self.terms)

    def __str__(self) -> str:
        return self.text


_NAME = re.compile(r"[A-Za-z_][\w.\-]*")
_OPERATOR = re.compile("|".join(map(re.escape, (*COMPARISONS, ":"))))


class _UnknownField(TermError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown field '{name}'")
        self.name = name


def _field_key(name: str) -> str:
    return name.lower().replace("-", "_")


class _Parser:
    """Splits the text into terms and hands each to its class (storage/terms.py)."""

    def __init__(self, text: str, extra_fields: Iterable[str], extra_flags: Iterable[str]):
        self.text = text
        self.pos = 0
        self.fields = dict(KNOWN_FIELDS)
        for name in extra_fields:
            self.fields.setdefault(name, "")  # kind unknown: any operator allowed
        self.children = parents_of(self.fields)
        flags = {flag: flat_name(FLAG_PARENT, flag) for flag in KNOWN_FLAGS}
        flags.update((flag, flat_name(FLAG_PARENT, flag)) for flag in sorted(extra_flags))
        self.context = ParseContext(flags)

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
        place = {"negated": negated, "position": start}
        if text[start] == '"':
            phrase = self.quoted(start, start).lower()
            if not phrase.strip():
                raise self.error("empty phrase", start, text[start : self.pos])
            return [Phrase(phrase, raw=text[start : self.pos], **place)]
        name = _NAME.match(text, start)
        operator = _OPERATOR.match(text, name.end() if name else start)
        if operator is not None and name is None:  # `:php`, `<3`
            raw = self.bare()
            raise self.error(f"expected a field name before '{operator.group()}'", start, raw)
        if name is None or operator is None:
            word = self.bare()
            if '"' in word:  # `foo"bar`: a quote inside a word is a typo, say so
                raise self.error("unexpected quote", start + word.index('"'), word)
            # `node.js` or `c++` are free words; each word part must match.
            return [FreeWord(part, raw=word, **place) for part in words_of(word)]
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
        try:
            term = self.named_term(name.group(), operator.group(), value.strip().lower())
        except _UnknownField as exc:
            raise self.error(exc.message, start, exc.name) from None
        except TermError as exc:
            raise self.error(exc.message, start, raw, exc.expected) from None
        return [replace(term, raw=raw, **place)]

    def named_term(self, name: str, op: str, value: str) -> Term:
        """The term of `name`, `op` and `value` (lower case)."""
        key = _field_key(name)
        prefix = f"{name}{op}"
        if not value:
            raise TermError(f"expected {'a value' if op == ':' else 'a number'} after '{prefix}'")
        named = NAMED_TERMS.get(key)
        if named is not None:
            if op != ":":
                raise TermError(f"expected '{key}:' not '{prefix}'")
            return named.parse(value, self.context)
        key = ALIASES.get(key, key)
        kind = self.fields.get(key)
        if kind is None:
            raise _UnknownField(name)
        number = as_int(value)
        if op == ":":
            if kind == INT and number is None:
                raise TermError(f"expected a number after '{prefix}'")
            return FieldEquals(key, value, (key, *self.children.get(key, ())))
        if kind and kind != INT:
            raise TermError(f"field '{name}' is not a number, use '{name}:'")
        if number is None:
            raise TermError(f"expected a number after '{prefix}'")
        return Compare(key, op, number)


def parse_query(
    text: str, *, extra_fields: Iterable[str] = (), extra_flags: Iterable[str] = ()
) -> Query:
    """Parse a query; raises QueryError naming the bad term and its position.

    `extra_fields` / `extra_flags` are names met in the indexed posts beyond the seeds'
    field table (unknown meta fields are kept by the reader; see ``extra_names``).
    """
    return _Parser(text, extra_fields, extra_flags).parse()


def __getattr__(name: str) -> Any:
    # `from storage.query import SearchIndex` without a circular import at load time.
    if name == "SearchIndex":
        from .search_index import SearchIndex

        return SearchIndex
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
