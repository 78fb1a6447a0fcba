"""Every reviewer's decisions on every post, as a client holds them, and the one
*effective* decision per post that the catalog's queries, views and export see.

The effective decision of a post:

- its resolution, when one was made after every decision on it (a settled dispute);
- else none (pending) while fewer than ``min_reviews`` different reviewers decided it
  (a ``pending`` status with a note is not a decision);
- else the latest decision when all of them agree, and a ``disputed`` one when they do not.

Pure data, no database: ``storage/pg/store.py`` feeds it the rows it reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..models import PENDING, Review, Status


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """One row of ``decisions`` (or ``resolutions``): ``review`` None when withdrawn."""

    post_id: str
    reviewer: str
    review: Review | None
    seq: int  # the order of writes: the higher the later


def counts(review: Review | None) -> bool:
    """Whether a decision counts towards ``min_reviews`` (and for agreement)."""
    return review is not None and review.status != PENDING


class DecisionBook:
    def __init__(self, min_reviews: int = 1) -> None:
        self.min_reviews = max(1, int(min_reviews))
        self._by_post: dict[str, dict[str, tuple[Review, int]]] = {}
        self._resolutions: dict[str, tuple[Review, int]] = {}
        self._effective: dict[str, Review] = {}

    # ------------------------------------------------------------------ updates

    def apply(
        self, rows: Iterable[DecisionRow], resolutions: Iterable[DecisionRow] = ()
    ) -> set[str]:
        """Take changed rows (decisions, then resolutions); returns the posts whose
        effective decision may have changed."""
        touched: set[str] = set()
        for row in rows:
            mine = self._by_post.setdefault(row.post_id, {})
            before = mine.get(row.reviewer)
            if before is not None and before[1] > row.seq:
                continue  # an older write than the one held
            if row.review is None:
                mine.pop(row.reviewer, None)
            else:
                mine[row.reviewer] = (row.review, row.seq)
            touched.add(row.post_id)
        for row in resolutions:
            if row.review is None:
                self._resolutions.pop(row.post_id, None)
            else:
                self._resolutions[row.post_id] = (row.review, row.seq)
            touched.add(row.post_id)
        for post_id in touched:
            self._settle(post_id)
        return touched

    def set_min_reviews(self, min_reviews: int) -> bool:
        min_reviews = max(1, int(min_reviews))
        if min_reviews == self.min_reviews:
            return False
        self.min_reviews = min_reviews
        for post_id in list(self._by_post) + list(self._resolutions):
            self._settle(post_id)
        return True

    def _settle(self, post_id: str) -> None:
        effective = self._compute(post_id)
        if effective is None:
            self._effective.pop(post_id, None)
        else:
            self._effective[post_id] = effective

    def _compute(self, post_id: str) -> Review | None:
        decided = [(r, s) for r, s in self._by_post.get(post_id, {}).values() if counts(r)]
        resolution = self._resolutions.get(post_id)
        latest_seq = max((s for _, s in decided), default=-1)
        if resolution is not None and resolution[1] > latest_seq:
            return resolution[0]
        if len(decided) < self.min_reviews:
            return None
        latest = max(decided, key=lambda item: item[1])[0]
        if len({r.status for r, _ in decided}) == 1:
            return latest
        return Review(
            status=Status.DISPUTED,
            note="",
            decided_at=latest.decided_at,
            reviewer=", ".join(sorted(self.reviewers_of(post_id))),
            content_sha256=latest.content_sha256,
        )

    # ------------------------------------------------------------------ reading

    @property
    def effective(self) -> Mapping[str, Review]:
        """Post id -> its effective decision (absent: pending). Live: do not mutate."""
        return self._effective

    def of(self, post_id: str, reviewer: str) -> Review | None:
        held = self._by_post.get(post_id, {}).get(reviewer)
        return held[0] if held else None

    def seq_of(self, post_id: str, reviewer: str) -> int | None:
        held = self._by_post.get(post_id, {}).get(reviewer)
        return held[1] if held else None

    def on(self, post_id: str) -> dict[str, Review]:
        """Every reviewer's decision on one post (including pending notes)."""
        return {name: review for name, (review, _) in self._by_post.get(post_id, {}).items()}

    def reviewers_of(self, post_id: str) -> list[str]:
        return [n for n, (r, _) in self._by_post.get(post_id, {}).items() if counts(r)]

    def decided_by(self, reviewer: str) -> set[str]:
        """Posts ``reviewer`` decided (what their queue never hands them again)."""
        return {
            post_id
            for post_id, by_reviewer in self._by_post.items()
            if counts(by_reviewer.get(reviewer, (None, 0))[0])
        }

    def resolution(self, post_id: str) -> Review | None:
        held = self._resolutions.get(post_id)
        return held[0] if held else None

    def disputed(self) -> list[str]:
        return [p for p, r in self._effective.items() if r.status == Status.DISPUTED]

    def ratings(self) -> dict[str, dict[str, str]]:
        """post id -> {reviewer: status} of the decisions that count (for agreement)."""
        out: dict[str, dict[str, str]] = {}
        for post_id, by_reviewer in self._by_post.items():
            decided = {n: r.status for n, (r, _) in by_reviewer.items() if counts(r)}
            if decided:
                out[post_id] = decided
        return out
