"""The top line: progress (`reviewed X of Y needing review`), filter, counts, tags."""

from __future__ import annotations

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
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; }
    """

    text: Text = Text("")

    def update_status(
        self,
        *,
        reviewed: int,
        needing: int,
        query: str,
        shown: int,
        total: int,
        tagged: int,
        view: str | None = None,
    ) -> None:
        self.text = status_text(reviewed, needing, query, shown, total, tagged, view)
        self.update(self.text)
