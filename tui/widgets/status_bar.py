"""The top line: progress (`reviewed X of Y needing review`), filter, counts, tags."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.text import clean_line


def status_text(
    reviewed: int,
    needing: int,
    query: str,
    shown: int,
    total: int,
    tagged: int,
    view: str | None = None,
) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(" copydesk ", style="bold #1e222a on #61afef")
    text.append("  ")
    text.append(f"reviewed {reviewed} of {needing} needing review", style="bold")
    text.append("  │  ", style="#5c6370")
    if view:
        text.append("view ", style="#7f848e")
        text.append(clean_line(view, max_chars=40), style="bold #61afef")
        if query:
            text.append(f"  {clean_line(query, max_chars=60)}", style="#e5c07b")
        text.append(f"  {total:,} match", style="#7f848e")
    elif query:
        text.append("filter ", style="#7f848e")
        text.append(clean_line(query, max_chars=80), style="#e5c07b")
        text.append(f"  {total:,} match", style="#7f848e")
    else:
        text.append(f"all posts ({total:,})", style="#7f848e")
    if tagged:
        text.append("  │  ", style="#5c6370")
        text.append(f"{tagged} tagged", style="bold #c678dd")
    return text


class StatusBar(Static):
    """Progress and filter on the left; the help and quit keys on the right, always in view
    (the footer cuts its last keys on a narrow terminal)."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; }
    """

    text: Text = Text("")
    keys_hint: Text = Text("")

    def set_keys_hint(self, hint: str) -> None:
        self.keys_hint = Text(hint, style="#7f848e", no_wrap=True)
        self._show()

    def update_status(self, **fields: object) -> None:
        """``status_text``'s arguments by name: reviewed, needing, query, shown, ..."""
        self.text = status_text(**fields)  # type: ignore[arg-type]
        self._show()

    def _show(self) -> None:
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(justify="right", no_wrap=True)
        grid.add_row(self.text, self.keys_hint)
        self.update(grid)
