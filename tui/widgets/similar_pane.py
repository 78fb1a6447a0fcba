"""Posts most like the current one (right, bottom pane, titled "Similar")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from storage import SimilarPost
from tui.keymap import SIMILAR_BINDINGS
from tui.messages import SimilarChosen
from tui.text import clean_line
from tui.widgets.key_list import KeyList


def similar_prompt(item: SimilarPost) -> Text:
    score = item.score
    colour = "#98c379" if score >= 80 else "#e5c07b"
    text = Text.assemble((f"{score:>3}", f"bold {colour}"), " ", clean_line(item.title))
    reasons = item.reasons
    if reasons:
        text.append("\n    ")
        text.append(clean_line(", ".join(str(reason) for reason in reasons)), style="dim")
    return text


class SimilarPane(KeyList):
    """Enter on a row sends ``SimilarChosen`` with that post's id."""

    BINDINGS: ClassVar = [*KeyList.BINDINGS, *SIMILAR_BINDINGS]

    DEFAULT_CSS = """
    SimilarPane { scrollbar-size-vertical: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    _items: Sequence[SimilarPost] = ()

    def show_similar(self, items: Sequence[SimilarPost]) -> None:
        self._items = tuple(items)
        if not items:
            self.set_options([Option(Text("no similar posts", style="dim italic"), disabled=True)])
            return
        self.set_options(Option(similar_prompt(item), id=item.id) for item in items)
        self.highlighted = 0

    def show_message(self, message: str) -> None:
        """A short note instead of similar posts: loading, no post."""
        self._items = ()
        self.set_options([Option(Text(message, style="dim italic"), disabled=True)])

    @property
    def highlighted_item(self) -> SimilarPost | None:
        """The similar post under the cursor, else the top one (None when there is none)."""
        if not self._items:
            return None
        index = self.highlighted if self.highlighted is not None else 0
        return self._items[min(index, len(self._items) - 1)]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(SimilarChosen(event.option.id))
