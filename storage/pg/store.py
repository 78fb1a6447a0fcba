"""The PostgreSQL store: a team of reviewers on one queue (``ReviewStore`` + ``TeamDesk``).

Posts, records, index material and decisions live in the database (``schema.py``). Each
client keeps the shared in-memory ``Catalog`` (rows, search index, similarity: the same
query language, views and export as the local store) and every reviewer's decisions
(``DecisionBook``); ``refresh()`` brings both up to date, woken by LISTEN/NOTIFY and
polling every ``POLL_S`` in case a notification was missed.
"""

from __future__ import annotations

import gc
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import orjson
import psycopg

from ..analysis import worker_pool
from ..catalog import Catalog, IndexEntry
from ..errors import InvalidStatusError, StoreError, UnknownPostError
from ..importer import collect_names
from ..merge import Conflict, MergeReport, read_review_file, same_decision
from ..models import STATUSES, ImportReport, Review, Status, StoredPost
from ..paths import samples_dir
from ..protocol import DecisionRequest
from ..queries import CatalogStore
from ..reviews import reviewer_name
from ..views import View, clean_name, find, refuse_builtin
from . import importing, schema
from .connection import Link, NotSavedError
from .decisions import DecisionBook, DecisionRow, counts
from .team import ASYNC_COMMIT, PgTeamDesk

Warn = Callable[[str], None]

POLL_S = 1.0  # a refresh without a notification asks the server at most this often
ITER_BATCH = 2000  # posts a page of iter_posts (about 10 MB of records at most)
PHRASES_REMEMBERED = 8
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


def _json_text(value: Any) -> str:
    # PostgreSQL text holds no NUL: JSON escapes it (a raw NUL in the bytes never occurs)
    return orjson.dumps(value).decode("utf-8")


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


class PostgresStore(CatalogStore):
    """Open with ``PostgresStore.open(url)``; see ``storage.protocol.ReviewStore``."""

    def __init__(self, link: Link, *, warn: Warn | None = None, reviewer: str | None = None):
        self._link = link
        self.warnings: list[str] = []
        self._warn_cb = warn
        self.reviewer = reviewer or reviewer_name()
        self._loaded: Catalog = Catalog.empty()
        self._generation = 0
        self._book = DecisionBook()
        self._snapshot: str | None = None
        self._last_sync = 0.0
        self._phrase_hits: OrderedDict[tuple[int, str], frozenset[str]] = OrderedDict()
        self._team = PgTeamDesk(self)

    # ------------------------------------------------------------------ open/close

    @classmethod
    def open(
        cls, url: str, *, warn: Warn | None = None, reviewer: str | None = None
    ) -> PostgresStore:
        """Connect to ``url`` (libpq env vars and ~/.pgpass fill the gaps) and load."""
        link = Link(url)
        conn = link.connect()
        try:
            schema.check(conn, link.location)
        except BaseException:
            link.close()
            raise
        store = cls(link, warn=warn, reviewer=reviewer)
        try:
            store._sync(full=True)
        except BaseException:
            link.close()
            raise
        return store

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

    @property
    def link(self) -> Link:
        return self._link

    def close(self) -> None:
        self._link.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        if self._warn_cb is not None:
            self._warn_cb(message)

    def _run(self, op: Callable[[psycopg.Connection], Any], *, retry: bool = True) -> Any:
        try:
            return self._link.run(op, retry=retry)
        except psycopg.Error as exc:
            raise StoreError(f"{self.location}: {self._link.error_text(exc)}") from None

    # ------------------------------------------------------------------ sync

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
        if self._team.take_claims(claims):
            changed = True
        self._snapshot = snap
        self._last_sync = time.monotonic()
        return changed

    def _book_seq(self, row: DecisionRow) -> int | None:
        return self._book.seq_of(row.post_id, row.reviewer)

    def _read_catalog(self, conn: psycopg.Connection, generation: int) -> Catalog:
        if generation == 0:
            return Catalog.empty()
        # binary: the bytea as is, not hex text twice its size (10k posts: 0.40 -> 0.09 s)
        with conn.cursor(binary=True) as cur:
            row = cur.execute(
                "SELECT data FROM catalogs WHERE generation = %s", (generation,)
            ).fetchone()
        data = row[0] if row else b""
        try:
            return Catalog.from_bytes(data)
        except Exception:  # written by another copydesk version: rebuild from the posts
            return self._entries_catalog(conn)

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

    # ------------------------------------------------------------------ import

    def import_paths(
        self,
        paths: Iterable[str],
        progress: Callable[[int, int], None] | None = None,
        *,
        derive: bool = True,
    ) -> ImportReport:
        """Import seed files and directories with the shared analysis (same errors, hints
        and similarity as the local store; see importing.py), in one transaction.
        ``derive`` is the local store's two-phase switch: here both phases always run
        before the commit (a client must never load a catalog without similarity)."""
        files, errors = collect_names(paths)
        known_files = self._run(
            lambda conn: {
                sha: (post_id, path)
                for post_id, path, sha in conn.execute(
                    "SELECT id, path, file_sha256 FROM posts"
                ).fetchall()
            }
        )
        plan = importing.plan_import(files, known_files)
        report = ImportReport(errors=list(errors) + plan.errors, warnings=list(plan.warnings))
        report.unchanged.extend(plan.unchanged)
        report.moved.extend(plan.moved)
        collecting = gc.isenabled()
        gc.disable()  # nothing cyclic in the results (see storage/local/importing.py)
        try:
            with worker_pool(len(plan.to_parse)) as pool:
                analysed = importing.analyse(plan.to_parse, pool, progress)
                report.errors.extend(analysed.errors)
                report.warnings.extend(analysed.warnings)
                if analysed.posts or plan.moved:
                    self.write_posts(analysed.posts, report, pool, moved=plan.moved)
        finally:
            if collecting:
                gc.enable()
        return report

    def import_samples(self) -> ImportReport:
        return self.import_paths([str(samples_dir())])

    @property
    def derived_pending(self) -> int:
        """Posts still waiting for hints and similarity: none here (see import_paths)."""
        return 0

    def finish_derived(
        self, progress: Callable[[int, int], None] | None = None, *, wait: bool = True
    ) -> bool:
        """Nothing to finish: an import commits its hints and similarity with the posts."""
        return True

    def write_posts(
        self,
        posts: Mapping[str, importing.PostToStore],
        report: ImportReport,
        pool: Executor | None = None,
        *,
        moved: Mapping[str, str] | None = None,
    ) -> None:
        """Store analysed posts (new, or with other text; the same text again is
        unchanged) and the next catalog generation, in one transaction under the import
        lock; ``moved``: post id -> its new path (nothing else changes)."""
        moved = dict(moved or {})

        def write(conn: psycopg.Connection) -> tuple[int, Catalog] | None:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (schema.IMPORT_LOCK,))
                held = dict(conn.execute("SELECT id, sha256 FROM posts").fetchall())
                todo: dict[str, importing.PostToStore] = {}
                updated: list[str] = []
                for post_id, post in posts.items():
                    old_sha = held.get(post_id)
                    if old_sha is None:
                        report.imported.append(post_id)
                    elif old_sha == post.row["sha256"]:
                        report.unchanged.append(post_id)  # other bytes, same text
                        moved[post_id] = post.path
                        continue
                    else:
                        report.updated.append(post_id)
                        updated.append(post_id)
                    todo[post_id] = post
                if moved:
                    conn.execute(
                        "UPDATE posts SET path = m.path FROM unnest(%s::text[], %s::text[])"
                        " AS m(id, path) WHERE posts.id = m.id",
                        (list(moved), list(moved.values())),
                    )
                if not todo:
                    return None
                row = conn.execute("SELECT coalesce(max(generation), 0) FROM catalogs").fetchone()
                latest = int(row[0]) if row else 0
                base = self._loaded if latest == self._generation else None
                if base is None:
                    base = self._read_catalog(conn, latest)
                generation = latest + 1
                entries = [IndexEntry(p.id, 0, p.row, p.fields, p.features) for p in todo.values()]
                # the catalog is built here while a thread sends the posts (the server
                # does the COPY work on the other core; psycopg lets go of the GIL)
                sender = _Background(lambda: self._send_posts(conn, todo, updated, generation))
                try:
                    catalog = base.updated(entries, pool=pool)
                    data = catalog.to_bytes()
                finally:
                    sender.result()
                conn.execute(
                    "INSERT INTO catalogs (generation, posts, data) VALUES (%s, %s, %s)",
                    (generation, len(catalog), data),
                )
                conn.execute("DELETE FROM catalogs WHERE generation < %s", (generation,))
                conn.execute("SELECT pg_notify(%s, 'import')", (schema.CHANNEL,))
            return generation, catalog

        outcome = self._run(write, retry=False)
        if outcome is not None:
            self._install_catalog(*outcome)

    def _send_posts(
        self,
        conn: psycopg.Connection,
        todo: Mapping[str, importing.PostToStore],
        updated: list[str],
        generation: int,
    ) -> None:
        if updated:
            conn.execute("DELETE FROM posts WHERE id = ANY(%s)", (updated,))
        columns = (
            "id, queue_key, needs_review, sha256, path, file_sha256, generation, record, hints,"
            " body_text, index_entry"
        )
        with conn.cursor() as cur:
            with cur.copy(f"COPY posts ({columns}) FROM STDIN") as copy:
                for post in todo.values():
                    row = post.row
                    entry = {"row": row, "fields": post.fields, "features": post.features}
                    copy.write_row(
                        (
                            post.id,
                            row["reference"] or post.id,
                            bool(row["needs_human_review"]),
                            row["sha256"],
                            post.path,
                            post.file_sha256,
                            generation,
                            _json_text(post.record),
                            _json_text(post.hints),
                            body_text(post.record),
                            _json_text(entry),
                        )
                    )
        ids = list(todo)
        conn.execute(
            "DELETE FROM queue WHERE post_id = ANY(%s)"
            " AND post_id IN (SELECT id FROM posts WHERE NOT needs_review)",
            (ids,),
        )
        conn.execute(
            "INSERT INTO queue (post_id, queue_key)"
            " SELECT id, queue_key FROM posts WHERE generation = %s AND needs_review"
            " ON CONFLICT (post_id) DO UPDATE SET queue_key = excluded.queue_key",
            (generation,),
        )
        # posts decided before they were (re-)imported: count their decisions
        conn.execute(
            "UPDATE queue q SET reviews = c.n, done = c.n >= (SELECT value::integer FROM"
            " settings WHERE key = 'min_reviews') OR EXISTS (SELECT 1 FROM resolutions r"
            " WHERE r.post_id = q.post_id)"
            " FROM (SELECT post_id, count(*) AS n FROM decisions"
            "       WHERE status IS NOT NULL AND status <> 'pending' AND post_id = ANY(%s)"
            "       GROUP BY post_id) c"
            " WHERE q.post_id = c.post_id",
            (ids,),
        )

    # ------------------------------------------------------------------ reading
    # (lists, search, counts, similarity, views: storage.queries.CatalogStore)

    def _catalog(self) -> Catalog:
        return self._loaded

    def catalog_slot(self, post_id: str) -> int | None:
        """The post's place in the static queue order (None: not in the catalog)."""
        return self._loaded.rows.slot(post_id)

    def _decisions(self) -> Mapping[str, Review]:
        return self._book.effective

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

    # ------------------------------------------------------------------ decisions

    def review(self, post_id: str) -> Review | None:
        """This reviewer's decision on the post, else the post's effective one (what the
        flags pane shows; what an undo puts back)."""
        return self._book.of(post_id, self.reviewer) or self._book.effective.get(post_id)

    @property
    def book(self) -> DecisionBook:
        return self._book

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
        params = (
            reviewer,
            posts,
            [None if r.status is None else str(r.status) for r in requests],
            [r.note for r in requests],
            [shas[i] for i in order] if shas else [None] * len(requests),
            uuid.uuid4(),
            [times[i] for i in order] if times else None,
        )

        def decide(conn: psycopg.Connection) -> list[tuple]:
            return conn.execute(
                "SELECT * FROM copydesk_decide(%s, %s, %s, %s, %s, %s, %s::timestamptz[])",
                params,
            ).fetchall()

        try:
            rows = self._link.run(decide, retry=False)
        except (psycopg.Error, StoreError) as exc:
            rows = self._landed(params[5], reviewer, posts)
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
        self._notify("decision")
        return {row.post_id: row.review for row in decided}  # type: ignore[misc]

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

    # ------------------------------------------------------------------ views

    def _view_records(self) -> list[dict]:
        rows = self._run(lambda conn: conn.execute("SELECT name, query FROM views").fetchall())
        return [{"name": name, "query": query} for name, query in rows]

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

    # ------------------------------------------------------------------ merging

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

    # ------------------------------------------------------------------ settings

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


def init_database(url: str) -> tuple[int, int]:
    """Create or migrate the schema of the database at ``url``: (version before, after)."""
    link = Link(url)
    try:
        conn = link.connect()
        try:
            return schema.migrate(conn, link.location)
        except psycopg.Error as exc:
            raise StoreError(f"{link.location}: {link.error_text(exc)}") from None
    finally:
        link.close()
