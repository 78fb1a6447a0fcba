"""A plain, readable rendering of one post for ``copydesk show`` (no Textual needed).

A post can be huge (a 50 MB body, 100,000 meta fields): Rich takes about a second per
100,000 lines, so by default a bounded prefix is rendered (``BODY_CHARS`` characters of
body text, ``META_FIELDS`` meta fields of at most ``META_VALUE_CHARS`` characters each) and
a last line says what was cut and how to see it all (``--full``, or ``--json`` for the
data). A post of ordinary size is shown whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.syntax import Syntax
from rich.text import Text

from storage import StoredPost
from tui.text import clean, clean_line, clean_name

BODY_CHARS = 20_000  # ~10 screens of prose; an ordinary post has 3,000-8,000
META_FIELDS = 100  # an ordinary post has ~20
META_VALUE_CHARS = 2_000
NOTE_CHARS = 5_000


@dataclass(slots=True)
class _Budget:
    """Characters of body text still to show (None: no limit) and what was cut."""

    left: int | None
    cut_blocks: int = 0

    def take(self, text: str) -> str | None:
        """``text``, cut to what is left; None when nothing is left."""
        if self.left is None:
            return text
        if self.left <= 0:
            return None
        shown = text[: self.left]
        self.left -= len(text)
        return shown


def render_post(post: StoredPost, *, full: bool = False, colour: bool = True) -> RenderableType:
    """The post as Rich renderables; ``full=False`` bounds what a huge post shows.

    ``colour`` False (the console shows no styles: not a terminal): code blocks are laid
    out as ever but not highlighted, the same characters without loading a lexer (~20 ms
    of a `copydesk show ... | less`)."""
    parts: list[RenderableType] = [Text(clean_line(post.title), style="bold"), Text("")]
    budget = _Budget(None if full else BODY_CHARS)
    blocks = post.body
    shown_blocks = 0
    for block in blocks:
        rendered = _block(block, budget, colour)
        if rendered is None:
            break
        parts.extend(rendered)
        parts.append(Text(""))
        shown_blocks += 1
    parts.append(Rule("meta"))
    meta = post.meta
    for number, (name, value) in enumerate(meta.items()):
        if not full and number == META_FIELDS:
            break
        # meta values are one line in a seed document; the reference is the post's id
        limit = None if full else META_VALUE_CHARS
        if name == "reference":
            shown = clean_name(value, max_chars=limit)
        else:
            shown = clean_line(_flat(value, limit), max_chars=limit)
        parts.append(Text(f"{clean_line(name)}: ", style="bold").append(shown))
    parts.append(Rule("review"))
    review = post.review
    status = review.status if review else "pending"
    parts.append(Text(f"id: {clean_name(post.id)}   status: {clean_line(status)}"))
    if review and review.note:
        parts.append(Text("note: " + clean(review.note, max_chars=None if full else NOTE_CHARS)))
    if post.changed:
        parts.append(Text("changed since review", style="yellow"))
    for hint in post.hints:
        parts.append(
            Text(
                f"hint {clean_line(hint['code'])} ({clean_line(hint['severity'])}): "
                f"{clean_line(hint['message'])}"
            )
        )
    for warning in post.warnings:
        parts.append(Text("warning: " + clean_line(warning), style="yellow"))
    cut = _what_was_cut(post, shown_blocks, budget)
    if cut:
        parts.append(Text(cut, style="yellow"))
    return Group(*parts)


def _block(block: dict, budget: _Budget, colour: bool = True) -> list[RenderableType] | None:
    """The renderables of one body block within the budget; None when it is spent."""
    kind = block.get("type")
    if kind == "list":
        items = []
        for item in block.get("items", []):
            shown = budget.take(str(item))
            if shown is None:
                break
            items.append(Text("  • " + clean_line(shown, max_chars=None)))
        return items or None
    if kind == "image":
        caption = budget.take(str(block.get("caption", "")))
        if caption is None:
            return None
        line = f"[image] {clean_line(caption)} ({clean_line(block.get('source', ''))})"
        out: list[RenderableType] = [Text(line, style="cyan")]
        if block.get("url"):
            out.append(Text("        " + clean_line(block["url"]), style="dim"))
        return out
    text = budget.take(str(block.get("text", "")))
    if text is None:
        return None
    if kind == "heading":
        return [Text(clean_line(text), style="bold underline")]
    if kind == "code":
        language = str(block.get("language") or "text") if colour else "text"
        return [Padding(Syntax(clean(text), language, theme="ansi_dark"), (0, 2))]
    return [Text(clean(text))]


def _what_was_cut(post: StoredPost, shown_blocks: int, budget: _Budget) -> str:
    if budget.left is None:
        return ""
    parts = []
    if budget.left < 0:
        total = sum(_block_chars(block) for block in post.body)
        parts.append(
            f"{BODY_CHARS:,} of the body's {total:,} characters "
            f"({shown_blocks:,} of {len(post.body):,} blocks, the last one cut)"
        )
    if len(post.meta) > META_FIELDS:
        parts.append(f"{META_FIELDS:,} of {len(post.meta):,} meta fields")
    if any(_too_long(value) for value in list(post.meta.values())[:META_FIELDS]):
        parts.append(f"meta values past {META_VALUE_CHARS:,} characters")
    if post.review and len(post.review.note) > NOTE_CHARS:
        parts.append(f"the note past {NOTE_CHARS:,} characters")
    if not parts:
        return ""
    return (
        "shown: " + "; ".join(parts) + f". `copydesk show {clean_name(post.id)} --full` shows "
        "all of it, --json gives the data."
    )


def _block_chars(block: dict) -> int:
    if block.get("type") == "list":
        return sum(len(str(item)) for item in block.get("items", []))
    return len(str(block.get("caption" if block.get("type") == "image" else "text", "")))


def _too_long(value: object) -> bool:
    return len(_flat(value, META_VALUE_CHARS + 1)) > META_VALUE_CHARS


def _flat(value: object, limit: int | None = None) -> str:
    """A meta value as one line (``a: 1, b: 2``; ``x; y``), stopped soon after ``limit``
    characters: a list of a million items is not joined to show its first hundred."""
    out: list[str] = []
    size = 0

    def add(text: str) -> bool:
        nonlocal size
        out.append(text)
        size += len(text)
        return limit is None or size <= limit

    def walk(item: object) -> bool:
        if isinstance(item, dict):
            for index, (key, inner) in enumerate(item.items()):
                if (index and not add(", ")) or not add(f"{key}: ") or not walk(inner):
                    return False
            return True
        if isinstance(item, list):
            for index, inner in enumerate(item):
                if (index and not add("; ")) or not walk(inner):
                    return False
            return True
        return add(str(item))

    walk(value)
    text = "".join(out)
    return text if limit is None else text[: limit + 1]
