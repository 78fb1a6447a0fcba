"""The copydesk store: TinyDB files on disk, a compact index in memory.

Layout (see ARCHITECTURE.md): ``FILE`` is the manifest, ``FILE.d/posts-XX.json`` hold the
full post records (TinyDB, the store of record), ``FILE.d/reviews.json`` the decisions, and
``FILE.d/index.pickle`` a derived cache of what the list, search and similarity need,
rebuilt from the shards whenever it is missing, stale or damaged.

Writers (import, decisions) take ``FILE.lock`` and re-read under it, so two processes never
lose each other's writes. Readers hold no lock; ``refresh()`` notices other writers.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import os
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from itertools import chain, compress, islice
from pathlib import Path
from typing import Any

import filelock
import orjson
from tinydb import TinyDB

from . import importer
from .errors import InvalidStatusError, StoreCorruptError, StoreError, UnknownPostError
from .hints import near_duplicate_hints
from .jsonstore import AtomicJSONStorage, atomic_write_bytes, remove_stale_temp_files
from .merge import Conflict, MergeReport
from .models import (
    PENDING,
    STATUSES,
    ImportReport,
    PostSummary,
    Review,
    SimilarPost,
    Status,
    StoredPost,
)
from .paths import default_db_path, samples_dir
from .postrows import PostRows
from .protocol import DecisionRequest, QueueProgress
from .query import SearchIndex, parse_query
from .reviews import ReviewBook, now_iso, reviewer_name
from .similarity import NEAR_DUPLICATE_THRESHOLD, SimilarityIndex
from .views import View, all_views, clean_name, find, refuse_builtin, with_view, without_view

FORMAT = 1
SHARD_COUNT = 64
LOCK_TIMEOUT_S = 30
INDEX_FORMAT = 2  # 2: columnar rows, the built SearchIndex, similarity state (+ code hash)
OPEN_SHARDS = 2  # shards kept parsed in memory; each holds ~1/64 of the bodies
# An import of at least this many posts builds the similarity index in a pool worker.
PARALLEL_SIMILARITY = 2000
# The query terms of the front of the queue: pending posts that need review.
QUEUE_FRONT_TERMS = "flag:needs_human_review status:pending"
# Quoted phrases whose shard scans are remembered (see _phrase_in_body).
PHRASES_REMEMBERED = 8

Warn = Callable[[str], None]


class Store:
    """Open with ``Store.open(path)``; see ARCHITECTURE.md for the API."""

    def __init__(self, path: Path, *, warn: Warn | None = None) -> None:
        self.path = Path(path)
        self.data_dir = self.path.with_name(self.path.name + ".d")
        self.warnings: list[str] = []
        self._warn_cb = warn
        self._lock = filelock.FileLock(str(self.path.with_name(self.path.name + ".lock")))
        self._manifest_db = TinyDB(
            self.path,
            storage=AtomicJSONStorage,
            warn=self._warn,
            advice=f"Move it aside: copydesk rebuilds it from {self.data_dir.name}.",
        )
        self._manifest_storage: AtomicJSONStorage = self._manifest_db.storage  # type: ignore
        self._reviews = ReviewBook(self.data_dir / "reviews.json", warn=self._warn)
        self._shards: OrderedDict[int, TinyDB] = OrderedDict()
        self._shard_recovered = False  # a shard came back from its .bak: index is suspect
        # (generation, phrase) -> shard -> ids whose body holds it; see _phrase_in_body
        self._phrase_hits: OrderedDict[tuple[int, str], dict[int, frozenset[str]]] = OrderedDict()
        # in-memory index, loaded from the cache or rebuilt from the shards
        self._generation = -1
        self._rows = PostRows()  # id -> row (title, reference, sha256, doc id, ...)
        self._order: list[str] = []  # ids sorted by reference: the static part of queue order
        self._needs_review: set[str] = set()
        self._review_first: list[str] = []  # the ids of _order that need review
        self._near_dups: set[str] = set()
        self._search: SearchIndex | None = None
        self._similarity = SimilarityIndex()

    # ------------------------------------------------------------------ open/close

    @classmethod
    def open(cls, path: str | os.PathLike | None = None, *, warn: Warn | None = None) -> Store:
        """Open (creating when needed) the store at ``path`` (default: see paths.py)."""
        path = Path(path) if path is not None else default_db_path()
        if path.exists() and path.is_dir():
            raise StoreError(f"{path}: is a directory; --db takes a file name")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{path.parent}: cannot create the store directory ({exc})") from exc
        store = cls(path, warn=warn)
        store._load()
        return store

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def read_only(self) -> bool:
        return False

    @property
    def team(self) -> None:
        return None  # one reviewer: no claims

    def close(self) -> None:
        for db in self._shards.values():
            db.close()
        self._shards.clear()
        self._reviews.close()
        self._manifest_db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        if self._warn_cb is not None:
            self._warn_cb(message)

    # ------------------------------------------------------------------ manifest & locking

    def _manifest(self) -> dict[str, Any]:
        table = self._manifest_db.table("store")
        doc = table.get(doc_id=1)
        if doc is None:
            return {"format": FORMAT, "generation": 0, "next_doc_id": 1, "clean": True}
        if doc.get("format") != FORMAT:
            raise StoreCorruptError(
                self.path, f"store format {doc.get('format')!r}; this copydesk reads {FORMAT}"
            )
        return dict(doc)

    def _write_manifest(self, manifest: dict[str, Any]) -> None:
        from tinydb.table import Document

        self._manifest_db.table("store").upsert(Document(manifest, doc_id=1))

    @contextmanager
    def _write_lock(self):
        try:
            self._lock.acquire(timeout=LOCK_TIMEOUT_S)
        except filelock.Timeout as exc:
            raise StoreError(
                f"{self.path}: locked by another copydesk process for over {LOCK_TIMEOUT_S}s"
            ) from exc
        except OSError as exc:  # e.g. a read-only directory
            raise StoreError(
                f"{self._lock.lock_file}: cannot create the lock file ({exc.strerror or exc})"
            ) from exc
        try:
            # Re-read under the lock: another writer's file can carry the (mtime, size,
            # inode) we cached (ext4 reuses inodes; mtimes move in coarse clock ticks).
            self._manifest_storage.close()
            self._reviews.reload()  # the recent decisions re-read, the base checked
            for db in self._shards.values():
                db.storage.close()
            yield
        finally:
            self._lock.release()

    # ------------------------------------------------------------------ index cache

    @property
    def _index_path(self) -> Path:
        return self.data_dir / "index.pickle"

    def _shard_path(self, shard: int) -> Path:
        return self.data_dir / f"posts-{shard:02d}.json"

    def _load(self) -> None:
        manifest = self._manifest()
        if manifest["generation"] == self._generation:
            return
        cache = self._read_index_cache()
        if not self._cache_is_current(cache, manifest):
            with self._write_lock():
                manifest = self._manifest()
                cache = self._read_index_cache(warn=True)
                if not self._cache_is_current(cache, manifest):
                    cache = self._rebuild_index_cache(manifest)
        self._install_index(cache)

    def _cache_is_current(self, cache: dict | None, manifest: dict) -> bool:
        """The cache is of the manifest's generation, which is clean (no import died half-way),
        and no shard it points into has gone (moved aside after damage, say)."""
        if cache is None or cache.get("generation") != manifest["generation"]:
            return False
        if not manifest.get("clean", True):
            return False
        shards = {doc_id % SHARD_COUNT for doc_id in cache["rows"].doc_ids}
        return all(self._shard_exists(shard) for shard in shards)

    def _shard_exists(self, shard: int) -> bool:
        path = self._shard_path(shard)
        return path.exists() or path.with_name(path.name + ".bak").exists()

    def _read_index_cache(self, *, warn: bool = False) -> dict | None:
        try:
            with open(self._index_path, "rb") as fh:
                # no cyclic garbage is made while unpickling: collecting during the load of
                # a million objects only costs time (~30% at 100,000 posts)
                gc_was_enabled = gc.isenabled()
                gc.disable()
                try:
                    cache = pickle.load(fh)
                finally:
                    if gc_was_enabled:
                        gc.enable()
        except FileNotFoundError:
            return None
        except Exception as exc:  # a damaged cache is only a cache: rebuild it from the shards
            if warn:
                self._warn(
                    f"{self._index_path}: damaged ({type(exc).__name__}: {exc}); "
                    "rebuilding it from the post shards"
                )
            return None
        if (
            not isinstance(cache, dict)
            or cache.get("format") != INDEX_FORMAT
            or cache.get("code") != _index_code()
            or not isinstance(cache.get("rows"), PostRows)
            or not isinstance(cache.get("search"), SearchIndex)
        ):
            return None
        return cache

    def _write_index_cache(self, cache: dict) -> None:
        cache["code"] = _index_code()
        data = pickle.dumps(cache, protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write_bytes(self._index_path, data, keep_backup=False)

    def _rebuild_index_cache(self, manifest: dict) -> dict:
        """Recompute the derived index from the shards (the store of record)."""
        from .query import index_fields
        from .similarity import features

        # after a crash: the dead writer's temp files (under the lock, so none is in use)
        remove_stale_temp_files(self.data_dir)
        remove_stale_temp_files(self.path.parent, f".{self.path.name}.")
        rows: dict[str, tuple[dict, int]] = {}
        fields: dict[str, dict] = {}
        items = []
        for shard in range(SHARD_COUNT):
            if not self._shard_exists(shard):
                continue
            db = self._open_shard(shard)
            for doc in db.table("posts").all():
                data = {k: doc.get(k) for k in ("title", "body", "meta", "listed_similar")}
                data["warnings"] = doc.get("warnings", [])
                post_id = doc["id"]
                meta = doc.get("meta") or {}
                flags = meta.get("flags") if isinstance(meta.get("flags"), dict) else {}
                row = {
                    "id": post_id,
                    "reference": doc.get("reference", ""),
                    "title": doc.get("title", ""),
                    "topic": str(meta.get("topic", "")),
                    "needs_human_review": flags.get("needs_human_review") == 1,
                    "hint_codes": [h["code"] for h in doc.get("hints", [])],
                    "sha256": doc["source"]["sha256"],
                    "path": doc["source"]["path"],
                }
                rows[post_id] = (row, doc.doc_id)
                fields[post_id] = index_fields(data)
                items.append((post_id, features(data)))
        post_rows = PostRows(rows.values())
        search = SearchIndex(
            [(pid, fields[pid], post_rows.queue_key(s)) for s, pid in enumerate(post_rows.ids)]
        )
        del fields
        similarity = SimilarityIndex()
        similarity.add_many(items)
        self._shard_recovered = False  # what the shards hold now is what the index says
        # a new generation, so that other handles pick the rebuilt index up on refresh()
        generation = manifest["generation"] + 1
        cache = {
            "format": INDEX_FORMAT,
            "generation": generation,
            "rows": post_rows,
            "search": search,
            "similarity": similarity.to_state(),
        }
        self._write_index_cache(cache)
        # a lost manifest restarts at doc id 1: never hand out an id a shard already holds
        next_doc_id = max(manifest.get("next_doc_id", 1), max(post_rows.doc_ids, default=0) + 1)
        self._write_manifest(
            {**manifest, "generation": generation, "next_doc_id": next_doc_id, "clean": True}
        )
        return cache

    def _install_index(self, cache: dict) -> None:
        rows: PostRows = cache["rows"]
        self._generation = cache["generation"]
        self._rows = rows
        self._order = rows.ids  # slots are in queue order already
        self._review_first = list(compress(rows.ids, rows.needs_review))
        self._needs_review = set(self._review_first)
        self._similarity = SimilarityIndex.from_state(cache["similarity"])
        self._near_dups = {i for cluster in self._similarity.clusters() for i in cluster}
        self._search = cache["search"]
        for db in self._shards.values():
            db.close()
        self._shards.clear()

    # ------------------------------------------------------------------ shards

    def _open_shard(self, shard: int) -> TinyDB:
        db = self._shards.get(shard)
        if db is not None:
            self._shards.move_to_end(shard)
            return db
        db = TinyDB(
            self._shard_path(shard),
            storage=AtomicJSONStorage,
            warn=self._shard_warn,
            advice="Move it aside, then `copydesk import` your seed files again to re-read its "
            "posts (decisions are kept).",
        )
        self._shards[shard] = db
        while len(self._shards) > OPEN_SHARDS:
            _, old = self._shards.popitem(last=False)
            old.close()
        return db

    def _shard_warn(self, message: str) -> None:
        self._shard_recovered = True
        self._warn(message)

    def _read_record(self, post_id: str) -> dict:
        doc_id = self._rows.doc_id(post_id)
        doc = self._open_shard(doc_id % SHARD_COUNT).table("posts").get(doc_id=doc_id)
        if doc is None or self._shard_recovered:
            # The shard came back from an older .bak or lost the post: re-index from the
            # shards, so that list, get and the next import (which re-adds what is gone) agree.
            with self._write_lock():
                self._install_index(self._rebuild_index_cache(self._manifest()))
            doc = None
            if post_id in self._rows:
                new_id = self._rows.doc_id(post_id)
                doc = self._open_shard(new_id % SHARD_COUNT).table("posts").get(doc_id=new_id)
            if doc is None:
                raise StoreCorruptError(
                    self._shard_path(doc_id % SHARD_COUNT),
                    f"post {post_id} was lost with a damaged shard file; import its seed "
                    "file again (`copydesk import`)",
                )
        return doc

    # ------------------------------------------------------------------ import

    def import_paths(
        self,
        paths: Iterable[str | os.PathLike],
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        """Import seed files and directories (``*.txt``, recursive). Idempotent."""
        files, errors = importer.collect_names(paths)
        report = ImportReport(errors=list(errors))
        analysed: list[importer.AnalysedPost] = []
        # The results pile up (~10 objects a post) and nothing in them is cyclic: a cyclic
        # GC pass over all of them, every few thousand posts, is pure cost (~3 s at 100k).
        collecting = gc.isenabled()
        gc.disable()
        try:
            with importer.worker_pool(len(files)) as pool:
                for result in importer.analyse_files(files, progress, pool=pool):
                    if isinstance(result, importer.AnalysedPost):
                        analysed.append(result)
                        report.warnings.extend(f"{result.path}: {w}" for w in result.warnings)
                    else:
                        report.errors.append(result)
                if not analysed:
                    return report
                with self._write_lock():
                    self._load()  # another process may have imported meanwhile
                    self._apply_import(analysed, report, pool)
        finally:
            if collecting:
                gc.enable()
        return report

    def import_samples(self) -> ImportReport:
        """Import the five sample seeds shipped with copydesk."""
        return self.import_paths([samples_dir()])

    def _apply_import(
        self,
        analysed: list[importer.AnalysedPost],
        report: ImportReport,
        pool: Executor | None = None,
    ) -> None:
        manifest = self._manifest()
        changes: dict[str, importer.AnalysedPost] = {}
        for post in analysed:  # the last file with an id wins, like a re-import would
            if post.id in changes:
                report.warnings.append(
                    f"{post.path}: same id {post.id} as {changes[post.id].path}; this one kept"
                )
            changes[post.id] = post
        for post_id, post in list(changes.items()):
            row = self._rows.get(post_id)
            if row is None:
                report.imported.append(post_id)
            elif row["sha256"] == post.sha256 and row["path"] == post.path:
                report.unchanged.append(post_id)
                del changes[post_id]
            else:
                report.updated.append(post_id)
        if not changes:
            return
        old_rows = self._rows
        next_doc_id = max(manifest["next_doc_id"], max(old_rows.doc_ids, default=0) + 1)
        doc_ids: dict[str, int] = {}
        for post_id in changes:
            slot = old_rows.slot(post_id)
            if slot is None:
                doc_ids[post_id] = next_doc_id
                next_doc_id += 1
            else:
                doc_ids[post_id] = old_rows.doc_ids[slot]
        generation = manifest["generation"] + 1
        # 1. mark the index dirty: a crash from here on rebuilds it from the shards
        dirty = {**manifest, "generation": generation, "next_doc_id": next_doc_id, "clean": False}
        self._write_manifest(dirty)
        # 2. write the touched shards, each atomically, in a thread (file writes and fsync
        # let go of the GIL) while this thread and a pool worker build the derived index
        by_shard: dict[int, list[tuple[int, bytes]]] = {}
        for post_id, post in changes.items():
            doc_id = doc_ids[post_id]
            by_shard.setdefault(doc_id % SHARD_COUNT, []).append((doc_id, post.record_json))
        similarity_state = self._start_similarity(changes, pool)
        shard_writer = _Background(
            lambda: [self._write_shard(shard, docs) for shard, docs in by_shard.items()]
        )
        try:
            # 3. the derived index: rows, search index, similarity (in the pool when large)
            rows = PostRows(
                chain(
                    (
                        item
                        for item in old_rows.items_with_doc_ids()
                        if item[0]["id"] not in changes
                    ),
                    ((post.row, doc_ids[post_id]) for post_id, post in changes.items()),
                )
            )
            search = self._next_search_index(rows, changes)
        except BaseException:
            shard_writer.result(reraise=False)
            raise
        shard_writer.result()
        if self._shard_recovered:  # a shard came back from an older .bak while merging
            self._install_index(self._rebuild_index_cache(dirty))
            return
        cache = {
            "format": INDEX_FORMAT,
            "generation": generation,
            "rows": rows,
            "search": search,
            "similarity": similarity_state(),
        }
        self._write_index_cache(cache)
        # 4. commit point
        self._write_manifest(
            {**manifest, "generation": generation, "next_doc_id": next_doc_id, "clean": True}
        )
        self._install_index(cache)

    def _start_similarity(
        self, changes: dict[str, importer.AnalysedPost], pool: Executor | None
    ) -> Callable[[], dict]:
        """Start adding the changed posts to (a copy of) the similarity index; returns what
        waits for the new state. A large import builds it in a pool worker, in parallel with
        the search index built here."""
        state = self._similarity.to_state() if len(self._similarity) else None
        items = [(post_id, post.features) for post_id, post in changes.items()]
        if pool is not None and len(items) >= PARALLEL_SIMILARITY:
            future = pool.submit(importer.similarity_state, state, items)
            return future.result
        return lambda: importer.similarity_state(state, items)

    def _next_search_index(
        self, rows: PostRows, changes: dict[str, importer.AnalysedPost]
    ) -> SearchIndex:
        """The search index over ``rows``: built afresh when the store was empty, else a
        copy of the current one with the changed posts added or replaced."""
        if self._search is None or not len(self._rows):
            return SearchIndex(
                [(pid, changes[pid].fields, rows.queue_key(s)) for s, pid in enumerate(rows.ids)]
            )
        search = pickle.loads(pickle.dumps(self._search, protocol=pickle.HIGHEST_PROTOCOL))
        search.add_or_update_many(
            (post_id, post.fields, rows.queue_key(rows.slot(post_id)))  # type: ignore[arg-type]
            for post_id, post in changes.items()
        )
        return search

    def _write_shard(self, shard: int, docs: list[tuple[int, bytes]]) -> None:
        """Merge serialised records into one shard file with a single atomic write."""
        db = self._open_shard(shard)
        current = db.storage.read() or {}
        table = dict(current.get("posts", {}))
        for doc_id, record_json in docs:
            table[str(doc_id)] = orjson.Fragment(record_json)
        payload = orjson.dumps({**current, "posts": table})
        atomic_write_bytes(self._shard_path(shard), payload)
        db.storage.close()  # drop the parsed cache; the next read parses the new file
        self._shards.pop(shard, None)

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, post_id: object) -> bool:
        return post_id in self._rows

    def ids(self) -> list[str]:
        return list(self._order)

    def get(self, post_id: str) -> StoredPost:
        if post_id not in self._rows:
            raise UnknownPostError(post_id)
        doc = self._read_record(post_id)
        review = self._reviews.get(post_id)
        hints = list(doc.get("hints", []))
        if post_id in self._near_dups:
            hints.extend(near_duplicate_hints(self._similar_above_threshold(post_id)))
        return StoredPost(
            id=post_id,
            reference=doc.get("reference", ""),
            title=doc.get("title", ""),
            body=doc.get("body", []),
            meta=doc.get("meta", {}),
            listed_similar=doc.get("listed_similar", []),
            warnings=doc.get("warnings", []),
            source=doc.get("source", {}),
            review=review,
            hints=hints,
        )

    def body_contains(self, post_id: str, phrase: str) -> bool:
        """Case-insensitive substring test over a post's body text (loads its shard)."""
        return _body_holds(self._read_record(post_id).get("body", []), phrase.lower())

    def _phrase_in_body(self) -> Callable[[str, str], bool]:
        """``body_contains`` for searches. Posts sit in shards by doc id, not in result
        order, so reading them one by one parses a different shard almost every time:
        instead the shard of an asked post is scanned for the phrase once, all its posts at
        a time, and what it holds is remembered for the next keystrokes."""

        def contains(post_id: str, phrase: str) -> bool:
            shard = self._rows.doc_id(post_id) % SHARD_COUNT
            return post_id in self._shard_phrase_hits(shard, phrase)

        return contains

    def _shard_phrase_hits(self, shard: int, phrase: str) -> frozenset[str]:
        key = (self._generation, phrase)
        per_shard = self._phrase_hits.get(key)
        if per_shard is None:
            per_shard = self._phrase_hits[key] = {}
            while len(self._phrase_hits) > PHRASES_REMEMBERED:
                self._phrase_hits.popitem(last=False)
        else:
            self._phrase_hits.move_to_end(key)
        hits = per_shard.get(shard)
        if hits is None:
            hits = per_shard[shard] = self._scan_shard(shard, phrase)
        return hits

    def _scan_shard(self, shard: int, phrase: str) -> frozenset[str]:
        """Ids of the posts of one shard whose body holds ``phrase`` (lower case)."""
        if _raw_search_is_exact(phrase):
            # A phrase missing from the file's bytes is in none of its posts: no parse.
            try:
                raw = self._shard_path(shard).read_bytes()
            except OSError:
                raw = b""
            if _whole_json_object(raw) and not _folds_to_ascii(raw):
                if phrase.encode("ascii") not in raw.lower():
                    return frozenset()
        if not self._shard_exists(shard):
            return frozenset()
        data = self._open_shard(shard).storage.read() or {}
        posts = data.get("posts")
        return frozenset(
            doc.get("id")
            for doc in (posts.values() if isinstance(posts, dict) else ())
            if isinstance(doc, dict) and _body_holds(doc.get("body"), phrase)
        )

    def summary(self, post_id: str) -> PostSummary:
        return self._summary(post_id, self._reviews.all())

    def _summary(self, post_id: str, reviews: Mapping[str, Review]) -> PostSummary:
        """The list row of one post; ``reviews`` is one snapshot of the decisions, taken
        once per search rather than once per post (each look checks the file on disk)."""
        rows = self._rows
        slot = rows.slot(post_id)
        if slot is None:
            raise UnknownPostError(post_id)
        review = reviews.get(post_id)
        hint_codes = rows.hint_codes[slot]
        if post_id in self._near_dups:
            hint_codes += ("near_duplicate",)
        return PostSummary(
            id=post_id,
            reference=rows.references[slot],
            title=rows.titles[slot],
            topic=rows.topics[slot],
            needs_human_review=bool(rows.needs_review[slot]),
            status=review.status if review else PENDING,
            hint_codes=hint_codes,
            changed=bool(review and review.made_on_other_text(rows.sha256(slot))),
        )

    # ------------------------------------------------------------------ search

    def status_of(self, post_id: str) -> Status:
        review = self._reviews.get(post_id)
        return Status(review.status) if review else Status.PENDING

    def _queue_order(
        self, ids: Iterable[str], reviews: Mapping[str, Review], limit: int | None = None
    ) -> list[str]:
        """Stable partition: pending posts needing review first, the rest after."""
        ids = list(ids)
        needs = self._needs_review
        front = [
            i
            for i in ids
            if i in needs and ((review := reviews.get(i)) is None or review.status == PENDING)
        ]
        if not front:
            return ids if limit is None else ids[:limit]
        if limit is not None and len(front) >= limit:
            return front[:limit]
        front_set = set(front)
        rest = (i for i in ids if i not in front_set)
        return front + list(islice(rest, None if limit is None else limit - len(front)))

    def _all_in_queue_order(self, reviews: Mapping[str, Review], limit: int | None) -> list[str]:
        """Every post in queue order, stopping at ``limit`` (the empty query)."""
        front: list[str] = []
        for post_id in self._review_first:
            review = reviews.get(post_id)
            if review is None or review.status == PENDING:
                front.append(post_id)
                if limit is not None and len(front) >= limit:
                    return front
        front_set = set(front)
        rest = (i for i in self._order if i not in front_set)
        return front + list(islice(rest, None if limit is None else limit - len(front)))

    def _search_callbacks(self, reviews: Mapping[str, Review]) -> dict[str, Callable]:
        def status_of(post_id: str) -> str:
            review = reviews.get(post_id)
            return review.status if review else PENDING

        return {
            "status_of": status_of,
            "hints_of": lambda pid: self._summary(pid, reviews).hint_codes,
            "changed_of": lambda pid: self._summary(pid, reviews).changed,
            "body_contains": self._phrase_in_body(),
        }

    def search_ids(self, query: str = "", limit: int | None = 50) -> list[str]:
        """Ids matching ``query`` (see storage/query.py), best first or in queue order.

        Raises ``QueryError`` for a malformed query.
        """
        return self._search_ids(query, limit, self._reviews.all())

    def _search_ids(
        self, query: str, limit: int | None, reviews: Mapping[str, Review]
    ) -> list[str]:
        query = query.strip()
        if not query:
            return self._all_in_queue_order(reviews, limit)
        assert self._search is not None
        parsed = self._search.parse(query)  # knows the unknown meta fields posts carry
        callbacks = self._search_callbacks(reviews)
        if parsed.has_free_words:  # ranked: best first
            return self._search.search(parsed, limit=limit, **callbacks)
        if limit is None:
            return self._queue_order(self._search.search(parsed, limit=None, **callbacks), reviews)
        # Queue order with a limit: the pending posts needing review first, asked of the
        # index as a query of their own, so that neither pass goes past the limit (a quoted
        # phrase reads bodies, and a big result is costly to list in full).
        front = self._search.search(
            self._search.parse(f"{query} {QUEUE_FRONT_TERMS}"), limit=limit, **callbacks
        )
        if len(front) >= limit:
            return front
        front_set = set(front)
        rest = self._search.search(parsed, limit=limit + len(front), **callbacks)
        return front + [i for i in rest if i not in front_set][: limit - len(front)]

    def search(self, query: str = "", limit: int | None = 50) -> list[PostSummary]:
        reviews = self._reviews.all()
        return [self._summary(i, reviews) for i in self._search_ids(query, limit, reviews)]

    def count(self, query: str = "") -> int:
        if not query.strip():
            return len(self._rows)
        assert self._search is not None
        parsed = self._search.parse(query)
        return self._search.count(parsed, **self._search_callbacks(self._reviews.all()))

    def progress(self) -> QueueProgress:
        """(reviewed, needing review): decided posts among those flagged for review."""
        reviewed = sum(
            1
            for pid, review in self._reviews.all().items()
            if review.status != PENDING and pid in self._needs_review
        )
        return QueueProgress(reviewed, len(self._needs_review))

    # ------------------------------------------------------------------ similarity

    def similar(self, post_id: str, limit: int = 10) -> list[SimilarPost]:
        if post_id not in self._rows:
            raise UnknownPostError(post_id)
        out = []
        for other, score, reasons in self._similarity.similar(post_id, limit):
            row = self._rows.get(other)
            if row is not None:
                out.append(SimilarPost(other, row["reference"], row["title"], score, reasons))
        return out

    def _similar_above_threshold(self, post_id: str) -> list[SimilarPost]:
        return [s for s in self.similar(post_id, 10) if s.score >= NEAR_DUPLICATE_THRESHOLD]

    def clusters(self) -> list[list[str]]:
        return self._similarity.clusters()

    # ------------------------------------------------------------------ reviews

    def review(self, post_id: str) -> Review | None:
        return self._reviews.get(post_id)

    def reviews(self) -> dict[str, Review]:
        return dict(self._reviews.all())

    def views(self) -> list[View]:
        """The built-in views, then the saved ones by name (``storage/views.py``)."""
        return all_views(self._reviews.view_records())

    def view(self, name: str) -> View:
        """The view named ``name``, case-insensitively; ``UnknownViewError`` names them all."""
        return find(self.views(), name)

    def save_view(self, name: str, query: str) -> View:
        """Save ``query`` (which must parse: else ``QueryError``) as the view ``name``,
        replacing a saved view of that name; a built-in's name raises ``ViewError``."""
        view = View(refuse_builtin(clean_name(name), "replaced"), query.strip(), False)
        if self._search is not None:
            self._search.parse(view.query)  # knows the unknown meta fields posts carry
        else:
            parse_query(view.query)
        with self._write_lock():
            records = with_view(self._reviews.view_records(), view, now_iso())
            self._reviews.write_batch({}, views=records)
        return view

    def delete_view(self, name: str) -> None:
        """Delete a saved view; an unknown or built-in name raises ``ViewError``."""
        with self._write_lock():
            records = without_view(self._reviews.view_records(), name)
            self._reviews.write_batch({}, views=records)

    def set_review(
        self, post_id: str, status: str, note: str = "", *, reviewer: str | None = None
    ) -> Review:
        """Save a decision durably (fsync + rename) before returning it."""
        if status not in STATUSES:
            raise InvalidStatusError(status, STATUSES)
        if post_id not in self._rows:
            raise UnknownPostError(post_id)
        review = Review(
            status=status,
            note=note,
            decided_at=now_iso(),
            reviewer=reviewer or reviewer_name(),
            content_sha256=self._rows[post_id]["sha256"],
        )
        with self._write_lock():
            self._reviews.put(post_id, review)
        return review

    def set_reviews(self, requests: Sequence[DecisionRequest]) -> dict[str, Review]:
        """Save many decisions in one durable write; a request's note None keeps the note."""
        for request in requests:
            if request.status not in STATUSES:
                raise InvalidStatusError(request.status, STATUSES)
            if request.post_id not in self._rows:
                raise UnknownPostError(request.post_id)
        decided_at, reviewer = now_iso(), reviewer_name()
        with self._write_lock():
            saved: dict[str, Review] = {}
            for request in requests:
                note = request.note
                if note is None:
                    before = self._reviews.get(request.post_id)
                    note = before.note if before is not None else ""
                saved[request.post_id] = Review(
                    status=Status(request.status),
                    note=note,
                    decided_at=decided_at,
                    reviewer=reviewer,
                    content_sha256=self._rows[request.post_id]["sha256"],
                )
            self._reviews.write_batch(dict(saved))
        return saved

    def restore_review(self, post_id: str, review: Review | None) -> None:
        """Put back an earlier decision (or none): the undo of ``set_review``."""
        self.restore_reviews({post_id: review})

    def restore_reviews(self, previous: Mapping[str, Review | None]) -> None:
        """Put back earlier decisions (None: undecided) in one durable write: undo."""
        for post_id in previous:
            if post_id not in self._rows:
                raise UnknownPostError(post_id)
        with self._write_lock():
            self._reviews.write_batch(dict(previous))

    def merge_reviews(self, path: str | os.PathLike) -> MergeReport:
        """Merge another reviewer's jsonl export (see storage/merge.py for the rules).

        Bad lines and unknown ids are in the report; everything else is saved in one write.
        """
        from .merge import plan_merge, read_review_file

        theirs, bad_lines = read_review_file(path)
        with self._write_lock():
            plan = plan_merge(
                self._reviews.all(),
                self._rows,
                theirs,
                self._reviews.conflict_records(),
                source=str(path),
                recorded_at=now_iso(),
                bad_lines=bad_lines,
            )
            if plan.decisions or plan.report.conflicts or plan.report.agreed:
                self._reviews.write_batch(plan.decisions, plan.conflict_records)
        return plan.report

    def conflicts(self) -> list[Conflict]:
        """Open conflicts in reference order; ``ours`` is our decision as it is now."""
        from .merge import same_decision

        reviews = self._reviews.all()
        out = []
        for record in self._reviews.conflict_records():
            post_id = record.get("post_id", "")
            row = self._rows.get(post_id)
            if row is None:
                continue
            ours, theirs = reviews.get(post_id), Review.from_dict(record.get("theirs") or {})
            if ours is not None and same_decision(ours, theirs):
                continue  # we came round to their decision since: nothing left to settle
            out.append(
                Conflict(
                    post_id=post_id,
                    reference=row["reference"],
                    title=row["title"],
                    ours=ours,
                    theirs=theirs,
                    source=str(record.get("source", "")),
                    recorded_at=str(record.get("recorded_at", "")),
                )
            )
        out.sort(key=lambda c: (c.reference or c.post_id, c.post_id, c.theirs.reviewer))
        return out

    def resolve_conflict(
        self, post_id: str, keep: str, *, reviewer: str | None = None
    ) -> Review | None:
        """Settle one conflict: ``keep`` is "ours" or "theirs". Returns the decision in place.

        ``reviewer`` picks their decision when several reviewers disagree on one post.
        """
        from .merge import plan_resolution

        if post_id not in self._rows:
            raise UnknownPostError(post_id)
        with self._write_lock():
            ours = self._reviews.get(post_id)
            decision, records = plan_resolution(
                post_id, keep, ours, self._reviews.conflict_records(), reviewer=reviewer
            )
            changes = {post_id: decision} if decision is not None else {}
            self._reviews.write_batch(changes, records)
        return decision if decision is not None else ours

    # ------------------------------------------------------------------ other processes

    def refresh(self) -> bool:
        """Pick up another process's writes. True when anything visible changed."""
        changed = False
        if self._manifest_storage.changed_on_disk():
            before = self._generation
            self._load()
            changed = self._generation != before
        if self._reviews.changed_on_disk():
            self._reviews.reload()
            changed = True
        return changed


@functools.cache
def _index_code() -> str:
    """A fingerprint of the code whose objects the index cache pickles: a cache written by
    other code is rebuilt from the shards instead of unpickled into the wrong shape."""
    from . import postrows, query, search_index, similarity

    digest = hashlib.sha256(str(INDEX_FORMAT).encode())
    for module in (postrows, query, search_index, similarity):
        try:
            digest.update(Path(module.__file__ or "").read_bytes())
        except OSError:  # no source at hand (a frozen install): its name has to do
            digest.update(module.__name__.encode())
    return digest.hexdigest()[:16]


# str.lower() maps these non-ASCII characters to ASCII letters; bytes.lower() does not.
_FOLDING_TO_ASCII = ("\u0130".encode(), "\u212a".encode())


def _raw_search_is_exact(phrase: str) -> bool:
    """Whether a phrase found nowhere in a shard file's lower-cased bytes is surely in none
    of its posts: ASCII and nothing JSON escapes (quote, backslash, control characters)."""
    return phrase.isascii() and not any(c in '"\\' or c < " " or c == "\x7f" for c in phrase)


def _whole_json_object(raw: bytes) -> bool:
    return raw.startswith(b"{") and raw.rstrip().endswith(b"}")


def _folds_to_ascii(raw: bytes) -> bool:
    return any(char in raw for char in _FOLDING_TO_ASCII)


def _body_holds(body: Any, phrase: str) -> bool:
    """Whether a text, list item or image caption of ``body`` holds ``phrase`` (lower case)."""
    for block in body if isinstance(body, list) else ():
        if not isinstance(block, dict):
            continue
        parts = block.get("items") or [block.get("text") or block.get("caption") or ""]
        if any(phrase in str(p).lower() for p in parts):
            return True
    return False


class _Background(threading.Thread):
    """Run ``fn`` in a thread at once; ``result()`` waits and re-raises what it raised."""

    def __init__(self, fn: Callable[[], object]) -> None:
        super().__init__(name="copydesk-shard-writer")
        self._fn = fn
        self._error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self._fn()
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self, *, reraise: bool = True) -> None:
        self.join()
        if reraise and self._error is not None:
            raise self._error
