"""The main review screen: list, body, meta, flags, Similar.

This screen (with the app) is the only code that calls the store. Store calls
that can be slow (search, get, similar, refresh) run in thread workers under
``app.store_lock``; a decision is a small write made at once on the UI thread.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import get_current_worker

from tui import team
from tui.keymap import REVIEW_BINDINGS, keys_for
from tui.messages import (
    MoreRowsWanted,
    PostHighlighted,
    PostOpened,
    SearchChanged,
    SearchCleared,
    SearchSubmitted,
    SimilarChosen,
)
from tui.screens.clusters import ClustersResult, ClustersScreen
from tui.screens.compare import CompareScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.conflicts import ConflictsScreen
from tui.screens.export import ExportScreen
from tui.screens.name_prompt import NamePromptScreen
from tui.screens.note import NoteScreen
from tui.screens.views import CONFLICTS, NEAR_DUPLICATES, ViewChoice, ViewsScreen
from tui.text import clean_line
from tui.widgets.flags_pane import FlagsPane
from tui.widgets.meta_pane import MetaPane
from tui.widgets.post_body import PostBody
from tui.widgets.post_list import PostList
from tui.widgets.search_box import SearchBox
from tui.widgets.similar_pane import SimilarPane
from tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from tui.app import CopydeskApp

# Rows fetched per window; more are fetched when the cursor reaches the end.
LIST_WINDOW = 500
NARROW_WIDTH = 100  # below this the side panes share the centre with the body
SIMILAR_LIMIT = 10
POLL_SECONDS = 2.0
MOVE_DEBOUNCE_SECONDS = 0.04

STATUS_LABELS = {
    "approved": "approved",
    "rejected": "rejected",
    "changes_requested": "changes requested",
    "pending": "pending",
}


def query_error_types() -> tuple[type[BaseException], ...]:
    """``storage.QueryError`` (a bad search query), looked up without failing."""
    try:
        import storage
    except ImportError:
        return ()
    error = getattr(storage, "QueryError", None)
    return (error,) if isinstance(error, type) else ()


class ReviewScreen(Screen[None]):
    BINDINGS: ClassVar = REVIEW_BINDINGS

    list_window: ClassVar[int] = LIST_WINDOW
    """Rows fetched at first; more come in windows as the cursor nears the end."""

    app: CopydeskApp

    def __init__(self) -> None:
        super().__init__(id="review")
        self.query_text = ""
        self.view_name: str | None = None  # the view the list shows, until the query is edited
        self._undo: list[list[tuple[str, Any]]] = []
        self._current_post: Any | None = None
        self._progress = (0, 0)
        self._show_side_narrow = False
        self._typed_ahead: list[str] | None = None  # keys typed after "/", for the box
        self._search_keys: tuple[str, ...] = ("slash",)

    # -- layout -------------------------------------------------------------------------

    def compose(self):
        yield StatusBar(id="status")
        with Horizontal(id="panes"):
            with Vertical(id="left"):
                yield SearchBox(id="search")
                yield PostList(id="post-list")
            yield PostBody(id="body")
            with Vertical(id="side"):
                yield MetaPane(id="meta")
                yield FlagsPane(id="flags")
                yield SimilarPane(id="similar")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#left").border_title = "Posts"
        self.query_one("#body").border_title = "Post"
        self.query_one("#meta").border_title = "Meta"
        self.query_one("#flags").border_title = "Review flags"
        self.query_one("#similar").border_title = "Similar"
        self.post_list.focus()
        self._search_keys = keys_for("search", getattr(self.app, "keymap_overrides", {}))
        self._show_keys_hint()
        self._update_layout_class(self.size.width)
        self.load_rows("", first_pending=True)
        self.post_list.row_note = team.row_note(self.store)
        self.set_interval(team.poll_seconds(self.store, POLL_SECONDS), self._poll_store)

    def on_resize(self, event) -> None:
        self._update_layout_class(event.size.width)

    def _update_layout_class(self, width: int) -> None:
        narrow = 0 < width < NARROW_WIDTH
        self.set_class(narrow, "-narrow")
        self.set_class(narrow and self._show_side_narrow, "-show-side")

    # -- widget accessors ---------------------------------------------------------------

    @property
    def store(self) -> Any:
        return self.app.store

    @property
    def post_list(self) -> PostList:
        return self.query_one(PostList)

    @property
    def body(self) -> PostBody:
        return self.query_one(PostBody)

    @property
    def search_box(self) -> SearchBox:
        return self.query_one(SearchBox)

    @property
    def similar(self) -> SimilarPane:
        return self.query_one(SimilarPane)

    # -- loading the list ---------------------------------------------------------------

    @work(thread=True, exclusive=True, group="list")
    def load_rows(
        self,
        query: str,
        *,
        select_id: str | None = None,
        first_pending: bool = False,
        limit: int | None | str = "window",
        then_last: bool = False,
    ) -> None:
        """Fetch a window of rows for ``query`` (``limit=None``: all); the newest call wins."""
        worker = get_current_worker()
        if limit == "window":
            limit = self.list_window
        errors = query_error_types()
        try:
            with self.app.store_lock:
                rows = self.store.search(query, limit=limit)
                if limit is None or len(rows) < limit:
                    total = len(rows)
                else:
                    total = self.store.count(query)
                progress = self.store.progress()
        except errors as error:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._show_query_error, query, error)
            return
        except Exception as error:  # noqa: BLE001 - a store failure is shown, not fatal
            if not worker.is_cancelled:
                self.app.call_from_thread(
                    self.notify, f"cannot load posts: {error}", severity="error", markup=False
                )
            return
        if worker.is_cancelled:
            return
        self.app.call_from_thread(
            self._apply_rows, query, rows, total, progress, select_id, first_pending, then_last
        )

    def _apply_rows(
        self,
        query: str,
        rows: list[Any],
        total: int,
        progress: tuple[int, int],
        select_id: str | None,
        first_pending: bool,
        then_last: bool,
    ) -> None:
        self.query_text = query
        self._progress = progress
        self.search_box.show_error(None)
        post_list = self.post_list
        if then_last:
            post_list.set_rows(rows, total, select_index=len(rows) - 1)
        elif first_pending:
            pending = team.first_free_pending(rows, self.store)
            post_list.set_rows(rows, total, select_index=pending)
        else:
            keep = select_id if select_id is not None else post_list.highlighted_id
            post_list.set_rows(rows, total, select_id=keep, select_index=0)
        self._update_status()

    def _show_query_error(self, query: str, error: BaseException) -> None:
        position = getattr(error, "position", None)
        message = str(error)
        if position is not None and "position" not in message:
            message = f"{message} (at position {position})"
        self.search_box.show_error(message)

    def _update_status(self) -> None:
        post_list = self.post_list
        reviewed, needing = self._progress
        self.query_one(StatusBar).update_status(
            reviewed=reviewed,
            needing=needing,
            query=self.query_text,
            shown=post_list.row_count,
            total=post_list.total,
            tagged=len(post_list.tagged_ids),
            view=self.view_name,
        )

    def _show_keys_hint(self) -> None:
        keymap = getattr(self.app, "keymap_overrides", {})
        parts = []
        for binding_id, label in (("help", "help"), ("quit", "quit")):
            keys = keys_for(binding_id, keymap)
            if keys:
                parts.append(f"{self.app.get_key_display(Binding(keys[0], ''))} {label}")
        self.query_one(StatusBar).set_keys_hint(" · ".join(parts) + " ")

    def _refresh_progress(self) -> None:
        with self.app.store_lock:
            self._progress = self.store.progress()
        self._update_status()

    # -- the current post ---------------------------------------------------------------

    @on(PostHighlighted)
    def _post_highlighted(self, message: PostHighlighted) -> None:
        if message.post_id is None:
            self._current_post = None
            self.body.show_message("no posts match")
            self.query_one(MetaPane).clear()
            self.query_one(FlagsPane).show_flags({}, None, [])
            self.similar.show_similar([])
            return
        self.load_post(message.post_id)
        self.load_similar(message.post_id)

    @work(thread=True, exclusive=True, group="post")
    def load_post(self, post_id: str) -> None:
        worker = get_current_worker()
        # Key repeat: a newer cursor move cancels this one before it reads a shard.
        time.sleep(MOVE_DEBOUNCE_SECONDS)
        if worker.is_cancelled:
            return
        try:
            with self.app.store_lock:
                post = self.store.get(post_id)
                review = self.store.review(post_id)
                held = team.hold(self.store, post_id)  # a team store: claim it, or who has it
        except Exception as error:  # noqa: BLE001 - shown to the reviewer, not raised
            if not worker.is_cancelled:
                self.app.call_from_thread(self.body.show_message, f"cannot load post: {error}")
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_post, post, review)
            self.app.call_from_thread(self.post_list.refresh)  # a new claim shows in its row
            if held is not None:
                self.app.call_from_thread(self._ask_steal, post_id, held)

    def _ask_steal(self, post_id: str, claim: Any) -> None:
        def answered(take: bool | None) -> None:
            if take:
                with self.app.store_lock:
                    team.steal(self.store, post_id)
                self.post_list.refresh()

        self.post_list.refresh()
        self.app.push_screen(ConfirmScreen(team.steal_question(claim)), answered)

    def _show_post(self, post: Any, review: Any) -> None:
        if post.id != self.post_list.highlighted_id:
            return  # the cursor moved on while this loaded
        self._current_post = post
        meta = post.meta or {}
        # A Text, not a str: Textual reads a str border title as markup.
        self.body.border_title = Text(clean_line(getattr(post, "reference", "") or "Post"))
        self.body.show_post(post.title, post.body or [], meta.get("code_language"))
        self.query_one(MetaPane).show_meta(meta)
        self._show_flags(post, review)

    def _show_flags(self, post: Any, review: Any) -> None:
        meta = post.meta or {}
        changed = review is not None and review.made_on_other_text(
            (post.source or {}).get("sha256", "")
        )
        self.query_one(FlagsPane).show_flags(
            meta.get("flags"), review, getattr(post, "hints", None) or [], changed=changed
        )

    @work(thread=True, exclusive=True, group="similar")
    def load_similar(self, post_id: str) -> None:
        worker = get_current_worker()
        time.sleep(MOVE_DEBOUNCE_SECONDS)
        if worker.is_cancelled:
            return
        try:
            with self.app.store_lock:
                items = self.store.similar(post_id, limit=SIMILAR_LIMIT)
        except Exception:  # noqa: BLE001 - similarity is optional help, never fatal
            items = []
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_similar, post_id, items)

    def _show_similar(self, post_id: str, items: list[Any]) -> None:
        if post_id == self.post_list.highlighted_id:
            self.similar.show_similar(items)

    def _refresh_current_review(self) -> None:
        post = self._current_post
        if post is None:
            return
        with self.app.store_lock:
            review = self.store.review(post.id)
        self._show_flags(post, review)

    # -- moving -------------------------------------------------------------------------

    def action_next_post(self) -> None:
        self.post_list.move_by(1)

    def action_prev_post(self) -> None:
        self.post_list.move_by(-1)

    def action_first_post(self) -> None:
        self.post_list.move_to(0)

    def action_last_post(self) -> None:
        post_list = self.post_list
        if post_list.total > post_list.row_count:
            self.load_rows(self.query_text, limit=None, then_last=True)
        else:
            post_list.move_to(post_list.row_count - 1)

    def action_page_down(self) -> None:
        self.post_list.page(1)

    def action_page_up(self) -> None:
        self.post_list.page(-1)

    @on(MoreRowsWanted)
    def _more_rows(self, message: MoreRowsWanted) -> None:
        self.load_rows(
            self.query_text,
            select_id=self.post_list.highlighted_id,
            limit=max(self.list_window, message.loaded * 4),
        )

    @on(PostOpened)
    def _post_opened(self, message: PostOpened) -> None:
        self._focus_pane(self.body)

    # -- panes --------------------------------------------------------------------------

    def _panes(self) -> list[Any]:
        return [
            self.post_list,
            self.body,
            self.query_one(MetaPane),
            self.query_one(FlagsPane),
            self.similar,
        ]

    def _focus_pane(self, pane: Any) -> None:
        side = pane in (self.query_one(MetaPane), self.query_one(FlagsPane), self.similar)
        if self.has_class("-narrow"):
            self._show_side_narrow = side
            self.set_class(side, "-show-side")
        elif side and self.has_class("-hide-side"):
            self.remove_class("-hide-side")
        pane.focus()

    def _cycle(self, step: int) -> None:
        panes = self._panes()
        focused = self.focused
        current = next((i for i, pane in enumerate(panes) if pane is focused), -1)
        if current == -1:
            self._focus_pane(self.post_list)
            return
        self._focus_pane(panes[(current + step) % len(panes)])

    def action_cycle_panes(self) -> None:
        self._cycle(1)

    def action_cycle_panes_back(self) -> None:
        self._cycle(-1)

    def action_focus_similar(self) -> None:
        self._focus_pane(self.similar)

    def action_toggle_side(self) -> None:
        if self.has_class("-narrow"):
            self._show_side_narrow = not self._show_side_narrow
            self.set_class(self._show_side_narrow, "-show-side")
            if not self._show_side_narrow and self.focused in self._panes()[2:]:
                self.body.focus()
        else:
            self.toggle_class("-hide-side")
            if self.has_class("-hide-side") and self.focused in self._panes()[2:]:
                self.post_list.focus()

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
        if self.search_box.input.has_focus:
            return
        if self._typed_ahead is not None and event.is_printable and event.character:
            self._typed_ahead.append(event.character)
            event.stop()
            event.prevent_default()
        elif event.key in self._search_keys:
            self._typed_ahead = []

    @on(SearchChanged)
    def _search_changed(self, message: SearchChanged) -> None:
        self.view_name = None
        self.load_rows(message.query, select_id=self.post_list.highlighted_id)

    @on(SearchSubmitted)
    def _search_submitted(self, message: SearchSubmitted) -> None:
        self.post_list.focus()

    @on(SearchCleared)
    def _search_cleared(self, message: SearchCleared) -> None:
        self.view_name = None
        self.load_rows("", select_id=self.post_list.highlighted_id)
        self.post_list.focus()

    # -- similar ------------------------------------------------------------------------

    @on(SimilarChosen)
    def _similar_chosen(self, message: SimilarChosen) -> None:
        self.jump_to(message.post_id)

    def jump_to(self, post_id: str) -> None:
        """Put the list cursor on ``post_id``, widening the list when it is not shown."""
        index = self.post_list.index_of(post_id)
        if index is not None:
            self.post_list.move_to(index)
            self._focus_pane(self.post_list)
            return
        if self.query_text:
            self._set_search_text("")
        self.view_name = None
        self.load_rows("", select_id=post_id, limit=None)
        self._focus_pane(self.post_list)

    def _set_search_text(self, text: str) -> None:
        """Put ``text`` in the search box without it counting as typing."""
        with self.search_box.input.prevent(type(self.search_box.input).Changed):
            self.search_box.input.value = text
        self.search_box.show_error(None)

    # -- views --------------------------------------------------------------------------

    def action_views(self) -> None:
        self.app.push_screen(ViewsScreen(self.store, self.query_text), self.open_view_choice)

    def open_view_choice(self, choice: ViewChoice | None) -> None:
        """Apply a pick of the views list or the command palette."""
        if choice is None:
            return
        if choice.kind == NEAR_DUPLICATES:
            self.action_near_duplicates()
        elif choice.kind == CONFLICTS:
            self.action_conflicts()
        else:
            self.apply_view(choice.name, choice.query)

    def apply_view(self, name: str, query: str) -> None:
        """Show the posts of a view, from its first pending post."""
        self._set_search_text(query)
        self.view_name = name
        self.load_rows(query, first_pending=True)
        self._focus_pane(self.post_list)

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
            self.notify(
                "Fix the query first: " + self.search_box.error_text,
                markup=False,
                severity="warning",
            )
            return

        def submit(name: str) -> str | None:
            try:
                with self.app.store_lock:
                    self.store.save_view(name, query)
            except Exception as error:  # noqa: BLE001 - a bad name or query, said inline
                return str(error)
            return None

        def saved(name: str | None) -> None:
            if name:
                self.view_name = name
                self._update_status()
                self.notify(
                    f"Saved view {clean_line(name)!r}: {clean_line(query)}", markup=False, timeout=3
                )

        self.app.push_screen(
            NamePromptScreen(
                "Save view",
                f"Save the query  {query}  as a view named:",
                submit,
                value=self.view_name or "",
            ),
            saved,
        )

    # -- other screens ------------------------------------------------------------------

    def action_export(self) -> None:
        self.app.push_screen(ExportScreen(self.store, query=self.query_text))

    def action_conflicts(self) -> None:
        def closed(changed: list[str] | None) -> None:
            if changed:
                self._store_changed()

        self.app.push_screen(ConflictsScreen(self.store), closed)

    def action_near_duplicates(self) -> None:
        with self.app.store_lock:
            before = self.store.reviews()  # so that `u` can undo a whole-cluster decision

        def closed(result: ClustersResult | None) -> None:
            if result is None:
                return
            if result.changed_ids:
                self._undo.append(
                    [(post_id, before.get(post_id)) for post_id in result.changed_ids]
                )
                with self.app.store_lock:
                    for post_id in result.changed_ids:
                        self.post_list.set_status(post_id, self.store.status_of(post_id))
                self._refresh_progress()
                self._refresh_current_review()
            if result.open_id:
                self.jump_to(result.open_id)

        self.app.push_screen(ClustersScreen(self.store), closed)

    def action_compare(self) -> None:
        post = self._current_post
        if post is None or post.id != self.post_list.highlighted_id:
            self.notify("Wait for the post to load, then press d again.", markup=False)
            return
        item = self.similar.highlighted_item
        if item is None:
            self.notify("No similar post to compare with.", markup=False, timeout=3)
            return
        self.open_compare(post, item)

    @work(thread=True, exclusive=True, group="compare")
    def open_compare(self, post: Any, item: Any) -> None:
        try:
            with self.app.store_lock:
                other = self.store.get(item.id)
        except Exception as error:  # noqa: BLE001 - shown, never fatal
            self.app.call_from_thread(
                self.notify, f"cannot load {item.id}: {error}", severity="error", markup=False
            )
            return
        screen = CompareScreen(post, other, score=item.score, reasons=list(item.reasons))
        self.app.call_from_thread(self.app.push_screen, screen)

    # -- decisions ----------------------------------------------------------------------

    def action_decide(self, status: str) -> None:
        post_list = self.post_list
        tagged = post_list.tagged_ids
        if tagged:
            label = STATUS_LABELS.get(status, status)
            count = len(tagged)
            question = f"Mark {count} tagged post{'s' if count != 1 else ''} as {label}?"

            def confirmed(ok: bool | None) -> None:
                if ok:
                    self.decide(tagged, status)
                    post_list.clear_tags()
                    self._update_status()

            self.app.push_screen(ConfirmScreen(question), confirmed)
            return
        post_id = post_list.highlighted_id
        if post_id is not None:
            self.decide([post_id], status)

    def decide(self, post_ids: list[str], status: str) -> None:
        """Save ``status`` on each post (keeping its note), then go to the next pending."""
        previous: list[tuple[str, Any]] = []
        with self.app.store_lock:
            for post_id in post_ids:
                before = self.store.review(post_id)
                note = getattr(before, "note", "") or ""
                self.store.set_review(post_id, status, note=note)
                previous.append((post_id, before))
        self._undo.append(previous)
        post_list = self.post_list
        for post_id in post_ids:
            post_list.set_status(post_id, status)
        self._refresh_progress()
        self._refresh_current_review()
        label = STATUS_LABELS.get(status, status)
        if len(post_ids) > 1:
            self.notify(f"{len(post_ids)} posts {label}", markup=False, timeout=3)
        if (
            post_list.highlighted_id not in post_ids
            and post_list.highlighted is not None
            and (post_list.status_of(post_list.highlighted) == "pending")
        ):
            return  # a bulk decision left the post under the cursor pending: stay on it
        next_index = team.next_free_pending(post_list, self.store, post_list.cursor)
        if next_index is None:
            self.notify("No pending posts left in this list", markup=False, timeout=3)
        elif next_index != post_list.cursor:
            post_list.move_to(next_index)

    def action_undo(self) -> None:
        if not self._undo:
            self.notify("Nothing to undo", markup=False, timeout=2)
            return
        batch = self._undo.pop()
        with self.app.store_lock:
            for post_id, review in batch:
                self.store.restore_review(post_id, review)
        post_list = self.post_list
        for post_id, review in batch:
            post_list.set_status(post_id, getattr(review, "status", None) or "pending")
        self._refresh_progress()
        first_id = batch[0][0]
        index = post_list.index_of(first_id)
        if index is not None and index != post_list.cursor:
            post_list.move_to(index)
        else:
            self._refresh_current_review()
        count = len(batch)
        self.notify(
            f"Undid the last decision ({count} post{'s' if count != 1 else ''})",
            markup=False,
            timeout=2,
        )

    def action_note(self) -> None:
        post_id = self.post_list.highlighted_id
        if post_id is None:
            return
        row = self.post_list.highlighted
        with self.app.store_lock:
            before = self.store.review(post_id)
        note = getattr(before, "note", "") or ""

        def saved(text: str | None) -> None:
            if text is None or text == note:
                return
            status = getattr(before, "status", None) or "pending"
            with self.app.store_lock:
                self.store.set_review(post_id, status, note=text)
            self._undo.append([(post_id, before)])
            if post_id == self.post_list.highlighted_id:
                self._refresh_current_review()
            self.notify("Note saved", markup=False, timeout=2)

        self.app.push_screen(NoteScreen(row.title, note), saved)

    def action_tag(self) -> None:
        post_list = self.post_list
        post_id = post_list.highlighted_id
        if post_id is None:
            return
        post_list.toggle_tag(post_id)
        post_list.move_by(1)
        self._update_status()

    # -- other processes ----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="poll")
    def _poll_store(self) -> None:
        try:
            with self.app.store_lock:
                changed = self.store.refresh()
                team.renew(self.store, self.post_list.highlighted_id)
        except Exception as error:  # noqa: BLE001 - e.g. a file mid-write elsewhere; retried
            self.app.call_from_thread(
                self.notify,
                f"cannot re-read the store: {error}",
                severity="warning",
                markup=False,
                timeout=4,
            )
            return
        if changed and not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._store_changed)

    def _store_changed(self) -> None:
        current = self.post_list.highlighted_id
        self.load_rows(
            self.query_text,
            select_id=current,
            limit=max(self.list_window, self.post_list.row_count),
        )
        if current is not None:
            self.load_post(current)
