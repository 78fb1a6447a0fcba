"""The copydesk Textual app: ``create_app(store)`` and ``run_app(store)``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

from textual.app import App

from storage import ReviewStore, StoreError
from tui.commands import CopydeskCommands, ViewCommands
from tui.gateway import StoreGateway
from tui.keymap import (
    APP_BINDINGS,
    KEYMAP_FILE,
    default_config_dir,
    effective_bindings,
    load_keymap,
)
from tui.screens.help import HelpScreen
from tui.screens.review import ReviewScreen
from tui.text import clean_name


class CopydeskApp(App[None]):
    """Review generated posts by keyboard. The store is owned by the caller; the app
    reaches it only through its ``gateway`` (one store thread)."""

    CSS_PATH = "copydesk.tcss"
    TITLE = "copydesk"
    BINDINGS: ClassVar = APP_BINDINGS
    COMMANDS = App.COMMANDS | {CopydeskCommands, ViewCommands}
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, store: ReviewStore, *, config_dir: Path | None = None) -> None:
        super().__init__()
        self.gateway = StoreGateway(store)
        self.config_dir = Path(config_dir) if config_dir is not None else default_config_dir()
        self.keymap_overrides: dict[str, str] = {}
        self.keymap_problems: list[str] = []

    @property
    def keymap_path(self) -> Path:
        return self.config_dir / KEYMAP_FILE

    def on_mount(self) -> None:
        self.load_keymap_file()
        self.push_screen(ReviewScreen(self.gateway))

    def on_unmount(self) -> None:
        self.gateway.close()

    def load_keymap_file(self) -> None:
        """Apply ``keymap.toml``; problems are a notification, never a crash."""
        loaded = load_keymap(self.config_dir)
        self.keymap_overrides = loaded.keymap
        self.keymap_problems = loaded.problems
        self.set_keymap(loaded.keymap)
        if loaded.problems:
            self.notify(
                "\n".join(loaded.problems[:6]),
                title=f"keymap: {self.keymap_path}",
                severity="warning",
                timeout=12,
                markup=False,
            )

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        note = f'Remap any key by id in {self.keymap_path}, e.g.  approve = "y"  under [keys]'
        self.push_screen(HelpScreen(effective_bindings(self.keymap_overrides), note))


def create_app(store: ReviewStore, *, config_dir: Path | None = None) -> CopydeskApp:
    """The app over an open store; ``config_dir`` holds ``keymap.toml``."""
    return CopydeskApp(store, config_dir=config_dir)


def run_app(store: ReviewStore, *, config_dir: Path | None = None) -> None:
    """Run the review TUI until the reviewer quits (decisions are saved as they are made;
    on a team store, quitting gives back the reviewer's claims)."""
    from tui.team import release_all

    try:
        create_app(store, config_dir=config_dir).run()
    finally:
        try:
            release_all(store)
        except StoreError as exc:  # the server is gone: the claims end with their lease
            print(
                f"copydesk: claims not given back ({clean_name(str(exc))}); they end "
                "with their lease",
                file=sys.stderr,
            )
