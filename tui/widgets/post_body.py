"""The rendered body of the current post (centre pane).

A line-API widget: blocks are rendered to lines in a worker thread, a piece at
a time, and handed to the widget in batches, so a 2 MB body never blocks the
UI; only the visible lines are drawn. A newer post (or a new width) cancels the
render in progress.
"""

from __future__ import annotations

import io
import time
from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.text import Text
from textual import work
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from tui.widgets.body_render import post_renderables

# The first lines go to the UI as soon as a screenful exists; after that, lines
# are handed over at most every DELIVERY_SECONDS: each hand-over grows the
# scrollable area, which costs a layout pass on the UI thread.
FIRST_BATCH_LINES = 200
DELIVERY_SECONDS = 1.0


class PostBody(ScrollView, can_focus=True):
    """Scrollable, lazily rendered post body."""

    DEFAULT_CSS = """
    PostBody {
        padding: 0 1;
        overflow-x: hidden;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: list[Strip] = []
        self._generation = 0
        self._content: tuple[str, Sequence[Mapping[str, object]], str | None] | None = None
        self._rendered_width = 0
        self._replace_on_next_batch = False
        self.rendering = False
        self._placeholder: str | None = "no post selected"

    # -- public API -------------------------------------------------------------------

    def show_post(
        self, title: str, blocks: Sequence[Mapping[str, object]], code_language: str | None
    ) -> None:
        """Render a post's title and body blocks (in a worker)."""
        self._content = (title, blocks, code_language)
        self._placeholder = None
        self._start_render()

    def show_message(self, message: str) -> None:
        """Replace the body with a short message (no post, loading, error)."""
        self._content = None
        self._generation += 1
        self.rendering = False
        self._placeholder = message
        self._set_lines([])

    @property
    def text(self) -> str:
        """The rendered lines as plain text (what a reader sees), for tests."""
        return "\n".join(strip.text.rstrip() for strip in self._lines)

    # -- rendering --------------------------------------------------------------------

    def _render_width(self) -> int:
        return max(20, self.scrollable_content_region.width or self.size.width or 80)

    def _start_render(self) -> None:
        # The old lines stay until the first batch of the new ones replaces them:
        # one layout pass per post instead of two.
        self._generation += 1
        self._replace_on_next_batch = True
        if self._content is None:
            self._set_lines([])
            return
        width = self._render_width()
        self._rendered_width = width
        self.rendering = True
        self._render_lines(self._generation, width, *self._content)

    # A fixed description: Textual would otherwise repr() the whole body on the UI thread.
    @work(thread=True, exclusive=True, group="body-render", description="render post body")
    def _render_lines(
        self,
        generation: int,
        width: int,
        title: str,
        blocks: Sequence[Mapping[str, object]],
        code_language: str | None,
    ) -> None:
        worker = get_current_worker()
        # A private console: nothing shared with the app's console across threads.
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
        batch: list[Strip] = []
        first = True
        last_delivery = time.monotonic()
        for renderable in post_renderables(title, blocks, code_language):
            if worker.is_cancelled:
                return
            try:
                lines = console.render_lines(renderable, options, pad=False)
            except Exception as error:  # noqa: BLE001 - one odd block must not end the app
                lines = console.render_lines(
                    Text(f"[block not shown: {error}]", style="red"), options, pad=False
                )
            for line in lines:
                batch.append(Strip(line).adjust_cell_length(width))
            due = (
                len(batch) >= FIRST_BATCH_LINES
                if first
                else time.monotonic() - last_delivery >= DELIVERY_SECONDS
            )
            if due:
                if not self._deliver(generation, batch, done=False):
                    return
                batch = []
                first = False
                last_delivery = time.monotonic()
        self._deliver(generation, batch, done=True)

    def _deliver(self, generation: int, batch: list[Strip], *, done: bool) -> bool:
        try:
            self.app.call_from_thread(self._append_lines, generation, batch, done)
        except RuntimeError:  # app shutting down
            return False
        return True

    def _append_lines(self, generation: int, batch: list[Strip], done: bool) -> None:
        if generation != self._generation:
            return  # a newer post or width took over
        if self._replace_on_next_batch:
            self._replace_on_next_batch = False
            self._lines = []
            self.scroll_to(0, 0, animate=False, immediate=True)
        self._lines.extend(batch)
        if done:
            self.rendering = False
        self._update_virtual_size()
        self.refresh()

    def _set_lines(self, lines: list[Strip]) -> None:
        self._lines = lines
        self._update_virtual_size()
        self.refresh()

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self._rendered_width or self.size.width, len(self._lines))

    def on_resize(self) -> None:
        if self._content is not None and self._render_width() != self._rendered_width:
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
