"""Another reviewer's decisions merged into the PostgreSQL store, and the conflicts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from ..errors import StoreError
from ..merge import Conflict, MergeReport, read_review_file, same_decision
from ..models import Review, Status
from ..protocol import DecisionRequest
from . import schema
from .decisions import counts
from .store_base import _DECISION_COLUMNS, _ISO, PgStoreBase, _decision_row


class PgMerging(PgStoreBase):
    def merge_reviews(self, path: str) -> MergeReport:
        """Merge a jsonl export: each decision goes in as its reviewer's (see ``merge``)."""
        theirs, bad_lines = read_review_file(path)
        return self.merge_decisions(
            [(d.post_id, d.review, d.line) for d in theirs], source=str(path), bad_lines=bad_lines
        )

    def merge_decisions(
        self,
        decisions: list[tuple[str, Review, int]],
        *,
        source: str,
        bad_lines: Iterable[Any] = (),
    ) -> MergeReport:
        """Other decisions with their reviewers and times: added where that reviewer has
        none on the server, agreed when the same, a conflict (kept in ``merge_conflicts``,
        the server's decision stays) when different. Safe to repeat."""
        from ..merge import UnknownId, is_undecided

        self.refresh()
        report = MergeReport(source=source, bad_lines=list(bad_lines))
        additions: dict[str, list[tuple[str, Review]]] = {}
        settled: list[tuple[str, str]] = []
        conflicts: list[tuple[str, Review]] = []
        seen: set[tuple[str, str]] = set()
        for post_id, review, line in decisions:
            if post_id not in self._loaded:
                report.unknown.append(UnknownId(source, line, post_id))
                continue
            if review.status == Status.PENDING:
                report.undecided.append(post_id)
                continue
            who = review.reviewer or "unknown"
            review = Review(
                review.status, review.note, review.decided_at, who, review.content_sha256
            )
            if (post_id, who) in seen:
                continue
            seen.add((post_id, who))
            current = self._book.of(post_id, who)
            if is_undecided(current):
                additions.setdefault(who, []).append((post_id, review))
                report.added.append(post_id)
                settled.append((post_id, who))
            elif same_decision(current, review):  # type: ignore[arg-type]
                report.agreed.append(post_id)
                settled.append((post_id, who))
            else:
                report.conflicts.append(post_id)
                conflicts.append((post_id, review))
        for who, items in additions.items():
            self._decide(
                [DecisionRequest(p, Status(r.status), r.note) for p, r in items],
                reviewer=who,
                times=[r.decided_at or None for _, r in items],
                shas=[r.content_sha256 or None for _, r in items],
            )

        def record(conn: psycopg.Connection) -> None:
            with conn.transaction():
                if settled:
                    conn.execute(
                        "DELETE FROM merge_conflicts WHERE (post_id, reviewer) IN"
                        " (SELECT * FROM unnest(%s::text[], %s::text[]))",
                        ([p for p, _ in settled], [w for _, w in settled]),
                    )
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO merge_conflicts (post_id, reviewer, status, note,"
                        " decided_at, content_sha256, source) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                        " ON CONFLICT (post_id, reviewer) DO UPDATE SET status = excluded.status,"
                        " note = excluded.note, decided_at = excluded.decided_at,"
                        " content_sha256 = excluded.content_sha256, source = excluded.source,"
                        " recorded_at = now()",
                        [
                            (
                                p,
                                r.reviewer,
                                r.status,
                                r.note,
                                r.decided_at,
                                r.content_sha256,
                                source,
                            )
                            for p, r in conflicts
                        ],
                    )

        if settled or conflicts:
            self._run(record, retry=False)
        return report

    def conflicts(self) -> list[Conflict]:
        """Disputes (reviewers who disagree on a post: each other reviewer's decision
        against ours) and merged decisions that differ from the same reviewer's here."""
        out: list[Conflict] = []
        for post_id in self._book.disputed():
            if post_id not in self._loaded:
                continue
            summary = self.summary(post_id)
            decisions = {n: r for n, r in self._book.on(post_id).items() if counts(r)}
            ours = decisions.get(self.reviewer)
            for name, theirs in sorted(decisions.items()):
                if name == self.reviewer or (ours is not None and same_decision(ours, theirs)):
                    continue
                out.append(
                    Conflict(post_id, summary.reference, summary.title, ours, theirs, "team", "")
                )
        rows = self._run(
            lambda conn: conn.execute(
                "SELECT post_id, reviewer, status, note, decided_at, content_sha256, source,"
                f" {_ISO.format(col='recorded_at')} FROM merge_conflicts"
            ).fetchall()
        )
        for post_id, who, status, note, decided_at, sha, source, recorded_at in rows:
            if post_id not in self._loaded:
                continue
            ours = self._book.of(post_id, who)
            theirs = Review(status, note, decided_at, who, sha)
            if ours is not None and same_decision(ours, theirs):
                continue
            summary = self.summary(post_id)
            out.append(
                Conflict(
                    post_id, summary.reference, summary.title, ours, theirs, source, recorded_at
                )
            )
        out.sort(key=lambda c: (c.reference or c.post_id, c.post_id, c.theirs.reviewer))
        return out

    def resolve_conflict(
        self, post_id: str, keep: str, *, reviewer: str | None = None
    ) -> Review | None:
        """Settle one conflict. A dispute: ``keep`` "ours" makes this reviewer's decision
        the post's, "theirs" the other reviewer's (``reviewer`` says whose when several
        differ); nobody's own decision is changed, so agreement figures stay honest.
        A merged decision: "theirs" replaces that reviewer's decision here."""
        from ..merge import KEEP_CHOICES

        if keep not in KEEP_CHOICES:
            raise StoreError(f"keep must be one of {', '.join(KEEP_CHOICES)}, not {keep!r}")
        self._known(post_id)
        candidates = [c for c in self.conflicts() if c.post_id == post_id]
        if reviewer is not None:
            candidates = [c for c in candidates if c.theirs.reviewer == reviewer]
        if not candidates:
            who = f" from reviewer {reviewer!r}" if reviewer is not None else ""
            raise StoreError(f"no open conflict for post {post_id!r}{who}")
        if len(candidates) > 1 and not (keep == "ours" and candidates[0].source == "team"):
            names = ", ".join(repr(c.theirs.reviewer) for c in candidates)
            raise StoreError(
                f"post {post_id!r} has {len(candidates)} open conflicts (reviewers {names}); "
                "say which reviewer's decision you mean"
            )
        chosen = candidates[0]
        if chosen.source == "team":
            kept = chosen.ours if keep == "ours" else chosen.theirs
            if kept is None:
                raise StoreError(
                    f"you have no decision on {post_id!r}; keep theirs (--reviewer NAME)"
                )
            self._resolve(post_id, kept)
            return self._book.effective.get(post_id)
        who = chosen.theirs.reviewer
        if keep == "theirs":
            self._decide(
                [DecisionRequest(post_id, Status(chosen.theirs.status), chosen.theirs.note)],
                reviewer=who,
                times=[chosen.theirs.decided_at or None],
                shas=[chosen.theirs.content_sha256 or None],
            )
        self._run(
            lambda conn: conn.execute(
                "DELETE FROM merge_conflicts WHERE post_id = %s AND reviewer = %s",
                (post_id, who),
            ),
            retry=False,
        )
        return self.review(post_id)

    def _resolve(self, post_id: str, kept: Review) -> None:
        def resolve(conn: psycopg.Connection) -> tuple:
            with conn.transaction():
                row = conn.execute(
                    "INSERT INTO resolutions AS r (post_id, status, note, reviewer, decided_at,"
                    " content_sha256) VALUES (%s, %s, %s, %s, clock_timestamp(),"
                    " (SELECT sha256 FROM posts WHERE id = %s))"
                    " ON CONFLICT (post_id) DO UPDATE SET status = excluded.status,"
                    " note = excluded.note, reviewer = excluded.reviewer,"
                    " decided_at = excluded.decided_at, content_sha256 = excluded.content_sha256,"
                    " seq = nextval('change_seq'), txid = pg_current_xact_id()"
                    f" RETURNING {_DECISION_COLUMNS}",
                    (post_id, kept.status, kept.note, self.reviewer, post_id),
                ).fetchone()
                conn.execute("UPDATE queue SET done = true WHERE post_id = %s", (post_id,))
                conn.execute("SELECT pg_notify(%s, 'decision')", (schema.CHANNEL,))
            return row

        row = self._run(resolve, retry=False)
        self._book.apply([], [_decision_row(row)])
