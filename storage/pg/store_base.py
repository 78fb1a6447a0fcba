"""What every part of the PostgreSQL store shares: the link, the synced catalog and
decision book, the notification after a write, and the SQL helpers (see store.py)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import psycopg

from ..catalog import Catalog, IndexEntry
from ..errors import StoreError
from ..models import Review
from ..queries import CatalogStore
from ..reviews import reviewer_name
from ..search_index import SearchIndex
from . import catalog_cache, schema
from .connection import Link
from .decisions import DecisionBook, DecisionRow
from .team import ASYNC_COMMIT, PgTeamDesk

Warn = Callable[[str], None]

POLL_S = 1.0  # a refresh without a notification asks the server at most this often
# decided_at as the local store writes it: ISO 8601 UTC to the second
_ISO = """to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
_DECISION_COLUMNS = (
    f"post_id, reviewer, status, note, {_ISO.format(col='decided_at')}, content_sha256, seq"
)
_BODY_SEPARATOR = "\x1f"  # between body parts in posts.body_text: a phrase never spans two


def _iso(dt: Any) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ") if dt is not None else ""


def _decision_row(row: tuple) -> DecisionRow:
    post_id, reviewer, status, note, decided_at, sha, seq = row
    review = None
    if status is not None:
        review = Review(
            status=status, note=note, decided_at=decided_at, reviewer=reviewer, content_sha256=sha
        )
    return DecisionRow(post_id, reviewer, review, seq)


def _json_bytes(value: Any) -> bytes:
    """JSON as UTF-8 bytes, for a text column (binary COPY takes the bytes as they are).
    PostgreSQL text holds no NUL: JSON escapes it (a raw NUL in the bytes never occurs)."""
    return orjson.dumps(value)


def body_text(record: dict) -> str:
    """The lower-cased text a quoted phrase is looked for in (as the local store does:
    texts, list items, image captions), parts joined by a separator no phrase holds."""
    parts = []
    body = record.get("body")
    for block in body if isinstance(body, list) else ():
        if isinstance(block, dict):
            items = block.get("items") or [block.get("text") or block.get("caption") or ""]
            parts.extend(str(p) for p in items)
    return _BODY_SEPARATOR.join(parts).lower().replace("\x00", "")


class PgStoreBase(CatalogStore):
    """The connection, the in-memory catalog and decisions, and ``refresh``."""

    def __init__(self, link: Link, *, warn: Warn | None = None, reviewer: str | None = None):
        self._link = link
        self.warnings: list[str] = []
        self._warn_cb = warn
        self.reviewer = reviewer or reviewer_name()
        self._loaded: Catalog = Catalog.empty()
        self._generation = 0
        # the generation whose catalog on the server this copydesk could not read (another
        # version's format), built from the posts instead at each open until rewritten
        self._unreadable_catalog: int | None = None
        self._book = DecisionBook()
        self._snapshot: str | None = None
        self._last_sync = 0.0
        self._phrase_hits: OrderedDict[tuple[int, str], frozenset[str]] = OrderedDict()
        self._team = PgTeamDesk(self)

    @property
    def link(self) -> Link:
        return self._link

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        if self._warn_cb is not None:
            self._warn_cb(message)

    def _run(self, op: Callable[[psycopg.Connection], Any], *, retry: bool = True) -> Any:
        try:
            return self._link.run(op, retry=retry)
        except psycopg.Error as exc:
            raise StoreError(f"{self.location}: {self._link.error_text(exc)}") from None

    def refresh(self) -> bool:
        """Pick up others' decisions, claims, imports and settings. True when anything
        visible changed. Cheap when nothing did: a notification check on the socket, and
        a query at most every ``POLL_S``."""
        woken = self._link.drain()
        if not woken and time.monotonic() - self._last_sync < POLL_S:
            return False
        return self._sync(full=False)

    def _sync(self, *, full: bool) -> bool:
        def read(conn: psycopg.Connection) -> tuple:
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                snap, generation, min_reviews = conn.execute(
                    "SELECT pg_current_snapshot()::text,"
                    " (SELECT max(generation) FROM catalogs),"
                    " (SELECT value FROM settings WHERE key = 'min_reviews')"
                ).fetchone()
                since = None if full or self._snapshot is None else self._snapshot
                where = (
                    ""
                    if since is None
                    else " WHERE txid >= pg_snapshot_xmin(%(s)s::pg_snapshot)"
                    " AND NOT pg_visible_in_snapshot(txid, %(s)s::pg_snapshot)"
                )
                decisions = conn.execute(
                    f"SELECT {_DECISION_COLUMNS} FROM decisions{where}", {"s": since}
                ).fetchall()
                resolutions = conn.execute(
                    f"SELECT {_DECISION_COLUMNS} FROM resolutions{where}", {"s": since}
                ).fetchall()
                claims = self._team.read_claims(conn)
                catalog_data = None
                generation = generation or 0
                if full or generation != self._generation:
                    catalog_data = self._read_catalog(conn, generation)
            return (
                snap,
                generation,
                int(min_reviews or 1),
                decisions,
                resolutions,
                claims,
                (catalog_data),
            )

        snap, generation, min_reviews, decisions, resolutions, claims, catalog_data = self._run(
            read
        )
        changed = False
        if catalog_data is not None:
            self._install_catalog(generation, catalog_data)
            changed = True
        if full:
            self._book = DecisionBook(min_reviews)
        elif self._book.set_min_reviews(min_reviews):
            changed = True
        rows = [_decision_row(r) for r in decisions]
        fresh = [r for r in rows if self._book_seq(r) != r.seq]
        if fresh or resolutions:
            self._book.apply(fresh, [_decision_row(r) for r in resolutions])
            changed = True
        claims_moved = self._team.take_claims(claims)
        if claims_moved or changed:
            self._team.claims_only = not changed
        changed = changed or claims_moved
        self._snapshot = snap
        self._last_sync = time.monotonic()
        return changed

    def _book_seq(self, row: DecisionRow) -> int | None:
        return self._book.seq_of(row.post_id, row.reviewer)

    def _read_catalog(self, conn: psycopg.Connection, generation: int) -> Catalog:
        if generation == 0:
            return Catalog.empty()
        known = conn.execute(
            "SELECT sha256, octet_length(data) FROM catalogs WHERE generation = %s",
            (generation,),
        ).fetchone()
        digest, size = known if known else (None, None)
        # this machine's copy of exactly these bytes (checked against the digest)
        data = catalog_cache.load(digest, size)
        if data is not None:
            try:
                return Catalog.from_bytes(data, self._search_from_posts)
            except Exception:  # another copydesk version's: the server's bytes decide
                pass
        # binary: the bytea as is, not hex text twice its size (10k posts: 0.40 -> 0.09 s)
        with conn.cursor(binary=True) as cur:
            row = cur.execute(
                "SELECT data FROM catalogs WHERE generation = %s", (generation,)
            ).fetchone()
        data = row[0] if row else b""
        try:
            catalog = Catalog.from_bytes(data, self._search_from_posts)
        except Exception:  # written by another copydesk version: rebuild from the posts
            catalog = self._entries_catalog(conn)
            self._unreadable_catalog = generation  # `copydesk db init` writes it anew
            return catalog
        catalog_cache.store(digest, data)
        return catalog

    def _search_from_posts(self, why: str) -> SearchIndex:
        """The search index again from the posts' index entries, when the catalog's turned
        out damaged on first use (its bytes passed their digest: the server holds them so)."""
        self._warn(
            f"{self._link.location}: the team catalog's search index is damaged ({why}); "
            "rebuilding it from the posts"
        )
        return self._run(self._entries_catalog).search_index

    def _entries_catalog(self, conn: psycopg.Connection) -> Catalog:
        entries = []
        with conn.cursor(name="copydesk_entries") as cur:  # inside the caller's transaction
            cur.execute("SELECT id, index_entry FROM posts")
            for post_id, entry in cur:
                data = orjson.loads(entry)
                entries.append(
                    IndexEntry(post_id, 0, data["row"], data["fields"], data["features"])
                )
        return Catalog.build(entries)

    def _install_catalog(self, generation: int, catalog: Catalog) -> None:
        self._loaded = catalog
        self._generation = generation
        self._phrase_hits.clear()

    def _catalog(self) -> Catalog:
        return self._loaded

    def _decisions(self) -> Mapping[str, Review]:
        return self._book.effective

    def _view_records(self) -> list[dict]:
        rows = self._run(lambda conn: conn.execute("SELECT name, query FROM views").fetchall())
        return [{"name": name, "query": query} for name, query in rows]

    @property
    def book(self) -> DecisionBook:
        return self._book

    def _notify(self, what: str) -> None:
        """Wake the other clients, after the commit and without waiting for the disk (see
        copydesk_decide). A lost notification costs a wake-up, never data: clients poll."""
        try:
            self._link.run(
                lambda conn: conn.execute(
                    f"SELECT pg_notify(%s, %s), {ASYNC_COMMIT}", (schema.CHANNEL, what)
                )
            )
        except (psycopg.Error, StoreError):
            pass


class _Background(threading.Thread):
    """Run ``fn`` in a thread; ``result()`` waits and re-raises what it raised."""

    def __init__(self, fn: Callable[[], object]) -> None:
        super().__init__(name="copydesk-pg-sender")
        self._fn = fn
        self._error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self._fn()
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self) -> None:
        self.join()
        if self._error is not None:
            raise self._error
