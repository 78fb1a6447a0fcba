"""The queue of posts (left pane).

A line-API widget over a sequence of post summaries: it draws only the rows
on screen, so 100,000 rows cost no more than 40. Each row takes two lines: the
title, then (dim) the stack part of its topic and the reference, because
generated titles share long prefixes and a truncated title alone does not tell
posts apart. The screen loads a capped
window of rows from the store and asks for more when the cursor reaches the
end (``MoreRowsWanted``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.keymap import POST_LIST_BINDINGS
from tui.messages import MoreRowsWanted, PostHighlighted, PostOpened
from tui.text import clean_line

STATUS_MARKS = {
    "pending": ("·", "post-list--pending"),
    "approved": ("✓", "post-list--approved"),
    "rejected": ("✗", "post-list--rejected"),
    "changes_requested": ("✎", "post-list--changes"),
}


ROW_HEIGHT = 2  # lines per row: title, then topic tail and reference


def topic_tail(topic: str) -> str:
    """The part of a topic that differs between posts: ``jobs / php`` -> ``php``."""
    return topic.rsplit(" / ", 1)[-1].strip() if topic else ""


class PostList(ScrollView, can_focus=True):
    """Rows: tag mark, status mark, title, then markers (! needs review, ⚑ hints, Δ changed);
    under it the stack part of the topic and the reference."""

    BINDINGS: ClassVar = POST_LIST_BINDINGS

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "post-list--cursor",
        "post-list--pending",
        "post-list--approved",
        "post-list--rejected",
        "post-list--changes",
        "post-list--tag",
        "post-list--marker",
        "post-list--more",
        "post-list--detail",
    }

    DEFAULT_CSS = """
    PostList {
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    PostList > .post-list--cursor { background: $secondary 40%; }
    PostList:focus > .post-list--cursor { background: $accent 60%; text-style: bold; }
    PostList > .post-list--pending { color: $text-muted; }
    PostList > .post-list--approved { color: $success; }
    PostList > .post-list--rejected { color: $error; }
    PostList > .post-list--changes { color: $warning; }
    PostList > .post-list--tag { color: $accent; text-style: bold; }
    PostList > .post-list--marker { color: $warning; }
    PostList > .post-list--more { color: $text-muted; text-style: italic; }
    PostList > .post-list--detail { color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: Sequence[Any] = ()
        self._index_by_id: dict[str, int] = {}
        self._status_overrides: dict[str, str] = {}
        self._tagged: dict[str, None] = {}  # insertion-ordered set
        self.total = 0
        self.cursor = 0
        self._last_highlighted: str | None = None
        self._more_requested_at = -1
        # post id -> a note for the row's second line (a team store: who holds it), or None
        self.row_note: Callable[[str], str | None] | None = None

    # -- data ---------------------------------------------------------------------------

    def set_rows(
        self,
        rows: Sequence[Any],
        total: int,
        *,
        select_id: str | None = None,
        select_index: int | None = None,
    ) -> None:
        """Replace the rows; keep the cursor on ``select_id`` when it is among them."""
        self._rows = rows
        self._index_by_id = {row.id: index for index, row in enumerate(rows)}
        self._status_overrides.clear()
        self.total = max(total, len(rows))
        if select_id is not None and select_id in self._index_by_id:
            cursor = self._index_by_id[select_id]
        elif select_index is not None:
            cursor = select_index
        else:
            cursor = self.cursor
        self._update_virtual_size()
        self.move_to(cursor, force_message=True)

    @property
    def rows(self) -> Sequence[Any]:
        return self._rows

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def highlighted(self) -> Any | None:
        if 0 <= self.cursor < len(self._rows):
            return self._rows[self.cursor]
        return None

    @property
    def highlighted_id(self) -> str | None:
        row = self.highlighted
        return row.id if row is not None else None

    def index_of(self, post_id: str) -> int | None:
        return self._index_by_id.get(post_id)

    def status_of(self, row: Any) -> str:
        return self._status_overrides.get(row.id, row.status)

    def set_status(self, post_id: str, status: str) -> None:
        """Show a decision made in this session without reloading (rows keep their place)."""
        self._status_overrides[post_id] = status
        self.refresh()

    def next_pending_index(self, after: int) -> int | None:
        """The first pending row after ``after``, wrapping around; None when none is pending."""
        count = len(self._rows)
        for step in range(1, count + 1):
            index = (after + step) % count
            if self.status_of(self._rows[index]) == "pending":
                return index
        return None

    def first_pending_index(self) -> int | None:
        if not self._rows:
            return None
        return self.next_pending_index(len(self._rows) - 1)

    # -- tags ---------------------------------------------------------------------------

    def toggle_tag(self, post_id: str) -> bool:
        """Tag or untag; returns True when the post is now tagged."""
        if post_id in self._tagged:
            del self._tagged[post_id]
            tagged = False
        else:
            self._tagged[post_id] = None
            tagged = True
        self.refresh()
        return tagged

    @property
    def tagged_ids(self) -> list[str]:
        return list(self._tagged)

    def clear_tags(self) -> None:
        self._tagged.clear()
        self.refresh()

    # -- cursor -------------------------------------------------------------------------

    def move_to(self, index: int, *, force_message: bool = False) -> None:
        count = len(self._rows)
        self.cursor = max(0, min(index, count - 1)) if count else 0
        self._scroll_cursor_into_view()
        self.refresh()
        post_id = self.highlighted_id
        if force_message or post_id != self._last_highlighted:
            self._last_highlighted = post_id
            self.post_message(PostHighlighted(post_id, self.cursor))
        # Ask for the next window a page before the end, once per window size.
        page = self.rows_per_page
        near_end = count and (index >= count or count - self.cursor <= page)
        if near_end and self.total > count and self._more_requested_at != count:
            self._more_requested_at = count
            self.post_message(MoreRowsWanted(count))

    def move_by(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    @property
    def rows_per_page(self) -> int:
        return max(1, self.scrollable_content_region.height // ROW_HEIGHT)

    def page(self, direction: int) -> None:
        self.move_by(direction * max(1, self.rows_per_page - 1))

    def _scroll_cursor_into_view(self) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        top = self.scroll_offset.y
        first_line = self.cursor * ROW_HEIGHT
        last_line = first_line + ROW_HEIGHT - 1
        if first_line < top:
            self.scroll_to(y=first_line, animate=False, immediate=True)
        elif last_line >= top + height:
            self.scroll_to(y=last_line - height + 1, animate=False, immediate=True)

    def _update_virtual_size(self) -> None:
        more_line = 1 if self.total > len(self._rows) else 0
        lines = len(self._rows) * ROW_HEIGHT + more_line
        self.virtual_size = Size(self.scrollable_content_region.width, lines)

    def on_resize(self) -> None:
        self._update_virtual_size()
        self._scroll_cursor_into_view()

    def action_open_post(self) -> None:
        post_id = self.highlighted_id
        if post_id is not None:
            self.post_message(PostOpened(post_id))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = (self.scroll_offset.y + offset.y) // ROW_HEIGHT
        if index < len(self._rows):
            self.move_to(index)
        if event.chain >= 2:
            self.action_open_post()

    # -- drawing ------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = self.scroll_offset.y + y
        index, part = divmod(line, ROW_HEIGHT)
        base = self.rich_style
        if index >= len(self._rows):
            if line == len(self._rows) * ROW_HEIGHT and self.total > len(self._rows):
                more = self.total - len(self._rows)
                text = Text(f" … {more:,} more (G loads all)", style=self._style("post-list--more"))
                return self._to_strip(text, width, base)
            if line == 0 and not self._rows:
                text = Text(" no posts match", style=self._style("post-list--more"))
                return self._to_strip(text, width, base)
            return Strip.blank(width, base)
        row = self._rows[index]
        on_cursor = index == self.cursor
        if part:
            text = self._detail_text(row, width, plain=on_cursor)
        else:
            text = self._row_text(row, width, plain_marks=on_cursor)
        return self._to_strip(text, width, base + self._row_style(index))

    def _detail_text(self, row: Any, width: int, *, plain: bool = False) -> Text:
        """The second line of a row: the stack part of the topic, then the reference."""
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        style = Style() if plain else self._style("post-list--detail")
        tail = clean_line(topic_tail(getattr(row, "topic", "") or ""), max_chars=80)
        reference = clean_line(getattr(row, "reference", "") or row.id, max_chars=80)
        text.append("   ")
        note = self.row_note(row.id) if self.row_note is not None else None
        if note:  # first: a truncated line still says who holds the post
            text.append(f"{note} · ", Style() if plain else self._style("post-list--marker"))
        text.append(" · ".join(part for part in (tail, reference) if part), style)
        text.truncate(max(1, width), overflow="ellipsis")
        return text

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def _row_style(self, index: int) -> Style:
        if index == self.cursor:
            return self._style("post-list--cursor")
        return Style()

    def _row_text(self, row: Any, width: int, *, plain_marks: bool = False) -> Text:
        """One row; ``plain_marks`` drops the mark colours (they vanish on the cursor bar)."""
        mark, mark_class = STATUS_MARKS.get(self.status_of(row), ("?", "post-list--pending"))
        tagged = row.id in self._tagged
        markers = ""
        if getattr(row, "needs_human_review", False):
            markers += "!"
        if getattr(row, "hint_codes", ()):
            markers += "⚑"
        if getattr(row, "changed", False):
            markers += "Δ"
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        style = (lambda component: Style()) if plain_marks else self._style
        text.append("●" if tagged else " ", style("post-list--tag"))
        text.append(mark, style(mark_class))
        text.append(" ")
        title_width = max(1, width - 3 - (len(markers) + 1 if markers else 0))
        title = Text(clean_line(row.title, max_chars=width + 10))
        title.truncate(title_width, overflow="ellipsis", pad=True)
        text.append_text(title)
        if markers:
            text.append(" ")
            text.append(markers, style("post-list--marker"))
        return text

    def _to_strip(self, text: Text, width: int, style: Style) -> Strip:
        segments = [
            Segment(segment.text, style + segment.style if segment.style else style)
            for segment in text.render(self.app.console, end="")
        ]
        return Strip(segments).crop_extend(0, width, style)
