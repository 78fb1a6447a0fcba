"""The review screen's panes: the list column (search box, post list) and ``PostPanes``.

``ReviewLayout`` owns what is about the panes rather than the posts: their widths (the
layout adapts to the terminal: the body is never the narrowest pane, the list widens with
the terminal), focus moves between them (``tab``, ``s``), the side panes on narrow
terminals (``m``), and the list keys from any pane (``j`` in the body moves the list;
the focused list or body keeps its own arrow keys).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget

from tui.keymap import LIST_BINDINGS, PANES_BINDINGS
from tui.messages import PostOpened, SearchSubmitted
from tui.widgets.post_list import PostList
from tui.widgets.post_panes import PostPanes
from tui.widgets.search_box import SearchBox

NARROW_WIDTH = 100  # below this the side panes share the centre with the body


def pane_widths(width: int) -> tuple[int, int]:
    """(list, side) column widths for a terminal ``width`` columns wide; the body takes
    the rest and is never narrower than either. Below ``NARROW_WIDTH`` the side panes
    share the centre with the body, so they take the body's width."""
    if width < NARROW_WIDTH:
        list_width = max(24, min(40, width * 34 // 100))
        return list_width, max(1, width - list_width)
    list_width = max(30, min(72, width * 27 // 100))
    side_width = max(36, min(60, width * 32 // 100))
    while width - list_width - side_width < max(list_width, side_width):
        if side_width > 30:
            side_width -= 1
        elif list_width > 30:
            list_width -= 1
        else:
            break
    return list_width, side_width


class ReviewLayout(Horizontal):
    BINDINGS: ClassVar = [*LIST_BINDINGS, *PANES_BINDINGS]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.show_side_narrow = False

    def compose(self) -> ComposeResult:
        with Vertical(id="left"):
            yield SearchBox(id="search")
            yield PostList(id="post-list")
        yield PostPanes(id="post-panes")

    def on_mount(self) -> None:
        self.query_one("#left").border_title = "Posts"

    @property
    def post_list(self) -> PostList:
        return self.query_one(PostList)

    @property
    def panes(self) -> PostPanes:
        return self.query_one(PostPanes)

    # -- widths -------------------------------------------------------------------------

    def on_resize(self) -> None:
        self.apply_widths(self.size.width)

    def apply_widths(self, width: int) -> None:
        if width <= 0:
            return
        screen = self.screen
        narrow = width < NARROW_WIDTH
        screen.set_class(narrow, "-narrow")
        screen.set_class(narrow and self.show_side_narrow, "-show-side")
        list_width, side_width = pane_widths(width)
        self.query_one("#left").styles.width = list_width
        self.query_one("#side").styles.width = "1fr" if narrow else side_width

    # -- focus --------------------------------------------------------------------------

    def _focusable(self) -> list[Widget]:
        panes = self.panes
        return [self.post_list, panes.body, *panes.side_panes]

    def focus_pane(self, pane: Widget) -> None:
        side = pane in self.panes.side_panes
        screen = self.screen
        if screen.has_class("-narrow"):
            self.show_side_narrow = side
            screen.set_class(side, "-show-side")
        elif side and screen.has_class("-hide-side"):
            screen.remove_class("-hide-side")
        pane.focus()

    def _cycle(self, step: int) -> None:
        panes = self._focusable()
        focused = self.screen.focused
        current = next((i for i, pane in enumerate(panes) if pane is focused), -1)
        if current == -1:
            self.focus_pane(self.post_list)
            return
        self.focus_pane(panes[(current + step) % len(panes)])

    def action_cycle_panes(self) -> None:
        self._cycle(1)

    def action_cycle_panes_back(self) -> None:
        self._cycle(-1)

    def action_focus_similar(self) -> None:
        self.focus_pane(self.panes.similar)

    def action_toggle_side(self) -> None:
        screen = self.screen
        on_side = screen.focused in self.panes.side_panes
        if screen.has_class("-narrow"):
            self.show_side_narrow = not self.show_side_narrow
            screen.set_class(self.show_side_narrow, "-show-side")
            if not self.show_side_narrow and on_side:
                self.panes.body.focus()
        else:
            screen.toggle_class("-hide-side")
            if screen.has_class("-hide-side") and on_side:
                self.post_list.focus()

    @on(PostOpened)
    def _post_opened(self) -> None:
        self.focus_pane(self.panes.body)

    @on(SearchSubmitted)
    def _search_submitted(self) -> None:
        self.post_list.focus()

    # -- the list keys from any pane, tags, the whole post ------------------------------

    def action_cursor_down(self) -> None:
        self.post_list.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.post_list.action_cursor_up()

    def action_first(self) -> None:
        self.post_list.action_first()

    def action_last(self) -> None:
        self.post_list.action_last()

    def action_page_down(self) -> None:
        self.post_list.action_page_down()

    def action_page_up(self) -> None:
        self.post_list.action_page_up()

    def action_tag(self) -> None:
        post_list = self.post_list
        post_id = post_list.highlighted_id
        if post_id is not None:
            post_list.toggle_tag(post_id)
            post_list.move_by(1)

    def action_untag_all(self) -> None:
        count = len(self.post_list.tagged_ids)
        self.post_list.clear_tags()
        if count:
            self.notify(f"Untagged {count:,} post{'s' if count != 1 else ''}", timeout=2)

    def action_show_whole(self) -> None:
        if not self.panes.show_whole():
            self.notify("This post is shown whole already.", markup=False, timeout=2)
