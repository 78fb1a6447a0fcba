"""What changed since review (``R`` on the review screen): the text a decision was made on
against the post's current text, block by block.

The store keeps the version of a post its decision was made on (``reviewed_version``);
``storage.diff.diff_posts`` compares it with the current one. Both are read and compared on
the store thread (``read_changes``, through the gateway, in a worker); until then the
screen says "comparing…". Added lines are green with ``+``, removed ones red with ``-``,
the lines kept around them dim; title and meta fields that differ are listed first. A post
not decided, not changed, or whose reviewed text this store does not hold gets a sentence
saying so. Every text is shown literally (``tui.text``). ``escape``/``q`` (or ``R`` again)
close; the list keys scroll.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from storage import Review, ReviewStore, Status, StoreError
from storage.diff import ADDED, REMOVED, PostDiff, diff_posts
from tui.gateway import StoreGateway
from tui.keymap import CHANGES_BINDINGS, CLOSE_BINDINGS, LIST_BINDINGS
from tui.text import clean_line, clean_name

__all__ = ["ChangesLoaded", "ChangesScreen", "changes_renderable", "read_changes"]

ADDED_STYLE, REMOVED_STYLE, KEPT_STYLE = "#98c379", "#e06c75", "#7f848e"
BLOCK_STYLE = "bold #56b6c2"
MARKS = {ADDED: ("+", ADDED_STYLE), REMOVED: ("-", REMOVED_STYLE)}
# Block lines shown (a regenerated 2 MB code block must not freeze the screen; the CLI
# prints them all), and characters of one line.
MAX_LINES = 3000
MAX_LINE_CHARS = 5000

NOT_KEPT = (
    "changed since its decision, but the text it was decided on is not kept in this store "
    "(decided before copydesk kept earlier versions, or on another reviewer's copy): "
    "nothing to compare with."
)
NOT_DECIDED = "not decided yet: there is no reviewed version to compare with."
NOT_CHANGED = "not changed since its decision: the current text is the one reviewed."
NO_DIFFERENCE = (
    "changed since its decision (its stored text differs), but no block, title or meta "
    "field shows a difference (only spacing or the order of fields changed)."
)


@dataclass(frozen=True)
class ChangesLoaded:
    """What the screen shows of one post, read on the store thread."""

    post_id: str
    title: str
    review: Review | None
    changed: bool  # the post is marked changed since review (Δ)
    diff: PostDiff | None  # None: not decided, not changed, or the reviewed text not kept

    @property
    def message(self) -> str | None:
        """The sentence shown instead of a diff (None: there is a diff to show)."""
        if self.review is None or (self.review.status == Status.PENDING and not self.changed):
            return NOT_DECIDED
        if not self.changed:
            return NOT_CHANGED
        if self.diff is None:
            return NOT_KEPT
        if not self.diff.changed:
            return NO_DIFFERENCE
        return None


def read_changes(store: ReviewStore, post_id: str) -> ChangesLoaded:
    """On the store thread: the post, its decision and, when it changed since that decision
    and the reviewed version is kept, the diff."""
    post = store.get(post_id)
    review = post.review
    changed = review is not None and post.changed
    diff = None
    if changed:
        reviewed = store.reviewed_version(post_id)
        if reviewed is not None:
            diff = diff_posts(reviewed, post)
    return ChangesLoaded(post_id, post.title, review, changed, diff)


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    return orjson.dumps(value, default=str).decode()


def _line(text: Text, op: str, unit: str) -> None:
    mark, style = MARKS.get(op, (" ", KEPT_STYLE))
    text.append(f"{mark} {clean_line(unit, max_chars=MAX_LINE_CHARS)}\n", style=style)


def changes_renderable(loaded: ChangesLoaded, max_lines: int = MAX_LINES) -> Text:
    """The changes as one ``Text`` (never markup): the title and meta fields that differ,
    then each block added, removed or changed with its lines (the first ``max_lines``)."""
    text = Text()
    shown = 0
    message = loaded.message
    if message is not None:
        text.append(f"{clean_name(loaded.post_id)}: {message}\n", style="bold")
        return text
    diff = loaded.diff
    assert diff is not None
    if diff.title is not None:
        text.append("title\n", style=BLOCK_STYLE)
        _line(text, REMOVED, str(diff.title.old))
        _line(text, ADDED, str(diff.title.new))
    for change in diff.meta:
        text.append("meta ", style=BLOCK_STYLE)
        text.append(f"{clean_name(change.name)}: ", style="bold")
        text.append(clean_line(_value(change.old)), style=REMOVED_STYLE)
        text.append(" -> ")
        text.append(f"{clean_line(_value(change.new))}\n", style=ADDED_STYLE)
    for block in diff.blocks:
        if block.new_index is None:
            where = f"reviewed block {(block.old_index or 0) + 1}"
        else:
            where = f"block {block.new_index + 1}"
        text.append(f"\n{where} ({clean_line(block.type)}) {block.change}\n", style=BLOCK_STYLE)
        for unit in block.lines:
            if shown == max_lines:
                left = sum(len(b.lines) for b in diff.blocks) - shown
                text.append(
                    f"\n… {left:,} more lines not shown: `copydesk diff "
                    f"{clean_name(loaded.post_id)}` prints them all\n",
                    style="bold yellow",
                )
                return text
            _line(text, unit.op, unit.text)
            shown += 1
    unchanged = diff.unchanged_blocks
    text.append(f"\n{unchanged} block{'' if unchanged == 1 else 's'} unchanged", style=KEPT_STYLE)
    return text


def changes_view(text: Text) -> Group:
    """``text`` (of ``changes_renderable``) as it is shown: each run of diff lines in a grid
    whose first column holds the marks, so a long line wraps under its text, not its mark."""
    parts: list[Any] = []
    grid: Table | None = None
    for line in text.split("\n"):
        if line.plain[:2] in ("+ ", "- ", "  "):
            if grid is None:
                grid = Table.grid(expand=True)
                grid.add_column(width=2, no_wrap=True)
                grid.add_column(ratio=1)
                parts.append(grid)
            grid.add_row(line[:2], line[2:])
        else:
            grid = None
            parts.append(line)
    return Group(*parts)


def header_text(loaded: ChangesLoaded) -> Text:
    """The post, its decision, how many lines were added and removed (block lines), when
    and by whom it was decided, its title."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(clean_name(loaded.post_id), style="bold")
    review = loaded.review
    if loaded.changed and review is not None:
        text.append(f" · changed since it was {Status(review.status).label}")
    if loaded.diff is not None and loaded.diff.changed:
        added = sum(line.op == ADDED for b in loaded.diff.blocks for line in b.lines)
        removed = sum(line.op == REMOVED for b in loaded.diff.blocks for line in b.lines)
        text.append(f"  +{added}", style=ADDED_STYLE)
        text.append(f" -{removed}", style=REMOVED_STYLE)
    if loaded.changed and review is not None and review.decided_at:
        text.append(f"  decided {clean_line(review.decided_at)}", style="dim")
        if review.reviewer:
            text.append(f" by {clean_line(review.reviewer, max_chars=40)}", style="dim")
    text.append(f"  {clean_line(loaded.title, max_chars=200)}", style="dim")
    return text


class ChangesScroll(VerticalScroll, can_focus=True):
    """The diff; scrolls with the list keys (``j``/``k``, ``g``/``G``, page keys)."""

    BINDINGS: ClassVar = LIST_BINDINGS

    def action_cursor_down(self) -> None:
        self.scroll_down(animate=False)

    def action_cursor_up(self) -> None:
        self.scroll_up(animate=False)

    def action_first(self) -> None:
        self.scroll_home(animate=False)

    def action_last(self) -> None:
        self.scroll_end(animate=False)

    def action_page_down(self) -> None:
        self.scroll_page_down(animate=False)

    def action_page_up(self) -> None:
        self.scroll_page_up(animate=False)


class ChangesScreen(Screen[None]):
    """``ChangesScreen(gateway, post_id)``: what changed in ``post_id`` since its decision.
    Dismisses with None."""

    BINDINGS: ClassVar = [*CLOSE_BINDINGS, *CHANGES_BINDINGS]

    DEFAULT_CSS = """
    ChangesScreen { layout: vertical; }
    ChangesScreen #changes-header {
        height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    ChangesScreen #changes-scroll { height: 1fr; border: round $accent; padding: 0 1; }
    ChangesScreen #changes-body { height: auto; }
    """

    def __init__(self, gateway: StoreGateway, post_id: str) -> None:
        super().__init__(id="changes")
        self._gateway = gateway
        self.post_id = post_id
        self.loaded: ChangesLoaded | None = None
        self.text = Text()  # what the body shows (for tests and the snapshot)

    def compose(self) -> ComposeResult:
        yield Static(Text(f"{clean_name(self.post_id)} · comparing…"), id="changes-header")
        with ChangesScroll(id="changes-scroll"):
            yield Static(
                Text("comparing the reviewed text with the current one…"), id="changes-body"
            )
        yield Footer()

    def on_mount(self) -> None:
        scroll = self.query_one(ChangesScroll)
        scroll.border_title = "Changes since review"
        scroll.border_subtitle = "- reviewed  + current"
        scroll.focus()
        self._load()

    @work(exclusive=True, group="changes")
    async def _load(self) -> None:
        post_id = self.post_id
        try:
            loaded = await self._gateway.call(lambda store: read_changes(store, post_id))
        except (StoreError, OSError) as error:
            self._show_text(
                Text(f"cannot read {clean_name(post_id)}: {clean_line(error)}", style="bold red")
            )
            return
        if not self.is_attached:
            return
        self.loaded = loaded
        self.query_one("#changes-header", Static).update(header_text(loaded))
        self._show_text(changes_renderable(loaded))

    def _show_text(self, text: Text) -> None:
        self.text = text
        self.query_one("#changes-body", Static).update(changes_view(text))

    def action_close(self) -> None:
        self.dismiss(None)
