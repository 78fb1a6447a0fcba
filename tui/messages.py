"""Messages that widgets send up to the review screen.

Widgets never call the store; they say what the reviewer did, and the screen acts on
it (screens reach the store only through ``tui.gateway.StoreGateway``).
"""

from __future__ import annotations

from textual.message import Message


class PostHighlighted(Message):
    """The list cursor is on another post (``post_id`` is None for an empty list)."""

    def __init__(self, post_id: str | None, index: int) -> None:
        super().__init__()
        self.post_id = post_id
        self.index = index


class PostOpened(Message):
    """Enter on a list row: the reviewer wants to read the post."""

    def __init__(self, post_id: str) -> None:
        super().__init__()
        self.post_id = post_id


class MoreRowsWanted(Message):
    """The list cursor reached the end of the loaded window and more posts exist
    (``everything``: the reviewer asked for the last row: load every row, go there)."""

    def __init__(self, loaded: int, *, everything: bool = False) -> None:
        super().__init__()
        self.loaded = loaded
        self.everything = everything


class TagsChanged(Message):
    """Posts were tagged or untagged; ``count`` are tagged now."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count


class SimilarChosen(Message):
    """Enter on a row of the Similar pane: jump to that post."""

    def __init__(self, post_id: str) -> None:
        super().__init__()
        self.post_id = post_id


class SearchChanged(Message):
    """The search box text changed (sent on every keystroke)."""

    def __init__(self, query: str) -> None:
        super().__init__()
        self.query = query


class SearchSubmitted(Message):
    """Enter in the search box: go to the list."""

    def __init__(self, query: str) -> None:
        super().__init__()
        self.query = query


class SearchCleared(Message):
    """Escape in the search box: the filter is gone, show every post."""


class PostPrepared(Message):
    """The preparer has read and rendered the post the cursor is on (sent from its thread);
    ``error`` is set when the post could not be read."""

    def __init__(self, post_id: str, error: Exception | None = None) -> None:
        super().__init__()
        self.post_id = post_id
        self.error = error
