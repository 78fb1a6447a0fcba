"""The meta box: the table of known fields and the parser for the lines after
`alphanode post meta`.

A field starts at column 0 with its name glued to its value (`reading time8`), so names
are matched against the known table, longest first. Structured fields (lists, mappings,
lists of mappings) take the `  • ` bullet lines under them. Nothing here raises on bad
input: whatever does not fit becomes a warning and is kept.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

TEXT = "text"
INT = "int"
LIST = "list"
MAPPING = "mapping"
RECORDS = "records"  # list of mappings

STRUCTURED = frozenset({LIST, MAPPING, RECORDS})

# The largest digit string turned into an int: 18 digits always fits in a signed 64-bit
# int, which JSON writers (orjson) require; longer digit strings stay text.
_MAX_INT_DIGITS = 18

_NON_WORD = re.compile(r"\W+")


def snake_case(name: str) -> str:
    """`needs human review` -> `needs_human_review`; `Last-Reviewed` -> `last_reviewed`."""
    return _NON_WORD.sub("_", name.strip().lower()).strip("_")


def scalar(text: str) -> int | str:
    """An all-digit value is an int (`73`, `19995`); anything else stays text (`1.5.6`)."""
    if text.isdigit() and text.isascii() and len(text) <= _MAX_INT_DIGITS:
        return int(text)
    return text


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # as written in the document: "reading time"
    key: str  # snake_case key in the post dict: "reading_time"
    kind: str  # text | int | list | mapping | records
    required: bool = True  # a missing required field gives a warning
    # mapping and records fields: their keys (snake_case) and each key's kind (text | int)
    keys: tuple[tuple[str, str], ...] = ()


def _field(
    name: str, kind: str, required: bool = True, keys: dict[str, str] | None = None
) -> Field:
    return Field(name, snake_case(name), kind, required, tuple((keys or {}).items()))


# In the order the seed documents list them.
FIELDS: dict[str, Field] = {
    f.key: f
    for f in (
        _field("topic", TEXT),
        _field("summary", TEXT),
        _field(
            "ai outline",
            MAPPING,
            keys={"context": TEXT, "problem": TEXT, "stack": TEXT, "recommended_action": TEXT},
        ),
        _field("ai brief", TEXT),
        _field("stack", LIST),
        _field("tools", LIST),
        _field("code language", TEXT),
        _field("difficulty", TEXT),
        _field("reading time", INT),
        _field("view count", INT),
        _field(
            "score",
            MAPPING,
            keys={"quality": INT, "freshness": INT, "depth": INT, "clarity": INT},
        ),
        _field("revision", MAPPING, keys={"status": TEXT, "version": TEXT, "last_reviewed": TEXT}),
        _field("reference", TEXT),
        _field("hash", TEXT),
        _field(
            "flags",
            MAPPING,
            keys={
                "ai_generated_style": INT,
                "has_images": INT,
                "image_heavy": INT,
                "needs_human_review": INT,
            },
        ),
        _field("checklist", LIST),
        _field("entities", RECORDS, keys={"name": TEXT, "type": TEXT}),
        # Only posts with images have it (seeds 001 and 002).
        _field(
            "image sources",
            RECORDS,
            required=False,
            keys={"source": TEXT, "url": TEXT, "caption": TEXT},
        ),
        _field(
            "payload",
            MAPPING,
            keys={
                "source_id": TEXT,
                "generator": TEXT,
                "paragraphs": INT,
                "scenario": TEXT,
                "seed": INT,
            },
        ),
        _field("notes", LIST),
    )
}

_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS.values()}
_LONGEST_NAME = max(len(name) for name in _BY_NAME)
# Known names by their first two letters, longest first so that a longer name wins over a
# shorter one that prefixes it: a glued line ("reading time8") is matched with a dict
# lookup and a startswith or two.
_BY_PREFIX: dict[str, tuple[str, ...]] = {}
for _name in sorted(_BY_NAME, key=len, reverse=True):
    _BY_PREFIX[_name[:2]] = (*_BY_PREFIX.get(_name[:2], ()), _name)
del _name


def match_name(line: str) -> Field | None:
    """The known field whose name starts `line` (any case), longest name first."""
    head = line[:_LONGEST_NAME].lower()
    for name in _BY_PREFIX.get(head[:2], ()):
        if head.startswith(name):
            return _BY_NAME[name]
    return None


UNKNOWN_LINES = "unknown_lines"  # meta key for lines that fit nowhere

_SHOWN_CHARS = 60


def shorten(text: str) -> str:
    """A line quoted in a warning: at most 60 characters."""
    text = text.strip()
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


_BULLET = re.compile(r"[ \t]*•")

# snake_case of the key names met in mapping bullets: the same few dozen names repeat in
# every document, so they are computed once (bounded, in case of hostile input).
_KEY_CACHE: dict[str, str] = {}
_KEY_CACHE_SIZE = 4096


def _key(name: str) -> str:
    key = _KEY_CACHE.get(name)
    if key is None:
        key = snake_case(name)
        if len(_KEY_CACHE) < _KEY_CACHE_SIZE and len(name) <= 64:
            _KEY_CACHE[name] = key
    return key


MAX_WARNINGS = 50  # per document; past that they are counted in one last warning


class _Warnings(list):
    """A list of warnings that keeps the first MAX_WARNINGS and counts the rest, so that a
    hostile meta box of 100k stray lines does not format 100k messages:
    `if warnings.wanted(): warnings.append(...)`."""

    dropped = 0

    def wanted(self) -> bool:
        if len(self) < MAX_WARNINGS:
            return True
        self.dropped += 1
        return False

    def close(self) -> list[str]:
        result = list(self)
        if self.dropped:
            result.append(f"{self.dropped} more meta box warnings not shown")
        return result


def parse_meta(
    lines: list[str], first_lineno: int = 1, *, start: int = 0, end: int | None = None
) -> tuple[dict, list[str]]:
    """Parse the meta box lines ``lines[start:end]`` (without the `alphanode post meta`
    line itself), read in place (a slice would copy the list).

    `first_lineno` is the 1-based line number of `lines[start]` in the document, for
    warnings. Returns (meta, warnings).
    """
    meta: dict = {}
    warnings = _Warnings()
    # The column-0 header lines and their line numbers; every bullet line in three flat
    # columns (indent, text, line number), a header's bullets being those from its
    # ``first_bullet`` to the next header's. No tuple or list per bullet or header: a box of
    # a million bullets or 100,000 one-line fields stays ~10x its size in memory, not ~25x.
    headers: list[str] = []
    header_linenos = array("q")
    first_bullet = array("q")
    bullets = _Bullets()
    indents, texts, linenos = bullets.indents, bullets.texts, bullets.linenos
    bullet = _BULLET.match

    # Pass 1: group bullets under their column-0 header; anything else is a stray line.
    lineno = first_lineno - 1
    for line in islice(lines, start, end):
        lineno += 1
        if not line:
            continue
        # Fast paths for the exact bullet shapes of the format.
        if line.startswith("  • "):
            if headers:
                indents.append(2)
                texts.append(line[4:].strip())
                linenos.append(lineno)
                continue
        elif line.startswith("    • "):
            if headers:
                indents.append(4)
                texts.append(line[6:].strip())
                linenos.append(lineno)
                continue
        first = line[0]
        if first == " " or first == "\t" or first == "•":
            match = bullet(line)
            if match is not None:
                if headers:
                    indents.append(match.end() - 1)
                    texts.append(line[match.end() :].strip())
                    linenos.append(lineno)
                else:
                    _stray(meta, warnings, line, lineno)
            elif not line.isspace() and not _is_artefact(line):
                _stray(meta, warnings, line, lineno)
        elif first == "|" and _is_artefact(line):
            continue
        else:
            headers.append(line.rstrip())
            header_linenos.append(lineno)
            first_bullet.append(len(texts))
    first_bullet.append(len(texts))

    # Pass 2: give each entry its field and value.
    for index, header in enumerate(headers):
        begin, stop = first_bullet[index], first_bullet[index + 1]
        if stop > begin:
            entry_bullets = _BulletRange(bullets, begin, stop)
            _structured_entry(header, header_linenos[index], entry_bullets, meta, warnings)
        else:
            _lone_entry(header, header_linenos[index], meta, warnings)

    result = warnings.close()
    missing = [key for key in _REQUIRED if key not in meta]
    if missing:
        result.append("missing meta fields: " + ", ".join(missing))
    return meta, result


class _Bullets:
    """The bullet lines of one meta box, as three columns."""

    __slots__ = ("indents", "texts", "linenos")

    def __init__(self) -> None:
        self.indents = array("q")
        self.texts: list[str] = []
        self.linenos = array("q")


class _BulletRange:
    """The bullets of one entry: iterating gives (indent, text, line number) tuples, made
    one at a time."""

    __slots__ = ("bullets", "begin", "stop")

    def __init__(self, bullets: _Bullets, begin: int, stop: int) -> None:
        self.bullets, self.begin, self.stop = bullets, begin, stop

    def __iter__(self) -> Iterator[tuple[int, str, int]]:
        # slices, not islice: islice walks from the start of the box for every entry
        b, begin, stop = self.bullets, self.begin, self.stop
        return zip(b.indents[begin:stop], b.texts[begin:stop], b.linenos[begin:stop], strict=True)


_REQUIRED = tuple(f.key for f in FIELDS.values() if f.required)


def _is_artefact(line: str) -> bool:
    return "|" in line and not line.strip(" \t|")


def _stray(meta: dict, warnings: _Warnings, line: str, lineno: int) -> None:
    meta.setdefault(UNKNOWN_LINES, []).append(line.strip())
    if warnings.wanted():
        warnings.append(
            f"line {lineno}: stray line in meta box kept as {UNKNOWN_LINES}: {shorten(line)!r}"
        )


def _store(meta: dict, warnings: _Warnings, key: str, value, lineno: int) -> None:
    if key in meta:
        if warnings.wanted():
            warnings.append(f"line {lineno}: duplicate meta field {key!r}; first value kept")
    else:
        meta[key] = value


def _structured_entry(
    header: str, lineno: int, bullets: _BulletRange, meta: dict, warnings: _Warnings
) -> None:
    # With bullets under it, the whole line is the field name (no glued value).
    name = header.strip()
    field = _BY_NAME.get(name.lower())
    if field is not None and field.kind in STRUCTURED:
        value = _convert(bullets, field.kind, field.key, warnings)
        _store(meta, warnings, field.key, value, lineno)
        return
    kind = _infer_kind(bullets)
    key = snake_case(name) or "unnamed"
    value = _convert(bullets, kind, key, warnings)
    if field is not None:
        if warnings.wanted():
            warnings.append(
                f"line {lineno}: meta field {key!r} should be {field.kind}, "
                f"found bullet lines; kept as {kind}"
            )
    elif warnings.wanted():
        warnings.append(f"line {lineno}: unknown meta field {shorten(name)!r} kept as {key!r}")
    _store(meta, warnings, key, value, lineno)


def _lone_entry(line: str, lineno: int, meta: dict, warnings: _Warnings) -> None:
    field = match_name(line)
    if field is not None:
        rest = line[len(field.name) :]
        if rest.startswith(":"):  # lenient: "topic: x" reads like "topicx"
            rest = rest[1:]
        rest = rest.strip()
        if field.kind == TEXT:
            _store(meta, warnings, field.key, rest, lineno)
            return
        if field.kind == INT:
            value = scalar(rest)
            if not isinstance(value, int) and warnings.wanted():
                warnings.append(f"line {lineno}: {field.key} is not an integer: {shorten(rest)!r}")
            _store(meta, warnings, field.key, value, lineno)
            return
        if not rest:  # a list or mapping field with no bullets under it
            _store(meta, warnings, field.key, {} if field.kind == MAPPING else [], lineno)
            return
        # "scorecard" is not "score" + "card": fall through to an unknown field.
    name, colon, value = line.partition(":")
    key = snake_case(name) if colon else ""
    if key:
        if warnings.wanted():
            warnings.append(f"line {lineno}: unknown meta field {shorten(name)!r} kept as {key!r}")
        _store(meta, warnings, key, scalar(value.strip()), lineno)
    else:
        _stray(meta, warnings, line, lineno)


# `key: value` in a bullet of an unknown field: a short name, a colon, a space.
_KEY_VALUE = re.compile(r"(\w[\w .-]{0,39}):(?:[ \t]|$)")


def _infer_kind(bullets: _BulletRange) -> str:
    """The shape of an unknown field: key: value bullets are a mapping (a list of
    mappings when nested or when keys repeat), anything else a list."""
    keys: set[str] = set()
    repeated = False
    for indent, text, _lineno in bullets:
        match = _KEY_VALUE.match(text)
        if match is None:  # "https://x" is a list item, not key "https"
            return LIST
        key = _key(match.group(1))
        repeated = repeated or key in keys or indent >= 4
        keys.add(key)
    return RECORDS if repeated else MAPPING


def _convert(bullets: _BulletRange, kind: str, field_key: str, warnings: _Warnings):
    if kind == LIST:
        return [scalar(text) for _indent, text, _lineno in bullets]
    mapping: dict = {}
    records: list[dict] = [mapping]
    records_kind = kind == RECORDS
    cached_key = _KEY_CACHE.get
    # The hot loop of the meta box: scalar() and _key() are inlined.
    for _indent, text, lineno in bullets:
        name, colon, value = text.partition(":")
        key = (cached_key(name) or _key(name)) if colon else ""
        if not key:
            if warnings.wanted():
                warnings.append(
                    f"line {lineno}: {field_key}: bullet without 'key: value': {shorten(text)!r}"
                )
            key, value = snake_case(text) or "unnamed", ""
        if records_kind and key in mapping:  # a repeated key starts the next item
            mapping = {}
            records.append(mapping)
        value = value.strip()
        if value.isdigit() and value.isascii() and len(value) <= _MAX_INT_DIGITS:
            mapping[key] = int(value)
        else:
            mapping[key] = value
    return records if records_kind else mapping
