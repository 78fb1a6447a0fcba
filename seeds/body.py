"""Body blocks: heading, paragraph, list, image and code.

The body is split at blank lines into groups. Inside a group, `  • ` lines form a list
and a caption line followed by `CAPTION. image source: HOST` forms an image; both may
directly follow another block (seed 002). The remaining runs of lines are code when they
have the shape of code (code is not fenced), else a heading or a paragraph. Code
groups separated only by blank lines are one block with the blank lines kept.

One linear pass; every regex is anchored or free of nested quantifiers, so hostile
lines (megabytes long, deeply indented) cannot make it go quadratic.
"""

from __future__ import annotations

import re
from itertools import islice

IMAGE_SOURCE = "image source:"

CODE = 0
PROSE = 1
NEUTRAL = 2

_SENTENCE_END = ".!?。！？"
_HEADING_BAD_END = ".!?:;,…。！？：；，"
_HEADING_MAX_CHARS = 80
_HEADING_MAX_SPACES = 11  # at most 12 words

# Code shapes anywhere in the line; each is tried only when a cheap `in` test passes.
_CODE_OPERATORS = ("=", "->", "::", "&&", "||")
_VARIABLE = re.compile(r"\$[\w{]")  # $var, ${var}
_CALL = re.compile(r"\w\(")  # name(

# Code shapes that start with a symbol (tried when the line starts with one of
# _SYMBOL_FIRST).
_SYMBOL_FIRST = frozenset("}])@$#/*<-")
_SYMBOL_START = re.compile(
    r"""
    [}\])]                                  # closing bracket
    | @\w                                   # decorator, annotation
    | \$\ ?\S                               # shell prompt, PHP/shell variable
    | \#!  | //  | /\*  | \*/  | <\?php  | \#include\b  | --\s
    | </?[A-Za-z][\w-]*(?:\s|>|/)           # markup tag
    """,
    re.VERBOSE,
)
# Code shapes led by a keyword (tried when the first word is one of _KEYWORDS): looking
# the first word up in a set first keeps the common case, prose, to one dict lookup.
_KEYWORDS = frozenset(
    "final abstract export public private protected static async def function func fn "
    "class from import const let var else try finally except for".split()
)
_KEYWORD_SHAPE = re.compile(
    r"""
    (?:(?:final|abstract|export|public|private|protected|static|async)\s+)*
      (?:def|function|func|fn)\s+\w+\s*\(
    | (?:(?:final|abstract|export)\s+)?class\s+\w+\s*(?:[({:]|extends\b|implements\b)
    | from\s+[\w.]+\s+import\s
    | import\s+[\w.]+(?:\s+as\s+\w+)?\s*;?$
    | (?:const|let|var)\s+\w+\s*[=:]
    | (?:else|try|finally)\s*:
    | except\b[^:]*:$
    | for\s+\w+(?:\s*,\s*\w+)*\s+in\s[^:]*:$
    """,
    re.VERBOSE,
)
# Upper-case SQL and Dockerfile keywords that start a line of code (`CREATE INDEX ...`,
# `ON events(created_at DESC);`, `RUN pip install ...`).
_UPPER_KEYWORDS = frozenset(
    "CREATE SELECT INSERT UPDATE DELETE ALTER DROP ON FROM WHERE JOIN LEFT RIGHT INNER GROUP "
    "ORDER LIMIT VALUES SET BEGIN COMMIT ROLLBACK GRANT REVOKE EXPLAIN ANALYZE VACUUM REINDEX "
    "TRUNCATE WITH UNION RETURNING AND OR RUN COPY CMD ENV WORKDIR EXPOSE ENTRYPOINT ARG ADD "
    "USER VOLUME LABEL".split()
)

# Commands that start a shell line whatever follows them: words no heading starts with.
_SHELL_ALWAYS = frozenset(
    "sudo systemctl journalctl apt-get apt-cache chmod chown chgrp mkdir rmdir pip3 pipx npx "
    "pnpm wget curl kubectl docker-compose certbot crontab iptables mysqldump pg_dump "
    "pg_restore redis-cli".split()
)
# Commands that are also ordinary words ("git workflow", "tail latency", "ssh hardening" are
# headings): a shell line only with a flag, a path, an operator, a quote or a usual
# subcommand after them.
_SHELL_MAYBE = frozenset(
    "git docker composer php python python3 node go cargo make cd ls cat ruby rails bundle "
    "gem java mvn gradle dotnet terraform ansible vagrant pytest ruff mypy black flask "
    "django-admin apt dnf yum apk brew npm yarn pip helm rm cp mv ln tar gzip gunzip unzip "
    "ssh scp rsync service nginx ufw export source echo printf wp artisan psql mysql uvicorn "
    "gunicorn openssl dig ss netstat top htop df du free ps kill pkill killall tail head "
    "grep awk sed find xargs".split()
)
_SHELL_SUBCOMMANDS = frozenset(
    "status pull push commit log diff checkout clone fetch merge rebase add reset tag "
    "branch switch stash run build install update upgrade remove ps exec compose up down "
    "restart start stop reload enable disable allow deny test require dump-autoload init "
    "apply plan".split()
)
# A flag, a path, an operator, a quote, `user@host`, a dotted name (`app.service`).
_SHELLISH = re.compile(r"(?:^|\s)(?:--?[A-Za-z]|\.{0,2}/|~/)|[|<>=@\"'*]|\w\.\w")


_CODE_CHARS = re.compile(r"[=()\[\]{}<>$;]")


def _is_prose(text: str) -> bool:
    """A sentence: starts with a letter, several words, ends with a full stop (or a colon
    that introduces what follows, when nothing in it looks like code)."""
    if len(text) < 3 or not text[0].isalpha():
        return False
    end = text[-1]
    if end in _SENTENCE_END:
        return (text[-2].isalnum() or text[-2] in ")'\"") and text.count(" ") >= 2
    if end == ":":
        return (
            text.count(" ") >= 3
            and _CODE_CHARS.search(text) is None
            and (_KEYWORD_SHAPE.match(text) is None)
        )
    return False


def line_kind(line: str) -> int:
    """CODE, PROSE or NEUTRAL (neither: a heading, a short line) for a non-blank line."""
    text = line.strip()
    if _is_prose(text):
        return PROSE
    if line[0] in " \t":  # indented and not a sentence
        return CODE
    if text[-1] in ";{}\\":
        return CODE
    for operator in _CODE_OPERATORS:
        if operator in text:
            return CODE
    if "$" in text and _VARIABLE.search(text):
        return CODE
    if "(" in text and _CALL.search(text):
        return CODE
    if text[0] in _SYMBOL_FIRST and _SYMBOL_START.match(text):
        return CODE
    word, _, rest = text.partition(" ")
    word = word.rstrip(":;(")
    if word in _KEYWORDS:
        return CODE if _KEYWORD_SHAPE.match(text) else NEUTRAL
    if word in _UPPER_KEYWORDS or word in _SHELL_ALWAYS:
        return CODE
    if (
        word in _SHELL_MAYBE
        and rest
        and (rest.partition(" ")[0] in _SHELL_SUBCOMMANDS or _SHELLISH.search(rest))
    ):
        return CODE
    return NEUTRAL


def is_heading(text: str) -> bool:
    """One short line of plain words with no final full stop."""
    return (
        len(text) <= _HEADING_MAX_CHARS
        and text.count(" ") <= _HEADING_MAX_SPACES
        and text[-1] not in _HEADING_BAD_END
    )


_BULLET = re.compile(r"[ \t]*•")


def _image_source(line: str) -> tuple[str, str, bool]:
    """(caption, host, caption ended with a full stop) of `CAPTION. image source: HOST`."""
    at = line.rfind(IMAGE_SOURCE)
    caption = line[:at].strip()
    stop = caption.endswith(".")
    if stop:
        caption = caption[:-1].rstrip()
    return caption, line[at + len(IMAGE_SOURCE) :].strip(), stop


def is_artefact(line: str) -> bool:
    """A line made only of `|` and spaces (`| |`): a flattening artefact, ignored."""
    return "|" in line and not line.strip(" \t|")


class _BodyBuilder:
    """Blocks in order. Code text is kept as a list of lines until `finish()`, so that
    appending to a code block across blank lines stays linear."""

    __slots__ = ("blocks", "code_lines", "blanks", "group_start", "open_code")

    def __init__(self) -> None:
        self.blocks: list[dict] = []
        self.code_lines: dict[int, list[str]] = {}  # block index -> its lines
        self.blanks: list[str] = []  # the blank lines before the current group
        self.group_start = True  # no block emitted yet in the current group
        # Index of the code block that ended the previous group (-1: none): code right
        # after the blank lines continues it.
        self.open_code = -1

    def emit(self, block: dict) -> None:
        self.blocks.append(block)
        self.group_start = False

    def emit_code(self, lines: list[str]) -> None:
        if self.group_start and self.open_code >= 0:
            code = self.code_lines[self.open_code]
            code.extend(self.blanks)
            code.extend(lines)
            self.group_start = False
            return
        self.code_lines[len(self.blocks)] = list(lines)
        self.emit({"type": "code", "text": ""})

    def emit_text(self, lines: list[str], kinds: list[int]) -> None:
        texts = [line.strip() for line in lines]
        if len(texts) == 1:
            kind = "heading" if is_heading(texts[0]) else "paragraph"
            self.emit({"type": kind, "text": texts[0]})
        elif is_heading(texts[0]) and kinds[1] == PROSE:  # heading glued to its paragraph
            self.emit({"type": "heading", "text": texts[0]})
            self.emit({"type": "paragraph", "text": "\n".join(texts[1:])})
        else:
            self.emit({"type": "paragraph", "text": "\n".join(texts)})

    def emit_chunk(self, lines: list[str]) -> None:
        """A run of lines that are neither bullets nor image lines."""
        if len(lines) == 1:  # the common case, kept short
            if line_kind(lines[0]) == CODE:
                self.emit_code(lines)
            else:
                text = lines[0].strip()
                self.emit({"type": "heading" if is_heading(text) else "paragraph", "text": text})
            return
        kinds = [line_kind(line) for line in lines]
        if CODE not in kinds:
            self.emit_text(lines, kinds)
            return
        # Sentences before or after the code (no blank line between) are paragraphs.
        first = 0
        while kinds[first] == PROSE:
            first += 1
        last = len(lines)
        while kinds[last - 1] == PROSE:
            last -= 1
        if first:
            self.emit_text(lines[:first], kinds[:first])
        middle = kinds[first:last]
        if middle.count(CODE) * 2 >= len(middle):
            self.emit_code(lines[first:last])
        else:
            self.emit_text(lines[first:last], middle)
        if last < len(lines):
            self.emit_text(lines[last:], kinds[last:])

    def end_group(self) -> None:
        blocks = self.blocks
        self.open_code = len(blocks) - 1 if blocks and blocks[-1]["type"] == "code" else -1
        self.blanks = []
        self.group_start = True

    def finish(self) -> list[dict]:
        for index, lines in self.code_lines.items():
            self.blocks[index]["text"] = "\n".join(lines)
        return self.blocks


def parse_body(lines: list[str], start: int = 0, end: int | None = None) -> list[dict]:
    """Blocks of the body lines ``lines[start:end]`` (between the title and `alphanode
    post meta`), read in place: a slice would copy the list (8 bytes a line)."""
    builder = _BodyBuilder()
    chunk: list[str] = []  # lines that are neither blank, bullets nor image lines
    items: list[str] | None = None  # the open list block's items
    in_group = False
    bullet = _BULLET.match
    for line in islice(lines, start, end):
        if not line or line.isspace():
            if in_group:
                if chunk:
                    builder.emit_chunk(chunk)
                    chunk = []
                items = None
                builder.end_group()
                in_group = False
            if builder.open_code >= 0:  # only code that goes on after them keeps them
                builder.blanks.append(line)
            continue
        if "|" in line and is_artefact(line):
            continue
        in_group = True
        match = bullet(line) if "•" in line else None
        if match is not None:
            if chunk:
                builder.emit_chunk(chunk)
                chunk = []
            if items is None:
                items = []
                builder.emit({"type": "list", "items": items})
            items.append(line[match.end() :].strip())
            continue
        items = None
        if IMAGE_SOURCE in line:
            caption, host, stop = _image_source(line)
            if chunk and chunk[-1].strip() == caption:  # the caption line, then its source
                chunk.pop()
            elif not (caption and stop and host and " " not in host):
                # Not the exact shape of a lone source line: ordinary text.
                chunk.append(line)
                continue
            if chunk:
                builder.emit_chunk(chunk)
                chunk = []
            builder.emit({"type": "image", "caption": caption, "source": host})
            continue
        chunk.append(line)
    if chunk:
        builder.emit_chunk(chunk)
    return builder.finish()


def attach_meta(blocks: list[dict], meta: dict) -> None:
    """Give image blocks their URL from `image_sources` and code blocks their language."""
    language = meta.get("code_language")
    urls: dict[str, str] = {}
    sources = meta.get("image_sources")
    if isinstance(sources, list):
        for item in sources:
            if isinstance(item, dict):
                caption, url = item.get("caption"), item.get("url")
                if isinstance(caption, str) and isinstance(url, str) and url:
                    urls.setdefault(caption, url)
    for block in blocks:
        if block["type"] == "image":
            url = urls.get(block["caption"])
            if url is not None:
                block["url"] = url
        elif block["type"] == "code" and isinstance(language, str) and language:
            block["language"] = language
