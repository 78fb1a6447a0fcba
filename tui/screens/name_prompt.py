"""A one-line name prompt (saving a view): enter saves, esc cancels, errors show inline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.keymap import NAME_BINDINGS
from tui.text import clean_line


class NamePromptScreen(ModalScreen[str | None]):
    """``NamePromptScreen(title, detail, submit)``: ``await submit(name)`` returns an error
    message (the prompt stays open and shows it) or None (the prompt closes with the name).
    """

    BINDINGS: ClassVar = NAME_BINDINGS

    DEFAULT_CSS = """
    NamePromptScreen { align: center middle; }
    NamePromptScreen > #name-dialog {
        width: 70; max-width: 95%; height: auto;
        border: round $accent; background: $surface; padding: 0 1;
    }
    NamePromptScreen #name-detail { color: $text-muted; margin-bottom: 1; }
    NamePromptScreen #name-input { border: none; height: 1; padding: 0 1; background: $boost; }
    NamePromptScreen #name-error { color: $error; height: auto; }
    NamePromptScreen #name-help { color: $text-muted; margin-top: 1; }
    """

    def __init__(
        self,
        title: str,
        detail: str,
        submit: Callable[[str], Awaitable[str | None]],
        *,
        value: str = "",
        placeholder: str = "name",
    ) -> None:
        super().__init__()
        self._title = title
        self._detail = detail
        self._submit = submit
        self._value = value
        self._placeholder = placeholder

    def compose(self):
        with Vertical(id="name-dialog"):
            yield Static(Text(clean_line(self._detail, max_chars=300)), id="name-detail")
            yield Input(
                value=self._value, placeholder=self._placeholder, id="name-input", max_length=60
            )
            yield Static("", id="name-error")
            yield Static(Text("enter: save · esc: cancel"), id="name-help")

    def on_mount(self) -> None:
        self.query_one("#name-dialog").border_title = Text(self._title)
        self.query_one(Input).focus()

    @property
    def error_text(self) -> str:
        return str(self.query_one("#name-error", Static).content)

    @on(Input.Submitted, "#name-input")
    async def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.value.strip()
        if not name:
            self._show_error("type a name first")
            return
        error = await self._submit(name)
        if error:
            self._show_error(error)
            return
        self.dismiss(name)

    def _show_error(self, message: str) -> None:
        self.query_one("#name-error", Static).update(Text(clean_line(message, max_chars=300)))

    def action_cancel_name(self) -> None:
        self.dismiss(None)
