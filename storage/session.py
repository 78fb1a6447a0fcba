"""A review session: the rules of deciding, independent of any screen.

Decide (each post keeps its note), write a note (the post keeps its decision), undo the
last step (a note-only step says so), and find the next pending post of a list. A bulk
or cluster decision is one durable write (``ReviewStore.set_reviews``) and its undo one
more (``ReviewStore.restore_reviews``). Keeping one post of a near-copy family
(``storage.families.keep``) is a step too, so that one undo stack holds every change the
reviewer made, whichever screen made it: ``u`` never undoes an older step over a newer
keep. The TUI's review and clusters screens use it;
the CLI can too. It only uses the ``ReviewStore`` protocol and keeps no other state than
its undo steps, so a session over a store another process also writes stays truthful.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .families import KeepResult, keep, undo_keep
from .models import Review, Status
from .protocol import DecisionRequest, ReviewStore

__all__ = [
    "DecisionOutcome",
    "ReviewSession",
    "StepKind",
    "UndoOutcome",
    "advance_after",
    "next_pending",
    "plural",
]


class StepKind(StrEnum):
    DECISION = "decision"
    NOTE = "note"
    KEEP = "keep"  # a near-copy family's keeper approved, the others rejected


@dataclass(frozen=True, slots=True)
class _Step:
    """What one step changed: each post's review before it (None: undecided)."""

    kind: StepKind
    previous: Mapping[str, Review | None]
    status: Status | None  # the status decided (None for a note)
    kept: KeepResult | None = None  # a keep: what it wrote (its undo is ``undo_keep``)


@dataclass(frozen=True, slots=True)
class DecisionOutcome:
    """What a decision saved, by post id, in the order asked."""

    saved: Mapping[str, Review]
    status: Status

    @property
    def post_ids(self) -> list[str]:
        return list(self.saved)

    @property
    def message(self) -> str:
        return f"{plural(len(self.saved), 'post')} {self.status.label}"


@dataclass(frozen=True, slots=True)
class UndoOutcome:
    """What an undo put back: each post's review as it is again (None: undecided)."""

    kind: StepKind
    restored: Mapping[str, Review | None]
    undone_status: Status | None
    keeper: str | None = None  # an undone keep: the post it kept

    @property
    def post_ids(self) -> list[str]:
        return list(self.restored)

    @property
    def message(self) -> str:
        """What the reviewer reads: the note or the decision, never one for the other."""
        if self.kind is StepKind.NOTE:
            return "Undid the note: the previous note is back"
        if self.kind is StepKind.KEEP:
            count = plural(len(self.restored), "post")
            return f"Undid keeping {self.keeper}: {count} back as they were"
        label = self.undone_status.label if self.undone_status is not None else "decision"
        return f"Undid {label} on {plural(len(self.restored), 'post')}"


def plural(count: int, noun: str) -> str:
    """``1 post``, ``2 posts``, ``3,000 posts``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def next_pending(
    order: Sequence[str],
    after: int,
    status_of: Callable[[str], Status],
    skip: Callable[[str], bool] | None = None,
) -> int | None:
    """The index of the first pending post after ``after`` in ``order``, wrapping around
    (``after`` itself last); None when none is pending. ``skip`` passes over posts (on a
    team store: held by another reviewer, or decided by this one already)."""
    count = len(order)
    for step in range(1, count + 1):
        index = (after + step) % count
        post_id = order[index]
        if status_of(post_id) is Status.PENDING and not (skip is not None and skip(post_id)):
            return index
    return None


def advance_after(
    order: Sequence[str],
    cursor: int,
    decided: Sequence[str],
    status_of: Callable[[str], Status],
    skip: Callable[[str], bool] | None = None,
) -> int | None:
    """Where the cursor goes after a decision on ``decided``: it stays on a post the
    decision left pending (a bulk decision on tagged posts), else moves to the next
    pending post; None when no post of ``order`` is pending."""
    if 0 <= cursor < len(order):
        current = order[cursor]
        if current not in decided and status_of(current) is Status.PENDING:
            return cursor
    return next_pending(order, cursor, status_of, skip) if order else None


class ReviewSession:
    """``ReviewSession(store)``: decisions and notes with undo, over any ``ReviewStore``."""

    def __init__(self, store: ReviewStore, *, undo_limit: int = 200) -> None:
        self.store = store
        self._steps: list[_Step] = []
        self._undo_limit = undo_limit

    @property
    def can_undo(self) -> bool:
        return bool(self._steps)

    def decide(self, post_ids: Sequence[str], status: Status | str) -> DecisionOutcome:
        """Save ``status`` on every post in one durable write; each keeps its note."""
        status = Status(status)
        ids = list(dict.fromkeys(post_ids))
        if not ids:
            return DecisionOutcome({}, status)
        before = self.store.reviews()
        previous = {post_id: before.get(post_id) for post_id in ids}
        saved = self.store.set_reviews([DecisionRequest(post_id, status) for post_id in ids])
        self._push(_Step(StepKind.DECISION, previous, status))
        return DecisionOutcome({post_id: saved[post_id] for post_id in ids}, status)

    def keep(self, keeper: str) -> KeepResult:
        """``storage.families.keep``: approve ``keeper``, reject the other members of its
        cluster as duplicates of it (one durable write); undone as one step."""
        result = keep(self.store, keeper)
        self._push(_Step(StepKind.KEEP, dict(result.previous), Status.APPROVED, result))
        return result

    def note_of(self, post_id: str) -> str:
        review = self.store.review(post_id)
        return review.note if review is not None else ""

    def save_note(self, post_id: str, note: str) -> Review | None:
        """Save ``note`` on the post, keeping its decision (pending when it has none).
        Returns the review saved, or None when the note is unchanged (nothing written)."""
        before = self.store.review(post_id)
        if note == (before.note if before is not None else ""):
            return None
        status = Status(before.status) if before is not None else Status.PENDING
        saved = self.store.set_reviews([DecisionRequest(post_id, status, note)])
        self._push(_Step(StepKind.NOTE, {post_id: before}, None))
        return saved[post_id]

    def undo(self) -> UndoOutcome | None:
        """Put back what the last step changed (one durable write); None: nothing to undo."""
        if not self._steps:
            return None
        step = self._steps[-1]
        if step.kept is not None:
            undo_keep(self.store, step.kept)
        else:
            self.store.restore_reviews(step.previous)
        self._steps.pop()
        keeper = step.kept.keeper if step.kept is not None else None
        return UndoOutcome(step.kind, dict(step.previous), step.status, keeper)

    def _push(self, step: _Step) -> None:
        self._steps.append(step)
        del self._steps[: -self._undo_limit]
