"""Side-by-side comparison of two posts, with the passages they share highlighted.

``CompareScreen(left, right, score=..., reasons=[...])`` takes two loaded
``storage.StoredPost`` objects (the caller reads them from the store; this screen never
touches the store). The comparison (``storage.compare.compare_stored``) and the building
of the two sides' renderables (``tui.widgets.compare_pane.side_renderables``) run in a
thread worker, so a 2 MB body never freezes the UI; until then the header and panes say
"comparing…". Each pane (``tui.widgets.compare_pane.ComparePane``) renders its side at
its own width in a worker, and records on which line every shared passage starts, which
``n`` / ``p`` scroll to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from storage import StoredPost
from storage.compare import Comparison, compare_stored, shared_words_text
from tui.keymap import CLOSE_BINDINGS, COMPARE_BINDINGS
from tui.text import clean_line
from tui.widgets.compare_pane import (
    SHARED_STYLE,
    ComparePane,
    SideView,
    matching_passage,
    side_renderables,
)

__all__ = ["CompareScreen"]


class CompareScreen(Screen[None]):
    """``CompareScreen(left, right, score=..., reasons=[...])``: two ``StoredPost``s side
    by side; the left is the current post, the right the similar one. Dismisses with None.
    """

    BINDINGS: ClassVar = [*CLOSE_BINDINGS, *COMPARE_BINDINGS]

    DEFAULT_CSS = """
    CompareScreen { layout: vertical; }
    CompareScreen #compare-header {
        height: auto; max-height: 2; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
        background: $panel;
    }
    CompareScreen #compare-panes { height: 1fr; }
    """

    def __init__(
        self,
        left: StoredPost,
        right: StoredPost,
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
    def _reference(post: StoredPost, role: str) -> Text:
        text = Text(clean_line(post.reference or post.id, max_chars=80), style="bold")
        text.append(f" ({role})", style="dim")
        return text

    def _header_text(self) -> Text:
        """References, words shared (``storage.compare.shared_words_text``) and passages;
        on a second line the similarity score and its reasons, the Similar pane's word for
        word (``sentences alike N%`` is the score's body measure, a different figure from
        the words shared: both in view, at any width, each under its own name)."""
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(clean_line(self.left_post.reference or self.left_post.id, max_chars=80))
        text.append(" ⇄ ", style="dim")
        text.append(clean_line(self.right_post.reference or self.right_post.id, max_chars=80))
        text.append(" · ", style="dim")
        comparison = self.comparison
        if comparison is None:
            text.append("comparing…", style="italic")
        else:
            shared = Text(shared_words_text(comparison))
            shared.highlight_regex(r"<?\d+%", SHARED_STYLE)
            text.append_text(shared)
            text.append(" · ")
            count = comparison.passages
            text.append(f"{count} shared passage{'s' if count != 1 else ''}")
        if self.score is None and not self.reasons:
            return text
        text.append("\n")
        if self.score is not None:
            text.append("similarity score ", style="dim")
            text.append(str(self.score), style="bold")
        if self.reasons:
            if self.score is not None:
                text.append(": ", style="dim")
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
        index = pane.step(direction)
        if index is not None:
            # The same passage on the other side comes into view too.
            other = self.left_pane if pane is self.right_pane else self.right_pane
            texts = pane.passage_texts
            if index < len(texts):
                match = matching_passage(texts[index], other.passage_texts)
                if match is not None:
                    other.show_passage(match)
            return
        if index is None:
            where = "below" if direction > 0 else "above"
            if pane.passage_lines:
                self.notify(f"no shared passage {where}", timeout=2)
            else:
                self.notify("nothing shared on this side", timeout=2)

    def action_close(self) -> None:
        self.dismiss(None)
