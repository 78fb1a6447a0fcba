"""``KeyList``: an ``OptionList`` that moves with the app's list keys (``LIST_BINDINGS``).

Every list of the app (posts, views, conflicts, clusters, similar) takes the same movement
keys, remapped in one place (``keymap.toml`` ids ``list_down``, ``list_up``, ...).
"""

from __future__ import annotations

from typing import ClassVar

from textual.widgets import OptionList

from tui.keymap import LIST_BINDINGS


class KeyList(OptionList):
    BINDINGS: ClassVar = [*OptionList.BINDINGS, *LIST_BINDINGS]


class ScreenEnterList(KeyList):
    """A ``KeyList`` that leaves ``enter`` to a binding of its screen, so the key acts once
    and the screen's footer shows it. A mouse click still selects (``OptionSelected``)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "select":
            return False
        return super().check_action(action, parameters)
