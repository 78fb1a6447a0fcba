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

IMAGE_SOURCE = "image source:"

CODE = 0
PROSE = 1
NEUTRAL = 2

_SENTENCE_END = ".!?。！？"
_HEADING_BAD_END = ".!?:;,…。！？：；，"
_HEADING_MAX_CHARS = 80
_HEADING_MAX_SPACES = 11  # at most 12 words

# A code shape anywhere in the line.
_CODE_ANYWHERE = re.compile(r"=|->|::|\w\(|\$\w|\$\{|&&|\|\|")

# Code shapes at the start of the (stripped) line.
_SQL_DOCKER = (
    "CREATE|SELECT|INSERT|UPDATE|DELETE|ALTER|DROP|ON|FROM|WHERE|JOIN|LEFT|RIGHT|INNER"
    "|GROUP|ORDER|LIMIT|VALUES|SET|BEGIN|COMMIT|ROLLBACK|GRANT|REVOKE|EXPLAIN|ANALYZE"
    "|VACUUM|REINDEX|TRUNCATE|WITH|UNION|RETURNING|AND|OR|RUN|COPY|CMD|ENV|WORKDIR"
    "|EXPOSE|ENTRYPOINT|ARG|ADD|USER|VOLUME|LABEL"
)
_CODE_START = re.compile(
    r"""
    [}\])]                                  # closing bracket
    | @\w                                   # decorator, annotation
    | \$\ ?\S                               # shell prompt, PHP/shell variable
    | \#!  | //  | /\*  | \*/  | <\?php  | \#include\b  | --\s
    | </?[A-Za-z][\w-]*(?:\s|>|/)           # markup tag
    | (?:(?:final|abstract|export|public|private|protected|static|async)\s+)*
      (?:def|function|func|fn)\s+\w+\s*\(
    | (?:(?:final|abstract|export)\s+)?class\s+\w+\s*(?:[({:]|extends\b|implements\b)
    | from\s+[\w.]+\s+import\s
    | import\s+[\w.]+(?:\s+as\s+\w+)?\s*;?$
    | (?:const|let|var)\s+\w+\s*[=:]
    | (?:else|try|finally)\s*:
    | except\b[^:]*:$
    | for\s+\w+(?:\s*,\s*\w+)*\s+in\s[^:]*:$
    | (?:"""
    + _SQL_DOCKER
    + r""")(?:\s|\(|;|$)
    """,
    re.VERBOSE,
)

# Commands that start a shell line whatever follows them.
_SHELL_ALWAYS = frozenset(
    "sudo systemctl journalctl apt apt-get apt-cache dnf yum apk brew npm npx yarn pnpm "
    "pip pip3 pipx curl wget kubectl docker-compose helm chmod chown chgrp mkdir rmdir rm "
    "cp mv ln tar gzip gunzip unzip ssh scp rsync crontab service nginx certbot ufw "
    "iptables export source echo printf wp artisan mysqldump pg_dump pg_restore psql "
    "mysql redis-cli uvicorn gunicorn venv virtualenv openssl dig nslookup ss netstat "
    "top htop df du free ps kill pkill killall tail head grep awk sed find xargs".split()
)
# Commands that are also ordinary words ("git workflow", "docker basics" are headings):
# a shell line only with a flag, a path, an operator or a usual subcommand after them.
_SHELL_MAYBE = frozenset(
    "git docker composer php python python3 node go cargo make cd ls cat ruby rails "
    "bundle gem java mvn gradle dotnet terraform ansible vagrant pytest ruff mypy black "
    "flask django-admin manage.py bin/console".split()
)
_SHELL_SUBCOMMANDS = frozenset(
    "status pull push commit log diff checkout clone fetch merge rebase add reset tag "
    "branch switch stash run build install update upgrade remove ps exec compose up down "
    "restart start stop reload test require dump-autoload init apply plan -m -v -c -r "
    "--version".split()
)
_SHELLISH = re.compile(r"(?:^|\s)(?:--?[A-Za-z]|\.{0,2}/|~/)|[|<>]|=")


_CODE_CHARS = re.compile(r"[=()\[\]{}<>$;]")


def _is_prose(text: str) -> bool:
    """A sentence: starts with a letter, several words, ends with a full stop (or a colon
    that introduces what follows, when nothing in it looks like code)."""
    if len(text) < 3 or not text[0].isalpha() or text.count(" ") < 2:
        return False
    end = text[-1]
    if end in _SENTENCE_END:
        return text[-2].isalnum() or text[-2] in ")'\""
    if end == ":":
        return text.count(" ") >= 3 and _CODE_CHARS.search(text) is None and (
            _CODE_START.match(text) is None
        )
    return False


def _is_shell(text: str) -> bool:
    command, _, rest = text.partition(" ")
    if command in _SHELL_ALWAYS:
        return True
    if command in _SHELL_MAYBE and rest:
        return rest.partition(" ")[0] in _SHELL_SUBCOMMANDS or bool(_SHELLISH.search(rest))
    return False


def line_kind(line: str) -> int:
    """CODE, PROSE or NEUTRAL (neither: a heading, a short line) for a non-blank line."""
    text = line.strip()
    if _is_prose(text):
        return PROSE
    if line[0] in " \t":  # indented and not a sentence
        return CODE
    if text[-1] in ";{}\\" or _CODE_ANYWHERE.search(text) or _CODE_START.match(text):
        return CODE
    if _is_shell(text):
        return CODE
    return NEUTRAL


def is_heading(text: str) -> bool:
    """One short line of plain words with no final full stop."""
    return (
        len(text) <= _HEADING_MAX_CHARS
        and text.count(" ") <= _HEADING_MAX_SPACES
        and text[-1] not in _HEADING_BAD_END
    )


def _bullet_text(line: str) -> str | None:
    stripped = line.lstrip(" \t")
    if stripped.startswith("•"):
        return stripped[1:].strip()
    return None


def _image_source(line: str) -> tuple[str, str] | None:
    """(caption, host) of a `CAPTION. image source: HOST` line, else None."""
    at = line.rfind(IMAGE_SOURCE)
    if at < 0:
        return None
    caption = line[:at].rstrip()
    if caption.endswith("."):
        caption = caption[:-1].rstrip()
    return caption.strip(), line[at + len(IMAGE_SOURCE):].strip()


def is_artefact(line: str) -> bool:
    """A line made only of `|` and spaces (`| |`): a flattening artefact, ignored."""
    return "|" in line and not line.strip(" \t|")


class _BodyBuilder:
    def __init__(self) -> None:
        self.blocks: list[dict] = []
        self.blanks: list[str] = []  # blank lines since the last group
        self.group_start = True  # no block emitted yet in the current group
        # The code block that ended the previous group: code right after the blank lines
        # continues it.
        self.open_code: dict | None = None

    def emit(self, block: dict) -> None:
        self.blocks.append(block)
        self.group_start = False

    def emit_code(self, lines: list[str]) -> None:
        if self.group_start and self.open_code is not None:
            self.open_code["text"] = "\n".join([self.open_code["text"], *self.blanks, *lines])
            self.group_start = False
            return
        self.emit({"type": "code", "text": "\n".join(lines)})

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

    def group(self, lines: list[str]) -> None:
        """Blocks of one group of non-blank lines."""
        self.group_start = True
        chunk: list[str] = []
        items: list[str] | None = None
        i = 0
        count = len(lines)
        while i < count:
            line = lines[i]
            item = _bullet_text(line)
            if item is not None:
                if chunk:
                    self.emit_chunk(chunk)
                    chunk = []
                if items is None:
                    items = []
                    self.emit({"type": "list", "items": items})
                items.append(item)
                i += 1
                continue
            items = None
            image = self._image_at(lines, i)
            if image is not None:
                if chunk:
                    self.emit_chunk(chunk)
                    chunk = []
                block, used = image
                self.emit(block)
                i += used
                continue
            chunk.append(line)
            i += 1
        if chunk:
            self.emit_chunk(chunk)
        last = self.blocks[-1] if self.blocks else None
        self.open_code = last if last is not None and last["type"] == "code" else None
        self.blanks = []

    @staticmethod
    def _image_at(lines: list[str], i: int) -> tuple[dict, int] | None:
        """An image block starting at line i and how many lines it takes, else None."""
        if i + 1 < len(lines):
            pair = _image_source(lines[i + 1])
            if pair is not None and pair[0] == lines[i].strip():
                return {"type": "image", "caption": pair[0], "source": pair[1]}, 2
        pair = _image_source(lines[i])
        # A source line without its caption line: an image when it has the exact shape.
        if pair is not None and pair[1] and " " not in pair[1] and pair[0] and (
            lines[i][: lines[i].rfind(IMAGE_SOURCE)].rstrip().endswith(".")
        ):
            return {"type": "image", "caption": pair[0], "source": pair[1]}, 1
        return None


def parse_body(lines: list[str]) -> list[dict]:
    """Blocks of the body lines (between the title and `alphanode post meta`)."""
    builder = _BodyBuilder()
    group: list[str] = []
    for line in lines:
        if not line or line.isspace():
            if group:
                builder.group(group)
                group = []
            builder.blanks.append(line)
        elif not is_artefact(line):
            group.append(line)
    if group:
        builder.group(group)
    return builder.blocks


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
