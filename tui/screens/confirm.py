"""Yes/no modal: before a bulk decision, replacing a file, discarding a note."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.keymap import CONFIRM_BINDINGS, keys_for


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS: ClassVar = CONFIRM_BINDINGS

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > #confirm-dialog {
        width: 60; max-width: 90%; height: auto;
        border: round $warning; background: $surface; padding: 1 2;
    }
    ConfirmScreen #confirm-dialog > Static { width: 100%; height: auto; }
    ConfirmScreen #confirm-help { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self):
        with Vertical(id="confirm-dialog"):
            yield Static(Text(self._question, style="bold"), id="confirm-question")
            yield Static(
                Text(f"{self._keys('confirm')}: yes   {self._keys('cancel')}: no"),
                id="confirm-help",
            )

    def _keys(self, binding_id: str) -> str:
        keymap = self.app.keymap_overrides  # type: ignore[attr-defined]
        keys = keys_for(binding_id, keymap)
        return " / ".join(self.app.get_key_display(Binding(key, "")) for key in keys)

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
