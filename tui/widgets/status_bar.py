"""The top line: queue progress, position in the list, view or filter and its count, tags.

``StatusBar`` holds that state as reactives; the review screen binds its own to them
(``data_bind``), so the bar follows the screen without being pushed. When the line is
too narrow, the filter text is cut first and the counts stay.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from storage import QueueProgress
from tui.text import clean_line


def status_text(
    progress: QueueProgress,
    query: str,
    total: int,
    position: int,
    tagged: int,
    view: str | None = None,
    *,
    compact: bool = False,
) -> tuple[Text, Text]:
    """(counts, filter): the counts are what a narrow line keeps (``compact``: shorter)."""
    counts = Text(no_wrap=True, overflow="ellipsis")
    counts.append(" copydesk ", style="bold #1e222a on #61afef")
    counts.append("  " if not compact else " ")
    reviewed = (
        f"reviewed {progress.reviewed:,}/{progress.needing:,}"
        if compact
        else f"reviewed {progress.reviewed:,} of {progress.needing:,} needing review"
    )
    counts.append(reviewed, style="bold")
    counts.append("  │  ", style="#5c6370")
    counts.append(f"{position:,}/{total:,}" if total else "0/0", style="bold #abb2bf")
    if view or query:
        counts.append(f"  {total:,} match{'' if total == 1 else 'es'}", style="#7f848e")
    else:
        counts.append("  all posts", style="#7f848e")
    if tagged:
        counts.append("  │  ", style="#5c6370")
        counts.append(f"{tagged:,} tagged", style="bold #c678dd")
    where = Text(no_wrap=True, overflow="ellipsis")
    if view:
        where.append("  view ", style="#7f848e")
        where.append(clean_line(view, max_chars=40), style="bold #61afef")
        if query:
            where.append(f"  {clean_line(query, max_chars=60)}", style="#e5c07b")
    elif query:
        where.append("  filter ", style="#7f848e")
        where.append(clean_line(query, max_chars=80), style="#e5c07b")
    return counts, where


class StatusBar(Static):
    """Progress and filter on the left; the help and quit keys on the right, always in view
    (the footer cuts its last keys on a narrow terminal)."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; }
    """

    progress: reactive[QueueProgress] = reactive(QueueProgress(0, 0), layout=False)
    query_text: reactive[str] = reactive("")
    view_name: reactive[str | None] = reactive(None)
    total: reactive[int] = reactive(0)
    position: reactive[int] = reactive(0)
    tagged: reactive[int] = reactive(0)
    flash: reactive[str] = reactive("")  # what the last key did, until the next key
    keys_hint: reactive[str] = reactive("")
    background_work: reactive[str] = reactive("")  # e.g. import phase 2's progress

    def render_status(self, compact: bool = False) -> tuple[Text, Text]:
        counts, where = status_text(
            self.progress,
            self.query_text,
            self.total,
            self.position,
            self.tagged,
            self.view_name,
            compact=compact,
        )
        if self.flash:
            # Shown in the frame of the key itself: a toast is a widget mounted and laid
            # out in a frame of its own, and would vanish later while the next key is timed.
            where = Text.assemble(("  │  ", "#5c6370"), (clean_line(self.flash), "bold #98c379"))
        if self.background_work:
            where = Text.assemble(
                where, ("  │  ", "#5c6370"), (clean_line(self.background_work), "italic #e5c07b")
            )
        return counts, where

    @property
    def text(self) -> Text:
        """The line as plain-ish Text (for tests)."""
        counts, where = self.render_status()
        return Text.assemble(counts, where, " ", self.keys_hint)

    def render(self) -> Table:
        counts, where = self.render_status()
        if counts.cell_len + len(self.keys_hint) + 2 > self.size.width:
            counts, where = self.render_status(compact=True)  # the keys hint stays whole
        grid = Table.grid(expand=True)
        grid.add_column(no_wrap=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(justify="right", no_wrap=True)
        grid.add_row(counts, where, Text(self.keys_hint, style="#7f848e", no_wrap=True))
        return grid
