"""The rendered body of the current post (centre pane).

A line-API widget (a ``LineView``): blocks are rendered to lines in a worker
thread, a piece at a time, and handed to the widget in batches, so a 2 MB body
never blocks the UI; only the visible lines are drawn. A newer post (or a new
width) cancels the render in progress.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import ClassVar

from textual.strip import Strip

from tui.widgets.body_render import post_renderables
from tui.widgets.line_view import LineView

# The first lines go to the UI as soon as a screenful exists; after that, lines
# are handed over at most every DELIVERY_SECONDS: each hand-over grows the
# scrollable area, which costs a layout pass on the UI thread.
FIRST_BATCH_LINES = 200
DELIVERY_SECONDS = 1.0

PostContent = tuple[str, Sequence[Mapping[str, object]], str | None]


class PostBody(LineView):
    """Scrollable, lazily rendered post body."""

    MIN_RENDER_WIDTH: ClassVar[int] = 20
    FALLBACK_RENDER_WIDTH: ClassVar[int] = 80

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, placeholder="no post selected")
        self._content: PostContent | None = None
        self._replace_on_next_batch = False

    # -- public API -------------------------------------------------------------------

    def show_post(
        self, title: str, blocks: Sequence[Mapping[str, object]], code_language: str | None
    ) -> None:
        """Render a post's title and body blocks (in a worker)."""
        self._show_content((title, blocks, code_language))

    # show_message(message) and text: see LineView.

    # -- rendering --------------------------------------------------------------------

    def _start_render(self) -> None:
        # The old lines stay until the first batch of the new ones replaces them:
        # one layout pass per post instead of two.
        self._replace_on_next_batch = True
        super()._start_render()

    def _render(self, generation: int, width: int, content: PostContent) -> None:
        batch: list[Strip] = []
        first = True
        last_delivery = time.monotonic()
        for strips in self._render_strips(post_renderables(*content), width):
            batch.extend(strips)
            due = (
                len(batch) >= FIRST_BATCH_LINES
                if first
                else time.monotonic() - last_delivery >= DELIVERY_SECONDS
            )
            if due:
                self._deliver(generation, self._append_lines, batch, False)
                batch = []
                first = False
                last_delivery = time.monotonic()
        self._deliver(generation, self._append_lines, batch, True)

    def _append_lines(self, batch: list[Strip], done: bool) -> None:
        if self._replace_on_next_batch:
            self._replace_on_next_batch = False
            self._lines = []
            self.scroll_to(0, 0, animate=False, immediate=True)
        self._lines.extend(batch)
        if done:
            self.rendering = False
        self._update_virtual_size()
        self.refresh()
