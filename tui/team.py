"""What the review screen does on a team store (``store.team`` is not None), kept apart
from the screen: hold the open post with a lease and renew it, pass over posts others
hold (or this reviewer decided) in next-pending, mark held rows, release on quit.

On a local store (``team`` None) every function here is a no-op. ``TeamFlow`` is the
screen's side (store calls through its gateway, on the store thread); the functions are
the rules. ``holder``/``skips`` read the team desk's last refresh, no query: they are
safe on the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from storage import Claim, PostSummary, ReviewStore, TeamDesk
from tui.text import clean_line
from tui.workers import run_async

if TYPE_CHECKING:
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


def hold(store: ReviewStore, post_id: str) -> Claim | None:
    """Claim the opened post for this reviewer when it is in the queue. Returns the
    other reviewer's claim when someone else holds it (the screen asks before a steal)."""
    team = team_of(store)
    if team is None or not store.summary(post_id).needs_human_review:
        return None
    other = team.held_by_other(post_id)
    if other is not None:
        return other
    if team.holder(post_id) is None and team.decided_by_me(post_id):
        return None  # nothing left for this reviewer to do on it: no claim
    if team.claim(post_id) is None:
        return team.held_by_other(post_id)
    return None


def steal(store: HasTeam, post_id: str) -> None:
    team = team_of(store)
    if team is not None:
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


def steal_question(claim: Claim) -> str:
    minutes = max(1, round(claim.expires_in_s / 60))
    who = clean_line(claim.reviewer, max_chars=40)
    return f"{who} holds this post ({minutes} min left on the lease). Take it over?"


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
        return f"held by {who}, {max(0, int(claim.expires_in_s // 60))}m left"

    return note


def skip_of(store: HasTeam) -> Callable[[str], bool] | None:
    """For next-pending: a test "pass over this post", or None on a local store."""
    team = team_of(store)
    return None if team is None else team.skips


class TeamFlow:
    """The review screen's team-store side: the open post claimed (asking before a
    steal), its lease renewed as the screen polls."""

    def __init__(self, screen: ReviewScreen) -> None:
        self.screen = screen
        self.gateway = screen.gateway  # .team: the desk's last refresh, safe to read here
        self.active = team_of(self.gateway) is not None

    def poll_seconds(self, local_seconds: float) -> float:
        return poll_seconds(self.gateway, local_seconds)

    def skip(self) -> Callable[[str], bool] | None:
        return skip_of(self.gateway)

    def row_note(self) -> RowNote | None:
        return row_note(self.gateway)

    def claims_only(self) -> bool:
        """Whether the last change the screen polled was claims alone (see TeamDesk)."""
        return claims_only(self.gateway)

    def opened(self, post_id: str) -> None:
        if self.active:

            async def hold_it() -> None:
                await self._hold(post_id)

            run_async(self.screen, hold_it, group="team-hold", exclusive=True)

    async def _hold(self, post_id: str) -> None:
        screen = self.screen
        held = await screen.gateway.call(lambda store: hold(store, post_id))
        screen.post_list.refresh()  # a new claim shows in its row
        if held is None or post_id != screen.post_list.highlighted_id:
            return
        from tui.screens.confirm import ConfirmScreen

        async def answered(take: bool | None) -> None:
            if take:
                await screen.gateway.call(lambda store: steal(store, post_id))
                screen.post_list.refresh()

        screen.app.push_screen(ConfirmScreen(steal_question(held)), answered)

    async def renew(self) -> None:
        if self.active:
            post_id = self.screen.post_list.highlighted_id
            await self.screen.gateway.call(lambda store: renew(store, post_id), background=True)
