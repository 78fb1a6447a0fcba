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

from tui.keymap import HELP_BINDINGS, BoundKey


def bindings_table(bound: Sequence[BoundKey], key_display: Callable[[str], str]) -> Table:
    table = Table(box=None, padding=(0, 2), expand=True, show_edge=False)
    table.add_column("keys", style="bold #e5c07b", no_wrap=True)
    table.add_column("action", no_wrap=True)
    table.add_column("what it does", style="#abb2bf", ratio=1)
    table.add_column("id", style="#5c6370", no_wrap=True)
    group = None
    for item in bound:
        if item.group != group:
            if group is not None:
                table.add_row("", "", "", "")
            group = item.group
            table.add_row(Text(group, style="bold #61afef underline"), "", "", "")
        keys = ", ".join(key_display(key) for key in item.keys) or "(unbound)"
        table.add_row(Text(keys), Text(item.description), Text(item.tooltip), Text(item.binding_id))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar = HELP_BINDINGS

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
            self.table = bindings_table(self._bound, self._key_display)
            yield Static(self.table, id="help-table")
            if self._keymap_note:
                yield Static(Text(self._keymap_note, style="dim"), id="help-keymap-note")

    def _key_display(self, key: str) -> str:
        return self.app.get_key_display(Binding(key, ""))

    def on_mount(self) -> None:
        scroll = self.query_one("#help-scroll")
        scroll.border_title = "Keys"
        scroll.border_subtitle = "esc closes"
        scroll.focus()

    def action_close_help(self) -> None:
        self.dismiss(None)
