"""Plain records the store hands out. No behaviour beyond convenience properties."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """A review decision. The one table of statuses: value (stored, typed in queries and
    on the command line), label (what a reviewer reads) and mark (list rows, CLI)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"
    # Derived, never chosen: a team store's post whose reviewers disagree (min_reviews > 1).
    DISPUTED = "disputed"

    @property
    def decidable(self) -> bool:
        """Whether a reviewer can choose this status (``disputed`` is derived)."""
        return self is not Status.DISPUTED

    @property
    def label(self) -> str:
        return _STATUS_LOOK[self][0]

    @property
    def mark(self) -> str:
        return _STATUS_LOOK[self][1]

    @classmethod
    def parse(cls, text: str) -> Status | None:
        """``changes-requested``, ``Changes requested`` -> CHANGES_REQUESTED; else None."""
        key = text.strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return cls(key)
        except ValueError:
            return None


_STATUS_LOOK: dict[Status, tuple[str, str]] = {
    Status.PENDING: ("pending", "·"),
    Status.APPROVED: ("approved", "✓"),
    Status.REJECTED: ("rejected", "✗"),
    Status.CHANGES_REQUESTED: ("changes requested", "✎"),
    Status.DISPUTED: ("disputed", "≠"),
}

PENDING = Status.PENDING
APPROVED = Status.APPROVED
REJECTED = Status.REJECTED
CHANGES_REQUESTED = Status.CHANGES_REQUESTED
# What a decision can be set to (the CLI's --status choices, merge and journal checks).
STATUSES: tuple[str, ...] = tuple(status.value for status in Status if status.decidable)


@dataclass(frozen=True, slots=True)
class Review:
    status: str
    note: str = ""
    decided_at: str = ""  # ISO 8601 UTC
    reviewer: str = ""
    content_sha256: str = ""  # sha256 of the post text the decision was made on

    def made_on_other_text(self, sha256: str) -> bool:
        """True when the post's text (``sha256``) is not the one this decision was made on:
        the post is "changed since review"."""
        return bool(self.content_sha256) and self.content_sha256 != sha256

    def to_dict(self) -> dict[str, str]:
        return {
            "status": self.status,
            "note": self.note,
            "decided_at": self.decided_at,
            "reviewer": self.reviewer,
            "content_sha256": self.content_sha256,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Review:
        return cls(
            status=str(data.get("status", PENDING)),
            note=str(data.get("note", "")),
            decided_at=str(data.get("decided_at", "")),
            reviewer=str(data.get("reviewer", "")),
            content_sha256=str(data.get("content_sha256", "")),
        )


@dataclass(slots=True)
class PostSummary:
    """One row of the post list: what the queue, search and export need, no body."""

    id: str
    reference: str
    title: str
    topic: str
    needs_human_review: bool
    status: str = PENDING
    hint_codes: tuple[str, ...] = ()
    changed: bool = False  # content changed since the decision was made

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "title": self.title,
            "topic": self.topic,
            "needs_human_review": self.needs_human_review,
            "status": self.status,
        }


@dataclass(slots=True)
class StoredPost:
    id: str
    reference: str
    title: str
    body: list[dict[str, Any]]
    meta: dict[str, Any]
    listed_similar: list[str]
    warnings: list[str]
    source: dict[str, str]  # {"path": str, "sha256": str}
    review: Review | None = None
    hints: list[dict[str, Any]] = field(default_factory=list)
    hints_pending: bool = False  # the import is still computing its hints

    @property
    def status(self) -> str:
        return self.review.status if self.review else PENDING

    @property
    def needs_human_review(self) -> bool:
        flags = self.meta.get("flags")
        return isinstance(flags, dict) and flags.get("needs_human_review") == 1

    @property
    def changed(self) -> bool:
        return bool(self.review and self.review.made_on_other_text(self.source.get("sha256", "")))

    def to_dict(self) -> dict[str, Any]:
        review: dict[str, Any] | None = None
        if self.review is not None:
            review = {**self.review.to_dict(), "changed_since_review": self.changed}
        return {
            "id": self.id,
            "reference": self.reference,
            "title": self.title,
            "body": self.body,
            "meta": self.meta,
            "listed_similar": self.listed_similar,
            "warnings": self.warnings,
            "source": self.source,
            "review": review,
            "hints": self.hints,
        }


@dataclass(frozen=True, slots=True)
class SimilarPost:
    id: str
    reference: str
    title: str
    score: int
    reasons: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "title": self.title,
            "score": self.score,
            "reasons": list(self.reasons),
        }


@dataclass(slots=True)
class FileError:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(slots=True)
class ImportReport:
    imported: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # unchanged, found at another path
    errors: list[FileError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # per-file reader warnings, "path: text"

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        moved = f" ({len(self.moved)} moved)" if self.moved else ""
        return (
            f"{len(self.imported)} imported, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged{moved}, {len(self.errors)} failed"
        )
