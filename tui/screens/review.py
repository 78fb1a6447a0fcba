"""The main review screen: the post list, the post's panes, and the reviewer's decisions.

Every store call goes through the app's ``StoreGateway`` (one store thread; the screen
awaits it in async workers, so the UI stays live). Decisions follow the rules of
``storage.session.ReviewSession`` (through the gateway): the screen shows a decision once
it is on disk. The posts around the cursor are read and rendered ahead by a
``PostPreparer``, so that a move to a prepared post changes every pane in one frame.

State shown in the status bar (progress, query, view, position, tags) is held in ``var``s
bound to the bar (``data_bind``); the panes' layout and focus live in ``ReviewLayout``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer

from storage import QueryError, QueueProgress, Status, StoreError
from storage.session import next_pending
from tui.decision_flow import DecisionFlow, Rows, read_rows
from tui.derive_flow import DeriveFlow
from tui.gateway import StoreGateway
from tui.keymap import REVIEW_BINDINGS, keys_for
from tui.messages import (
    MoreRowsWanted,
    PostHighlighted,
    PostPrepared,
    SearchChanged,
    SearchCleared,
    SimilarChosen,
    TagsChanged,
)
from tui.post_preparer import PostPreparer
from tui.screens.name_prompt import NamePromptScreen
from tui.screens.views import QUERY, ViewChoice
from tui.sub_screens import SubScreens
from tui.team import TeamFlow
from tui.text import clean_line
from tui.trail import Place, Trail
from tui.widgets.post_list import PostList
from tui.widgets.post_panes import PostPanes
from tui.widgets.review_layout import ReviewLayout
from tui.widgets.search_box import SearchBox
from tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from tui.app import CopydeskApp

# Rows fetched per window; more are fetched when the cursor reaches the end.
LIST_WINDOW = 500
POLL_SECONDS = 2.0
# The search index is decoded this long after the first rows show (0.4 s at 100,000 posts,
# on the store thread): begun at once, it held back drawing them and the first post.
WARM_UP_AFTER_S = 0.5
# Posts prepared around the cursor: the ones ahead first (the reviewer moves down).
AHEAD, BEHIND = 5, 2


def prefetch_window(ids: Sequence[str], cursor: int, also: int | None = None) -> list[str]:
    """The ids to prepare: the cursor's, then alternately ahead and behind it."""
    order = [cursor]
    for step in range(1, AHEAD + 1):
        order.append(cursor + step)
        if step <= BEHIND:
            order.append(cursor - step)
    if also is not None:
        order.insert(1, also)
    return [ids[i] for i in dict.fromkeys(order) if 0 <= i < len(ids)]


def describe_query_error(error: QueryError) -> str:
    message = str(error)
    if "position" not in message:
        message = f"{message} (at position {error.position})"
    return message


class ReviewScreen(Screen[None]):
    BINDINGS: ClassVar = REVIEW_BINDINGS

    list_window: ClassVar[int] = LIST_WINDOW
    """Rows fetched at first; more come in windows as the cursor nears the end."""

    app: CopydeskApp

    progress: var[QueueProgress] = var(QueueProgress(0, 0))
    query_text: var[str] = var("")
    view_name: var[str | None] = var(None)  # the view the list shows, until the query is edited
    total: var[int] = var(0)
    position: var[int] = var(0)
    tagged: var[int] = var(0)
    flash: var[str] = var("")  # what the last key did (status bar), cleared by the next key
    background_work: var[str] = var("")  # import phase 2 under way (status bar)

    def __init__(self, gateway: StoreGateway) -> None:
        super().__init__(id="review")
        self.gateway = gateway
        self.trail = Trail()
        self.preparer = PostPreparer(
            gateway,
            lambda post_id: self.post_message(PostPrepared(post_id)),
            on_error=lambda post_id, error: self.post_message(PostPrepared(post_id, error)),
        )
        self._typed_ahead: list[str] | None = None  # keys typed after "/", for the box
        self._search_keys: tuple[str, ...] = ("slash",)
        self._more_key = "L"
        self.decisions = DecisionFlow(self)
        self.team = TeamFlow(self)
        self.derive = DeriveFlow(self)
        self.sub_screens = SubScreens(self)
        self.post_list: PostList
        self.panes: PostPanes
        self.search_box: SearchBox

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status").data_bind(
            ReviewScreen.progress,
            ReviewScreen.query_text,
            ReviewScreen.view_name,
            ReviewScreen.total,
            ReviewScreen.position,
            ReviewScreen.tagged,
            ReviewScreen.flash,
            ReviewScreen.background_work,
        )
        yield ReviewLayout(id="panes")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.post_list = self.query_one(PostList)
        self.panes = self.query_one(PostPanes)
        self.search_box = self.query_one(SearchBox)
        keymap = self.app.keymap_overrides
        display = self.app.get_key_display
        self._search_keys = keys_for("search", keymap)
        hint = [
            f"{display(Binding(keys[0], ''))} {label}"
            for binding_id, label in (("help", "help"), ("quit", "quit"))
            if (keys := keys_for(binding_id, keymap))
        ]
        self.query_one(StatusBar).keys_hint = " · ".join(hint) + " "
        last = keys_for("list_last", keymap)
        self.post_list.more_hint = (
            f"{display(Binding(last[0], ''))} loads all" if last else "no key loads all"
        )
        more = keys_for("show_whole", keymap)
        self._more_key = display(Binding(more[0], "")) if more else "the Whole post command"
        self.panes.more_key = self._more_key
        changes = keys_for("changes_since_review", keymap)
        self.panes.changes_key = display(Binding(changes[0], "")) if changes else ""
        self.post_list.focus()
        self.load_rows("", first_pending=True)
        self.post_list.row_note = self.team.row_note()
        self.set_interval(self.team.poll_seconds(POLL_SECONDS), self._poll)
        self.derive.start()

    def on_unmount(self) -> None:
        self.derive.stop()
        self.preparer.close()

    # -- the list -----------------------------------------------------------------------

    @work(exclusive=True, group="list")
    async def load_rows(
        self,
        query: str,
        *,
        select_id: str | None = None,
        select_index: int | None = None,
        first_pending: bool = False,
        limit: int | None = -1,
        then_last: bool = False,
    ) -> None:
        """Read a window of rows for ``query`` (``limit=None``: all); the newest call wins.
        The cursor goes to ``select_id`` if listed, else to ``select_index`` (None: the
        row it was on)."""
        window = self.list_window if limit == -1 else limit
        try:
            rows = await self.gateway.call(lambda store: read_rows(store, query, window))
        except QueryError as error:
            self.search_box.show_error(describe_query_error(error))
            return
        except (StoreError, OSError) as error:
            self.notify(f"cannot load posts: {error}", severity="error", markup=False)
            return
        if then_last:
            self.apply_rows(query, rows, select_index=len(rows.rows) - 1)
        elif first_pending:
            ids = [row.id for row in rows.rows]
            statuses = {row.id: Status(row.status) for row in rows.rows}
            skip = self.team.skip()
            first = next_pending(ids, len(ids) - 1, statuses.__getitem__, skip) if ids else None
            self.team.moved_to(ids[first or 0] if ids else None)
            self.apply_rows(query, rows, select_index=first or 0)
            if not query:  # once the first screen is drawn: the search index, ahead of "/"
                self.set_timer(WARM_UP_AFTER_S, self._warm_up)
        else:
            self.apply_rows(query, rows, select_id=select_id, select_index=select_index)

    def _warm_up(self) -> None:
        self.gateway.submit(lambda store: store.warm_up(), background=True)

    def apply_rows(
        self,
        query: str,
        rows: Rows,
        *,
        select_id: str | None = None,
        select_index: int | None = None,
    ) -> None:
        """Show ``rows``: the cursor on ``select_id`` when listed, else at ``select_index``,
        else where it was (the reviewer's place is kept when the list changes)."""
        post_list = self.post_list
        self.query_text = query
        self.progress = rows.progress
        self.total = rows.total
        self.search_box.show_error(None)
        if select_id is None and select_index is None:
            select_id = post_list.highlighted_id
        post_list.set_rows(
            rows.rows,
            rows.total,
            select_id=select_id,
            select_index=select_index if select_index is not None else post_list.cursor,
            noted=rows.noted,
        )

    @on(MoreRowsWanted)
    def _more_rows(self, message: MoreRowsWanted) -> None:
        if message.everything:
            self.load_rows(self.query_text, limit=None, then_last=True)
        else:
            limit = max(self.list_window, message.loaded * 4)
            self.load_rows(self.query_text, select_id=self.post_list.highlighted_id, limit=limit)

    @on(TagsChanged)
    def _tags_changed(self, message: TagsChanged) -> None:
        self.tagged = message.count

    # -- the current post ---------------------------------------------------------------

    @on(PostHighlighted)
    def _post_highlighted(self, message: PostHighlighted) -> None:
        self.position = message.index + 1 if message.post_id is not None else 0
        self.show_current()

    def show_current(self) -> None:
        """Show the post under the cursor in every pane: at once when it is prepared, else
        say it is loading and have it prepared (with the posts around it)."""
        post_list, panes = self.post_list, self.panes
        post_id = post_list.highlighted_id
        if post_id is None:
            panes.show_empty("no posts match" if self.query_text.strip() else "no posts")
            self.preparer.want([])
            return
        ids = post_list.ids
        statuses = post_list.status_of_id
        pending = next_pending(ids, post_list.cursor, statuses, self.team.skip())
        self.preparer.configure(*panes.widths, self._more_key)
        self.preparer.want(prefetch_window(ids, post_list.cursor, pending))
        if panes.shown_id == post_id and panes.loaded:
            return
        view, prepared = self.gateway.cached(post_id), self.preparer.prepared(post_id)
        if view is not None and prepared is not None:
            panes.show_view(view, prepared)
            self.team.opened(post_id)
        elif panes.shown_id != post_id:
            row = post_list.highlighted
            panes.show_loading(post_id, row.title if row is not None else post_id)

    @on(PostPrepared)
    def _post_prepared(self, message: PostPrepared) -> None:
        """The preparer has the post the cursor was on (or could not read it)."""
        if message.post_id != self.post_list.highlighted_id:
            return
        if message.error is not None:
            self.panes.show_error(message.post_id, str(message.error))
            return
        view = self.gateway.cached(message.post_id)
        prepared = self.preparer.prepared(message.post_id)
        if view is not None and prepared is not None:
            self.panes.show_view(view, prepared)
            self.team.opened(message.post_id)
        else:  # dropped meanwhile (another process wrote): once more
            self.preparer.want([message.post_id])

    # -- decisions (the rules: tui.decision_flow and storage.session) ------------------

    def action_decide(self, status: str) -> None:
        self.decisions.decide(Status(status))

    def action_undo(self) -> None:
        self.decisions.undo()

    def action_note(self) -> None:
        self.decisions.note()

    # -- search -------------------------------------------------------------------------

    def action_search(self) -> None:
        self.search_box.focus_input()
        typed, self._typed_ahead = self._typed_ahead, None
        if typed:
            self.search_box.input.insert_text_at_cursor("".join(typed))

    def on_key(self, event: events.Key) -> None:
        """Type-ahead after the search key. Keys typed fast after "/" (or a paste) all reach
        this screen before the binding focuses the box; once it has, Textual drops them,
        and before it has, they are review keys ("/stack" would approve with its "a").
        So after a search key, printable keys are held here and go into the box."""
        self.flash = ""
        if self.search_box.input.has_focus:
            return
        if self._typed_ahead is not None and event.is_printable and event.character:
            self._typed_ahead.append(event.character)
            event.stop()
            event.prevent_default()
        elif event.key in self._search_keys:
            self._typed_ahead = []

    @on(SearchChanged)
    @on(SearchCleared)
    def _search_changed(self, message: SearchChanged | SearchCleared) -> None:
        self.view_name = None
        query = message.query if isinstance(message, SearchChanged) else ""
        # a new query: the post being read if it matches, else the first result
        self.load_rows(query, select_id=self.post_list.highlighted_id, select_index=0)
        if isinstance(message, SearchCleared):
            self.post_list.focus()

    # -- places: similar posts, views, back and forward ----------------------------------

    @on(SimilarChosen)
    def _similar_chosen(self, message: SimilarChosen) -> None:
        self.jump_to(message.post_id)

    def _place(self) -> Place:
        return Place(self.query_text, self.view_name, self.post_list.highlighted_id)

    def jump_to(self, post_id: str) -> None:
        """Put the list cursor on ``post_id``, widening the list when it is not shown."""
        self.trail.left(self._place())
        layout = self.query_one(ReviewLayout)
        index = self.post_list.index_of(post_id)
        if index is not None:
            self.post_list.move_to(index)
        else:
            self.search_box.set_quietly("")
            self.view_name = None
            self.load_rows("", select_id=post_id, limit=None)
        layout.focus_pane(self.post_list)

    def action_travel(self, step: int) -> None:
        """Back (``step`` -1) or forward (+1) to a place left by a jump or a view switch."""
        here = self._place()
        place = self.trail.back(here) if step < 0 else self.trail.forward(here)
        if place is None:
            self.notify(f"Nowhere to go {'back' if step < 0 else 'forward'}", timeout=2)
            return
        self.search_box.set_quietly(place.query)
        self.view_name = place.view_name
        index = self.post_list.index_of(place.post_id) if place.post_id else None
        if place.query == self.query_text and index is not None:
            self.post_list.move_to(index)
        else:
            self.load_rows(place.query, select_id=place.post_id, limit=None)
        self.query_one(ReviewLayout).focus_pane(self.post_list)

    def open_view_choice(self, choice: ViewChoice | None) -> None:
        """Apply a pick of the views list or the command palette: a view's posts, from its
        first pending post."""
        if choice is None:
            return
        if choice.kind != QUERY:  # a built-in screen: its kind is its name there
            self.sub_screens.open(choice.kind)
        else:
            self.trail.left(self._place())
            self.search_box.set_quietly(choice.query)
            self.view_name = choice.name
            self.load_rows(choice.query, first_pending=True)
            self.query_one(ReviewLayout).focus_pane(self.post_list)

    def action_save_view(self) -> None:
        query = self.search_box.value.strip()
        if not query:
            self.notify(
                "Type a query in the search box (/) first; ctrl+s then saves it as a view.",
                markup=False,
                timeout=4,
            )
            return
        if self.search_box.error_text:
            message = "Fix the query first: " + self.search_box.error_text
            self.notify(message, markup=False, severity="warning")
            return

        async def submit(name: str) -> str | None:
            try:
                await self.gateway.call(lambda store: store.save_view(name, query))
            except (StoreError, QueryError, ValueError) as error:  # said inline
                return str(error)
            return None

        def saved(name: str | None) -> None:
            if name:
                self.view_name = name
                self.notify(
                    f"Saved view {clean_line(name)!r}: {clean_line(query)}", markup=False, timeout=3
                )

        prompt = NamePromptScreen(
            "Save view",
            f"Save the query  {query}  as a view named:",
            submit,
            value=self.view_name or "",
        )
        self.app.push_screen(prompt, saved)

    # -- other screens ------------------------------------------------------------------

    def action_open(self, name: str) -> None:
        """Open a sub-screen by name (tui/sub_screens.py)."""
        self.sub_screens.open(name)

    # -- other processes ----------------------------------------------------------------

    @work(exclusive=True, group="poll")
    async def _poll(self) -> None:
        try:
            await self.team.renew()
            changed = await self.gateway.call(self.gateway.refresh, background=True)
        except (StoreError, OSError) as error:  # e.g. a file mid-write elsewhere; retried
            self.notify(
                f"cannot re-read the store: {error}", severity="warning", markup=False, timeout=4
            )
            return
        if changed and self.team.claims_only():
            self.post_list.refresh()  # who holds what: only the rows' marks change
            self.team.claim_if_free()
        elif changed:
            self.store_changed()

    def refresh_from_store(self) -> None:
        """Read the store again now rather than at the next poll."""
        self._poll()

    def store_changed(self) -> None:
        """Another process (or a sub-screen) changed decisions or posts: read the list again
        where the reviewer is, and the post under the cursor once it is prepared anew."""
        self.preparer.drop()
        self.load_rows(self.query_text, limit=max(self.list_window, self.post_list.row_count))
        post_id = self.post_list.highlighted_id
        if post_id is not None:
            self.preparer.want([post_id])
