"""Claims with leases on the shared queue (``TeamDesk`` of the PostgreSQL store).

A claim is a lease on a ``queue`` row: ``holder`` and ``lease_until``. The next posts are
picked with ``SELECT ... FOR UPDATE SKIP LOCKED`` in queue order (``copydesk_claim_next``),
so two reviewers never hold one post; a decision releases it; a lease that is not renewed
(a crashed client) simply ends and the post is back in everyone's queue.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import psycopg

from ..errors import StoreError
from ..models import Review
from ..protocol import Claim
from .schema import CHANNEL

if TYPE_CHECKING:
    from .store import PostgresStore

DEFAULT_LEASE_S = 600.0  # 10 minutes, renewed while the post is open


# In a statement's own (implicit) transaction: its commit does not wait for the WAL flush.
# Claims, renewals and releases are leases (soft state; see copydesk_claim_next).
ASYNC_COMMIT = "set_config('synchronous_commit', 'off', true)"


def _rows(conn: psycopg.Connection, query: str, params: object) -> list[tuple]:
    return conn.execute(query, params).fetchall()


class PgTeamDesk:
    def __init__(self, store: PostgresStore, lease_s: float = DEFAULT_LEASE_S) -> None:
        self._store = store
        self.lease_s = lease_s
        # post id -> (holder, monotonic deadline), as of the last refresh or own claim
        self._holds: dict[str, tuple[str, float]] = {}
        self.claims_only = False

    @property
    def reviewer(self) -> str:
        return self._store.reviewer

    # ------------------------------------------------------------------ what others see

    def read_claims(self, conn: psycopg.Connection) -> list[tuple[str, str, float]]:
        return conn.execute(
            "SELECT post_id, holder, extract(epoch FROM lease_until - now())::float8"
            " FROM queue WHERE holder IS NOT NULL AND lease_until > now()"
        ).fetchall()

    def take_claims(self, rows: Iterable[tuple[str, str, float]]) -> bool:
        """Install the live claims read by a refresh; True when who holds what changed."""
        now = time.monotonic()
        holds = {post_id: (holder, now + left) for post_id, holder, left in rows}
        changed = {p: h for p, (h, _) in holds.items()} != {
            p: h for p, (h, d) in self._holds.items() if d > now
        }
        self._holds = holds
        return changed

    def forget_mine(self, post_ids: Iterable[str]) -> None:
        """A decision released these posts (the server did it in the same transaction)."""
        for post_id in post_ids:
            held = self._holds.get(post_id)
            if held is not None and held[0] == self.reviewer:
                del self._holds[post_id]

    def holder(self, post_id: str) -> Claim | None:
        """Who holds ``post_id`` under a live lease, as of the last refresh (no query)."""
        held = self._holds.get(post_id)
        if held is None:
            return None
        left = held[1] - time.monotonic()
        return Claim(post_id, held[0], left) if left > 0 else None

    def holds(self) -> dict[str, Claim]:
        """Every live claim by post id, as of the last refresh (no query)."""
        now = time.monotonic()
        return {p: Claim(p, h, d - now) for p, (h, d) in self._holds.items() if d > now}

    def held_by_other(self, post_id: str) -> Claim | None:
        claim = self.holder(post_id)
        return claim if claim is not None and claim.reviewer != self.reviewer else None

    def decided_by_me(self, post_id: str) -> bool:
        review = self._store.book.of(post_id, self.reviewer)
        return review is not None and review.status != "pending"

    def skips(self, post_id: str) -> bool:
        """Whether this reviewer's next-pending passes over ``post_id``: another reviewer
        holds it, or this reviewer decided it already (with ``min_reviews`` > 1 it is still
        pending for the others)."""
        return self.held_by_other(post_id) is not None or self.decided_by_me(post_id)

    def own_reviews(self) -> Mapping[str, Review]:
        book = self._store.book
        return {p: r for p in book.decided_by(self.reviewer) if (r := book.of(p, self.reviewer))}

    def ratings(self) -> dict[str, dict[str, str]]:
        """post id -> {reviewer: status} of every decision that counts (agreement)."""
        return self._store.book.ratings()

    # ------------------------------------------------------------------ claiming

    def _lease(self, lease_s: float | None) -> float:
        lease = self.lease_s if lease_s is None else float(lease_s)
        if not lease > 0:
            raise StoreError(f"a lease must be a positive number of seconds, not {lease_s!r}")
        return lease

    def claim_next(self, count: int = 1, lease_s: float | None = None) -> list[str]:
        """Claim the next ``count`` needs-review posts for this reviewer (queue order):
        open, not decided by them, held by nobody. Fewer (or none) when the queue ends."""
        if count < 1:
            return []
        lease = self._lease(lease_s)
        got: list[str] = []
        # A post another claimer locked and committed between our scan and our lock is
        # skipped; ask again for the rest until the queue gives nothing more.
        for _ in range(4):
            rows = self._store._run(
                lambda conn: conn.execute(
                    "SELECT copydesk_claim_next(%s, %s, %s)",
                    (self.reviewer, count - len(got), lease),
                ).fetchall()
            )
            new = [r[0] for r in rows]
            got.extend(new)
            if not new or len(got) >= count:
                break
        deadline = time.monotonic() + lease
        for post_id in got:
            self._holds[post_id] = (self.reviewer, deadline)
        if len(got) > 1:  # by catalog slot: a dict of every id cost ~40 ms a claim at 100k
            got.sort(key=self._queue_slot)
        return got

    def _queue_slot(self, post_id: str) -> int:
        slot = self._store.catalog_slot(post_id)
        return slot if slot is not None else 1 << 62

    def claim(self, post_id: str, *, steal: bool = False, lease_s: float | None = None):
        """Claim one post (the one a reviewer opened). None when another reviewer holds it
        under a live lease (``steal`` takes it anyway), or it is not in the open queue (a
        post that needs no review, or has its decisions already, is never claimed)."""
        lease = self._lease(lease_s)
        row = self._store._run(
            lambda conn: _rows(
                conn,
                "WITH c AS (UPDATE queue SET holder = %(me)s, lease_until = now() +"
                " make_interval(secs => %(lease)s),"
                " claimed_at = CASE WHEN holder = %(me)s AND lease_until > now()"
                "                   THEN claimed_at ELSE now() END"
                " WHERE post_id = %(id)s AND NOT done"
                " AND (%(steal)s OR holder IS NULL OR holder = %(me)s OR lease_until <= now())"
                " RETURNING post_id)"
                f" SELECT post_id, pg_notify(%(channel)s, 'claim'), {ASYNC_COMMIT} FROM c",
                {
                    "me": self.reviewer,
                    "lease": lease,
                    "id": post_id,
                    "steal": steal,
                    "channel": CHANNEL,
                },
            )
        )
        row = row[0] if row else None
        if row is None:
            self._learn_holder(post_id)
            return None
        self._holds[post_id] = (self.reviewer, time.monotonic() + lease)
        return Claim(post_id, self.reviewer, lease)

    def _learn_holder(self, post_id: str) -> None:
        """After a refused claim: who holds the post, known at once (not at the next
        refresh), so that the screen can pass over it."""
        rows = self._store._run(
            lambda conn: conn.execute(
                "SELECT holder, extract(epoch FROM lease_until - now())::float8 FROM queue"
                " WHERE post_id = %s AND holder IS NOT NULL AND lease_until > now()",
                (post_id,),
            ).fetchall()
        )
        if rows:
            holder, left = rows[0]
            self._holds[post_id] = (holder, time.monotonic() + float(left))

    def renew(self, post_ids: Iterable[str], lease_s: float | None = None) -> None:
        """Extend this reviewer's leases on ``post_ids`` (the open post, while it is)."""
        ids = list(post_ids)
        if not ids:
            return
        lease = self._lease(lease_s)
        rows = self._store._run(
            lambda conn: _rows(
                conn,
                "WITH r AS (UPDATE queue SET lease_until = now() + make_interval(secs => %s)"
                " WHERE holder = %s AND post_id = ANY(%s) RETURNING post_id)"
                f" SELECT post_id, {ASYNC_COMMIT} FROM r",
                (lease, self.reviewer, ids),
            )
        )
        deadline = time.monotonic() + lease
        for post_id, *_ in rows:
            self._holds[post_id] = (self.reviewer, deadline)

    def release(self, post_ids: Iterable[str] | None = None) -> int:
        """Give back this reviewer's claims on ``post_ids`` (None: all of them, as when
        the app quits). Returns how many were held."""
        ids = None if post_ids is None else list(post_ids)
        if ids is not None and not ids:
            return 0
        rows = self._store._run(
            lambda conn: _rows(
                conn,
                "WITH r AS (UPDATE queue SET holder = NULL, lease_until = NULL, claimed_at = NULL"
                " WHERE holder = %(me)s AND (%(all)s OR post_id = ANY(%(ids)s))"
                " RETURNING post_id)"
                f" SELECT post_id, pg_notify(%(channel)s, 'claim'), {ASYNC_COMMIT} FROM r",
                {"me": self.reviewer, "all": ids is None, "ids": ids or [], "channel": CHANNEL},
            )
        )
        for post_id, *_ in rows:
            self._holds.pop(post_id, None)
        return len(rows)

    def claims(self) -> list[Claim]:
        """Every live claim, from the server now, in queue order."""
        rows = self._store._run(self.read_claims)
        self.take_claims(rows)
        out = [Claim(p, h, float(left)) for p, h, left in rows]
        out.sort(key=lambda c: (self._queue_slot(c.post_id), c.post_id))
        return out
