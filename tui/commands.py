"""Command palette (ctrl+p): the same actions as the keys, found by name."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from tui.keymap import BoundKey, effective_bindings

# Groups whose actions make sense from the palette, and where they run.
PALETTE_GROUPS = {"Review": "screen", "Application": "app"}
NOT_IN_PALETTE = {"command_palette"}


class CopydeskCommands(Provider):
    """Every review and application binding, with its current keys as help."""

    def _commands(self) -> Iterator[tuple[str, str, partial]]:
        from tui.screens.review import ReviewScreen

        on_review = isinstance(self.screen, ReviewScreen)
        keymap = getattr(self.app, "keymap_overrides", {})
        for bound in effective_bindings(keymap):
            where = PALETTE_GROUPS.get(bound.group)
            if where is None or bound.binding_id in NOT_IN_PALETTE:
                continue
            if where == "screen" and not on_review:
                continue
            target = self.screen if where == "screen" else self.app
            yield bound.description, self._help(bound), partial(target.run_action, bound.action)

    def _help(self, bound: BoundKey) -> str:
        keys = ", ".join(self.app.get_key_display(Binding(key, "")) for key in bound.keys)
        # The palette reads help as Textual markup; a remapped key may be "[" or "/".
        return escape(f"{bound.tooltip} · key {keys}" if keys else bound.tooltip)

    async def discover(self) -> Hits:
        for name, help_text, command in self._commands():
            yield DiscoveryHit(name, command, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, command in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, text=name, help=help_text)
