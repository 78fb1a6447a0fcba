"""The search box above the list, with the query error shown under it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import Input, Static

from tui.keymap import SEARCH_BINDINGS
from tui.messages import SearchChanged, SearchCleared, SearchSubmitted
from tui.text import clean_line


class SearchBox(Vertical):
    """Sends ``SearchChanged`` on each keystroke, ``SearchSubmitted`` on enter and
    ``SearchCleared`` on escape."""

    BINDINGS: ClassVar = SEARCH_BINDINGS

    DEFAULT_CSS = """
    SearchBox { height: auto; }
    SearchBox > Input { border: none; height: 1; padding: 0 1; }
    SearchBox > Input:focus { border: none; background: $boost; }
    SearchBox > #search-error { color: $error; height: auto; max-height: 3; padding: 0 1;
                                display: none; }
    SearchBox.-error > #search-error { display: block; }
    """

    error_text = ""

    def compose(self):
        yield Input(
            placeholder="/ search, e.g. stack:php",
            id="search-input",
            select_on_focus=False,
            compact=True,
        )
        yield Static(id="search-error")

    @property
    def input(self) -> Input:
        return self.query_one("#search-input", Input)

    @property
    def value(self) -> str:
        return self.input.value

    def focus_input(self) -> None:
        # At once, not through Widget.focus() (which waits a turn of the message loop): keys
        # typed right after "/" (a fast typist, a paste) must land in the box, never as
        # review keys ("/stack" would otherwise approve a post with its "a").
        self.screen.set_focus(self.input)

    def set_quietly(self, text: str) -> None:
        """Put ``text`` in the box without it counting as typing (a view, back/forward)."""
        with self.input.prevent(Input.Changed):
            self.input.value = text
        self.show_error(None)

    def show_error(self, message: str | None) -> None:
        """Show a query error under the box (None hides it). Nothing happens when it is
        shown already: an update lays the screen out again (on every keystroke)."""
        text = clean_line(message or "")
        if text == self.error_text:
            return
        self.set_class(bool(message), "-error")
        self.error_text = text
        self.query_one("#search-error", Static).update(Text(text))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(SearchChanged(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(SearchSubmitted(event.value))

    def action_clear_search(self) -> None:
        with self.input.prevent(Input.Changed):
            self.input.value = ""
        self.show_error(None)
        self.post_message(SearchCleared())
