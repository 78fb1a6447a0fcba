"""Command palette (ctrl+p): the same actions as the keys, found by name."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from tui.keymap import BoundKey, effective_bindings
from tui.screens.views import ViewEntry, entry_count
from tui.text import clean_line

# Groups whose actions make sense from the palette, and where they run.
PALETTE_GROUPS = {"Review": "screen", "Review panes": "panes", "Application": "app"}
NOT_IN_PALETTE = {"command_palette"}


class NamedCommands(Provider):
    """A provider whose commands are what ``_commands()`` yields: (name, help, callback).

    The palette lists them all when empty (``discover``) and the names that match what is
    typed (``search``); help is read as Textual markup, so ``_commands`` escapes it.
    """

    @abstractmethod
    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        """Each command as (name, help text, callback)."""

    async def discover(self) -> Hits:
        for name, help_text, command in self._commands():
            yield DiscoveryHit(name, command, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, command in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, text=name, help=help_text)


class CopydeskCommands(NamedCommands):
    """Every review and application binding, with its current keys as help."""

    def _commands(self) -> Iterator[tuple[str, str, partial]]:
        from tui.screens.review import ReviewScreen
        from tui.widgets.review_layout import ReviewLayout

        screen = self.screen
        on_review = isinstance(screen, ReviewScreen)
        for bound in effective_bindings(self.app.keymap_overrides):  # type: ignore[attr-defined]
            where = PALETTE_GROUPS.get(bound.group)
            if where is None or bound.binding_id in NOT_IN_PALETTE:
                continue
            if where != "app" and not on_review:
                continue
            target = (
                self.app
                if where == "app"
                else screen.query_one(ReviewLayout)
                if where == "panes"
                else screen
            )
            yield bound.description, self._help(bound), partial(target.run_action, bound.action)

    def _help(self, bound: BoundKey) -> str:
        keys = ", ".join(self.app.get_key_display(Binding(key, "")) for key in bound.keys)
        # The palette reads help as Textual markup; a remapped key may be "[" or "/".
        return escape(f"{bound.tooltip} · key {keys}" if keys else bound.tooltip)


class ViewCommands(NamedCommands):
    """``View: Needs review (3)`` and the rest: every view of the views list, by name."""

    _entries: list[ViewEntry] = []  # noqa: RUF012 - replaced (never mutated) in startup

    async def startup(self) -> None:
        from tui.screens.views import count_views

        try:
            self._entries = await self.app.gateway.call(count_views)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - the palette still works without views
            self._entries = []

    def _commands(self) -> Iterator[tuple[str, str, partial]]:
        from tui.screens.review import ReviewScreen

        screen = self.screen
        if not isinstance(screen, ReviewScreen):
            return
        for entry in self._entries:
            choice = entry.choice
            count = entry_count(entry)
            name = f"View: {clean_line(choice.name, max_chars=60)}" + (
                f" ({count})" if count else ""
            )
            detail = clean_line(choice.query) if choice.query else ""
            help_text = escape(f"Show {detail}" if detail else "Open this view")
            yield name, help_text, partial(screen.open_view_choice, choice)
