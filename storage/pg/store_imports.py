"""The PostgreSQL store's import: analysis in the pool, then posts sent in bulk (COPY)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor

import psycopg

from ..analysis import worker_pool
from ..catalog import Catalog, IndexEntry
from ..importer import collect_names
from ..models import ImportReport
from ..nogc import no_gc_passes
from ..paths import samples_dir
from . import catalog_cache, importing, schema
from .store_base import PgStoreBase, _Background, _json_bytes, body_text

# the posts columns as _send_posts writes them (bytea: JSON text as UTF-8 bytes, see there)
_POST_TYPES = "text text bool text text text int8 bytea bytea text bytea".split()


class PgImports(PgStoreBase):
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
        # nothing cyclic in the results (see storage/local/importing.py)
        with no_gc_passes(), worker_pool(len(plan.to_parse)) as pool:
            analysed = importing.analyse(plan.to_parse, pool, progress)
            report.errors.extend(analysed.errors)
            report.warnings.extend(analysed.warnings)
            if analysed.posts or plan.moved:
                self.write_posts(analysed.posts, report, pool, moved=plan.moved)
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

        def write(conn: psycopg.Connection) -> tuple[int, Catalog, bytes, str | None] | None:
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
                digest = conn.execute(
                    "INSERT INTO catalogs (generation, posts, data) VALUES (%s, %s, %s)"
                    " RETURNING sha256",
                    (generation, len(catalog), data),
                ).fetchone()
                conn.execute("DELETE FROM catalogs WHERE generation < %s", (generation,))
                conn.execute("SELECT pg_notify(%s, 'import')", (schema.CHANNEL,))
            return generation, catalog, data, digest[0] if digest else None

        outcome = self._run(write, retry=False)
        if outcome is not None:
            generation, catalog, data, digest = outcome
            self._install_catalog(generation, catalog)
            catalog_cache.store(digest, data)  # committed: the next open here reads it

    def rewrite_catalog(self) -> bool:
        """Write the current catalog again, in this copydesk's format, when the server's
        could not be read (written by another version: every open built it from the
        posts instead). True when written. Under the import lock, as an import."""
        generation = self._unreadable_catalog
        if generation is None or generation != self._generation:
            return False
        data = self._loaded.to_bytes()

        def write(conn: psycopg.Connection) -> str | None:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (schema.IMPORT_LOCK,))
                row = conn.execute(
                    "UPDATE catalogs SET data = %s WHERE generation = %s RETURNING sha256",
                    (data, generation),
                ).fetchone()
            return row[0] if row else None  # None: an import made a newer one meanwhile

        digest = self._run(write, retry=False)
        if digest is None:
            return False
        self._unreadable_catalog = None
        catalog_cache.store(digest, data)
        return True

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
        # binary: no escaping of ~9 KB of JSON a post on either side (3,000 posts: client
        # CPU 0.26 -> 0.17 s, held with the GIL while the catalog is built beside it). The
        # JSON goes as it leaves orjson, as bytes: in binary COPY a text column takes the
        # UTF-8 bytes themselves (the server checks them), which is bytea's binary form.
        with conn.cursor() as cur:
            with cur.copy(f"COPY posts ({columns}) FROM STDIN (FORMAT binary)") as copy:
                copy.set_types(_POST_TYPES)
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
                            _json_bytes(post.record),
                            _json_bytes(post.hints),
                            body_text(post.record),
                            _json_bytes(entry),
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
