"""The PostgreSQL store: a team of reviewers on one queue (``ReviewStore`` + ``TeamDesk``).

Posts, records, index material and decisions live in the database (``schema.py``). Each
client keeps the shared in-memory ``Catalog`` (rows, search index, similarity: the same
query language, views and export as the local store) and every reviewer's decisions
(``DecisionBook``); ``refresh()`` brings both up to date, woken by LISTEN/NOTIFY and
polling every ``POLL_S`` in case a notification was missed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import psycopg

from ..errors import StoreError, UnknownPostError
from ..models import StoredPost
from . import schema
from .connection import STARTING_WAIT_S, Link, _is_connection_failure
from .store_base import Warn
from .store_decisions import PgDecisions
from .store_imports import PgImports
from .store_merging import PgMerging
from .team import PgTeamDesk

ITER_BATCH = 2000  # posts a page of iter_posts (about 10 MB of records at most)
PHRASES_REMEMBERED = 8


class PostgresStore(PgImports, PgDecisions, PgMerging):
    """Open with ``PostgresStore.open(url)``; see ``storage.protocol.ReviewStore``.
    Split by job: import (``store_imports``), decisions, views and settings
    (``store_decisions``), merging (``store_merging``), over ``store_base``."""

    @classmethod
    def open(
        cls, url: str, *, warn: Warn | None = None, reviewer: str | None = None
    ) -> PostgresStore:
        """Connect to ``url`` (libpq env vars and ~/.pgpass fill the gaps) and load. A
        server restarting meanwhile (it may drop the new connection before the first
        query) is waited for, up to ``STARTING_WAIT_S``."""
        deadline = time.monotonic() + STARTING_WAIT_S
        while True:
            link = Link(url)
            conn = link.connect()  # waits through a restart it sees itself
            try:
                schema.check(conn, link.location)
                store = cls(link, warn=warn, reviewer=reviewer)
                store._sync(full=True)
                return store
            except psycopg.Error as exc:
                link.close()
                if not _is_connection_failure(exc, conn) or time.monotonic() >= deadline:
                    raise StoreError(
                        f"{link.location}: cannot open ({link.error_text(exc)})"
                    ) from None
                time.sleep(0.2)
            except BaseException:
                link.close()
                raise

    @property
    def location(self) -> str:
        return self._link.location

    @property
    def path(self) -> str:
        """The location (for CLI messages written against the local store's ``path``)."""
        return self._link.location

    @property
    def read_only(self) -> bool:
        return False

    @property
    def team(self) -> PgTeamDesk:
        return self._team

    def close(self) -> None:
        self._link.close()

    def stop_waiting(self) -> None:
        self._link.give_up()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def catalog_slot(self, post_id: str) -> int | None:
        """The post's place in the static queue order (None: not in the catalog)."""
        return self._loaded.rows.slot(post_id)

    def _body_contains(self) -> Callable[[str, str], bool]:
        return self._phrase_in_body

    def get(self, post_id: str) -> StoredPost:
        self._known(post_id)
        row = self._run(
            lambda conn: conn.execute(
                "SELECT record, hints, path FROM posts WHERE id = %s", (post_id,)
            ).fetchone()
        )
        if row is None:  # imported away by another client since our last refresh
            raise UnknownPostError(post_id)
        doc = orjson.loads(row[0])
        hints = orjson.loads(row[1]) + self._loaded.near_duplicate_hints(post_id)
        return StoredPost(
            id=post_id,
            reference=doc.get("reference", ""),
            title=doc.get("title", ""),
            body=doc.get("body", []),
            meta=doc.get("meta", {}),
            listed_similar=doc.get("listed_similar", []),
            warnings=doc.get("warnings", []),
            source={"path": row[2], "sha256": (doc.get("source") or {}).get("sha256", "")},
            review=self.review(post_id),
            hints=hints,
        )

    def iter_posts(self) -> Iterator[dict[str, Any]]:
        """Every post's record, ``ITER_BATCH`` rows a query in id order (keyset pages: no
        cursor held open across the caller's work, each page retried on its own)."""
        after = ""
        while True:
            rows = self._run(
                lambda conn, after=after: conn.execute(
                    "SELECT id, record FROM posts WHERE id > %s ORDER BY id LIMIT %s",
                    (after, ITER_BATCH),
                ).fetchall()
            )
            for post_id, record in rows:
                yield {**orjson.loads(record), "id": post_id}
            if len(rows) < ITER_BATCH:
                return
            after = rows[-1][0]

    def reviewed_version(self, post_id: str) -> StoredPost | None:
        """None: the team store keeps only the current text of a post (no earlier
        versions), so "what changed since review" has nothing to compare with here."""
        self._known(post_id)
        return None

    def _phrase_in_body(self, post_id: str, phrase: str) -> bool:
        """Quoted phrases: the server finds the posts whose body holds one, once per
        phrase and import generation (one scan, like the local store's segment scans)."""
        key = (self._generation, phrase)
        hits = self._phrase_hits.get(key)
        if hits is None:
            found = self._run(
                lambda conn: conn.execute(
                    "SELECT id FROM posts WHERE strpos(body_text, %s) > 0", (phrase.lower(),)
                ).fetchall()
            )
            hits = self._phrase_hits[key] = frozenset(r[0] for r in found)
            while len(self._phrase_hits) > PHRASES_REMEMBERED:
                self._phrase_hits.popitem(last=False)
        else:
            self._phrase_hits.move_to_end(key)
        return post_id in hits


def init_database(url: str) -> tuple[int, int]:
    """Create or migrate the schema of the database at ``url``: (version before, after).
    A catalog this copydesk cannot read (another version's format) is written anew."""
    link = Link(url)
    try:
        conn = link.connect()
        try:
            versions = schema.migrate(conn, link.location)
        except psycopg.Error as exc:
            raise StoreError(f"{link.location}: {link.error_text(exc)}") from None
    finally:
        link.close()
    with PostgresStore.open(url) as store:
        store.rewrite_catalog()
    return versions
