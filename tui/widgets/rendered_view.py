"""A scrollable view of one Rich renderable, rendered once per width into lines.

Rich tables inside a ``Static`` are measured and rendered again on every layout
pass; the meta and flags panes change on every cursor move, so they render
their content once here (per content and width) and only draw visible lines.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.widgets.line_view import set_virtual_size


class RenderedView(ScrollView, can_focus=True):
    # Side panes hide their scrollbar (a scrollbar repaints with every post: ~15% of a
    # key's UI time at 120x40) and say in the border how many lines are below instead.
    MORE_HINT: ClassVar[bool] = False

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
        self._base_style = Style()

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
        set_virtual_size(self, Size(width, len(self._lines)))
        self.refresh()
        self._show_more_hint()

    def on_resize(self) -> None:
        if self._width() != self._rendered_width:
            self._render_now()
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
        if index >= len(self._lines):
            return Strip.blank(width, base)
        strip = self._lines[index].crop_extend(scroll_x, scroll_x + width, base)
        return strip.apply_style(base)
