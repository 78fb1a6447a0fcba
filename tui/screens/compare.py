"""Side-by-side comparison of two posts, with the passages they share highlighted.

``CompareScreen(left, right, score=..., reasons=[...])`` takes two loaded
``storage.StoredPost`` objects (the caller reads them from the store; this screen never
touches the store). The comparison (``storage.compare.compare_stored``) and the building
of the two sides' renderables run in a thread worker, so a 2 MB body never freezes the
UI; until then the header and panes say "comparing…". Each pane is a line-API view that
renders its side at its own width in a worker, and records on which line every shared
passage starts (a style ``meta`` mark on the passage's first character survives into
the rendered segments), which ``n`` / ``p`` scroll to.

Every string of a post goes through ``tui.text.clean`` / ``clean_line`` into ``Text``
objects, piece by piece (the shared spans are offsets into the raw text, so each raw
piece is cleaned on its own; an escape sequence cut in two is still removed).
"""

from __future__ import annotations

import io
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.geometry import Size
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from storage.compare import Comparison, SideShare, Span, block_texts, compare_stored
from tui.keymap import COMPARE_BINDINGS
from tui.text import clean, clean_line
from tui.widgets.body_render import BULLET_STYLE, HEADING_STYLE, TITLE_STYLE

__all__ = [
    "MAX_RENDER_CHARS",
    "SHARED_STYLE",
    "CompareScreen",
    "ComparePane",
    "SideView",
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


class _Budget:
    """Characters left to render; numbers passages in render order."""

    def __init__(self, chars: int) -> None:
        self.left = chars
        self.truncated = False
        self.passages = 0

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


def side_renderables(post: Any, share: SideShare, *, max_chars: int = MAX_RENDER_CHARS) -> SideView:
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
    return SideView(out, budget.passages, budget.truncated)


def _percent(value: float) -> str:
    percent = round(value * 100)
    if percent == 100 and value < 1.0:
        return "99%"
    if percent == 0 and value > 0.0:
        return "<1%"
    return f"{percent}%"


class ComparePane(ScrollView, can_focus=True):
    """One side of the comparison: rendered lines, and the line of every shared passage."""

    DEFAULT_CSS = """
    ComparePane {
        width: 1fr;
        height: 1fr;
        padding: 0 1;
        overflow-x: hidden;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
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
        super().__init__(id=id)
        self._view: SideView | None = None
        self._lines: list[Strip] = []
        self.passage_lines: list[int] = []
        self.current: int | None = None
        self._generation = 0
        self._rendered_width = 0
        self.rendering = False
        self._placeholder: str | None = "comparing…"

    # -- public -----------------------------------------------------------------------

    def show(self, view: SideView) -> None:
        """Render ``view`` (in a worker, at the pane's width)."""
        self._view = view
        self._placeholder = None
        self.current = None
        self._start_render()

    def show_message(self, message: str) -> None:
        self._view = None
        self._generation += 1
        self.rendering = False
        self._placeholder = message
        self._set_lines([], [])

    @property
    def text(self) -> str:
        """The rendered lines as plain text, for tests."""
        return "\n".join(strip.text.rstrip() for strip in self._lines)

    @property
    def lines(self) -> list[Strip]:
        return self._lines

    @property
    def passages(self) -> int:
        return self._view.passages if self._view is not None else 0

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

    def _render_width(self) -> int:
        return max(10, self.scrollable_content_region.width or self.size.width or 40)

    def _start_render(self) -> None:
        self._generation += 1
        if self._view is None:
            self._set_lines([], [])
            return
        width = self._render_width()
        self._rendered_width = width
        self.rendering = True
        self._render_lines(self._generation, width, self._view)

    @work(thread=True, exclusive=True, group="compare-render", description="render compared post")
    def _render_lines(self, generation: int, width: int, view: SideView) -> None:
        worker = get_current_worker()
        console = Console(
            file=io.StringIO(),
            width=width,
            color_system="truecolor",
            force_terminal=True,
            legacy_windows=False,
            emoji=False,
            markup=False,
        )
        options = console.options.update_width(width)
        strips: list[Strip] = []
        passage_lines: list[int] = [0] * view.passages
        for renderable in view.renderables:
            if worker.is_cancelled:
                return
            try:
                lines = console.render_lines(renderable, options, pad=False)
            except Exception as error:  # noqa: BLE001 - one odd block must not end the app
                lines = console.render_lines(
                    Text(f"[block not shown: {error}]", style="red"), options, pad=False
                )
            for line in lines:
                for segment in line:
                    style = segment.style
                    if style is not None and (meta := style.meta):
                        number = meta.get(PASSAGE_META_KEY)
                        if isinstance(number, int) and 0 <= number < len(passage_lines):
                            passage_lines[number] = len(strips)
                strips.append(Strip(line).adjust_cell_length(width))
        try:
            self.app.call_from_thread(self._apply, generation, strips, passage_lines)
        except RuntimeError:  # app shutting down
            pass

    def _apply(self, generation: int, strips: list[Strip], passage_lines: list[int]) -> None:
        if generation != self._generation:
            return  # a newer width took over
        self.rendering = False
        self._set_lines(strips, passage_lines)

    def _set_lines(self, strips: list[Strip], passage_lines: list[int]) -> None:
        self._lines = strips
        self.passage_lines = passage_lines
        self.virtual_size = Size(self._rendered_width or self.size.width, len(strips))
        self._update_subtitle()
        if self.current is not None and self.current < len(passage_lines):
            self.scroll_to(y=max(0, passage_lines[self.current] - PASSAGE_MARGIN), animate=False)
        self.refresh()

    def _update_subtitle(self) -> None:
        if self._view is None:
            self.border_subtitle = None
            return
        count = len(self.passage_lines)
        if not count:
            label = "nothing shared"
        elif self.current is None:
            label = f"{count} shared passage{'s' if count != 1 else ''}"
        else:
            label = f"shared {self.current + 1}/{count}"
        if self._view.truncated:
            label += " · truncated"
        self.border_subtitle = Text(label)

    def on_resize(self) -> None:
        if self._view is not None and self._render_width() != self._rendered_width:
            self._start_render()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        if not self._lines and self._placeholder and y == 0:
            placeholder = Text(self._placeholder, style="dim italic")
            segments = list(placeholder.render(self.app.console, end=""))
            return Strip(segments).crop_extend(0, width, self.rich_style)
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        strip = self._lines[index].crop_extend(scroll_x, scroll_x + width, self.rich_style)
        return strip.apply_style(self.rich_style)


class CompareScreen(Screen[None]):
    """``CompareScreen(left, right, score=..., reasons=[...])``: two ``StoredPost``s side
    by side; the left is the current post, the right the similar one. Dismisses with None.
    """

    BINDINGS: ClassVar = COMPARE_BINDINGS

    DEFAULT_CSS = """
    CompareScreen { layout: vertical; }
    CompareScreen #compare-header {
        height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
        background: $panel;
    }
    CompareScreen #compare-panes { height: 1fr; }
    """

    def __init__(
        self,
        left: Any,
        right: Any,
        *,
        score: int | None = None,
        reasons: list[str] | None = None,
    ) -> None:
        super().__init__(id="compare")
        self.left_post = left
        self.right_post = right
        self.score = score
        self.reasons = list(reasons or [])
        self.comparison: Comparison | None = None
        self.left_pane = ComparePane(id="compare-left")
        self.right_pane = ComparePane(id="compare-right")
        self.header = Static(self._header_text(), id="compare-header")

    def compose(self) -> ComposeResult:
        yield self.header
        with Horizontal(id="compare-panes"):
            yield self.left_pane
            yield self.right_pane
        yield Footer()

    def on_mount(self) -> None:
        self.left_pane.border_title = self._reference(self.left_post, "this post")
        self.right_pane.border_title = self._reference(self.right_post, "similar")
        self.left_pane.focus()
        self._compare()

    # -- comparison -------------------------------------------------------------------

    @staticmethod
    def _reference(post: Any, role: str) -> Text:
        text = Text(clean_line(post.reference or post.id, max_chars=80), style="bold")
        text.append(f" ({role})", style="dim")
        return text

    def _header_text(self) -> Text:
        """References, shared fractions, passages, then score and reasons (what a narrow
        terminal cuts first)."""
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(clean_line(self.left_post.reference or self.left_post.id, max_chars=80))
        text.append(" ⇄ ", style="dim")
        text.append(clean_line(self.right_post.reference or self.right_post.id, max_chars=80))
        text.append(" · ", style="dim")
        comparison = self.comparison
        if comparison is None:
            text.append("comparing…", style="italic")
        else:
            text.append(_percent(comparison.left.fraction), style=SHARED_STYLE)
            text.append(" of left shared · ")
            text.append(_percent(comparison.right.fraction), style=SHARED_STYLE)
            text.append(" of right · ")
            count = comparison.passages
            text.append(f"{count} shared passage{'s' if count != 1 else ''}")
        if self.score is not None:
            text.append(" · score ", style="dim")
            text.append(str(self.score), style="bold")
        if self.reasons:
            text.append(": " if self.score is not None else " · ", style="dim")
            text.append(", ".join(clean_line(r, max_chars=60) for r in self.reasons[:6]))
        return text

    @work(thread=True, exclusive=True, group="compare", description="compare posts")
    def _compare(self) -> None:
        worker = get_current_worker()
        try:
            comparison = compare_stored(self.left_post, self.right_post)
            if worker.is_cancelled:
                return
            left = side_renderables(self.left_post, comparison.left)
            right = side_renderables(self.right_post, comparison.right)
        except Exception as error:  # noqa: BLE001 - shown to the reviewer, not raised
            if not worker.is_cancelled:
                self._call(self._show_error, error)
            return
        if not worker.is_cancelled:
            self._call(self._show_comparison, comparison, left, right)

    def _call(self, callback: Callable[..., None], *args: Any) -> None:
        try:
            self.app.call_from_thread(callback, *args)
        except RuntimeError:  # app shutting down
            pass

    def _show_comparison(self, comparison: Comparison, left: SideView, right: SideView) -> None:
        if not self.is_attached:
            return
        self.comparison = comparison
        self.header.update(self._header_text())
        self.left_pane.show(left)
        self.right_pane.show(right)

    def _show_error(self, error: Exception) -> None:
        if not self.is_attached:
            return
        message = clean_line(f"cannot compare: {error}", max_chars=300)
        self.header.update(Text(message, style="red"))
        self.left_pane.show_message(message)
        self.right_pane.show_message(message)

    # -- actions ----------------------------------------------------------------------

    @property
    def focused_pane(self) -> ComparePane:
        return self.right_pane if self.right_pane.has_focus else self.left_pane

    def action_switch_side(self) -> None:
        (self.left_pane if self.right_pane.has_focus else self.right_pane).focus()

    def action_next_shared(self) -> None:
        self._step(1)

    def action_prev_shared(self) -> None:
        self._step(-1)

    def _step(self, direction: int) -> None:
        pane = self.focused_pane
        if self.comparison is None or pane.rendering:
            self.notify("still comparing…", timeout=2)
            return
        if pane.step(direction) is None:
            where = "below" if direction > 0 else "above"
            if pane.passage_lines:
                self.notify(f"no shared passage {where}", timeout=2)
            else:
                self.notify("nothing shared on this side", timeout=2)

    def action_close_compare(self) -> None:
        self.dismiss(None)
