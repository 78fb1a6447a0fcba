"""Reading one seed document: bytes -> text -> Post.

`parse()` and `read_file()` only ever return a `Post` or raise `ParseError`: bad input
is a one-line reason (`path: reason`), never a traceback.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass, field

from seeds.body import attach_meta, is_artefact, parse_body
from seeds.meta import parse_meta
from seeds.regular_file import MAX_SEED_BYTES, UnreadableFile, read_regular_file

META_MARKER = "alphanode post meta"
SIMILAR_MARKER = "Similar Posts"

EMPTY = "empty file"
BINARY = "binary file (contains NUL bytes)"
NO_TITLE = "no title"

_BOM = "\ufeff"


class ParseError(Exception):
    """A document that cannot be read as a post. `str(err)` is `path: reason`."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        # Both in args so the error pickles across worker processes.
        super().__init__(str(path), reason)
        self.path = str(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(slots=True)
class Post:
    title: str
    body: list[dict]
    meta: dict
    listed_similar: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sha256: str = ""  # hex sha256 of the normalized text (BOM stripped, LF line ends)

    @property
    def reference(self) -> str | None:
        reference = self.meta.get("reference")
        return reference if isinstance(reference, str) and reference else None

    @property
    def id(self) -> str:
        """The reference, else `doc-` + the first 12 hex digits of the text's sha256."""
        return self.reference or "doc-" + self.sha256[:12]

    def to_dict(self) -> dict:
        """The post dict of ARCHITECTURE.md (shares the lists and dicts of this Post)."""
        return {
            "title": self.title,
            "body": self.body,
            "meta": self.meta,
            "listed_similar": self.listed_similar,
            "warnings": self.warnings,
        }


def decode(data: bytes, source: str | os.PathLike = "<bytes>") -> str:
    """UTF-8 text of a file's bytes (a UTF-8 BOM is accepted), or ParseError."""
    if not data:
        raise ParseError(source, EMPTY)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ParseError(source, "UTF-16 text, not UTF-8 (save it as UTF-8)")
    if b"\x00" in data:
        raise ParseError(source, BINARY)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ParseError(
            source,
            f"not UTF-8 text (invalid byte 0x{data[err.start]:02x} at offset {err.start}; "
            "save it as UTF-8)",
        ) from None


def normalize(text: str) -> str:
    """Strip a BOM; `\\r\\n` and lone `\\r` become `\\n`."""
    if text.startswith(_BOM):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def read_file(path: str | os.PathLike, max_bytes: int = MAX_SEED_BYTES) -> Post:
    """Read, decode and parse one seed document: a regular file of at most ``max_bytes``
    (a FIFO, a device or a larger file is a ParseError, never a hang)."""
    try:
        data = read_regular_file(path, max_bytes, "seed document")
    except UnreadableFile as err:
        raise ParseError(path, err.reason) from None
    return parse(decode(data, path), path)


def _is_blank(line: str) -> bool:
    return not line or line.isspace()


def parse(text: str, source: str | os.PathLike = "<string>") -> Post:
    """Parse one seed document's text into a Post."""
    text = normalize(text)
    if not text or text.isspace():
        raise ParseError(source, EMPTY)
    if "\x00" in text:
        raise ParseError(source, BINARY)
    sha256 = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    lines = text.split("\n")
    count = len(lines)

    at = 0
    while at < count and (_is_blank(lines[at]) or is_artefact(lines[at])):
        at += 1
    if at == count:
        raise ParseError(source, NO_TITLE)
    title = lines[at].strip()
    if title in (META_MARKER, SIMILAR_MARKER):
        raise ParseError(source, f"{NO_TITLE} (the document starts with {title!r})")
    body_start = at + 1

    title_end = sum(len(line) + 1 for line in lines[:body_start])  # offset of the body
    meta_at, meta_pos = _find(text, lines, META_MARKER, body_start, title_end)
    if meta_at is None:
        similar_at, _ = _find(text, lines, SIMILAR_MARKER, body_start, title_end)
    else:
        similar_at, _ = _find(text, lines, SIMILAR_MARKER, meta_at, meta_pos)
    body_end = meta_at if meta_at is not None else similar_at if similar_at is not None else count
    body = parse_body(lines, body_start, body_end)  # no slice: a copy of the line list

    warnings: list[str] = []
    if meta_at is None:
        meta: dict = {}
        warnings.append(f"no meta box (no {META_MARKER!r} line); body kept")
    else:
        meta_end = similar_at if similar_at is not None else count
        # +2: 1-based line numbers, and the box starts after the marker line.
        meta, meta_warnings = parse_meta(lines, meta_at + 2, start=meta_at + 1, end=meta_end)
        warnings.extend(meta_warnings)
    reference = meta.get("reference")
    if isinstance(reference, str):
        # the id: "café" typed or saved as NFD is the same post as its NFC spelling
        meta["reference"] = unicodedata.normalize("NFC", reference)
    attach_meta(body, meta)

    listed_similar = []
    if similar_at is not None:
        listed_similar = [
            unicodedata.normalize("NFC", line.strip())  # ids of other posts
            for line in lines[similar_at + 1 :]
            if not _is_blank(line) and not is_artefact(line)
        ]
    return Post(title, body, meta, listed_similar, warnings, sha256)


def _find(
    text: str, lines: list[str], marker: str, index: int, position: int
) -> tuple[int | None, int]:
    """(index, offset) of the first line from lines[index] (at text offset `position`)
    that is `marker` with optional spaces around it; (None, -1) when there is none.

    Searches the text in C and counts newlines between hits, so it stays linear even
    when the marker words appear on many lines."""
    while True:
        found = text.find(marker, position)
        if found < 0:
            return None, -1
        index += text.count("\n", position, found)
        position = found
        if lines[index].strip() == marker:
            return index, found
        position = found + len(marker)
