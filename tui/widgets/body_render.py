"""Turn a post's body blocks into Rich renderables (no widget, no I/O).

Every string from the post goes through :mod:`tui.text` and into ``Text``
objects, never markup. Long blocks are cut into pieces so the body widget can
render them a piece at a time in a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from tui.text import clean, clean_line

# Pieces big enough to wrap well, small enough that one render stays short.
PARAGRAPH_PIECE_CHARS = 8_000
CODE_PIECE_LINES = 300

CODE_THEME = "monokai"

# code_language values seen in posts -> Pygments lexer names.
LANGUAGE_ALIASES = {
    "shell": "bash",
    "sh": "bash",
    "zsh": "bash",
    "console": "bash",
    "js": "javascript",
    "node": "javascript",
    "nodejs": "javascript",
    "ts": "typescript",
    "yml": "yaml",
    "golang": "go",
    "py": "python",
    "python3": "python",
    "postgres": "postgresql",
    "psql": "postgresql",
    "mysql": "mysql",
    "dockerfile": "docker",
    "c#": "csharp",
    "c++": "cpp",
}

HEADING_STYLE = "bold #e5c07b"
TITLE_STYLE = "bold #61afef"
BULLET_STYLE = "#56b6c2"
IMAGE_BORDER_STYLE = "#7f848e"


@lru_cache(maxsize=64)
def lexer_name(code_language: str | None) -> str:
    """The Pygments lexer for a post's ``code_language``; ``text`` when unknown."""
    if not code_language:
        return "text"
    name = clean_line(code_language).strip().lower()
    name = LANGUAGE_ALIASES.get(name, name)
    try:
        get_lexer_by_name(name)
    except ClassNotFound:
        return "text"
    return name


def title_renderables(title: str) -> Iterator[RenderableType]:
    yield Text(clean_line(title, max_chars=2_000), style=TITLE_STYLE)
    yield Rule(style="#3e4451")


def block_renderables(
    block: Mapping[str, object], code_language: str | None
) -> Iterator[RenderableType]:
    """One body block as one or more renderables, each followed by a blank line."""
    kind = block.get("type")
    if kind == "heading":
        yield Text(clean_line(block.get("text", "")), style=HEADING_STYLE)
    elif kind == "paragraph":
        yield from _paragraph_pieces(str(block.get("text", "")))
    elif kind == "list":
        yield _bullet_list(block.get("items") or [])
    elif kind == "image":
        yield _image_box(block)
    elif kind == "code":
        language = block.get("language") or code_language
        yield from _code_pieces(str(block.get("text", "")), language)
    else:
        # A block kind this version does not know: show its text plainly.
        label = Text(f"[{clean_line(kind)}] ", style="dim")
        yield label + Text(clean(block.get("text", "") or block))
    yield Text("")


def post_renderables(
    title: str, blocks: Iterable[Mapping[str, object]], code_language: str | None = None
) -> Iterator[RenderableType]:
    yield from title_renderables(title)
    for block in blocks:
        if isinstance(block, Mapping):
            yield from block_renderables(block, code_language)
        else:  # not a block dict: show it as text rather than fail
            yield Text(clean(block, max_chars=PARAGRAPH_PIECE_CHARS))


@dataclass(frozen=True, slots=True)
class BodyPrefix:
    """The first blocks of a body, cut to a budget of characters: what is shown at once."""

    blocks: list[Mapping[str, object]]
    complete: bool  # the prefix is the whole body
    shown_chars: int
    total_chars: int


def _block_chars(block: object) -> int:
    if not isinstance(block, Mapping):
        return len(str(block))
    items = block.get("items")
    if isinstance(items, list):
        return sum(len(str(item)) for item in items)
    return len(str(block.get("text", ""))) + len(str(block.get("caption", "")))


def _cut_block(block: object, chars: int) -> object:
    """``block`` with its text (or list items) cut to about ``chars`` characters."""
    if not isinstance(block, Mapping):
        return str(block)[:chars]
    cut = dict(block)
    items = block.get("items")
    if isinstance(items, list):
        kept: list[object] = []
        for item in items:
            if chars <= 0:
                break
            kept.append(str(item)[:chars])
            chars -= len(str(item))
        cut["items"] = kept
    elif "text" in block:
        cut["text"] = str(block.get("text", ""))[:chars]
    return cut


def body_prefix(blocks: Sequence[object], max_chars: int) -> BodyPrefix:
    """The blocks that fit in ``max_chars`` characters, the last one cut to fit. Costs one
    pass over the block sizes, never over the text of what is left out."""
    sizes = [_block_chars(block) for block in blocks]
    total = sum(sizes)
    if total <= max_chars:
        return BodyPrefix(list(blocks), True, total, total)  # type: ignore[arg-type]
    kept: list[object] = []
    left = max_chars
    for block, size in zip(blocks, sizes, strict=True):
        if size <= left:
            kept.append(block)
            left -= size
            continue
        if left > 0:
            kept.append(_cut_block(block, left))
        left = 0
        break
    return BodyPrefix(kept, False, max_chars - left, total)  # type: ignore[arg-type]


def _split_long(text: str, limit: int) -> Iterator[str]:
    """Cut at whitespace near ``limit`` characters."""
    start = 0
    while len(text) - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit)
        if cut == -1:
            cut = start + limit
        yield text[start:cut]
        start = cut + 1 if text[cut : cut + 1] == " " else cut
    yield text[start:]


def _paragraph_pieces(text: str) -> Iterator[Text]:
    for piece in _split_long(clean(text), PARAGRAPH_PIECE_CHARS):
        yield Text(piece)


def _bullet_list(items: object) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(ratio=1)
    if not isinstance(items, list):
        items = [items]
    for item in items:
        table.add_row(Text("  •", style=BULLET_STYLE), Text(clean(item)))
    return table


def _image_box(block: Mapping[str, object]) -> Panel:
    lines = [Text(clean_line(block.get("caption", "")), style="bold")]
    source = block.get("source")
    url = block.get("url")
    if source:
        lines.append(Text.assemble(("source ", "dim"), (clean_line(source), "#98c379")))
    if url:
        lines.append(
            Text.assemble(("url    ", "dim"), (clean_line(url, max_chars=2_000), "#61afef"))
        )
    else:
        lines.append(Text("url    (none in image sources)", style="dim"))
    return Panel(
        Group(*lines),
        title=Text("image", style="italic"),
        title_align="left",
        box=box.ROUNDED,
        border_style=IMAGE_BORDER_STYLE,
        padding=(0, 1),
    )


def _code_pieces(code: str, language: object) -> Iterator[RenderableType]:
    lexer = lexer_name(str(language) if language else None)
    yield Text.assemble(("── ", "dim"), (lexer, "italic #c678dd"), (" ──", "dim"))
    lines = clean(code).expandtabs(4).split("\n")
    for start in range(0, len(lines), CODE_PIECE_LINES):
        piece = "\n".join(lines[start : start + CODE_PIECE_LINES])
        yield Syntax(
            piece,
            lexer,
            theme=CODE_THEME,
            line_numbers=True,
            start_line=start + 1,
            word_wrap=True,
            code_width=None,
        )
