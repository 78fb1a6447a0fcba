"""Which review hints predict a rejection: per hint code, how the posts carrying it were
decided, against the posts without it.

From the store's list rows (``PostSummary.hint_codes``, which include the codes computed
at query time, ``near_duplicate`` and ``inconsistent_duplicate``) and their statuses. A
rate is over the decided posts of a group (approved, rejected or changes requested):
``rejected_rate`` = rejected / decided, ``not_approved_rate`` = (rejected + changes
requested) / decided; None while a group has no decided post.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .hints import HINT_CODES
from .models import PostSummary, Status
from .protocol import ReviewStore

__all__ = ["DECIDED", "HintGroup", "HintRow", "hints_report", "hints_report_of"]

DECIDED = (Status.APPROVED, Status.REJECTED, Status.CHANGES_REQUESTED)


@dataclass(frozen=True, slots=True)
class HintGroup:
    """The posts of one side (with or without a hint) by status."""

    by_status: dict[str, int]  # every Status value, 0 included

    @property
    def posts(self) -> int:
        return sum(self.by_status.values())

    @property
    def decided(self) -> int:
        return sum(self.by_status[s] for s in DECIDED)

    def _rate(self, *statuses: Status) -> float | None:
        decided = self.decided
        return sum(self.by_status[s] for s in statuses) / decided if decided else None

    @property
    def rejected_rate(self) -> float | None:
        return self._rate(Status.REJECTED)

    @property
    def not_approved_rate(self) -> float | None:
        return self._rate(Status.REJECTED, Status.CHANGES_REQUESTED)

    def to_dict(self) -> dict[str, Any]:
        return {
            "posts": self.posts,
            **self.by_status,
            "decided": self.decided,
            "rejected_rate": self.rejected_rate,
            "not_approved_rate": self.not_approved_rate,
        }


@dataclass(frozen=True, slots=True)
class HintRow:
    code: str
    carrying: HintGroup  # posts with the hint
    others: HintGroup  # posts without it

    @property
    def rejection_lift(self) -> float | None:
        """How many times likelier a decided post carrying the hint was rejected than one
        without it (None when either rate is unknown or the others' is 0)."""
        with_rate, without = self.carrying.rejected_rate, self.others.rejected_rate
        if with_rate is None or not without:
            return None
        return with_rate / without

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "with": self.carrying.to_dict(),
            "without": self.others.to_dict(),
            "rejection_lift": self.rejection_lift,
        }


def _group(counts: Counter[str]) -> HintGroup:
    return HintGroup({status.value: counts.get(status.value, 0) for status in Status})


def hints_report_of(
    rows: Iterable[PostSummary], codes: Sequence[str] = HINT_CODES
) -> list[HintRow]:
    """One row per hint code, in ``codes`` order (codes no post carries included)."""
    totals: Counter[str] = Counter()
    carrying: dict[str, Counter[str]] = {code: Counter() for code in codes}
    for row in rows:
        status = str(row.status)
        totals[status] += 1
        for code in set(row.hint_codes):
            if code in carrying:
                carrying[code][status] += 1
    return [
        HintRow(code, _group(carrying[code]), _group(totals - carrying[code])) for code in codes
    ]


def hints_report(store: ReviewStore) -> list[HintRow]:
    """``hints_report_of`` every post of ``store``. Raises
    ``storage.catalog.DerivedPendingError`` while an import is still computing hints."""
    store.clusters()  # raises while similarity (and so some hints) is not computed yet
    return hints_report_of(store.search("", limit=None))
