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

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from storage import PostSummary, Status
from tui.keymap import LIST_BINDINGS, POST_LIST_BINDINGS
from tui.messages import MoreRowsWanted, PostHighlighted, PostOpened, TagsChanged
from tui.text import clean_line
from tui.widgets.line_view import set_virtual_size

STATUS_CLASSES = {
    Status.PENDING: "post-list--pending",
    Status.APPROVED: "post-list--approved",
    Status.REJECTED: "post-list--rejected",
    Status.CHANGES_REQUESTED: "post-list--changes",
}
NOTE_MARK = "✍"


ROW_HEIGHT = 2  # lines per row: title, then topic tail and reference
# Rendered lines kept (a line is a Rich Text rendered to segments: ~0.25 ms). A cursor move
# repaints the two rows it leaves and enters; with the cache a repaint of the whole list
# (a scroll, a new window) costs only the lines not seen before: 100k rows, 120x40,
# j: PostList work per key 20 -> 2 ms. tests/tui/test_render_caches.py holds the cached
# lines equal to lines rendered afresh.
CACHED_LINES = 2048


def topic_tail(topic: str) -> str:
    """The part of a topic that differs between posts: ``jobs / php`` -> ``php``."""
    return topic.rsplit(" / ", 1)[-1].strip() if topic else ""


class PostList(ScrollView, can_focus=True):
    """Rows: tag mark, status mark, title, then markers (! needs review, ⚑ hints, Δ changed,
    ✍ has a note); under it the stack part of the topic and the reference.

    The movement keys are the list's own (``LIST_BINDINGS``), so they move the cursor
    instead of scrolling the view (a ScrollView's own up/down/page keys scroll)."""

    BINDINGS: ClassVar = [*LIST_BINDINGS, *POST_LIST_BINDINGS]

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
        self._rows: Sequence[PostSummary] = ()
        self._index_by_id: dict[str, int] = {}
        self._status_overrides: dict[str, Status] = {}
        self._noted: set[str] = set()
        self._tagged: dict[str, None] = {}  # insertion-ordered set
        self.total = 0
        self.cursor = 0
        self._last_highlighted: str | None = None
        self._more_requested_at = -1
        self.more_hint = "G loads all"  # the screen sets it from the keymap
        self._lines: dict[tuple[object, ...], Strip] = {}
        self._base_style = Style()
        # post id -> a note for the row's second line (a team store: who holds it), or None
        self.row_note: Callable[[str], str | None] | None = None

    # -- data ---------------------------------------------------------------------------

    def set_rows(
        self,
        rows: Sequence[PostSummary],
        total: int,
        *,
        select_id: str | None = None,
        select_index: int | None = None,
        noted: set[str] | None = None,
    ) -> None:
        """Replace the rows; keep the cursor on ``select_id`` when it is among them, else
        at ``select_index`` (else where it was). ``noted``: the ids with a note."""
        self._rows = rows
        self._index_by_id = {row.id: index for index, row in enumerate(rows)}
        self._status_overrides.clear()
        self._noted = set(noted or ())
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
    def rows(self) -> Sequence[PostSummary]:
        return self._rows

    @property
    def ids(self) -> list[str]:
        return [row.id for row in self._rows]

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def highlighted(self) -> PostSummary | None:
        if 0 <= self.cursor < len(self._rows):
            return self._rows[self.cursor]
        return None

    @property
    def highlighted_id(self) -> str | None:
        row = self.highlighted
        return row.id if row is not None else None

    def index_of(self, post_id: str) -> int | None:
        return self._index_by_id.get(post_id)

    def status_of(self, row: PostSummary) -> Status:
        return self._status_overrides.get(row.id) or Status(row.status)

    def status_of_id(self, post_id: str) -> Status:
        index = self._index_by_id.get(post_id)
        if index is None:
            return self._status_overrides.get(post_id, Status.PENDING)
        return self.status_of(self._rows[index])

    def set_statuses(self, statuses: Mapping[str, Status], noted: Mapping[str, bool]) -> None:
        """Show decisions made in this session without reloading (rows keep their place)."""
        self._status_overrides.update(statuses)
        for post_id, has_note in noted.items():
            if has_note:
                self._noted.add(post_id)
            else:
                self._noted.discard(post_id)
        self.refresh()

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
        self.post_message(TagsChanged(len(self._tagged)))
        return tagged

    @property
    def tagged_ids(self) -> list[str]:
        return list(self._tagged)

    def clear_tags(self) -> None:
        self._tagged.clear()
        self.refresh()
        self.post_message(TagsChanged(0))

    # -- cursor -------------------------------------------------------------------------

    def move_to(self, index: int, *, force_message: bool = False) -> None:
        count = len(self._rows)
        before, top = self.cursor, self.scroll_offset.y
        self.cursor = max(0, min(index, count - 1)) if count else 0
        self._scroll_cursor_into_view()
        if self.scroll_offset.y == top and not force_message and self.size.width:
            # Only the rows the cursor left and entered look different.
            width = self.size.width
            self.refresh(
                Region(0, before * ROW_HEIGHT - top, width, ROW_HEIGHT),
                Region(0, self.cursor * ROW_HEIGHT - top, width, ROW_HEIGHT),
            )
        else:
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

    # -- the movement keys (LIST_BINDINGS) ----------------------------------------------

    def action_cursor_down(self) -> None:
        self.move_by(1)

    def action_cursor_up(self) -> None:
        self.move_by(-1)

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        """The last row; when rows are still unloaded, load them all first."""
        if self.total > len(self._rows):
            self.post_message(MoreRowsWanted(len(self._rows), everything=True))
        else:
            self.move_to(len(self._rows) - 1)

    def action_page_down(self) -> None:
        self.move_by(max(1, self.rows_per_page - 1))

    def action_page_up(self) -> None:
        self.move_by(-max(1, self.rows_per_page - 1))

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
        set_virtual_size(self, Size(self.scrollable_content_region.width, lines))

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

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base_style = self.rich_style  # once per repaint, not once per line
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = self.scroll_offset.y + y
        index, part = divmod(line, ROW_HEIGHT)
        base = self._base_style
        console = self.app.console

        def component_style(component: str) -> Style:
            return self.get_component_rich_style(component, partial=True)

        if index >= len(self._rows):
            if line == len(self._rows) * ROW_HEIGHT and self.total > len(self._rows):
                more = self.total - len(self._rows)
                text = Text(
                    f" … {more:,} more ({self.more_hint})", style=component_style("post-list--more")
                )
                return to_strip(text, width, base, console)
            if line == 0 and not self._rows:
                text = Text(" no posts match", style=component_style("post-list--more"))
                return to_strip(text, width, base, console)
            return Strip.blank(width, base)
        row = self._rows[index]
        on_cursor = index == self.cursor
        status = self.status_of(row)
        tagged, noted = row.id in self._tagged, row.id in self._noted
        # Keyed by what the line shows (rows of a new search are new objects, same looks).
        looks = (row.id, row.title, row.topic, row.reference, row.needs_human_review)
        key = (looks, row.hint_codes, row.changed, part, width, on_cursor, status, tagged)
        note = self.row_note(row.id) if self.row_note is not None and part else None
        key += (noted, self.has_focus, base, note)
        strip = self._lines.get(key)
        if strip is not None:
            return strip
        # On the cursor bar the marks lose their colours (they would vanish in it).
        style = _no_style if on_cursor else component_style
        if part:
            text = detail_text(row, width, style, note)
        else:
            text = row_text(row, status, tagged, row_markers(row, noted), width, style)
        row_style = component_style("post-list--cursor") if on_cursor else Style()
        strip = to_strip(text, width, base + row_style, console)
        if len(self._lines) >= CACHED_LINES:
            self._lines.clear()
        self._lines[key] = strip
        return strip


def _no_style(component: str) -> Style:
    return Style()


def row_markers(row: PostSummary, has_note: bool) -> str:
    """``!`` needs review, ``⚑`` hints, ``Δ`` changed since review, ``✍`` has a note."""
    markers = ""
    if row.needs_human_review:
        markers += "!"
    if row.hint_codes:
        markers += "⚑"
    if row.changed:
        markers += "Δ"
    if has_note:
        markers += NOTE_MARK
    return markers


def row_text(
    row: PostSummary,
    status: Status,
    tagged: bool,
    markers: str,
    width: int,
    style: Callable[[str], Style],
) -> Text:
    """The first line of a row: tag, status mark, title, markers."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append("●" if tagged else " ", style("post-list--tag"))
    text.append(status.mark, style(STATUS_CLASSES[status]))
    text.append(" ")
    title_width = max(1, width - 3 - (len(markers) + 1 if markers else 0))
    title = Text(clean_line(row.title, max_chars=width + 10))
    title.truncate(title_width, overflow="ellipsis", pad=True)
    text.append_text(title)
    if markers:
        text.append(" ")
        text.append(markers, style("post-list--marker"))
    return text


def detail_text(
    row: PostSummary, width: int, style: Callable[[str], Style], note: str | None = None
) -> Text:
    """The second line of a row: the stack part of the topic, then the reference; on a
    team store first who holds the post (``note``), so that a cut line still says it."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    tail = clean_line(topic_tail(row.topic or ""), max_chars=80)
    reference = clean_line(row.reference or row.id, max_chars=80)
    text.append("   ")
    if note:
        text.append(f"{clean_line(note)} · ", style("post-list--marker"))
    text.append(" · ".join(part for part in (tail, reference) if part), style("post-list--detail"))
    text.truncate(max(1, width), overflow="ellipsis")
    return text


def to_strip(text: Text, width: int, style: Style, console: Console) -> Strip:
    segments = [
        Segment(segment.text, style + segment.style if segment.style else style)
        for segment in text.render(console, end="")
    ]
    return Strip(segments).crop_extend(0, width, style)
