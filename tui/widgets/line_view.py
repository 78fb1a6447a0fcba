"""The base of the line-API views that render Rich renderables in a worker thread.

``LineView`` keeps rendered lines (``Strip``s) and draws only the visible ones. A
subclass hands it content with ``_show_content(content)``; the view renders it in a
thread worker (``_render``, which the subclass implements with ``_render_strips`` and
``_deliver``) at the view's width, and again when the width changes. A newer content,
a message or a new width cancels the render in progress: what a stale render still
delivers is dropped. Until there are lines, the view shows a placeholder message.

Used by ``PostBody`` (the post's body) and ``ComparePane`` (one side of a comparison).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import work
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

__all__ = [
    "LineView",
    "private_console",
    "render_safely",
    "render_strips",
    "RenderStopped",
    "set_virtual_size",
]


def private_console(width: int) -> Console:
    """A console of its own for a worker thread: nothing shared with the app's console."""
    return Console(
        file=io.StringIO(),
        width=width,
        color_system="truecolor",
        force_terminal=True,
        legacy_windows=False,
        emoji=False,
        markup=False,
    )


def render_safely(
    console: Console, options: ConsoleOptions, renderable: RenderableType
) -> list[list[Segment]]:
    """The lines of ``renderable``; one that cannot be rendered becomes a red
    ``[block not shown: <error>]`` line instead."""
    try:
        return console.render_lines(renderable, options, pad=False)
    except Exception as error:  # noqa: BLE001 - one odd block must not end the app
        return console.render_lines(
            Text(f"[block not shown: {error}]", style="red"), options, pad=False
        )


def set_virtual_size(view: ScrollView, size: Size) -> None:
    """Set a scroll view's virtual size without a layout of the screen when the view's own
    height does not depend on it. ``virtual_size`` is a layout reactive: each new post
    re-laid out the screen, and the extra passes repainted every scrollbar 50-300 ms after
    the key (the screen only settled then). The scrollbar and scroll limits are updated
    as Textual's layout would (``Widget._scroll_update``)."""
    if size == view.virtual_size:
        return
    if view.styles.height is not None and view.styles.height.is_auto:
        view.virtual_size = size
        return
    view.set_reactive(ScrollView.virtual_size, size)
    view._scroll_update(size)
    view.refresh()


class RenderStopped(Exception):
    """The render's worker was cancelled, or the app is shutting down: deliver no more."""


def render_strips(
    renderables: Iterable[RenderableType], width: int, stop: Callable[[], bool] = lambda: False
) -> Iterator[list[Strip]]:
    """The lines of each renderable in turn as strips ``width`` cells wide, on any thread
    (a console of its own); ``stop()`` is asked before each renderable."""
    console = private_console(width)
    options = console.options.update_width(width)
    for renderable in renderables:
        if stop():
            raise RenderStopped
        lines = render_safely(console, options, renderable)
        yield [Strip(line).adjust_cell_length(width) for line in lines]


class LineView(ScrollView, can_focus=True):
    # Side panes hide their scrollbar (a scrollbar repaints with every post: ~15% of a
    # key's UI time at 120x40) and say in the border how many lines are below instead.
    MORE_HINT: ClassVar[bool] = False

    """Scrollable lines rendered from Rich renderables in a worker thread."""

    DEFAULT_CSS = """
    LineView {
        padding: 0 1;
        overflow-x: hidden;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
    }
    """

    # The width rendered at: the content region's, else these.
    MIN_RENDER_WIDTH: ClassVar[int] = 10
    FALLBACK_RENDER_WIDTH: ClassVar[int] = 40

    def __init__(self, *, id: str | None = None, placeholder: str | None = None) -> None:
        super().__init__(id=id)
        self._content: Any = None
        self._lines: list[Strip] = []
        self._generation = 0
        self._rendered_width = 0
        self._base_style = Style()
        self.rendering = False
        self._placeholder = placeholder

    # -- public API -------------------------------------------------------------------

    def show_message(self, message: str) -> None:
        """Replace the content with a short message (nothing to show, loading, error)."""
        self._content = None
        self._generation += 1
        self.rendering = False
        self._placeholder = message
        self._set_lines([])

    def show_lines(self, content: Any, lines: list[Strip], width: int) -> None:
        """Show ``lines`` rendered ahead at ``width`` from ``content`` (a resize renders
        ``content`` again), scrolled to the top."""
        self._generation += 1  # a render in progress is stale now
        self._content = content
        self._placeholder = None
        self.rendering = False
        if width != self._render_width():
            self._start_render()
            return
        self._rendered_width = width
        self._set_lines(lines)
        self.scroll_to(0, 0, animate=False, immediate=True)

    @property
    def render_width(self) -> int:
        """The width content is rendered at now."""
        return self._render_width()

    @property
    def text(self) -> str:
        """The rendered lines as plain text, or the placeholder message when there are no
        lines (what a reader sees), for tests."""
        if not self._lines and self._placeholder:
            return self._placeholder
        return "\n".join(strip.text.rstrip() for strip in self._lines)

    # -- for subclasses ---------------------------------------------------------------

    def _show_content(self, content: Any) -> None:
        """Render ``content`` (in a worker, at the view's width)."""
        self._content = content
        self._placeholder = None
        self._start_render()

    def _render(self, generation: int, width: int, content: Any) -> None:
        """In the worker thread: render ``content`` at ``width`` (``_render_strips``) and
        hand the strips to the UI thread (``_deliver``)."""
        raise NotImplementedError

    def _render_strips(
        self, renderables: Iterable[RenderableType], width: int
    ) -> Iterator[list[Strip]]:
        """In the worker thread: the lines of each renderable in turn, as strips ``width``
        cells wide. Stops the render when the worker is cancelled."""
        worker = get_current_worker()
        yield from render_strips(renderables, width, lambda: worker.is_cancelled)

    def _deliver(self, generation: int, callback: Callable[..., None], *args: Any) -> None:
        """In the worker thread: run ``callback(*args)`` on the UI thread, unless a newer
        render has started since ``generation``. Stops the render when the app is
        shutting down."""
        try:
            self.app.call_from_thread(self._if_current, generation, callback, *args)
        except RuntimeError:  # app shutting down
            raise RenderStopped from None

    def _set_lines(self, lines: list[Strip]) -> None:
        self._lines = lines
        self._update_virtual_size()
        self.refresh()

    def _update_virtual_size(self) -> None:
        set_virtual_size(self, Size(self._rendered_width or self.size.width, len(self._lines)))
        self._show_more_hint()

    # -- rendering --------------------------------------------------------------------

    def _render_width(self) -> int:
        width = self.scrollable_content_region.width or self.size.width
        return max(self.MIN_RENDER_WIDTH, width or self.FALLBACK_RENDER_WIDTH)

    def _start_render(self) -> None:
        self._generation += 1
        if self._content is None:
            self._set_lines([])
            return
        width = self._render_width()
        self._rendered_width = width
        self.rendering = True
        self._render_lines(self._generation, width, self._content)

    # A fixed description: Textual would otherwise repr() the whole content on the UI thread.
    @work(thread=True, exclusive=True, group="line-render", description="render lines")
    def _render_lines(self, generation: int, width: int, content: Any) -> None:
        try:
            self._render(generation, width, content)
        except RenderStopped:
            pass

    def _if_current(self, generation: int, callback: Callable[..., None], *args: Any) -> None:
        if generation == self._generation:  # else a newer content or width took over
            callback(*args)

    def on_resize(self) -> None:
        if self._content is not None and self._render_width() != self._rendered_width:
            self._start_render()
        self._show_more_hint()

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base_style = self.rich_style  # once per repaint, not once per line
        return super().render_lines(crop)

    def _show_more_hint(self) -> None:
        if not self.MORE_HINT:
            return
        below = len(self._lines) - round(self.scroll_y) - self.scrollable_content_region.height
        hint = f"{below} more ↓" if below > 0 else ""
        if hint != (self.border_subtitle or ""):
            self.border_subtitle = hint

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._show_more_hint()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        base = self._base_style
        width = self.scrollable_content_region.width
        index = scroll_y + y
        if not self._lines and self._placeholder and y == 0:
            placeholder = Text(self._placeholder, style="dim italic")
            segments = list(placeholder.render(self.app.console, end=""))
            return Strip(segments).crop_extend(0, width, base)
        if index >= len(self._lines):
            return Strip.blank(width, base)
        strip = self._lines[index].crop_extend(scroll_x, scroll_x + width, base)
        return strip.apply_style(base)
