"""A local store's decisions, saved views and merges of another reviewer's decisions:
each a short write under ``FILE.lock`` to the decision log (decisions.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..errors import InvalidStatusError
from ..models import STATUSES, Review, Status
from ..protocol import DecisionRequest
from ..reviews import now_iso, reviewer_name
from ..views import View, clean_name, refuse_builtin, with_view, without_view

if TYPE_CHECKING:  # the catalog, the import and the merge load on first use: a one-post
    # command (`copydesk show`, `review`) needs none, and they cost ~0.1 s of imports
    from ..merge import Conflict, MergeReport

from .store_base import LocalStoreBase


class LocalDecisions(LocalStoreBase):
    # ------------------------------------------------------------------ decisions

    def set_review(
        self, post_id: str, status: str, note: str = "", *, reviewer: str | None = None
    ) -> Review:
        """Save a decision durably before returning it."""
        return self._decide([DecisionRequest(post_id, Status(_status(status)), note)], reviewer)[
            post_id
        ]

    def set_reviews(self, requests: Sequence[DecisionRequest]) -> dict[str, Review]:
        """Save many decisions in one durable write; a request's note None keeps the note."""
        return self._decide(requests, None)

    def _decide(
        self, requests: Sequence[DecisionRequest], reviewer: str | None
    ) -> dict[str, Review]:
        for request in requests:
            _status(request.status)
            self._known(request.post_id)
        decided_at, who = now_iso(), reviewer or reviewer_name()
        shas = {r.post_id: self._content_sha(r.post_id) for r in requests}
        with self._write_lock():
            saved: dict[str, Review] = {}
            for request in requests:
                note = request.note
                if note is None:
                    before = self._log.state.decisions.get(request.post_id)
                    note = before.note if before is not None else ""
                saved[request.post_id] = Review(
                    status=Status(request.status),
                    note=note,
                    decided_at=decided_at,
                    reviewer=who,
                    content_sha256=shas[request.post_id],
                )
            self._log.write(dict(saved), why="decide")
        return saved

    def restore_review(self, post_id: str, review: Review | None) -> None:
        """Put back an earlier decision (or none): the undo of ``set_review``."""
        self.restore_reviews({post_id: review})

    def restore_reviews(self, previous: Mapping[str, Review | None]) -> None:
        for post_id in previous:
            self._known(post_id)
        with self._write_lock():
            self._log.write(dict(previous), why="undo")

    # ------------------------------------------------------------------ views

    def save_view(self, name: str, query: str) -> View:
        """Save ``query`` (which must parse: else ``QueryError``) as the view ``name``,
        replacing a saved view of that name; a built-in's name raises ``ViewError``."""
        view = View(refuse_builtin(clean_name(name), "replaced"), query.strip(), False)
        self._catalog().parse(view.query)
        with self._write_lock():
            records = with_view(self._log.state.views, view, now_iso())
            self._log.write({}, why="view", views=records)
        return view

    def delete_view(self, name: str) -> None:
        """Delete a saved view; an unknown or built-in name raises ``ViewError``."""
        with self._write_lock():
            records = without_view(self._log.state.views, name)
            self._log.write({}, why="view", views=records)

    # ------------------------------------------------------------------ merge

    def merge_reviews(self, path: str | os.PathLike[str]) -> MergeReport:
        """Merge another reviewer's jsonl export (see storage/merge.py for the rules)."""
        from ..merge import plan_merge, read_review_file

        theirs, bad_lines = read_review_file(path)
        with self._write_lock():
            plan = plan_merge(
                self._log.state.decisions,
                self._shelf.state.locations,
                theirs,
                self._log.state.conflicts,
                source=str(path),
                recorded_at=now_iso(),
                bad_lines=bad_lines,
            )
            if plan.decisions or plan.report.conflicts or plan.report.agreed:
                self._log.write(plan.decisions, why="merge", conflicts=plan.conflict_records)
        return plan.report

    def conflicts(self) -> list[Conflict]:
        """Open conflicts in reference order; ``ours`` is our decision as it is now."""
        from ..merge import open_conflicts

        state = self._log.state
        return open_conflicts(state.conflicts, state.decisions, self._catalog().rows)

    def resolve_conflict(
        self, post_id: str, keep: str, *, reviewer: str | None = None
    ) -> Review | None:
        """Settle one conflict: ``keep`` is "ours" or "theirs"."""
        from ..merge import plan_resolution

        self._known(post_id)
        with self._write_lock():
            ours = self._log.state.decisions.get(post_id)
            decision, records = plan_resolution(
                post_id, keep, ours, self._log.state.conflicts, reviewer=reviewer
            )
            changes = {post_id: decision} if decision is not None else {}
            self._log.write(changes, why="resolve", conflicts=records)
        return decision if decision is not None else ours


def _status(status: str) -> str:
    if status not in STATUSES:
        raise InvalidStatusError(status, STATUSES)
    return status
