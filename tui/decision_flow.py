"""What the decision keys do on the review screen: decide, undo, write a note.

The rules are ``storage.session.ReviewSession``'s (the gateway runs them on the store
thread); this module is the screen's side: the confirm before a bulk decision, one store
hop per key (the write, then the list read again when the query can hold or drop posts
by their decision, so that the list, its count and an export of the view agree), and
where the cursor goes after it. A decision is shown once it is on disk.

The consistency guard (``tui.consistency``): deciding one post that has near duplicates
checks, in the hop that would save it, whether a near duplicate was decided the other
way; then nothing is saved and a confirm names that post and its decision (yes saves, no
leaves the post as it was). A post without near duplicates (what the screen read of it
says so) is decided exactly as before: the cursor moves at once, one hop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage import PostSummary, QueueProgress, ReviewStore, Status, StoreError
from storage.families import Inconsistency
from storage.session import DecisionOutcome, UndoOutcome, advance_after, plural
from tui.consistency import (
    bulk_conflict_lines,
    bulk_conflicts,
    conflict_question,
    conflicts,
    may_conflict,
)
from tui.screens.confirm import ConfirmScreen
from tui.screens.note import NoteScreen
from tui.text import clean_line

if TYPE_CHECKING:
    from tui.screens.review import ReviewScreen


@dataclass(frozen=True, slots=True)
class Rows:
    """A window of the list as one store hop read it."""

    rows: list[PostSummary]
    total: int
    progress: QueueProgress
    noted: set[str]


def read_rows(store: ReviewStore, query: str, limit: int | None) -> Rows:
    """On the store thread: the rows of ``query``, its count, the progress, the notes."""
    rows = store.search(query, limit=limit)
    total = len(rows) if limit is None or len(rows) < limit else store.count(query)
    reviews = store.reviews()
    noted = {row.id for row in rows if (review := reviews.get(row.id)) and review.note}
    return Rows(rows, total, store.progress(), noted)


class DecisionFlow:
    """``DecisionFlow(screen)``: the review screen's decision keys."""

    def __init__(self, screen: ReviewScreen) -> None:
        self.screen = screen

    def decide(self, status: Status) -> None:
        """Decide the tagged posts (after a confirm), else the post under the cursor."""
        screen = self.screen
        tagged = screen.post_list.tagged_ids
        if tagged:
            question = f"Mark {plural(len(tagged), 'tagged post')} as {status.label}?"
            marked = set(tagged)
            near = [
                row.id
                for row in screen.post_list.rows
                if row.id in marked and "near_duplicate" in row.hint_codes
            ]
            if near:  # the confirm names the near duplicates it would contradict
                screen.run_worker(self._confirm_bulk(tagged, near, status, question))
                return

            def confirmed(ok: bool | None) -> None:
                if ok:
                    screen.run_worker(self._decide(tagged, status, bulk=True), group="decide")

            screen.app.push_screen(ConfirmScreen(question), confirmed)
            return
        post_id = screen.post_list.highlighted_id
        if post_id is not None:
            check = may_conflict(screen.gateway.cached(post_id))
            screen.run_worker(self._decide([post_id], status, check=check), group="decide")

    async def _confirm_bulk(
        self, tagged: list[str], near: list[str], status: Status, question: str
    ) -> None:
        """The bulk confirm, with the near duplicates of ``near`` (tagged posts with
        near-duplicate hints) that the decision would contradict."""
        screen, gateway = self.screen, self.screen.gateway
        try:
            found = await gateway.call(lambda store: bulk_conflicts(store, near, status, tagged))
        except (StoreError, OSError):
            found = {}  # the check is help: the confirm still asks
        if found:
            question = f"{question}\n{bulk_conflict_lines(found)}"
        if await screen.app.push_screen_wait(ConfirmScreen(question)):
            await self._decide(tagged, status, bulk=True)

    def undo(self) -> None:
        self.screen.run_worker(self._undo(), group="decide")

    def note(self) -> None:
        self.screen.run_worker(self._note(), group="note")

    def _rows_limit(self) -> int:
        screen = self.screen
        return max(screen.list_window, screen.post_list.row_count)

    async def _decide(
        self, post_ids: list[str], status: Status, *, bulk: bool = False, check: bool = False
    ) -> None:
        """The cursor moves on to the next pending post at once, while the write is made
        (the two overlap: the key settles when the slower is done); the decided rows and
        the flags pane change once the write is on disk. A failed write puts the cursor
        back. With ``check`` (one post that may have near duplicates) the cursor waits for
        the hop, which saves nothing when a near duplicate was decided the other way: the
        reviewer is asked first."""
        screen = self.screen
        doing = f"mark {'them' if len(post_ids) > 1 else 'it'} {status.label}"
        taken = await screen.team.ask_take_over(post_ids, doing)
        if taken is None:
            return
        await screen.team.take_over(taken)
        gateway, query, limit = screen.gateway, screen.query_text, self._rows_limit()
        post_list = screen.post_list
        order, cursor = post_list.ids, post_list.cursor
        start_id = post_list.highlighted_id
        decided = set(post_ids)

        def status_after(post_id: str) -> Status:
            return status if post_id in decided else post_list.status_of_id(post_id)

        target = advance_after(order, cursor, post_ids, status_after, screen.team.skip())
        target_id = order[target] if target is not None else None
        if not check and target is not None and target != cursor:
            screen.team.moved_to(target_id)
            post_list.move_to(target)

        Hop = tuple[list[Inconsistency], DecisionOutcome | None, QueueProgress | None, Rows | None]

        def hop(store: ReviewStore, *, checked: bool = check) -> Hop:
            if checked:
                found = conflicts(store, post_ids[0], status)
                if found:
                    return found, None, None, None
            outcome = gateway.decide(store, post_ids, status)
            rows = read_rows(store, query, limit) if query.strip() else None
            return [], outcome, store.progress(), rows

        try:
            found, outcome, progress, rows = await gateway.call(hop)
            if outcome is None:  # a near duplicate was decided the other way: ask
                question = conflict_question(post_ids[0], status, found)
                if not await screen.app.push_screen_wait(ConfirmScreen(question)):
                    screen.flash = f"Nothing saved: {post_ids[0]} is as it was"
                    return
                found, outcome, progress, rows = await gateway.call(
                    lambda store: hop(store, checked=False)
                )
        except (StoreError, OSError, ValueError) as error:
            screen.notify(f"not saved: {clean_line(str(error))}", severity="error", markup=False)
            back = post_list.index_of(start_id) if start_id is not None else None
            if back is not None and back != post_list.cursor:
                post_list.move_to(back)
            return
        assert outcome is not None and progress is not None
        if check and target_id is not None and post_list.highlighted_id == start_id:
            index = post_list.index_of(target_id)
            if index is not None and index != post_list.cursor:
                screen.team.moved_to(target_id)
                post_list.move_to(index)
        post_list.set_statuses(dict.fromkeys(outcome.post_ids, status), {})
        if bulk:
            post_list.clear_tags()
            screen.flash = outcome.message
        if target is None:
            screen.flash = "No pending posts left in this list"
        screen.progress = progress
        if rows is not None:
            screen.apply_rows(query, rows, select_id=target_id, select_index=cursor)
        self.show_review_of_current()

    async def _undo(self) -> None:
        screen = self.screen
        gateway, query, limit = screen.gateway, screen.query_text, self._rows_limit()

        def hop(store: ReviewStore) -> tuple[UndoOutcome | None, QueueProgress, Rows | None]:
            outcome = gateway.undo(store)
            rows = read_rows(store, query, limit) if outcome and query.strip() else None
            return outcome, store.progress(), rows

        try:
            outcome, progress, rows = await gateway.call(hop)
        except (StoreError, OSError) as error:
            screen.notify(f"cannot undo: {error}", severity="error", markup=False)
            return
        if outcome is None:
            screen.flash = "Nothing to undo"
            return
        screen.progress = progress
        post_list = screen.post_list
        first = outcome.post_ids[0]
        if rows is not None:
            screen.apply_rows(query, rows, select_id=first)
        else:
            restored = outcome.restored
            post_list.set_statuses(
                {i: Status(r.status) if r else Status.PENDING for i, r in restored.items()},
                {i: bool(r and r.note) for i, r in restored.items()},
            )
            index = post_list.index_of(first)
            if index is not None and index != post_list.cursor:
                post_list.move_to(index)
        self.show_review_of_current()
        screen.flash = outcome.message

    async def _note(self) -> None:
        screen = self.screen
        row = screen.post_list.highlighted
        if row is None:
            return
        gateway, post_id = screen.gateway, row.id
        taken = await screen.team.ask_take_over([post_id], "write a note on it")
        if taken is None:
            return
        try:
            note = await gateway.call(lambda store: gateway.session.note_of(post_id))
        except (StoreError, OSError) as error:
            screen.notify(f"cannot read the note: {error}", severity="error", markup=False)
            return
        text = await screen.app.push_screen_wait(NoteScreen(row.title, note))
        if text is None or text == note:
            return  # nothing written: nothing taken over either
        try:
            await screen.team.take_over(taken)
            await gateway.call(lambda store: gateway.save_note(store, post_id, text))
        except (StoreError, OSError) as error:
            screen.notify(f"note not saved: {error}", severity="error", markup=False)
            return
        screen.post_list.set_statuses({}, {post_id: bool(text)})
        self.show_review_of_current()
        screen.flash = "Note saved"

    def show_review_of_current(self) -> None:
        """The flags pane follows a decision or note on the post it shows."""
        screen = self.screen
        panes = screen.panes
        if panes.shown_id is None or not panes.loaded:
            return
        view = screen.gateway.cached(panes.shown_id)
        if view is not None:
            panes.view = view
            panes.show_review(view.review)
