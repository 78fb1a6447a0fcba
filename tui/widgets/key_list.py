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
