"""One side of a comparison of two posts: ``ComparePane``, and what it shows.

``side_renderables(post, share)`` turns a post's title and body blocks into Rich
renderables (a ``SideView``), the passages it shares with the other post
(``storage.compare.SideShare``) highlighted, and each passage's first character marked
with a style ``meta`` mark carrying its number. ``ComparePane`` (a ``LineView``) renders
a ``SideView`` at its own width in a worker, and records on which line every shared
passage starts (the mark survives into the rendered segments), which ``step`` scrolls to.

Every string of a post goes through ``tui.text.clean`` / ``clean_line`` into ``Text``
objects, piece by piece (the shared spans are offsets into the raw text, so each raw
piece is cleaned on its own; an escape sequence cut in two is still removed).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.strip import Strip

from storage import StoredPost
from storage.compare import SideShare, Span, block_texts
from tui.text import clean, clean_line
from tui.widgets.body_render import BULLET_STYLE, HEADING_STYLE, TITLE_STYLE
from tui.widgets.line_view import LineView

__all__ = [
    "MAX_RENDER_CHARS",
    "SHARED_STYLE",
    "ComparePane",
    "SideView",
    "matching_passage",
    "side_renderables",
]

# What is rendered of each side: the comparison covers the whole post, the panes show
# the first MAX_RENDER_CHARS characters of its texts.
MAX_RENDER_CHARS = 200_000

SHARED_STYLE = Style(bgcolor="#3e5472")  # a background only: headings, code keep their colours
CODE_STYLE = Style(color="#98c379")
PASSAGE_META_KEY = "compare_passage"
# Lines of context kept above a passage scrolled to.
PASSAGE_MARGIN = 1


@dataclass(slots=True)
class SideView:
    """What a pane shows: renderables in order, and how many shared passages they mark."""

    renderables: list[RenderableType]
    passages: int
    truncated: bool
    passage_texts: list[str] = field(default_factory=list)  # by passage number


class _Budget:
    """Characters left to render; numbers passages in render order."""

    def __init__(self, chars: int) -> None:
        self.left = chars
        self.truncated = False
        self.passages = 0
        self.texts: list[str] = []

    def take(self, raw: str, spans: Sequence[Span]) -> tuple[str, Sequence[Span]]:
        if len(raw) <= self.left:
            self.left -= len(raw)
            return raw, spans
        cut = max(self.left, 0)
        self.left = 0
        self.truncated = True
        return raw[:cut], [(s, min(e, cut)) for s, e in spans if s < cut]

    @property
    def exhausted(self) -> bool:
        return self.truncated


def _highlighted(
    raw: str,
    spans: Sequence[Span],
    budget: _Budget,
    *,
    cleaner: Callable[[str], str],
    style: str | Style = "",
) -> Text:
    """``raw`` as a Text, shared spans in SHARED_STYLE, each passage's first character
    carrying a meta mark with its number. Every raw piece is cleaned separately."""
    raw, spans = budget.take(raw, spans)
    text = Text(style=style)
    position = 0
    for start, end in spans:
        if start > position:
            text.append(cleaner(raw[position:start]))
        piece = cleaner(raw[start:end])
        if piece:
            offset = len(text)
            text.append(piece, style=SHARED_STYLE)
            text.stylize(Style(meta={PASSAGE_META_KEY: budget.passages}), offset, offset + 1)
            budget.passages += 1
            budget.texts.append(piece)
        position = max(position, end)
    if position < len(raw):
        text.append(cleaner(raw[position:]))
    return text


def _clean_block(value: str) -> str:
    return clean(value).expandtabs(4)


def _clean_title(value: str) -> str:
    return clean_line(value, max_chars=None)


def _block_renderables(
    block: Mapping[str, Any], parts: Sequence[Sequence[Span]], budget: _Budget
) -> Iterator[RenderableType]:
    texts = block_texts(block)
    parts = list(parts) + [()] * (len(texts) - len(parts))
    kind = block.get("type")
    if kind == "heading":
        yield _highlighted(texts[0], parts[0], budget, cleaner=_clean_title, style=HEADING_STYLE)
    elif kind == "list":
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column(ratio=1)
        for text, spans in zip(texts, parts, strict=False):
            if budget.exhausted:
                break
            table.add_row(
                Text("  •", style=BULLET_STYLE),
                _highlighted(text, spans, budget, cleaner=_clean_block),
            )
        yield table
    elif kind == "image":
        caption = _highlighted(texts[0], parts[0], budget, cleaner=_clean_title, style="italic")
        content = Text.assemble(caption)
        source = block.get("source")
        if source:
            content.append(f"\nsource: {clean_line(source, max_chars=200)}", style="dim")
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column(ratio=1)
        table.add_row(Text("[image]", style="dim"), content)
        yield table
    elif kind == "code":
        language = block.get("language")
        label = f"── code ({clean_line(language, max_chars=40)}) ──" if language else "── code ──"
        yield Text(label, style="dim")
        code = _highlighted(texts[0], parts[0], budget, cleaner=_clean_block, style=CODE_STYLE)
        yield Padding(code, (0, 0, 0, 2))
    else:  # paragraph, and unknown kinds with a text
        for text, spans in zip(texts, parts, strict=False):
            yield _highlighted(text, spans, budget, cleaner=_clean_block)


def side_renderables(
    post: StoredPost, share: SideShare, *, max_chars: int = MAX_RENDER_CHARS
) -> SideView:
    """The title and body blocks of ``post`` as Rich renderables, ``share``'s spans
    highlighted; at most ``max_chars`` characters of post text, then a "(truncated)" line."""
    budget = _Budget(max_chars)
    title = _highlighted(
        str(post.title or ""), share.title, budget, cleaner=_clean_title, style=TITLE_STYLE
    )
    out: list[RenderableType] = [title, Rule(style="#3e4451")]
    body = post.body if isinstance(post.body, list) else []
    for index, block in enumerate(body):
        if budget.exhausted:
            break
        parts = share.blocks[index] if index < len(share.blocks) else ()
        if isinstance(block, Mapping):
            out.extend(_block_renderables(block, parts, budget))
        else:
            out.append(_highlighted(str(block), (), budget, cleaner=_clean_block))
        out.append(Text(""))
    if budget.truncated:
        out.append(
            Text(
                f"(truncated: only the first {max_chars:,} characters are shown; "
                "the percentages cover the whole post)",
                style="bold yellow",
            )
        )
    return SideView(out, budget.passages, budget.truncated, budget.texts)


def _words(text: str) -> set[str]:
    return set(text.lower().split())


def matching_passage(text: str, others: Sequence[str]) -> int | None:
    """The passage of the other side that shares the most words with ``text`` (the same
    passage, as each side numbers its own); None when none shares a word."""
    words = _words(text)
    best, best_score = None, 0.0
    for index, other in enumerate(others):
        other_words = _words(other)
        union = len(words | other_words)
        score = len(words & other_words) / union if union else 0.0
        if score > best_score:
            best, best_score = index, score
    return best


class ComparePane(LineView):
    """One side of the comparison: rendered lines, and the line of every shared passage."""

    DEFAULT_CSS = """
    ComparePane {
        width: 1fr;
        height: 1fr;
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        border-subtitle-color: $text-muted;
    }
    ComparePane:focus {
        border: round $accent;
        border-title-color: $text;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, placeholder="comparing…")
        self._content: SideView | None = None
        self.passage_lines: list[int] = []
        self.current: int | None = None

    # -- public -----------------------------------------------------------------------

    def show(self, view: SideView) -> None:
        """Render ``view`` (in a worker, at the pane's width)."""
        self.current = None
        self._show_content(view)

    # show_message(message) and text: see LineView.

    @property
    def lines(self) -> list[Strip]:
        return self._lines

    @property
    def passages(self) -> int:
        return self._content.passages if self._content is not None else 0

    @property
    def passage_texts(self) -> list[str]:
        return self._content.passage_texts if self._content is not None else []

    def show_passage(self, index: int) -> None:
        """Scroll passage ``index`` into view (the one matching the other side's)."""
        if 0 <= index < len(self.passage_lines):
            self.current = index
            self.scroll_to(y=max(0, self.passage_lines[index] - PASSAGE_MARGIN), animate=False)
            self._update_subtitle()

    def step(self, direction: int) -> int | None:
        """Scroll to the next (``direction`` > 0) or previous shared passage; returns its
        index, or None when there is none that way."""
        lines = self.passage_lines
        if not lines:
            return None
        top = round(self.scroll_y)
        height = max(1, self.scrollable_content_region.height)
        current = self.current
        if current is not None and top <= lines[current] < top + height:
            target = current + (1 if direction > 0 else -1)
        elif direction > 0:
            target = bisect_left(lines, top)  # the first passage in or below the view
        else:
            target = bisect_left(lines, top) - 1  # the last one above it
        if not 0 <= target < len(lines):
            return None
        self.current = target
        self.scroll_to(y=max(0, lines[target] - PASSAGE_MARGIN), animate=False)
        self._update_subtitle()
        return target

    # -- rendering --------------------------------------------------------------------

    def _render(self, generation: int, width: int, view: SideView) -> None:
        strips: list[Strip] = []
        passage_lines: list[int] = [0] * view.passages
        for rendered in self._render_strips(view.renderables, width):
            for strip in rendered:
                for segment in strip:
                    style = segment.style
                    if style is not None and (meta := style.meta):
                        number = meta.get(PASSAGE_META_KEY)
                        if isinstance(number, int) and 0 <= number < len(passage_lines):
                            passage_lines[number] = len(strips)
                strips.append(strip)
        self._deliver(generation, self._apply, strips, passage_lines)

    def _apply(self, strips: list[Strip], passage_lines: list[int]) -> None:
        self.rendering = False
        self._set_lines(strips, passage_lines)

    def _set_lines(self, lines: list[Strip], passage_lines: list[int] | None = None) -> None:
        self.passage_lines = [] if passage_lines is None else passage_lines
        super()._set_lines(lines)
        self._update_subtitle()
        if self.current is not None and self.current < len(self.passage_lines):
            y = max(0, self.passage_lines[self.current] - PASSAGE_MARGIN)
            self.scroll_to(y=y, animate=False)

    def _update_subtitle(self) -> None:
        if self._content is None:
            self.border_subtitle = None
            return
        count = len(self.passage_lines)
        if not count:
            label = "nothing shared"
        elif self.current is None:
            label = f"{count} shared passage{'s' if count != 1 else ''}"
        else:
            label = f"shared {self.current + 1}/{count}"
        if self._content.truncated:
            label += " · truncated"
        self.border_subtitle = Text(label)
