"""What the Near duplicates screen's deciding keys do, kept apart from its layout: decide a
whole cluster, decide one post (asking first when that contradicts a decided near copy),
keep one post and reject the rest, undo the last step.

Each step is one store hop through the gateway (one durable write); the screen is told
what changed through ``apply_statuses`` and ``say``. The steps run as the screen's
workers, so a confirm can be awaited (``push_screen_wait``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage import PostSummary, ReviewStore, Status, StoreError
from storage.families import Inconsistency, KeepPlan, plan_keep
from storage.session import DecisionOutcome, next_pending, plural
from tui.consistency import conflict_question, conflicts
from tui.screens.confirm import ConfirmScreen
from tui.team import take_over_if_asked
from tui.text import clean_line, clean_name
from tui.workers import run_async

if TYPE_CHECKING:
    from tui.screens.clusters import ClustersScreen


class ClusterDecisions:
    def __init__(self, screen: ClustersScreen) -> None:
        self.screen = screen
        self.gateway = screen.gateway

    def _failed(self, title: str, exc: Exception) -> None:
        self.screen.notify(clean_line(str(exc)), title=title, severity="error", markup=False)

    async def _may_take_over(self, post_ids: list[str], doing: str) -> bool:
        """On a team store: posts others hold are taken over only when the reviewer says
        so (tui/team.py)."""
        refused = await take_over_if_asked(self.screen.app, self.gateway, post_ids, doing)
        if refused is not None:
            self.screen.say(refused)
        return refused is None

    def _gone(self) -> bool:
        """The screen closed while the step ran: nothing to show."""
        return not self.screen.is_attached

    # -- a whole cluster --------------------------------------------------------------------

    def decide_cluster(self, index: int, status: Status) -> None:
        async def run() -> None:
            await self._decide_cluster(index, status)

        run_async(self.screen, run, group="decide")

    async def _decide_cluster(self, index: int, status: Status) -> None:
        """Save ``status`` on every post of cluster ``index`` in one durable write, each post
        keeping its note (``u`` here or on the review screen undoes it)."""
        ids = [member.id for member in self.screen.clusters[index].members]
        gateway = self.gateway
        if not await self._may_take_over(ids, f"mark them {status.label}"):
            return
        try:
            outcome = await gateway.call(lambda store: gateway.decide(store, ids, status))
        except (StoreError, OSError) as exc:
            self._failed("Could not save", exc)
            return
        if self._gone():
            return
        self.screen.apply_statuses(dict.fromkeys(outcome.saved, status))
        self.screen.say(outcome.message)

    # -- one post ---------------------------------------------------------------------------

    def decide_post(self, post_id: str, status: Status) -> None:
        async def run() -> None:
            await self._decide_post(post_id, status)

        run_async(self.screen, run, group="decide")

    async def _decide_post(self, post_id: str, status: Status) -> None:
        """The consistency check and the write in one store hop; a conflict with a near
        duplicate asks first (no: nothing is saved)."""
        gateway, screen = self.gateway, self.screen
        if not await self._may_take_over([post_id], f"mark it {status.label}"):
            return

        def hop(store: ReviewStore) -> tuple[list[Inconsistency], DecisionOutcome | None]:
            found = conflicts(store, post_id, status)
            if found:
                return found, None
            return [], gateway.decide(store, [post_id], status)

        try:
            found, outcome = await gateway.call(hop)
            if outcome is None:
                question = conflict_question(post_id, status, found)
                if not await screen.app.push_screen_wait(ConfirmScreen(question)):
                    screen.say(f"Nothing saved: {clean_name(post_id)} is as it was")
                    return
                outcome = await gateway.call(lambda store: gateway.decide(store, [post_id], status))
        except (StoreError, OSError) as exc:
            self._failed("Could not save", exc)
            return
        if self._gone():
            return
        screen.apply_statuses(dict.fromkeys(outcome.saved, status))
        screen.say(f"{clean_name(post_id)}: {status.label}")
        self._to_next_pending(post_id)

    def _to_next_pending(self, post_id: str) -> None:
        """After a decision on one post, the post list moves to the cluster's next pending
        post (it stays when none is left)."""
        members = self.screen.shown_members
        ids = [member.id for member in members]
        if post_id not in ids:
            return
        statuses = {member.id: Status(member.status) for member in members}
        target = next_pending(ids, ids.index(post_id), statuses.__getitem__)
        if target is not None:
            self.screen.member_list.highlighted = target

    # -- keep one, reject the rest ----------------------------------------------------------

    def keep(self, member: PostSummary) -> None:
        async def run() -> None:
            await self._keep(member)

        run_async(self.screen, run, group="keep", exclusive=True)

    async def _keep(self, member: PostSummary) -> None:
        gateway, screen, post_id = self.gateway, self.screen, member.id
        try:
            plan: KeepPlan = await gateway.call(lambda store: plan_keep(store, post_id))
        except (StoreError, OSError) as exc:
            self._failed("Cannot keep", exc)
            return
        count = len(plan.rejected)
        others = f"the {plural(count, 'other post')} of its cluster {'is' if count == 1 else 'are'}"
        undo = screen.key_display("cluster_undo") or "the Undo command"
        title = clean_line(member.title, max_chars=200)
        question = (
            f'Keep {clean_name(post_id)} "{title}"?\n'
            f"It is approved; {others} rejected as near duplicates of it (their notes name "
            f"it). {undo} undoes it."
        )
        if not await screen.app.push_screen_wait(ConfirmScreen(question)):
            return
        if not await self._may_take_over([post_id, *plan.rejected], "keep it"):
            return
        try:
            result = await gateway.call(lambda store: gateway.keep(store, post_id))
        except (StoreError, OSError) as exc:
            self._failed("Could not save", exc)
            return
        if self._gone():
            return
        screen.apply_statuses({pid: Status(review.status) for pid, review in result.saved.items()})
        screen.say(
            f"Kept {clean_name(post_id)} (approved); {plural(len(result.rejected), 'post')} "
            f"rejected as its duplicates. {undo} undoes it."
        )

    # -- undo ---------------------------------------------------------------------------------

    def undo(self) -> None:
        run_async(self.screen, self._undo, group="decide")

    async def _undo(self) -> None:
        """Undo the last step of the session (this screen's or the review screen's)."""
        gateway, screen = self.gateway, self.screen
        try:
            outcome = await gateway.call(gateway.undo)
        except (StoreError, OSError) as exc:
            self._failed("Cannot undo", exc)
            return
        if self._gone():
            return
        if outcome is None:
            screen.say("Nothing to undo")
            return
        screen.apply_statuses(outcome.restored)
        screen.say(clean_line(outcome.message))
