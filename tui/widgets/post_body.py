"""The rendered body of the current post (centre pane).

A line-API widget (a ``LineView``): blocks are rendered to lines in a worker
thread, a piece at a time, and handed to the widget in batches, so a 2 MB body
never blocks the UI; only the visible lines are drawn. A newer post (or a new
width) cancels the render in progress. The review screen usually hands it lines
rendered ahead (``show_lines``, see ``tui.post_preparer``): then nothing renders
when the cursor moves.

What is shown at first is a bounded prefix of the body (``body_content``): a 50 MB
post shows its first ``SHOWN_CHARS`` characters and a line saying so; ``show_post``
with ``whole=True`` (the ``L`` key) renders all of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.strip import Strip

from tui.widgets.body_render import body_prefix, post_renderables
from tui.widgets.line_view import LineView

# The first lines go to the UI as soon as a screenful exists; after that, lines
# are handed over at most every DELIVERY_SECONDS: each hand-over grows the
# scrollable area, which costs a layout pass on the UI thread.
FIRST_BATCH_LINES = 200
DELIVERY_SECONDS = 1.0
# The characters of body text shown before the reviewer asks for the rest: about 25
# screens of a 50-column pane, rendered in ~0.1 s.
SHOWN_CHARS = 60_000


@dataclass(frozen=True, slots=True)
class BodyContent:
    """What the body pane renders: a title, blocks, and a closing note (a cut body)."""

    title: str
    blocks: Sequence[Mapping[str, object]]
    code_language: str | None
    more_note: str | None = None

    @property
    def complete(self) -> bool:
        return self.more_note is None

    def renderables(self) -> Iterator[RenderableType]:
        yield from post_renderables(self.title, self.blocks, self.code_language)
        if self.more_note:
            yield Text(self.more_note, style="bold #e5c07b")


def body_content(
    title: str,
    blocks: Sequence[Mapping[str, object]],
    code_language: str | None,
    *,
    whole: bool = False,
    more_key: str = "L",
) -> BodyContent:
    """The body as shown: its first ``SHOWN_CHARS`` characters unless ``whole``."""
    if whole:
        return BodyContent(title, blocks, code_language)
    prefix = body_prefix(blocks, SHOWN_CHARS)
    if prefix.complete:
        return BodyContent(title, blocks, code_language)
    percent = max(1, prefix.shown_chars * 100 // max(1, prefix.total_chars))
    note = (
        f"… showing the first {prefix.shown_chars:,} of {prefix.total_chars:,} characters "
        f"({percent}%): press {more_key} to show the whole post"
    )
    return BodyContent(title, prefix.blocks, code_language, note)


class PostBody(LineView):
    """Scrollable, lazily rendered post body."""

    MIN_RENDER_WIDTH: ClassVar[int] = 20
    FALLBACK_RENDER_WIDTH: ClassVar[int] = 80

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, placeholder="no post selected")
        self._content: BodyContent | None = None
        self._replace_on_next_batch = False

    # -- public API -------------------------------------------------------------------

    def show_post(self, content: BodyContent) -> None:
        """Render ``content`` (in a worker)."""
        self._show_content(content)

    @property
    def content(self) -> BodyContent | None:
        return self._content

    def show_lines(self, content: BodyContent, lines: list[Strip], width: int) -> None:  # type: ignore[override]
        self._replace_on_next_batch = False
        super().show_lines(content, lines, width)

    # show_message(message) and text: see LineView.

    # -- rendering --------------------------------------------------------------------

    def _start_render(self) -> None:
        # The old lines stay until the first batch of the new ones replaces them:
        # one layout pass per post instead of two.
        self._replace_on_next_batch = True
        super()._start_render()

    def _render(self, generation: int, width: int, content: BodyContent) -> None:
        batch: list[Strip] = []
        first = True
        last_delivery = time.monotonic()
        for strips in self._render_strips(content.renderables(), width):
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
