"""Every key binding, generated from the binding tables with the keymap applied."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.keymap import CLOSE_BINDINGS, HELP_BINDINGS, BoundKey

# Below this width the id goes under the description instead of in its own column, so
# that the description keeps room to be read.
ID_COLUMN_WIDTH = 110


def bindings_table(
    bound: Sequence[BoundKey], key_display: Callable[[str], str], width: int = 120
) -> Table:
    wide = width >= ID_COLUMN_WIDTH
    table = Table(box=None, padding=(0, 1 if not wide else 2), expand=True, show_edge=False)
    table.add_column("keys", style="bold #e5c07b", max_width=18 if not wide else None)
    table.add_column("action", no_wrap=True, max_width=16 if not wide else None)
    table.add_column("what it does", style="#abb2bf", ratio=1, min_width=24)
    if wide:
        table.add_column("id", style="#5c6370", no_wrap=True)
    blank = ("",) * (4 if wide else 3)
    group = None
    for item in bound:
        if item.group != group:
            if group is not None:
                table.add_row(*blank)
            group = item.group
            table.add_row(Text(group, style="bold #61afef underline"), *blank[1:])
        keys = ", ".join(key_display(key) for key in item.keys) or "(unbound)"
        if wide:
            table.add_row(
                Text(keys), Text(item.description), Text(item.tooltip), Text(item.binding_id)
            )
        else:
            what = Text(item.tooltip)
            what.append(f"  {item.binding_id}", style="#5c6370")
            table.add_row(Text(keys), Text(item.description), what)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [*CLOSE_BINDINGS, *HELP_BINDINGS]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 95%; max-width: 120; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, bound: Sequence[BoundKey], keymap_note: str = "") -> None:
        super().__init__()
        self._bound = list(bound)
        self._keymap_note = keymap_note
        self.table: Table | None = None

    def compose(self):
        with VerticalScroll(id="help-scroll"):
            self.table = bindings_table(self._bound, self._key_display, self.app.size.width)
            yield Static(self.table, id="help-table")
            if self._keymap_note:
                yield Static(Text(self._keymap_note, style="dim"), id="help-keymap-note")

    def _key_display(self, key: str) -> str:
        return self.app.get_key_display(Binding(key, ""))

    def on_mount(self) -> None:
        scroll = self.query_one("#help-scroll")
        scroll.border_title = "Keys"
        scroll.border_subtitle = "esc or q closes"
        scroll.focus()

    def action_close(self) -> None:
        self.dismiss(None)
