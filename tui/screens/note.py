"""Modal editor for a post's review note: ctrl+s saves, escape cancels (after a confirm
when the text was changed: typed text is never thrown away by one key)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from tui.keymap import NOTE_BINDINGS, keys_for
from tui.screens.confirm import ConfirmScreen
from tui.text import clean_line


class NoteScreen(ModalScreen[str | None]):
    """Dismisses with the note text on save, or None on cancel."""

    BINDINGS: ClassVar = NOTE_BINDINGS

    DEFAULT_CSS = """
    NoteScreen { align: center middle; }
    NoteScreen > #note-dialog {
        width: 80%; max-width: 90; height: auto; max-height: 80%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    NoteScreen #note-title { height: auto; max-height: 2; text-style: bold; }
    NoteScreen #note-text { height: 10; }
    NoteScreen #note-help { color: $text-muted; }
    """

    def __init__(self, post_title: str, note: str) -> None:
        super().__init__()
        self._post_title = post_title
        self._note = note

    def compose(self):
        with Vertical(id="note-dialog"):
            yield Static(Text("Note on: ") + Text(clean_line(self._post_title)), id="note-title")
            yield TextArea(self._note, id="note-text", soft_wrap=True, tab_behavior="focus")
            yield Static(self._help_text(), id="note-help")

    def _help_text(self) -> Text:
        keymap = self.app.keymap_overrides  # type: ignore[attr-defined]

        def keys(binding_id: str) -> str:
            bound = keys_for(binding_id, keymap)
            return " / ".join(self.app.get_key_display(Binding(key, "")) for key in bound)

        return Text(f"{keys('save_note')} save · {keys('cancel_note')} cancel")

    def on_mount(self) -> None:
        self.query_one("#note-dialog").border_title = "Review note"
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    @property
    def text_area(self) -> TextArea:
        return self.query_one(TextArea)

    def action_save_note(self) -> None:
        self.dismiss(self.text_area.text)

    def action_cancel_note(self) -> None:
        if self.text_area.text == self._note:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)
            else:
                self.text_area.focus()

        self.app.push_screen(ConfirmScreen("Discard the changes to this note?"), answered)
