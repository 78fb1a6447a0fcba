"""Near-copy families: decide a cluster once, and keep near duplicates decided alike.

A family is a near-duplicate cluster (``ReviewStore.clusters()``). ``keep`` approves one
post of it, the keeper, and rejects every other member as a duplicate of the keeper, in one
durable write (``set_reviews``); what it returns holds the reviews as they were, for an
undo in one more write (``restore_reviews``).

The consistency rule. Two posts are near duplicates when their similarity score reaches
``NEAR_DUPLICATE_THRESHOLD`` (the pairs behind the ``near_duplicate`` hint; a cluster can
chain posts that are not near duplicates of each other: those are not compared). A
decision is on one of two sides:

- approved;
- not approved: rejected or changes requested (both say "this text is not fit as it is").

Pending (and a team store's derived ``disputed``) is on no side, and so is a rejection as
a duplicate: the note line ``keep`` writes ("rejected as a near duplicate of ID, which was
kept") records that the post was turned down for being a copy, not for its text, so it
does not contradict the approval of its keeper or of any other copy. Two near duplicates
on different sides are inconsistent: the same text judged fit and unfit.

Only the ``ReviewStore`` protocol is used, so this works on every backend.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import StoreError
from .models import Review, Status
from .protocol import DecisionRequest, ReviewStore

__all__ = [
    "APPROVED_SIDE",
    "NOT_APPROVED_SIDE",
    "Inconsistency",
    "KeepPlan",
    "KeepResult",
    "NotInClusterError",
    "cluster_of",
    "cluster_pairs",
    "decided_differently",
    "duplicate_note",
    "inconsistencies",
    "is_duplicate_rejection",
    "keep",
    "near_duplicates",
    "plan_keep",
    "side",
    "undo_keep",
]

APPROVED_SIDE = "approved"
NOT_APPROVED_SIDE = "not approved"

_DUPLICATE_NOTE = "rejected as a near duplicate of {keeper}, which was kept"
# The line keep writes, whatever the keeper (one line of the note, as written).
_DUPLICATE_LINE = re.compile(r"rejected as a near duplicate of \S.*, which was kept")


class NotInClusterError(StoreError):
    """``keep`` of a post that has no near duplicates."""

    def __init__(self, post_id: str) -> None:
        self.post_id = post_id
        super().__init__(f"post {post_id!r} has no near duplicates: it is in no cluster")


# ---------------------------------------------------------------------------- the rule


def duplicate_note(keeper: str) -> str:
    """The note line of a post rejected as a duplicate of ``keeper``."""
    return _DUPLICATE_NOTE.format(keeper=keeper)


def _note_lines(note: str) -> list[str]:
    return note.split("\n") if note else []


def is_duplicate_rejection(review: Review | None) -> bool:
    """Whether ``review`` rejects its post as a duplicate (a line ``keep`` wrote)."""
    return (
        review is not None
        and review.status == Status.REJECTED
        and any(_DUPLICATE_LINE.fullmatch(line) for line in _note_lines(review.note))
    )


def side(review: Review | None) -> str | None:
    """``APPROVED_SIDE``, ``NOT_APPROVED_SIDE`` or None (pending, disputed, or rejected as
    a duplicate): see the module docstring."""
    if review is None:
        return None
    if review.status == Status.APPROVED:
        return APPROVED_SIDE
    if review.status in (Status.REJECTED, Status.CHANGES_REQUESTED):
        return None if is_duplicate_rejection(review) else NOT_APPROVED_SIDE
    return None


def decided_differently(a: Review | None, b: Review | None) -> bool:
    """Whether two near duplicates' decisions contradict each other."""
    side_a, side_b = side(a), side(b)
    return side_a is not None and side_b is not None and side_a != side_b


# ---------------------------------------------------------------------------- near duplicates


def cluster_of(store: ReviewStore, post_id: str) -> list[str]:
    """The cluster holding ``post_id`` (sorted by id); ``NotInClusterError`` if none.
    ``UnknownPostError`` for an unknown id."""
    store.summary(post_id)  # UnknownPostError before anything else
    for cluster in store.clusters():
        if post_id in cluster:
            return cluster
    raise NotInClusterError(post_id)


def cluster_pairs(store: ReviewStore, cluster: list[str]) -> dict[str, dict[str, int]]:
    """The near-duplicate pairs inside ``cluster`` with their scores, both ways: the pairs
    kept in either post's similar list (a list holds a post's ``NEIGHBOURS_KEPT`` best)."""
    # here, not at the top: `copydesk review` checks a decision through this module
    # without the similarity index, and rapidfuzz costs it ~15 ms
    from .similarity import NEAR_DUPLICATE_THRESHOLD, NEIGHBOURS_KEPT

    members = set(cluster)
    pairs: dict[str, dict[str, int]] = {post_id: {} for post_id in cluster}
    for post_id in cluster:
        for other in store.similar(post_id, NEIGHBOURS_KEPT):
            if other.id in members and other.score >= NEAR_DUPLICATE_THRESHOLD:
                pairs[post_id][other.id] = other.score
                pairs[other.id][post_id] = other.score
    return {
        post_id: dict(sorted(near.items(), key=lambda item: (-item[1], item[0])))
        for post_id, near in pairs.items()
    }


def near_duplicates(store: ReviewStore, post_id: str) -> dict[str, int]:
    """The near duplicates of ``post_id`` with their scores, best first ({} when it is in
    no cluster)."""
    cluster = next((c for c in store.clusters() if post_id in c), None)
    return cluster_pairs(store, cluster)[post_id] if cluster else {}


@dataclass(frozen=True, slots=True)
class Inconsistency:
    """A near duplicate already decided on the other side."""

    post_id: str  # the other post
    title: str
    status: Status  # its decision
    score: int

    def describe(self) -> str:
        """``anp-1 "title" (score 93) is rejected``: for messages (ids and titles as
        stored; the caller makes them safe to show)."""
        return f'{self.post_id} "{self.title}" (score {self.score}) is {self.status.label}'


def inconsistencies(
    store: ReviewStore, post_id: str, status: Status | str, note: str | None = None
) -> list[Inconsistency]:
    """The near duplicates that deciding ``post_id`` as ``status`` would contradict (see
    the module docstring), best scores first. ``note`` None: the post's current note
    (which may say it is rejected as a duplicate). Reads only; decides nothing.

    A post without ``near_duplicate`` hints is answered from its record alone, without
    the similarity index. Raises ``storage.catalog.DerivedPendingError`` while an import
    is still computing similarity."""
    status = Status(status)
    post = store.get(post_id)
    if not post.hints_pending and not any(h.get("code") == "near_duplicate" for h in post.hints):
        return []
    if note is None:
        note = post.review.note if post.review is not None else ""
    intended = Review(status=status, note=note)
    if side(intended) is None:
        return []
    decisions = store.reviews()
    found = []
    for other, score in near_duplicates(store, post_id).items():
        review = decisions.get(other)
        if decided_differently(intended, review):
            assert review is not None
            title = store.summary(other).title
            found.append(Inconsistency(other, title, Status(review.status), score))
    return found


# ---------------------------------------------------------------------------- keep


@dataclass(frozen=True, slots=True)
class KeepPlan:
    """What ``keep`` will write: the keeper approved, the others rejected with a note
    naming it; ``previous`` is every member's review before (None: undecided)."""

    keeper: str
    rejected: tuple[str, ...]
    requests: tuple[DecisionRequest, ...]
    previous: Mapping[str, Review | None]


@dataclass(frozen=True, slots=True)
class KeepResult:
    plan: KeepPlan
    saved: Mapping[str, Review]

    @property
    def keeper(self) -> str:
        return self.plan.keeper

    @property
    def rejected(self) -> tuple[str, ...]:
        return self.plan.rejected

    @property
    def previous(self) -> Mapping[str, Review | None]:
        """What ``undo_keep`` (``store.restore_reviews``) puts back."""
        return self.plan.previous


def _note_with(note: str, line: str | None) -> str:
    """``note`` without earlier duplicate lines, and ``line`` added at its end: the
    reviewer's own lines are kept as written."""
    lines = [ln for ln in _note_lines(note) if not _DUPLICATE_LINE.fullmatch(ln)]
    while lines and not lines[-1].strip():
        lines.pop()
    if line is not None:
        lines.append(line)
    return "\n".join(lines)


def plan_keep(store: ReviewStore, keeper: str) -> KeepPlan:
    """The decisions ``keep`` would save (reads only). ``NotInClusterError`` when
    ``keeper`` has no near duplicates."""
    members = cluster_of(store, keeper)
    decisions = store.reviews()
    previous = {post_id: decisions.get(post_id) for post_id in [keeper, *members]}
    requests = []
    rejected = []
    line = duplicate_note(keeper)
    for post_id, review in previous.items():
        note = review.note if review is not None else ""
        if post_id == keeper:
            kept_note = _note_with(note, None)
            requests.append(
                DecisionRequest(post_id, Status.APPROVED, None if kept_note == note else kept_note)
            )
        else:
            rejected.append(post_id)
            requests.append(DecisionRequest(post_id, Status.REJECTED, _note_with(note, line)))
    return KeepPlan(keeper, tuple(rejected), tuple(requests), previous)


def keep(store: ReviewStore, keeper: str) -> KeepResult:
    """Approve ``keeper`` and reject the other members of its cluster as duplicates of it,
    in one durable write. Notes are kept: a rejected post's note gets the line naming the
    keeper (replacing such a line from an earlier keep), the keeper loses such a line."""
    plan = plan_keep(store, keeper)
    saved = store.set_reviews(plan.requests)
    return KeepResult(plan, saved)


def undo_keep(store: ReviewStore, result: KeepResult) -> None:
    """Put every member's review back as it was before ``keep``, in one durable write."""
    store.restore_reviews(dict(result.previous))
