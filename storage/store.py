"""The copydesk store: TinyDB files on disk, a compact index in memory.

Layout (see ARCHITECTURE.md): ``FILE`` is the manifest, ``FILE.d/posts-XX.json`` hold the
full post records (TinyDB, the store of record), ``FILE.d/reviews.json`` the decisions, and
``FILE.d/index.pickle`` a derived cache of what the list, search and similarity need,
rebuilt from the shards whenever it is missing, stale or damaged.

Writers (import, decisions) take ``FILE.lock`` and re-read under it, so two processes never
lose each other's writes. Readers hold no lock; ``refresh()`` notices other writers.
"""

from __future__ import annotations

import os
import pickle
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
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
    StoredPost,
)
from .paths import default_db_path, samples_dir
from .query import SearchIndex
from .reviews import ReviewBook, now_iso, reviewer_name
from .similarity import NEAR_DUPLICATE_THRESHOLD, SimilarityIndex

FORMAT = 1
SHARD_COUNT = 64
LOCK_TIMEOUT_S = 30
INDEX_FORMAT = 1
OPEN_SHARDS = 2  # shards kept parsed in memory; each holds ~1/64 of the bodies

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
        # in-memory index, loaded from the cache or rebuilt from the shards
        self._generation = -1
        self._rows: dict[str, dict[str, Any]] = {}
        self._doc_ids: dict[str, int] = {}
        self._order: list[str] = []  # ids sorted by reference: the static part of queue order
        self._needs_review: set[str] = set()
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
            self._reviews.db.storage.close()
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
        shards = {doc_id % SHARD_COUNT for doc_id in cache["doc_ids"].values()}
        return all(self._shard_exists(shard) for shard in shards)

    def _shard_exists(self, shard: int) -> bool:
        path = self._shard_path(shard)
        return path.exists() or path.with_name(path.name + ".bak").exists()

    def _read_index_cache(self, *, warn: bool = False) -> dict | None:
        try:
            with open(self._index_path, "rb") as fh:
                cache = pickle.load(fh)
        except FileNotFoundError:
            return None
        except Exception as exc:  # a damaged cache is only a cache: rebuild it from the shards
            if warn:
                self._warn(
                    f"{self._index_path}: damaged ({type(exc).__name__}: {exc}); "
                    "rebuilding it from the post shards"
                )
            return None
        if not isinstance(cache, dict) or cache.get("format") != INDEX_FORMAT:
            return None
        return cache

    def _write_index_cache(self, cache: dict) -> None:
        data = pickle.dumps(cache, protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write_bytes(self._index_path, data, keep_backup=False)

    def _rebuild_index_cache(self, manifest: dict) -> dict:
        """Recompute the derived index from the shards (the store of record)."""
        from .query import index_fields
        from .similarity import features

        # after a crash: the dead writer's temp files (under the lock, so none is in use)
        remove_stale_temp_files(self.data_dir)
        remove_stale_temp_files(self.path.parent, f".{self.path.name}.")
        rows: dict[str, dict] = {}
        doc_ids: dict[str, int] = {}
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
                doc_ids[post_id] = doc.doc_id
                meta = doc.get("meta") or {}
                flags = meta.get("flags") if isinstance(meta.get("flags"), dict) else {}
                rows[post_id] = {
                    "id": post_id,
                    "reference": doc.get("reference", ""),
                    "title": doc.get("title", ""),
                    "topic": str(meta.get("topic", "")),
                    "needs_human_review": flags.get("needs_human_review") == 1,
                    "hint_codes": [h["code"] for h in doc.get("hints", [])],
                    "sha256": doc["source"]["sha256"],
                    "path": doc["source"]["path"],
                }
                fields[post_id] = index_fields(data)
                items.append((post_id, features(data)))
        similarity = SimilarityIndex()
        similarity.add_many(items)
        self._shard_recovered = False  # what the shards hold now is what the index says
        # a new generation, so that other handles pick the rebuilt index up on refresh()
        generation = manifest["generation"] + 1
        cache = {
            "format": INDEX_FORMAT,
            "generation": generation,
            "rows": rows,
            "doc_ids": doc_ids,
            "fields": fields,
            "similarity": similarity.to_state(),
        }
        self._write_index_cache(cache)
        # a lost manifest restarts at doc id 1: never hand out an id a shard already holds
        next_doc_id = max(manifest.get("next_doc_id", 1), max(doc_ids.values(), default=0) + 1)
        self._write_manifest(
            {**manifest, "generation": generation, "next_doc_id": next_doc_id, "clean": True}
        )
        return cache

    def _install_index(self, cache: dict) -> None:
        self._generation = cache["generation"]
        self._rows = cache["rows"]
        self._doc_ids = cache["doc_ids"]
        self._order = sorted(self._rows, key=lambda i: (self._rows[i]["reference"] or i, i))
        self._needs_review = {i for i, r in self._rows.items() if r["needs_human_review"]}
        self._similarity = SimilarityIndex.from_state(cache["similarity"])
        self._near_dups = {i for cluster in self._similarity.clusters() for i in cluster}
        fields = cache["fields"]
        self._search = SearchIndex(
            (pid, fields[pid], (rank,)) for rank, pid in enumerate(self._order)
        )
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
        doc_id = self._doc_ids[post_id]
        doc = self._open_shard(doc_id % SHARD_COUNT).table("posts").get(doc_id=doc_id)
        if doc is None or self._shard_recovered:
            # The shard came back from an older .bak or lost the post: re-index from the
            # shards, so that list, get and the next import (which re-adds what is gone) agree.
            with self._write_lock():
                self._install_index(self._rebuild_index_cache(self._manifest()))
            doc = None
            if post_id in self._doc_ids:
                new_id = self._doc_ids[post_id]
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
        files, errors = importer.collect_files(paths)
        report = ImportReport(errors=list(errors))
        analysed: list[importer.AnalysedPost] = []
        for result in importer.analyse_files(files, progress):
            if isinstance(result, importer.AnalysedPost):
                analysed.append(result)
                report.warnings.extend(f"{result.path}: {w}" for w in result.warnings)
            else:
                report.errors.append(result)
        if not analysed:
            return report
        with self._write_lock():
            self._load()  # another process may have imported meanwhile
            self._apply_import(analysed, report)
        return report

    def import_samples(self) -> ImportReport:
        """Import the five sample seeds shipped with copydesk."""
        return self.import_paths([samples_dir()])

    def _apply_import(self, analysed: list[importer.AnalysedPost], report: ImportReport) -> None:
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
        next_doc_id = max(manifest["next_doc_id"], max(self._doc_ids.values(), default=0) + 1)
        doc_ids = dict(self._doc_ids)
        for post_id in changes:
            if post_id not in doc_ids:
                doc_ids[post_id] = next_doc_id
                next_doc_id += 1
        generation = manifest["generation"] + 1
        # 1. mark the index dirty: a crash from here on rebuilds it from the shards
        dirty = {**manifest, "generation": generation, "next_doc_id": next_doc_id, "clean": False}
        self._write_manifest(dirty)
        # 2. write the touched shards, each atomically
        by_shard: dict[int, list[tuple[int, bytes]]] = {}
        for post_id, post in changes.items():
            doc_id = doc_ids[post_id]
            by_shard.setdefault(doc_id % SHARD_COUNT, []).append((doc_id, post.record_json))
        for shard, docs in by_shard.items():
            self._write_shard(shard, docs)
        if self._shard_recovered:  # a shard came back from an older .bak while merging
            self._install_index(self._rebuild_index_cache(dirty))
            return
        # 3. the derived index
        rows = dict(self._rows)
        cache_fields = dict(self._cached_fields())
        for post_id, post in changes.items():
            rows[post_id] = post.row
            cache_fields[post_id] = post.fields
        similarity = SimilarityIndex.from_state(self._similarity.to_state())
        similarity.add_many((pid, post.features) for pid, post in changes.items())
        cache = {
            "format": INDEX_FORMAT,
            "generation": generation,
            "rows": rows,
            "doc_ids": doc_ids,
            "fields": cache_fields,
            "similarity": similarity.to_state(),
        }
        self._write_index_cache(cache)
        # 4. commit point
        self._write_manifest(
            {**manifest, "generation": generation, "next_doc_id": next_doc_id, "clean": True}
        )
        self._install_index(cache)

    def _cached_fields(self) -> dict[str, dict]:
        cache = self._read_index_cache()
        if cache is None or cache.get("generation") != self._generation:
            return {}
        return cache["fields"]

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
        phrase = phrase.lower()
        for block in self._read_record(post_id).get("body", []):
            parts = block.get("items") or [block.get("text") or block.get("caption") or ""]
            if any(phrase in str(p).lower() for p in parts):
                return True
        return False

    def summary(self, post_id: str) -> PostSummary:
        row = self._rows.get(post_id)
        if row is None:
            raise UnknownPostError(post_id)
        review = self._reviews.get(post_id)
        hint_codes = tuple(row["hint_codes"])
        if post_id in self._near_dups:
            hint_codes += ("near_duplicate",)
        return PostSummary(
            id=post_id,
            reference=row["reference"],
            title=row["title"],
            topic=row["topic"],
            needs_human_review=row["needs_human_review"],
            status=review.status if review else PENDING,
            hint_codes=hint_codes,
            changed=bool(
                review and review.content_sha256 and review.content_sha256 != row["sha256"]
            ),
        )

    # ------------------------------------------------------------------ search

    def status_of(self, post_id: str) -> str:
        review = self._reviews.get(post_id)
        return review.status if review else PENDING

    def _in_queue_front(self, post_id: str) -> bool:
        return post_id in self._needs_review and self.status_of(post_id) == PENDING

    def _queue_order(self, ids: Iterable[str]) -> list[str]:
        """Stable partition: pending posts needing review first, the rest after."""
        ids = list(ids)
        front = [i for i in ids if self._in_queue_front(i)]
        if not front:
            return ids
        front_set = set(front)
        return front + [i for i in ids if i not in front_set]

    def search_ids(self, query: str = "", limit: int | None = 50) -> list[str]:
        """Ids matching ``query`` (see storage/query.py), best first or in queue order.

        Raises ``QueryError`` for a malformed query.
        """
        query = query.strip()
        if not query:
            ids = self._queue_order(self._order)
            return ids if limit is None else ids[:limit]
        assert self._search is not None
        parsed = self._search.parse(query)  # knows the unknown meta fields posts carry
        ranked = parsed.has_free_words
        ids = self._search.search(
            parsed,
            limit=limit if ranked else None,
            status_of=self.status_of,
            hints_of=lambda pid: self.summary(pid).hint_codes,
            changed_of=lambda pid: self.summary(pid).changed,
            body_contains=self.body_contains,
        )
        if not ranked:
            ids = self._queue_order(ids)
        return ids if limit is None else ids[:limit]

    def search(self, query: str = "", limit: int | None = 50) -> list[PostSummary]:
        return [self.summary(i) for i in self.search_ids(query, limit)]

    def count(self, query: str = "") -> int:
        if not query.strip():
            return len(self._rows)
        return len(self.search_ids(query, limit=None))

    def progress(self) -> tuple[int, int]:
        """(reviewed, needing review): decided posts among those flagged for review."""
        reviewed = sum(
            1
            for pid, review in self._reviews.all().items()
            if review.status != PENDING and pid in self._needs_review
        )
        return reviewed, len(self._needs_review)

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

    def restore_review(self, post_id: str, review: Review | None) -> None:
        """Put back an earlier decision (or none): the undo of ``set_review``."""
        if post_id not in self._rows:
            raise UnknownPostError(post_id)
        with self._write_lock():
            self._reviews.put(post_id, review)

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
