"""A scrollable view of one Rich renderable, rendered once per width into lines.

Rich tables inside a ``Static`` are measured and rendered again on every layout
pass; the meta and flags panes change on every cursor move, so they render
their content once here (per content and width) and only draw visible lines.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class RenderedView(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    RenderedView {
        padding: 0 1;
        overflow-x: hidden;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.renderable: RenderableType = Text("")
        self._lines: list[Strip] = []
        self._rendered_width = 0

    def show(self, renderable: RenderableType) -> None:
        """Replace the content and scroll back to the top."""
        self.renderable = renderable
        self._rendered_width = 0
        self._render_now()
        self.scroll_to(0, 0, animate=False, immediate=True)

    @property
    def text(self) -> str:
        return "\n".join(strip.text.rstrip() for strip in self._lines)

    def _width(self) -> int:
        return max(10, self.scrollable_content_region.width or self.size.width or 40)

    def _render_now(self) -> None:
        width = self._width()
        console = self.app.console
        options = console.options.update_width(width)
        lines = console.render_lines(self.renderable, options, pad=False)
        self._lines = [Strip(line).adjust_cell_length(width) for line in lines]
        self._rendered_width = width
        old_height = self.virtual_size.height
        self.virtual_size = Size(width, len(self._lines))
        # Only an auto-height pane needs a new layout when its line count changes.
        self.refresh(layout=old_height != len(self._lines) and self.styles.height.is_auto)

    def on_resize(self) -> None:
        if self._width() != self._rendered_width:
            self._render_now()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        strip = self._lines[index].crop_extend(scroll_x, scroll_x + width, self.rich_style)
        return strip.apply_style(self.rich_style)
