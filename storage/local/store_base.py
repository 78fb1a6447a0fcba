"""The state every part of the local store shares, and its locks.

- ``FILE.lock`` for short writes: a decision, a view, a shelf commit. Taken, then the
  decision log re-read under it, so two processes never lose each other's writes.
- ``FILE.import.lock`` for a whole import (minutes at scale), so that decisions never
  wait for an import.

``LocalStore`` (store.py) is this base with its jobs mixed in: imports (store_imports.py),
decisions, views and merges (store_decisions.py), and the posts (store.py).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import StoreError, UnknownPostError
from ..models import Review
from ..queries import CatalogStore
from . import index_files
from .decisions import DecisionLog
from .layout import (
    Layout,
    Manifest,
)
from .shelf import PostShelf

if TYPE_CHECKING:  # the catalog and the import load on first use: a one-post command
    # (`copydesk show`, `review`) needs neither, and they cost ~0.1 s of imports
    from concurrent.futures import Future

    import filelock

    from ..catalog import Catalog
    from ..search_index import SearchIndex

LOCK_TIMEOUT_S = 30
# A catalog rebuilt from this many posts on is said (~1 minute of CPU a 100,000 posts).
REBUILD_SAID_FROM = 10_000

Warn = Callable[[str], None]
Progress = Callable[[int, int], None]


class LocalStoreBase(CatalogStore):
    """The files, the locks and the loaded catalog of one local store."""

    def __init__(
        self, layout: Layout, manifest: Manifest, *, writable: bool, warn: Warn | None
    ) -> None:
        self.layout = layout
        self.path = layout.path
        self.data_dir = layout.data_dir
        self.warnings: list[str] = []
        self._warn_cb = warn
        self._writable = writable
        self.store_id = manifest.store_id
        self._shelf = PostShelf(layout, manifest.store_id, writable=writable, warn=self._warn)
        self._log = DecisionLog(
            layout.data_dir, manifest.store_id, writable=writable, warn=self._warn
        )
        self._shelf_lost = False
        self._loaded: Catalog | None = None
        self._loaded_generation = -1
        # (generation, phrase) -> segment number -> ids whose body holds the phrase
        self._phrase_hits: OrderedDict[tuple[int, str], dict[int, frozenset[str]]] = OrderedDict()

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        if self._warn_cb is not None:
            self._warn_cb(message)

    # ------------------------------------------------------------------ locks

    # the locks are made on first use: `show` takes none, and filelock's import costs ~20 ms

    @functools.cached_property
    def _lock(self) -> filelock.FileLock:
        import filelock

        return filelock.FileLock(str(self.layout.lock_path))

    @functools.cached_property
    def _import_lock(self) -> filelock.FileLock:
        import filelock

        return filelock.FileLock(str(self.layout.path) + ".import.lock")

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        """Hold ``FILE.lock`` with the decision log re-read under it."""
        if not self._writable:
            raise StoreError(f"{self.path}: opened read-only")
        _acquire(self._lock, self.path, LOCK_TIMEOUT_S, "locked by another copydesk process")
        try:
            self._log.refresh()
            self._log.check_writable()
            yield
        finally:
            self._lock.release()

    @contextmanager
    def _importing(self, timeout: float = -1) -> Iterator[None]:
        if not self._writable:
            raise StoreError(f"{self.path}: opened read-only")
        _acquire(self._import_lock, self.path, timeout, "another copydesk import is running")
        try:
            yield
        finally:
            self._import_lock.release()

    # ------------------------------------------------------------------ catalog

    def _catalog(
        self,
        read: Future[index_files.CatalogFile | None] | None = None,
        progress: Progress | None = None,
    ) -> Catalog:
        """The catalog of the committed shelf, loaded (or rebuilt) on first use; ``read``:
        its file, being read (``_catalog_read_ahead``); ``progress``: told the posts a
        rebuild has gone through."""
        generation = self._shelf.state.generation
        if self._loaded is not None and self._loaded_generation == generation:
            return self._loaded
        found = self._read_catalog_file(generation) if read is None else read.result()
        if found is not None and self._names_the_shelfs_posts(found):
            catalog = found.catalog
        else:
            catalog = self._rebuild_catalog(progress)
            if self._writable and generation:
                index_files.write_catalog(self.layout, generation, catalog)
                index_files.write_near_dups(self.layout, generation, catalog)
        self._loaded, self._loaded_generation = catalog, generation
        return catalog

    def _read_catalog_file(self, generation: int) -> index_files.CatalogFile | None:
        return index_files.read_catalog(
            self.layout,
            generation,
            self._warn,
            lambda why, path: self._search_from_segments(generation, why, path),
        )

    def _catalog_read_ahead(self) -> Callable[[], Catalog]:
        """``_catalog``, with its file read meanwhile in a thread of its own. An import
        reads it while its workers parse, instead of after: the importing process only
        waits for them then (~0.25 s of 1,000 new posts into 100,000). Only the file is
        read there; a catalog to rebuild is rebuilt when asked for, in the caller's thread."""
        generation = self._shelf.state.generation
        if self._loaded is not None and self._loaded_generation == generation:
            return self._catalog
        from concurrent.futures import ThreadPoolExecutor

        thread = ThreadPoolExecutor(1, thread_name_prefix="catalog-read")
        read = thread.submit(self._read_catalog_file, generation)
        thread.shutdown(wait=False)  # the thread ends with the read

        def catalog() -> Catalog:
            if self._shelf.state.generation != generation:  # the shelf moved on: read again
                return self._catalog()
            return self._catalog(read)

        return catalog

    def _names_the_shelfs_posts(self, found: index_files.CatalogFile) -> bool:
        """Whether the catalog read is of exactly the shelf's posts: their digests when
        both files record one, else every id compared."""
        shelf = self._shelf.posts_digest
        if shelf is not None and found.posts_digest is not None:
            return shelf == found.posts_digest
        return set(found.catalog.rows.ids) == self._shelf.state.locations.keys()

    def _search_from_segments(self, generation: int, why: str, path: Path) -> SearchIndex:
        """The search index again, when the one read (``path``) turned out damaged or
        missing on first use. The file goes, and so does every catalog of this store that
        names it (``generation``'s, and the one committed since if it shares the file),
        so that the next open writes sound ones."""
        self._warn(f"{path}: damaged ({why}); rebuilding it from the post segments")
        if self._writable:
            for named in {generation, self._shelf.state.generation}:
                if index_files.search_file_of(self.layout, named) == path:
                    index_files.index_path(self.layout, named).unlink(missing_ok=True)
            path.unlink(missing_ok=True)
        return self._rebuild_catalog().search_index

    def _rebuild_catalog(self, progress: Progress | None = None) -> Catalog:
        """The catalog from the post segments (the store of record), segment by segment
        in worker processes (100,000 posts: ~a minute of CPU)."""
        from ..analysis import Interner, RebuildTask, catalog_entries, run_tasks, worker_pool
        from ..catalog import Catalog, IndexEntry
        from ..nogc import no_gc_passes

        by_segment = self._shelf.live_by_segment()
        count = sum(map(len, by_segment.values()))
        if count >= REBUILD_SAID_FROM:
            kept = ""
            if not self._writable:  # it writes nothing: said, so nobody waits for it twice
                kept = (
                    "; a command that only reads does not save it: opening the app, or the"
                    " next `copydesk import`, does"
                )
            self._warn(
                f"{self.path}: building the catalog of {count:,} posts from its segments{kept}"
            )
        tasks = [
            RebuildTask(
                str(self.layout.segment_path(number)), str(self.layout.hints_path(number)), posts
            )
            for number, posts in sorted(by_segment.items())
        ]
        entries: list[IndexEntry] = []
        # one object per distinct value, and the fields packed, as an import keeps them:
        # unpickled as they came, every post's fields were a dict of new objects (the
        # rebuild of 1,000,000 posts peaked at 10.7 GB)
        intern = Interner()
        # many small objects, no cycle: GC passes are pure cost (see import_paths)
        done = 0
        with worker_pool(count) as pool, no_gc_passes():
            for task, (found, unreadable) in zip(
                tasks, run_tasks(pool, catalog_entries, tasks), strict=True
            ):
                entries.extend(
                    IndexEntry(post_id, doc_id, intern.row(row), intern.fields(fields), feats)
                    for post_id, doc_id, row, fields, feats in found
                )
                for post_id in unreadable:
                    self._warn(
                        f"{self.path}: post {post_id} is unreadable (damaged segment); import "
                        f"{self._shelf.state.locations[post_id].path or 'its seed file'} again"
                    )
                done += len(task.posts)
                if progress:
                    progress(done, count)
            del intern
            return Catalog.build(entries, pool=pool)

    def _decisions(self) -> Mapping[str, Review]:
        return self._log.state.decisions

    def _view_records(self) -> list[dict[str, Any]]:
        return self._log.state.views

    def _known(self, post_id: str) -> None:
        if post_id not in self._shelf.state.locations:
            raise UnknownPostError(post_id)

    def _content_sha(self, post_id: str) -> str:
        if self._loaded is not None and post_id in self._loaded:
            return self._loaded.sha256(post_id)
        return str(self._shelf.record(post_id).get("source", {}).get("sha256", ""))


def _acquire(lock: filelock.FileLock, path: Path, timeout: float, busy: str) -> None:
    import filelock

    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout as exc:
        raise StoreError(f"{path}: {busy}") from exc
    except OSError as exc:  # e.g. a read-only directory
        raise StoreError(
            f"{lock.lock_file}: cannot create the lock file ({exc.strerror or exc})"
        ) from exc
