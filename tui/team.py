"""What the review screen does on a team store (``store.team`` is not None), kept apart
from the screen: hold the open post with a lease and renew it, pass over posts others
hold (or this reviewer decided) in next-pending, mark held rows, release on quit.

A screen holds one post: the one its cursor rests on (``CLAIM_AFTER_S``), given back when
the cursor rests on another. A post the screen moved to by itself (the first pending, the
next after a decision) that turns out held by someone else is passed over at once. Taking
a post over is asked when the reviewer decides it or writes a note on it, never when the
cursor merely reaches it (a question that comes by itself takes the next key typed).

On a local store (``team`` None) every function here is a no-op. ``TeamFlow`` is the
screen's side (store calls through its gateway, on the store thread); the functions are
the rules. ``holder``/``skips`` read the team desk's last refresh, no query: they are
safe on the UI thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from storage import Claim, PostSummary, ReviewStore, Status, TeamDesk
from storage.session import next_pending
from tui.text import clean_line
from tui.workers import run_async

if TYPE_CHECKING:
    from textual.app import App

    from tui.gateway import StoreGateway
    from tui.screens.review import ReviewScreen


class HasTeam(Protocol):
    """A store, or the gateway (its ``team`` is the desk's last refresh)."""

    @property
    def team(self) -> TeamDesk | None: ...


RowNote = Callable[[str], str | None]

# How often the screen asks a team store for news (a socket check; the store queries the
# server at most once a second): others' decisions and claims show within a second.
TEAM_POLL_SECONDS = 0.25


def team_of(store: HasTeam) -> TeamDesk | None:
    return store.team


def poll_seconds(store: HasTeam, local_seconds: float) -> float:
    return local_seconds if team_of(store) is None else TEAM_POLL_SECONDS


# The cursor rests this long on a post before it is claimed: a run of j presses claims
# (and gives back) nothing on the way.
CLAIM_AFTER_S = 0.15


def hold(store: ReviewStore, post_id: str, give_back: str | None = None) -> Claim | None:
    """Give back ``give_back`` (the post held before), then claim the opened post for this
    reviewer when it is in the queue. Returns the other reviewer's claim when someone else
    holds it."""
    team = team_of(store)
    if team is None:
        return None
    if give_back is not None and give_back != post_id:
        mine = team.holder(give_back)
        if mine is not None and mine.reviewer == team.reviewer:
            team.release([give_back])
    if not store.summary(post_id).needs_human_review:
        return None
    other = team.held_by_other(post_id)
    if other is not None:
        return other
    if team.holder(post_id) is None and team.decided_by_me(post_id):
        return None  # nothing left for this reviewer to do on it: no claim
    if team.claim(post_id) is None:
        return team.held_by_other(post_id)
    return None


def held_by_others(store: HasTeam, post_ids: Sequence[str]) -> list[Claim]:
    """The claims of other reviewers on ``post_ids`` (the desk's last refresh)."""
    team = team_of(store)
    if team is None:
        return []
    return [claim for post_id in post_ids if (claim := team.held_by_other(post_id))]


def take_over(store: HasTeam, post_ids: Sequence[str]) -> None:
    """Claim ``post_ids`` for this reviewer whoever holds them (asked first)."""
    team = team_of(store)
    if team is not None:
        for post_id in post_ids:
            team.claim(post_id, steal=True)


def renew(store: HasTeam, post_id: str | None) -> None:
    """Keep the open post's lease running: renewed once half of it is gone."""
    team = team_of(store)
    if team is None or post_id is None:
        return
    mine = team.holder(post_id)
    if mine is not None and mine.reviewer == team.reviewer and mine.expires_in_s < team.lease_s / 2:
        team.renew([post_id])


def claims_only(store: HasTeam) -> bool:
    team = team_of(store)
    return team is not None and team.claims_only


def release_all(store: HasTeam) -> None:
    team = team_of(store)
    if team is not None:
        team.release()


def skips(store: HasTeam, row: PostSummary) -> bool:
    team = team_of(store)
    return team is not None and team.skips(row.id)


def first_free_pending(rows: Sequence[PostSummary], store: HasTeam) -> int:
    return next(
        (i for i, row in enumerate(rows) if row.status == "pending" and not skips(store, row)),
        0,
    )


async def ask_take_over(
    app: App[Any], gateway: HasTeam, post_ids: Sequence[str], doing: str
) -> tuple[list[str], str | None]:
    """Before ``doing`` (a decision or note) on ``post_ids``, in a worker: when others hold
    some, ask. Returns the posts to take over (``take_over``, just before the write) and
    None, or ``[]`` and why nothing is to be saved."""
    claims = held_by_others(gateway, post_ids)
    if not claims:
        return [], None
    from tui.screens.confirm import ConfirmScreen

    if not await app.push_screen_wait(ConfirmScreen(steal_question(claims, doing))):
        if len(claims) > 1:
            return [], "Nothing saved: others hold some of them"
        return [], f"Nothing saved: {clean_line(claims[0].reviewer, max_chars=40)} holds it"
    return [claim.post_id for claim in claims], None


async def take_over_if_asked(
    app: App[Any], gateway: StoreGateway, post_ids: Sequence[str], doing: str
) -> str | None:
    """``ask_take_over``, then the posts taken over at once. None: go on; else why nothing
    is saved."""
    held, refused = await ask_take_over(app, gateway, post_ids, doing)
    if held:
        await gateway.call(lambda store: take_over(store, held))
    return refused


def minutes_left(claim: Claim) -> int:
    """Whole minutes left on a lease, as the rows and the question say them."""
    return max(0, int(claim.expires_in_s // 60))


def steal_question(claims: Sequence[Claim], doing: str) -> str:
    """The question before ``doing`` (e.g. "mark it approved") takes ``claims`` over."""
    if len(claims) == 1:
        minutes = minutes_left(claims[0])
        who = clean_line(claims[0].reviewer, max_chars=40)
        return f"{who} holds this post ({minutes} min left on the lease). Take it over and {doing}?"
    holders = sorted({clean_line(c.reviewer, max_chars=24) for c in claims})
    names = ", ".join(holders[:3]) + (f" and {len(holders) - 3} more" if len(holders) > 3 else "")
    return f"{len(claims)} of these posts are held by {names}. Take them over and {doing}?"


def row_note(store: HasTeam) -> RowNote | None:
    """For the post list: a row's "held by NAME, Nm" note, or None."""
    team = team_of(store)
    if team is None:
        return None

    def note(post_id: str) -> str | None:
        claim = team.holder(post_id)
        if claim is None:
            return None
        who = "you" if claim.reviewer == team.reviewer else clean_line(claim.reviewer, max_chars=24)
        return f"held by {who}, {minutes_left(claim)}m left"

    return note


def skip_of(store: HasTeam) -> Callable[[str], bool] | None:
    """For next-pending: a test "pass over this post", or None on a local store."""
    team = team_of(store)
    return None if team is None else team.skips


class TeamFlow:
    """The review screen's team-store side: the post under the cursor claimed (the one
    held before given back), one the screen moved to that is held passed over, its lease
    renewed as the screen polls, a take-over asked before a decision or note."""

    def __init__(self, screen: ReviewScreen) -> None:
        self.screen = screen
        self.gateway = screen.gateway  # .team: the desk's last refresh, safe to read here
        self.active = team_of(self.gateway) is not None
        self._held: str | None = None  # the post this screen claimed last
        self._moved_to: str | None = None  # the post the screen moved to by itself

    def poll_seconds(self, local_seconds: float) -> float:
        return poll_seconds(self.gateway, local_seconds)

    def skip(self) -> Callable[[str], bool] | None:
        return skip_of(self.gateway)

    def row_note(self) -> RowNote | None:
        return row_note(self.gateway)

    def claims_only(self) -> bool:
        """Whether the last change the screen polled was claims alone (see TeamDesk)."""
        return claims_only(self.gateway)

    def moved_to(self, post_id: str | None) -> None:
        """The screen put its cursor on ``post_id`` by itself (not the reviewer's key): if
        someone holds it, the screen goes on to the next free pending post."""
        self._moved_to = post_id

    async def ask_take_over(self, post_ids: Sequence[str], doing: str) -> list[str] | None:
        """Before a decision or note on ``post_ids`` (see ``ask_take_over``): the posts to
        take over (``take_over`` them just before the write), or None when the reviewer
        said no (the status bar says nothing is saved)."""
        held, refused = await ask_take_over(self.screen.app, self.gateway, post_ids, doing)
        if refused is not None:
            self.screen.flash = refused
            return None
        return held

    async def take_over(self, post_ids: Sequence[str]) -> None:
        if not post_ids:
            return
        held = list(post_ids)

        def taking(store: ReviewStore) -> None:
            take_over(store, held)
            if len(held) == 1:  # the open post: this screen's, given back when it moves on
                self._held = held[0]

        await self.screen.gateway.call(taking)
        self.screen.post_list.refresh()

    def opened(self, post_id: str) -> None:
        if self.active:

            async def hold_it() -> None:
                await asyncio.sleep(CLAIM_AFTER_S)  # cancelled when the cursor moves on
                await self._hold(post_id)

            run_async(self.screen, hold_it, group="team-hold", exclusive=True)

    def claim_if_free(self) -> None:
        """Others' claims moved: the post under the cursor, if whoever held it gave it
        back, is claimed for this reviewer, as if the cursor had just come to rest there."""
        post_list = self.screen.post_list
        row = post_list.highlighted
        team = team_of(self.gateway)
        if team is None or row is None or row.id == self._held or not row.needs_human_review:
            return
        if post_list.status_of_id(row.id) is Status.PENDING and team.holder(row.id) is None:
            self.opened(row.id)

    def _hold_on_store(self, store: ReviewStore, post_id: str) -> Claim | None:
        """On the store thread, where each call runs to its end (a cancelled worker's
        claim is still made): the post held before given back, this one held."""
        held = hold(store, post_id, give_back=self._held)
        self._held = post_id if held is None else None
        return held

    async def _hold(self, post_id: str) -> None:
        screen = self.screen
        if post_id != screen.post_list.highlighted_id:
            return
        held = await screen.gateway.call(lambda store: self._hold_on_store(store, post_id))
        screen.post_list.refresh()  # a new claim shows in its row
        moved_here, self._moved_to = self._moved_to == post_id, None  # one look, then gone
        if held is None or post_id != screen.post_list.highlighted_id:
            return
        if moved_here:  # reached by the screen, and someone has it: on
            self._to_next_free()

    def _to_next_free(self) -> None:
        post_list = self.screen.post_list
        target = next_pending(post_list.ids, post_list.cursor, post_list.status_of_id, self.skip())
        if target is not None and target != post_list.cursor:
            self._moved_to = post_list.ids[target]
            post_list.move_to(target)
        else:
            self._moved_to = None

    async def renew(self) -> None:
        if self.active:
            post_id = self.screen.post_list.highlighted_id
            await self.screen.gateway.call(lambda store: renew(store, post_id), background=True)
