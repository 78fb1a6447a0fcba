"""Helpers shared by the TUI tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import io

from rich.console import Console
from textual.app import App

from tui.gateway import StoreGateway

# A title that is Rich markup, a link to a local file and terminal escapes (an OSC title
# sequence, colours): it must show literally, and nothing of it reach the terminal.
HOSTILE_TITLE = (
    "fixing [/] closing tags [link=file:///etc/passwd]x[/link] [bold red]x[/bold red]"
    "\x1b]0;PWNED-TITLE\x07 \x1b[31mred\x1b[0m"
)


class Host(App[None]):
    """Pushes one screen and records what it dismisses with. With a ``store``, the app
    has a gateway to it, and ``make_screen`` is called with the gateway."""

    def __init__(self, make_screen, *, store=None) -> None:
        super().__init__()
        self._make_screen = make_screen
        self.results: list = []
        self.keymap_overrides: dict[str, str] = {}
        self.gateway = StoreGateway(store) if store is not None else None

    def on_mount(self) -> None:
        screen = self._make_screen(self.gateway) if self.gateway else self._make_screen()
        self.push_screen(screen, callback=self.results.append)

    def on_unmount(self) -> None:
        if self.gateway is not None:
            self.gateway.close()


def plain(renderable, width: int = 200) -> str:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def flat(text: str) -> str:
    """Text with wrapping undone (runs of whitespace become one space)."""
    return " ".join(text.split())


def static_text(widget) -> str:
    """What a widget shows: the rendered lines of a line view, else its renderable."""
    text = getattr(widget, "text", None)
    if isinstance(text, str):
        return text
    renderable = getattr(widget, "renderable", None)
    return plain(renderable if renderable is not None else widget.content)
