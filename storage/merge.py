"""Bring another reviewer's decisions (a jsonl export) together with ours.

Rules, per line of their file:

- a post we have not decided (or left pending without a note): their decision is added,
  keeping their reviewer and ``decided_at``;
- the same status and note as ours: an agreement, counted, nothing changes;
- a different status or note: a conflict. Our decision stays in place and theirs is kept in
  the ``conflicts`` table of ``reviews.json`` until someone settles it
  (``Store.resolve_conflict``). Neither side silently wins;
- ``pending`` (their export was made with ``--all``): not a decision, skipped;
- an id that is not in our store is reported, never invented;
- a line that is not a JSON object with ``id`` and a known ``status`` is named
  (``FILE:LINE: reason``) and skipped; the rest still merge.

This module holds the parsing and the decision logic; ``Store.merge_reviews`` runs it under
the store's write lock and saves everything in one durable write.
"""

from __future__ import annotations

import os
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from seeds import UnreadableFile, read_regular_file
from seeds.regular_file import NOT_REGULAR

from .errors import StoreError
from .models import PENDING, STATUSES, Review

KEEP_CHOICES = ("ours", "theirs")


@dataclass(frozen=True, slots=True)
class TheirDecision:
    """One good line of another reviewer's file."""

    line: int
    post_id: str
    review: Review


@dataclass(frozen=True, slots=True)
class BadLine:
    source: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class UnknownId:
    source: str
    line: int
    post_id: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: unknown post id {self.post_id!r} (not merged)"


@dataclass(slots=True)
class MergeReport:
    source: str
    added: list[str] = field(default_factory=list)
    agreed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    unknown: list[UnknownId] = field(default_factory=list)
    bad_lines: list[BadLine] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)  # their "pending" lines

    @property
    def ok(self) -> bool:
        """False when some lines could not be read (the CLI exits 1)."""
        return not self.bad_lines

    def summary(self) -> str:
        text = (
            f"{len(self.added)} added, {len(self.agreed)} agreed, "
            f"{len(self.conflicts)} conflicts, {len(self.unknown)} unknown ids, "
            f"{len(self.bad_lines)} bad lines"
        )
        if self.undecided:
            text += f", {len(self.undecided)} pending skipped"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "added": list(self.added),
            "agreed": list(self.agreed),
            "conflicts": list(self.conflicts),
            "unknown_ids": [{"line": u.line, "id": u.post_id} for u in self.unknown],
            "bad_lines": [{"line": b.line, "reason": b.reason} for b in self.bad_lines],
            "pending_skipped": list(self.undecided),
        }


@dataclass(frozen=True, slots=True)
class Conflict:
    """Another reviewer's decision that differs from ours, as ``Store.conflicts()`` lists it.

    ``ours`` is read live from the decisions table (None when we have no decision now).
    """

    post_id: str
    reference: str
    title: str
    ours: Review | None
    theirs: Review
    source: str  # the file their decision came from
    recorded_at: str  # when it was merged (ISO 8601 UTC)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.post_id,
            "reference": self.reference,
            "title": self.title,
            "ours": self.ours.to_dict() if self.ours is not None else None,
            "theirs": self.theirs.to_dict(),
            "source": self.source,
            "recorded_at": self.recorded_at,
        }


# ---------------------------------------------------------------------- reading their file


def _optional_str(record: dict, name: str) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, not {type(value).__name__}")
    return value


def _parse_record(raw: bytes) -> tuple[str, Review]:
    """One line -> (post id, review); ValueError with a short reason when it is bad."""
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    post_id = record.get("id")
    if post_id is None or post_id == "":
        raise ValueError("missing id")
    if not isinstance(post_id, str):
        raise ValueError(f"id must be a string, not {type(post_id).__name__}")
    status = record.get("status")
    if status is None or status == "":
        raise ValueError(f"missing status for {post_id!r}")
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; allowed: {', '.join(STATUSES)}")
    decided_at = _optional_str(record, "decided_at")
    if decided_at:
        try:
            datetime.fromisoformat(decided_at)
        except ValueError:
            raise ValueError(f"decided_at {decided_at!r} is not an ISO 8601 time") from None
    review = Review(
        status=status,
        note=_optional_str(record, "note"),
        decided_at=decided_at,
        reviewer=_optional_str(record, "reviewer"),
        content_sha256=_optional_str(record, "content_sha256"),
    )
    return post_id, review


def parse_review_lines(
    lines: Iterable[bytes], source: str
) -> tuple[list[TheirDecision], list[BadLine]]:
    """Parse jsonl lines (bytes, numbered from 1). Blank lines are ignored."""
    decisions: list[TheirDecision] = []
    bad: list[BadLine] = []
    first_line_of: dict[str, int] = {}
    for number, raw in enumerate(lines, 1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a UTF-8 byte order mark from some editors
        if not raw.strip():
            continue
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad.append(BadLine(source, number, f"not UTF-8 (byte 0x{raw[exc.start]:02x})"))
            continue
        try:
            post_id, review = _parse_record(raw)
        except ValueError as exc:
            bad.append(BadLine(source, number, str(exc)))
            continue
        if post_id in first_line_of:
            # a hand-edited or concatenated file: which line was meant is not ours to guess
            bad.append(
                BadLine(
                    source,
                    number,
                    f"duplicate id {post_id!r} (first on line "
                    f"{first_line_of[post_id]}); this line skipped",
                )
            )
            continue
        first_line_of[post_id] = number
        decisions.append(TheirDecision(number, post_id, review))
    return decisions, bad


# A decision is a line of ~300 bytes: 256 MiB is about 800,000 of them.
MAX_REVIEW_FILE_BYTES = 256 * 1024 * 1024


def read_review_file(
    path: str | os.PathLike, max_bytes: int = MAX_REVIEW_FILE_BYTES
) -> tuple[list[TheirDecision], list[BadLine]]:
    """Read another reviewer's jsonl export: a regular file of at most ``max_bytes`` (a
    FIFO or ``/dev/zero`` is refused at once). Raises StoreError when it cannot be read."""
    path = Path(path)
    try:
        data = read_regular_file(path, max_bytes, "review file")
    except UnreadableFile as exc:
        hint = "; give a .jsonl file" if NOT_REGULAR in exc.reason else ""
        raise StoreError(f"{exc}{hint}") from None
    # split on \n only: JSON strings never hold a raw newline, but may hold U+2028 etc.
    return parse_review_lines(data.split(b"\n"), str(path))


# ---------------------------------------------------------------------- the decision logic


def _normalised_note(note: str) -> str:
    return note.replace("\r\n", "\n").strip()


def same_decision(ours: Review, theirs: Review) -> bool:
    """Agreement: same status and the same note (ignoring surrounding blank space)."""
    return ours.status == theirs.status and _normalised_note(ours.note) == _normalised_note(
        theirs.note
    )


def is_undecided(review: Review | None) -> bool:
    """No decision worth keeping: none at all, or pending without a note."""
    return review is None or (review.status == PENDING and not review.note.strip())


def conflict_record(post_id: str, theirs: Review, source: str, recorded_at: str) -> dict:
    return {
        "post_id": post_id,
        "theirs": theirs.to_dict(),
        "source": source,
        "recorded_at": recorded_at,
    }


def _record_key(record: Mapping[str, Any]) -> tuple[str, str]:
    # one open conflict per post and other reviewer: importing their newer file replaces it
    return str(record.get("post_id", "")), str((record.get("theirs") or {}).get("reviewer", ""))


@dataclass(slots=True)
class MergePlan:
    """What a merge writes: new decisions and the whole new conflicts table."""

    decisions: dict[str, Review]
    conflict_records: list[dict]
    report: MergeReport


def plan_merge(
    ours: Mapping[str, Review],
    known_ids: Container[str],
    theirs: Iterable[TheirDecision],
    existing_conflicts: Iterable[dict],
    *,
    source: str,
    recorded_at: str,
    bad_lines: Iterable[BadLine] = (),
) -> MergePlan:
    """Decide, for each of their decisions, add / agree / conflict / unknown / skip."""
    report = MergeReport(source=source, bad_lines=list(bad_lines))
    records: dict[tuple[str, str], dict] = {}
    for record in existing_conflicts:
        records[_record_key(record)] = dict(record)
    additions: dict[str, Review] = {}
    for decision in theirs:
        post_id, review = decision.post_id, decision.review
        if post_id not in known_ids:
            report.unknown.append(UnknownId(source, decision.line, post_id))
            continue
        if review.status == PENDING:
            report.undecided.append(post_id)
            continue
        current = ours.get(post_id)
        key = (post_id, review.reviewer)
        if is_undecided(current):
            additions[post_id] = review
            report.added.append(post_id)
            records.pop(key, None)  # their current decision is now ours
        elif same_decision(current, review):  # type: ignore[arg-type]
            report.agreed.append(post_id)
            records.pop(key, None)  # they changed their mind to agree with us
        else:
            report.conflicts.append(post_id)
            records[key] = conflict_record(post_id, review, source, recorded_at)
    return MergePlan(additions, list(records.values()), report)


def plan_resolution(
    post_id: str,
    keep: str,
    ours: Review | None,
    records: list[dict],
    *,
    reviewer: str | None = None,
) -> tuple[Review | None, list[dict]]:
    """Settle one conflict. Returns (the decision to save or None to leave ours, new records).

    ``keep="ours"`` drops their decision; ``keep="theirs"`` puts it in place of ours (with
    their reviewer and time). With several open conflicts on one post, ``reviewer`` names
    the one meant.
    """
    if keep not in KEEP_CHOICES:
        raise StoreError(f"keep must be one of {', '.join(KEEP_CHOICES)}, not {keep!r}")
    mine = [r for r in records if r.get("post_id") == post_id]
    if ours is not None:  # agreements that happened since are not conflicts any more
        mine = [r for r in mine if not same_decision(ours, Review.from_dict(r["theirs"]))]
    if reviewer is not None:
        mine = [r for r in mine if (r.get("theirs") or {}).get("reviewer", "") == reviewer]
    if not mine:
        who = f" from reviewer {reviewer!r}" if reviewer is not None else ""
        raise StoreError(f"no open conflict for post {post_id!r}{who}")
    if len(mine) > 1:
        names = ", ".join(repr((r.get("theirs") or {}).get("reviewer", "")) for r in mine)
        raise StoreError(
            f"post {post_id!r} has {len(mine)} open conflicts (reviewers {names}); "
            "say which reviewer's decision you mean"
        )
    chosen = mine[0]
    remaining = [r for r in records if r is not chosen]
    if keep == "ours":
        return None, remaining
    theirs = Review.from_dict(chosen["theirs"])
    # other reviewers' conflicts on this post that now agree with the kept decision are settled
    remaining = [
        r
        for r in remaining
        if r.get("post_id") != post_id or not same_decision(theirs, Review.from_dict(r["theirs"]))
    ]
    return theirs, remaining


def open_conflicts(
    records: Iterable[dict], ours: Mapping[str, Review], rows: Mapping[str, Any]
) -> list[Conflict]:
    """The stored conflicts still open, in reference order; ``ours`` as it is now.
    ``rows`` gives a post's ``reference`` and ``title`` (unknown posts are left out)."""
    out = []
    for record in records:
        post_id = record.get("post_id", "")
        row = rows.get(post_id)
        if row is None:
            continue
        mine, theirs = ours.get(post_id), Review.from_dict(record.get("theirs") or {})
        if mine is not None and same_decision(mine, theirs):
            continue  # we came round to their decision since: nothing left to settle
        out.append(
            Conflict(
                post_id=post_id,
                reference=row["reference"],
                title=row["title"],
                ours=mine,
                theirs=theirs,
                source=str(record.get("source", "")),
                recorded_at=str(record.get("recorded_at", "")),
            )
        )
    out.sort(key=lambda c: (c.reference or c.post_id, c.post_id, c.theirs.reviewer))
    return out
