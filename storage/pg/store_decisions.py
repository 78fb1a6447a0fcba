"""The PostgreSQL store's decisions, saved views and team settings: each one statement
or function call in one transaction, then a notification."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from ..errors import InvalidStatusError, StoreError
from ..models import STATUSES, Review, Status
from ..protocol import DecisionRequest
from ..views import View, clean_name, find, refuse_builtin
from . import schema
from .connection import NotSavedError
from .decisions import DecisionRow
from .store_base import PgStoreBase, _iso


class PgDecisions(PgStoreBase):
    def review(self, post_id: str) -> Review | None:
        """This reviewer's decision on the post, else the post's effective one (what the
        flags pane shows; what an undo puts back)."""
        return self._book.of(post_id, self.reviewer) or self._book.effective.get(post_id)

    def set_review(
        self, post_id: str, status: str, note: str = "", *, reviewer: str | None = None
    ) -> Review:
        saved = self._decide(
            [DecisionRequest(post_id, status, note)], reviewer=reviewer or self.reviewer
        )
        return saved[post_id]

    def set_reviews(self, requests: Sequence[DecisionRequest]) -> dict[str, Review]:
        return self._decide(list(requests), reviewer=self.reviewer)

    def restore_reviews(self, previous: Mapping[str, Review | None]) -> None:
        """Undo: this reviewer's decision goes back to what it was. A previous decision by
        someone else (or none) means this reviewer had none: theirs is withdrawn."""
        for post_id in previous:
            self._known(post_id)
        mine = {
            post_id: review
            for post_id, review in previous.items()
            if review is not None and review.reviewer == self.reviewer
        }
        withdrawn = [post_id for post_id in previous if post_id not in mine]
        requests = [DecisionRequest(p, Status(r.status), r.note) for p, r in mine.items()]
        requests += [DecisionRequest(p, None, None) for p in withdrawn]  # type: ignore[arg-type]
        self._decide(requests, reviewer=self.reviewer)

    def _decide(
        self,
        requests: list[DecisionRequest],
        *,
        reviewer: str,
        times: list[str | None] | None = None,
        shas: list[str | None] | None = None,
    ) -> dict[str, Review]:
        for request in requests:
            if request.status is not None and request.status not in STATUSES:
                raise InvalidStatusError(str(request.status), STATUSES)
            self._known(request.post_id)
        if not requests:
            return {}
        order = sorted(range(len(requests)), key=lambda i: requests[i].post_id)
        requests = [requests[i] for i in order]
        posts = [r.post_id for r in requests]
        statuses = [None if r.status is None else str(r.status) for r in requests]
        notes = [r.note for r in requests]
        sha_list = [shas[i] for i in order] if shas else [None] * len(requests)
        time_list = [times[i] for i in order] if times else None
        request_id = uuid.uuid4()
        notified = False  # the server sent the notification (one post: the procedure)

        def decide(conn: psycopg.Connection) -> list[tuple]:
            nonlocal notified
            if len(posts) == 1:  # one round trip: commit, then notify (schema v2)
                row = conn.execute(
                    "CALL copydesk_decide_one(%s, %s, %s, %s, %s, %s, %s::timestamptz)",
                    (
                        reviewer,
                        posts[0],
                        statuses[0],
                        notes[0],
                        sha_list[0],
                        request_id,
                        time_list[0] if time_list else None,
                    ),
                ).fetchone()
                assert row is not None  # a CALL returns its INOUT parameters
                notified = True
                return [(posts[0], reviewer, *row)]
            return conn.execute(
                "SELECT * FROM copydesk_decide(%s, %s, %s, %s, %s, %s, %s::timestamptz[])",
                (reviewer, posts, statuses, notes, sha_list, request_id, time_list),
            ).fetchall()

        try:
            rows = self._link.run(decide, retry=False)
        except (psycopg.Error, StoreError) as exc:
            rows = self._landed(request_id, reviewer, posts)  # then notified below
            if rows is None:
                what = repr(posts[0]) if len(posts) == 1 else f"{len(posts)} posts"
                reason = self._link.error_text(exc) if isinstance(exc, psycopg.Error) else exc
                raise NotSavedError(f"decision on {what} not saved: {reason}") from None
        decided = [
            DecisionRow(
                pid,
                who,
                None if status is None else Review(status, note, _iso(at), who, sha),
                seq,
            )
            for pid, who, status, note, at, sha, seq in rows
        ]
        self._book.apply(decided)
        self._team.forget_mine(posts)
        if not notified:
            self._notify("decision")
        return {row.post_id: row.review for row in decided}  # type: ignore[misc]

    def _landed(self, request: uuid.UUID, reviewer: str, posts: list[str]) -> list | None:
        """After a lost connection: the rows of ``request`` if it was committed after all."""
        try:
            rows = self._link.run(
                lambda conn: conn.execute(
                    "SELECT post_id, reviewer, status, note, decided_at, content_sha256, seq"
                    " FROM decisions WHERE reviewer = %s AND post_id = ANY(%s) AND request = %s",
                    (reviewer, posts, request),
                ).fetchall()
            )
        except (psycopg.Error, StoreError):
            return None
        return rows if len(rows) == len(posts) else None

    def save_view(self, name: str, query: str) -> View:
        view = View(refuse_builtin(clean_name(name), "replaced"), query.strip(), False)
        self._loaded.parse(view.query)  # QueryError when malformed

        def save(conn: psycopg.Connection) -> None:
            with conn.transaction():
                conn.execute("DELETE FROM views WHERE lower(name) = lower(%s)", (view.name,))
                conn.execute(
                    "INSERT INTO views (name, query) VALUES (%s, %s)", (view.name, view.query)
                )

        self._run(save, retry=False)
        return view

    def delete_view(self, name: str) -> None:
        view = find(self.views(), name)
        refuse_builtin(view.name, "deleted")
        self._run(
            lambda conn: conn.execute(
                "DELETE FROM views WHERE lower(name) = lower(%s)", (view.name,)
            ),
            retry=False,
        )

    def set_min_reviews(self, value: int) -> None:
        if value < 1:
            raise StoreError(f"min_reviews must be at least 1, not {value}")

        def write(conn: psycopg.Connection) -> None:
            with conn.transaction():
                conn.execute(
                    "UPDATE settings SET value = %s WHERE key = 'min_reviews'", (str(value),)
                )
                conn.execute(
                    "UPDATE queue q SET done = q.reviews >= %s OR EXISTS"
                    " (SELECT 1 FROM resolutions r WHERE r.post_id = q.post_id)",
                    (value,),
                )
                conn.execute("SELECT pg_notify(%s, 'settings')", (schema.CHANNEL,))

        self._run(write, retry=False)
        self._book.set_min_reviews(value)

    @property
    def min_reviews(self) -> int:
        return self._book.min_reviews

    def stats(self) -> dict[str, Any]:
        """Decisions per reviewer per day and the median seconds from claim to decision."""

        def read(conn: psycopg.Connection) -> tuple[list, list]:
            counted = "status IS NOT NULL AND status <> 'pending'"
            by_day = conn.execute(
                "SELECT reviewer, to_char(decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),"
                " count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY spent_s)"
                f" FROM decisions WHERE {counted} GROUP BY 1, 2 ORDER BY 1, 2"
            ).fetchall()
            overall = conn.execute(
                "SELECT reviewer, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY spent_s)"
                f" FROM decisions WHERE {counted} GROUP BY 1 ORDER BY 1"
            ).fetchall()
            return by_day, overall

        by_day, overall = self._run(read)

        def seconds(value: Any) -> float | None:
            return None if value is None else round(float(value), 1)

        return {
            "reviewers": [
                {"reviewer": r, "decisions": n, "median_seconds": seconds(m)} for r, n, m in overall
            ],
            "days": [
                {"reviewer": r, "day": d, "decisions": n, "median_seconds": seconds(m)}
                for r, d, n, m in by_day
            ],
        }
