"""Helpers shared by the TUI tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import io

from rich.console import Console
from textual.app import App

# A title that is Rich markup, a link to a local file and terminal escapes (an OSC title
# sequence, colours): it must show literally, and nothing of it reach the terminal.
HOSTILE_TITLE = (
    "fixing [/] closing tags [link=file:///etc/passwd]x[/link] [bold red]x[/bold red]"
    "\x1b]0;PWNED-TITLE\x07 \x1b[31mred\x1b[0m"
)


class Host(App[None]):
    """Pushes one screen and records what it dismisses with."""

    def __init__(self, make_screen) -> None:
        super().__init__()
        self._make_screen = make_screen
        self.results: list = []

    def on_mount(self) -> None:
        self.push_screen(self._make_screen(), callback=self.results.append)


def plain(renderable, width: int = 200) -> str:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def flat(text: str) -> str:
    """Text with wrapping undone (runs of whitespace become one space)."""
    return " ".join(text.split())


def static_text(widget) -> str:
    return plain(widget.renderable)
