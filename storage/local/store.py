"""The local store: one reviewer's TinyDB files (see layout.py for what lives where).

``LocalStore`` composes the parts, each with one job: the manifest (``layout``), the post
shelf (``shelf``), the decision log (``decisions``), the derived catalog files
(``index_files``) and the import (``importing``). It owns the locks:

- ``FILE.lock`` for short writes: a decision, a view, a shelf commit. Taken, then the
  decision log re-read under it, so two processes never lose each other's writes.
- ``FILE.import.lock`` for a whole import (minutes at scale), so that decisions never
  wait for an import.

A store opened read-only (``writable=False``) writes nothing at all: no lock files, no
recovered files, no rebuilt caches.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import filelock

from ..errors import InvalidStatusError, StoreCorruptError, StoreError, UnknownPostError
from ..jsonstore import remove_stale_temp_files
from ..merge import Conflict, MergeReport
from ..models import STATUSES, ImportReport, Review, Status, StoredPost
from ..paths import default_db_path, samples_dir
from ..protocol import DecisionRequest
from ..queries import CatalogStore
from ..reviews import now_iso, reviewer_name
from ..views import View, clean_name, refuse_builtin, with_view, without_view
from . import file_stats, index_files
from .decisions import DecisionLog, DecisionState
from .layout import (
    LEGACY_FORMAT,
    Layout,
    Manifest,
    StoreMissingError,
    can_create,
    create_manifest,
    make_dirs,
    new_store_id,
    read_manifest,
)
from .shelf import PostShelf

if TYPE_CHECKING:  # the catalog and the import load on first use: a one-post command
    # (`copydesk show`, `review`) needs neither, and they cost ~0.1 s of imports
    from ..catalog import BodyContains, Catalog

LOCK_TIMEOUT_S = 30
PHRASES_REMEMBERED = 8  # quoted phrases whose body scans are kept (see _body_contains)

Warn = Callable[[str], None]
Progress = Callable[[int, int], None]


class LocalStore(CatalogStore):
    """Open with ``LocalStore.open(path)``; see the module docstring."""

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
        self._lock = filelock.FileLock(str(layout.lock_path))
        self._import_lock = filelock.FileLock(str(layout.path) + ".import.lock")
        self._shelf_lost = False
        self._loaded: Catalog | None = None
        self._loaded_generation = -1
        # (generation, phrase) -> segment number -> ids whose body holds the phrase
        self._phrase_hits: OrderedDict[tuple[int, str], dict[int, frozenset[str]]] = OrderedDict()

    # ------------------------------------------------------------------ open/close

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        writable: bool = True,
        warn: Warn | None = None,
        repairing: bool = False,
    ) -> LocalStore:
        """Open the store at ``path`` (default: see paths.py). A missing store is created
        when ``writable``, else ``StoreMissingError``; a file that is not a copydesk store
        is refused (``NotAStoreError``) before anything is written. When decisions are
        known lost (``DecisionsLostError``) opening fails, unless ``repairing``."""
        layout = Layout(Path(path) if path is not None else default_db_path())
        collected: list[str] = []
        manifest = read_manifest(layout, writable=writable, warn=warn or collected.append)
        if manifest is None:
            if not writable:
                raise StoreMissingError(
                    f"{layout.path}: no copydesk store here (check --db; `copydesk import` "
                    "creates one)"
                )
            can_create(layout.path)
            store_id = new_store_id()
            make_dirs(layout)
            DecisionLog(layout.data_dir, store_id, writable=True).create()
            manifest = create_manifest(layout, store_id)
        if manifest.format == LEGACY_FORMAT:
            from .legacy import migrate

            manifest = migrate(layout, writable=writable, warn=warn)
        store = cls(layout, manifest, writable=writable, warn=warn)
        store.warnings.extend(collected)
        try:
            store._shelf.load()
        except StoreCorruptError:
            if not repairing:
                raise
            store._shelf_lost = True  # repair() rebuilds it from the segments
        if store._shelf.adopted and writable:
            store._commit_adopted()
        store._log.load()
        if store._log.lost is not None and not repairing:
            store._log.check_writable()
        return store

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def read_only(self) -> bool:
        return not self._writable

    @property
    def team(self) -> None:
        return None  # one reviewer: no claims

    def close(self) -> None:
        self._loaded = None

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        if self._warn_cb is not None:
            self._warn_cb(message)

    # ------------------------------------------------------------------ locks

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

    def _catalog(self) -> Catalog:
        """The catalog of the committed shelf, loaded (or rebuilt) on first use."""
        generation = self._shelf.state.generation
        if self._loaded is not None and self._loaded_generation == generation:
            return self._loaded
        catalog = index_files.read_catalog(self.layout, generation, self._warn)
        if catalog is None or set(catalog.rows.ids) != self._shelf.state.locations.keys():
            catalog = self._rebuild_catalog()
            if self._writable and generation:
                index_files.write_catalog(self.layout, generation, catalog)
                index_files.write_near_dups(self.layout, generation, catalog)
        self._loaded, self._loaded_generation = catalog, generation
        return catalog

    def _rebuild_catalog(self) -> Catalog:
        """The catalog from the post segments (the store of record), segment by segment
        in worker processes (100,000 posts: ~a minute of CPU)."""
        from ..analysis import RebuildTask, catalog_entries, run_tasks, worker_pool
        from ..catalog import Catalog, IndexEntry

        by_segment = self._shelf.live_by_segment()
        count = sum(map(len, by_segment.values()))
        if count >= 10_000:
            self._warn(f"{self.path}: building the catalog of {count:,} posts from its segments")
        tasks = [
            RebuildTask(
                str(self.layout.segment_path(number)), str(self.layout.hints_path(number)), posts
            )
            for number, posts in sorted(by_segment.items())
        ]
        entries: list[IndexEntry] = []
        with worker_pool(count) as pool:
            for found, unreadable in run_tasks(pool, catalog_entries, tasks):
                entries.extend(IndexEntry(*entry) for entry in found)
                for post_id in unreadable:
                    self._warn(
                        f"{self.path}: post {post_id} is unreadable (damaged segment); import "
                        f"{self._shelf.state.locations[post_id].path or 'its seed file'} again"
                    )
            return Catalog.build(entries, pool=pool)

    def _decisions(self) -> Mapping[str, Review]:
        return self._log.state.decisions

    def _view_records(self) -> list[dict[str, Any]]:
        return self._log.state.views

    # ------------------------------------------------------------------ posts

    def __len__(self) -> int:
        return len(self._shelf.state.locations)

    def __contains__(self, post_id: object) -> bool:
        return post_id in self._shelf.state.locations

    def _known(self, post_id: str) -> None:
        if post_id not in self._shelf.state.locations:
            raise UnknownPostError(post_id)

    def get(self, post_id: str) -> StoredPost:
        """One post with its decision and hints (reads one segment, not the catalog)."""
        self._known(post_id)
        record = self._shelf.record(post_id)
        location = self._shelf.state.locations[post_id]
        hints = self._shelf.hints(post_id)
        pending = hints is None  # the import's second phase has not reached it (or the
        if hints is None:  # file was lost): its own hints now, near duplicates to come
            from ..analysis import post_dict
            from ..hints import compute_hints

            hints = compute_hints(post_dict(record))
        else:
            hints = hints + self._near_duplicate_hints(post_id)
        return StoredPost(
            id=post_id,
            reference=record.get("reference", ""),
            title=record.get("title", ""),
            body=record.get("body", []),
            meta=record.get("meta", {}),
            listed_similar=record.get("listed_similar", []),
            warnings=record.get("warnings", []),
            source={"path": location.path, "sha256": record.get("source", {}).get("sha256", "")},
            review=self._log.state.decisions.get(post_id),
            hints=hints,
            hints_pending=pending,
        )

    def iter_posts(self) -> Iterator[dict[str, Any]]:
        """Every post's record, segment by segment (one segment in memory at a time)."""
        for post_id, location, record in self._shelf.live_records():
            if record is None:
                self._warn(
                    f"{self.path}: post {post_id} is unreadable (damaged segment); import "
                    f"{location.path} again"
                )
                continue
            yield record

    def reviewed_version(self, post_id: str) -> StoredPost | None:
        """The post as it was when its decision was made, when its text changed since
        (None: no decision, the same text, or that version is not kept)."""
        post = self.get(post_id)
        review = post.review
        if review is None or not review.made_on_other_text(post.source.get("sha256", "")):
            return None
        record = self._shelf.version_with(post_id, review.content_sha256)
        if record is None:
            return None
        return StoredPost(
            id=post_id,
            reference=record.get("reference", ""),
            title=record.get("title", ""),
            body=record.get("body", []),
            meta=record.get("meta", {}),
            listed_similar=record.get("listed_similar", []),
            warnings=record.get("warnings", []),
            source={"path": "", "sha256": review.content_sha256},
            review=review,
        )

    def _near_duplicate_hints(self, post_id: str) -> list[dict[str, Any]]:
        if self._loaded is not None and self._loaded_generation == self._shelf.state.generation:
            return self._loaded.near_duplicate_hints(post_id)
        found = index_files.read_near_dups(
            self.layout, self._shelf.state.generation, post_id, self._warn
        )
        if found is None:  # no file for this generation: ask the catalog itself
            return self._catalog().near_duplicate_hints(post_id)
        return found

    def _content_sha(self, post_id: str) -> str:
        if self._loaded is not None and post_id in self._loaded:
            return self._loaded.sha256(post_id)
        return str(self._shelf.record(post_id).get("source", {}).get("sha256", ""))

    def _body_contains(self) -> BodyContains:
        """Body test for quoted phrases: the segment of an asked post is scanned once for
        the phrase and what it holds is kept, since posts sit in segments by import order,
        not in result order."""
        generation = self._shelf.state.generation

        def contains(post_id: str, phrase: str) -> bool:
            location = self._shelf.state.locations.get(post_id)
            segment = self._shelf.segment_of(location.doc_id) if location else None
            if segment is None:
                return False
            key = (generation, phrase)
            per_segment = self._phrase_hits.setdefault(key, {})
            self._phrase_hits.move_to_end(key)
            while len(self._phrase_hits) > PHRASES_REMEMBERED:
                self._phrase_hits.popitem(last=False)
            hits = per_segment.get(segment.number)
            if hits is None:
                hits = per_segment[segment.number] = self._scan(segment.number, phrase)
            return post_id in hits

        return contains

    def _scan(self, number: int, phrase: str) -> frozenset[str]:
        records = self._shelf._read_segment(number) or {}
        return frozenset(
            str(record.get("id"))
            for record in records.values()
            if _body_holds(record.get("body"), phrase)
        )

    # ------------------------------------------------------------------ import

    def import_paths(
        self,
        paths: Iterable[str | os.PathLike[str]],
        progress: Progress | None = None,
        *,
        derive: bool = True,
        derive_progress: Progress | None = None,
    ) -> ImportReport:
        """Import seed files and directories (``*.txt``, recursive). Safe to repeat.

        With ``derive`` False the call returns once the posts are stored and searchable;
        ``finish_derived`` then computes their hints and similarity."""
        from . import importing

        files, errors = importing.collect(paths)
        with self._importing():
            self._reload_shelf()
            state = self._shelf.state
            self._remove_litter()
            known = file_stats.FileStats.read(self.layout)
            plan = importing.plan_import(files, state, progress, known)
            plan.errors[:0] = errors
            with importing.worker_pool(len(plan.to_parse)) as pool:
                shelved = importing.shelve(plan, state, self._catalog, self.layout, pool, progress)
                if shelved.changed:
                    self._commit(shelved.state, shelved.catalog)
                recorded = importing.file_stats_after(plan, known, state, self._shelf.state)
                if recorded != known.entries:
                    file_stats.write(self.layout, recorded)
                if derive:
                    self._derive(pool, derive_progress)
        return shelved.report

    def import_samples(self) -> ImportReport:
        """Import the five sample seeds shipped with copydesk."""
        return self.import_paths([samples_dir()])

    @property
    def derived_pending(self) -> int:
        """How many posts still wait for their hints and similarity."""
        recorded = self._shelf.state.derived_pending
        if recorded is not None:
            return recorded  # what the committed shelf says (no catalog read)
        if not self._shelf.state.segments:
            return 0
        return len(self._catalog().pending)  # a shelf from before the count was recorded

    def finish_derived(self, progress: Progress | None = None, *, wait: bool = True) -> bool:
        """Compute the pending hints and similarity (import phase 2), and the hints of any
        segment whose hints file was lost or damaged. False when another process is at it
        (and ``wait`` is False)."""
        try:
            with self._importing(timeout=-1 if wait else 0):
                from .importing import worker_pool

                self._reload_shelf()
                segments = self._shelf.state.segments
                lost = [s for s in segments if not self._shelf.hints_sound(s)]
                if not lost and not self.derived_pending:
                    return True  # every segment's hints are committed: nothing is pending
                pending = self._catalog().pending
                with worker_pool(len(pending)) as pool:
                    self._derive(pool, progress)
                self._rewrite_hints(s for s in lost if not self._shelf.hints_sound(s))
        except StoreError:
            if wait:
                raise
            return False
        return True

    def _rewrite_hints(self, segments: Iterable[Any]) -> None:
        """Hints files of segments whose posts are derived, computed again."""
        from ..analysis import DeriveTask, derive_segment

        for segment in segments:
            task = DeriveTask(
                str(self.layout.segment_path(segment.number)),
                str(self.layout.hints_path(segment.number)),
                self._shelf.live_doc_ids(segment),
            )
            derive_segment(task)
            self._warn(f"{task.hints_path}: was lost or damaged; computed again")
        self._shelf.load()  # drop the cached tables

    def _derive(self, pool: Any, progress: Progress | None) -> None:
        from . import importing

        catalog = self._catalog()
        if not catalog.pending:
            return
        tasks = importing.derive_tasks(self._shelf.state, catalog, self.layout)
        derived = importing.derive(tasks, catalog, pool, progress)
        state = self._shelf.state
        next_state = type(state)(
            generation=state.generation + 1,
            next_doc_id=state.next_doc_id,
            next_segment=state.next_segment,
            segments=state.segments,
            locations=state.locations,
            history=state.history,
        )
        self._commit(next_state, derived)

    def _commit_adopted(self) -> None:
        """Write the shelf that took back the posts of an older shelf's later segments."""
        with self._write_lock():
            self._shelf.commit(self._shelf.state)

    def _commit(self, state: Any, catalog: Catalog | None) -> None:
        """Write the derived files of ``state``'s generation (a new ``catalog``), then the
        shelf itself."""
        pending = self._shelf.state.derived_pending if catalog is None else len(catalog.pending)
        state = replace(state, derived_pending=pending)
        if catalog is not None:
            index_files.write_catalog(self.layout, state.generation, catalog)
            index_files.write_near_dups(self.layout, state.generation, catalog)
        with self._write_lock():
            self._shelf.commit(state)
        if catalog is not None:
            self._loaded, self._loaded_generation = catalog, state.generation
            index_files.remove_other_generations(self.layout, state.generation)

    def _reload_shelf(self) -> None:
        if self._shelf.changed_on_disk():
            self._shelf.load()

    def _remove_litter(self) -> None:
        """What writers that died left: segments of an import never committed, temp files
        (``.NAME.PID.*.tmp``) of processes that are gone. Under the import lock."""
        for path in self._shelf.orphan_files():
            path.unlink(missing_ok=True)
        for directory in (self.layout.data_dir, self.layout.posts_dir):
            remove_stale_temp_files(directory)
        remove_stale_temp_files(self.path.parent, f".{self.path.name}.")

    # ------------------------------------------------------------------ decisions

    def set_review(
        self, post_id: str, status: str, note: str = "", *, reviewer: str | None = None
    ) -> Review:
        """Save a decision durably before returning it."""
        return self._decide([DecisionRequest(post_id, Status(_status(status)), note)], reviewer)[
            post_id
        ]

    def set_reviews(self, requests: Sequence[DecisionRequest]) -> dict[str, Review]:
        """Save many decisions in one durable write; a request's note None keeps the note."""
        return self._decide(requests, None)

    def _decide(
        self, requests: Sequence[DecisionRequest], reviewer: str | None
    ) -> dict[str, Review]:
        for request in requests:
            _status(request.status)
            self._known(request.post_id)
        decided_at, who = now_iso(), reviewer or reviewer_name()
        shas = {r.post_id: self._content_sha(r.post_id) for r in requests}
        with self._write_lock():
            saved: dict[str, Review] = {}
            for request in requests:
                note = request.note
                if note is None:
                    before = self._log.state.decisions.get(request.post_id)
                    note = before.note if before is not None else ""
                saved[request.post_id] = Review(
                    status=Status(request.status),
                    note=note,
                    decided_at=decided_at,
                    reviewer=who,
                    content_sha256=shas[request.post_id],
                )
            self._log.write(dict(saved), why="decide")
        return saved

    def restore_review(self, post_id: str, review: Review | None) -> None:
        """Put back an earlier decision (or none): the undo of ``set_review``."""
        self.restore_reviews({post_id: review})

    def restore_reviews(self, previous: Mapping[str, Review | None]) -> None:
        for post_id in previous:
            self._known(post_id)
        with self._write_lock():
            self._log.write(dict(previous), why="undo")

    # ------------------------------------------------------------------ views

    def save_view(self, name: str, query: str) -> View:
        """Save ``query`` (which must parse: else ``QueryError``) as the view ``name``,
        replacing a saved view of that name; a built-in's name raises ``ViewError``."""
        view = View(refuse_builtin(clean_name(name), "replaced"), query.strip(), False)
        self._catalog().parse(view.query)
        with self._write_lock():
            records = with_view(self._log.state.views, view, now_iso())
            self._log.write({}, why="view", views=records)
        return view

    def delete_view(self, name: str) -> None:
        """Delete a saved view; an unknown or built-in name raises ``ViewError``."""
        with self._write_lock():
            records = without_view(self._log.state.views, name)
            self._log.write({}, why="view", views=records)

    # ------------------------------------------------------------------ merge

    def merge_reviews(self, path: str | os.PathLike[str]) -> MergeReport:
        """Merge another reviewer's jsonl export (see storage/merge.py for the rules)."""
        from ..merge import plan_merge, read_review_file

        theirs, bad_lines = read_review_file(path)
        with self._write_lock():
            plan = plan_merge(
                self._log.state.decisions,
                self._shelf.state.locations,
                theirs,
                self._log.state.conflicts,
                source=str(path),
                recorded_at=now_iso(),
                bad_lines=bad_lines,
            )
            if plan.decisions or plan.report.conflicts or plan.report.agreed:
                self._log.write(plan.decisions, why="merge", conflicts=plan.conflict_records)
        return plan.report

    def conflicts(self) -> list[Conflict]:
        """Open conflicts in reference order; ``ours`` is our decision as it is now."""
        from ..merge import open_conflicts

        state = self._log.state
        return open_conflicts(state.conflicts, state.decisions, self._catalog().rows)

    def resolve_conflict(
        self, post_id: str, keep: str, *, reviewer: str | None = None
    ) -> Review | None:
        """Settle one conflict: ``keep`` is "ours" or "theirs"."""
        from ..merge import plan_resolution

        self._known(post_id)
        with self._write_lock():
            ours = self._log.state.decisions.get(post_id)
            decision, records = plan_resolution(
                post_id, keep, ours, self._log.state.conflicts, reviewer=reviewer
            )
            changes = {post_id: decision} if decision is not None else {}
            self._log.write(changes, why="resolve", conflicts=records)
        return decision if decision is not None else ours

    # ------------------------------------------------------------------ other processes

    def refresh(self) -> bool:
        """Pick up another process's writes. True when anything visible changed."""
        changed = False
        if self._shelf.changed_on_disk():
            before = self._shelf.state.generation
            self._shelf.load()
            changed = self._shelf.state.generation != before
        if self._log.refresh():
            changed = True
        return changed

    # ------------------------------------------------------------------ repair

    def repair(self) -> list[str]:
        """Go on from what the files hold when decisions or posts are known lost:
        restart the journal from the current state, drop the locations of posts whose
        segment is unreadable (so that the next import adds them again). Returns what was
        done, one line each."""
        done: list[str] = []
        with self._importing():
            _acquire(self._lock, self.path, LOCK_TIMEOUT_S, "locked by another copydesk process")
            try:
                if self._log.lost is not None:
                    done.append(f"decisions: {self._log.lost}; went on from what is left")
                state = self._log.state
                self._log.start_over(
                    DecisionState(0, dict(state.decisions), state.conflicts, state.views),
                    why="repair",
                )
                done.append(f"journal restarted with {len(state.decisions)} decisions")
            finally:
                self._lock.release()
            if self._shelf_lost:
                rebuilt = self._shelf.rebuild()
                self._loaded = None
                self._shelf.state = rebuilt
                self._commit(rebuilt, self._rebuild_catalog())
                self._shelf_lost = False
                done.append(
                    f"{self._shelf.layout.shelf_path.name} rebuilt from the post segments "
                    f"({len(rebuilt.locations)} posts); import your seed files again to "
                    "restore their paths"
                )
            unreadable = [pid for pid, _, record in self._shelf.live_records() if record is None]
            if unreadable:
                shelf = self._shelf.state
                locations = {k: v for k, v in shelf.locations.items() if k not in unreadable}
                next_state = type(shelf)(
                    shelf.generation + 1,
                    shelf.next_doc_id,
                    shelf.next_segment,
                    shelf.segments,
                    locations,
                    {k: v for k, v in shelf.history.items() if k not in unreadable},
                )
                self._loaded = None
                self._shelf.state = next_state
                self._commit(next_state, self._rebuild_catalog())
                done.append(
                    f"{len(unreadable)} posts with damaged text dropped; import their files again"
                )
        return done


def _status(status: str) -> str:
    if status not in STATUSES:
        raise InvalidStatusError(status, STATUSES)
    return status


def _acquire(lock: filelock.FileLock, path: Path, timeout: float, busy: str) -> None:
    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout as exc:
        raise StoreError(f"{path}: {busy}") from exc
    except OSError as exc:  # e.g. a read-only directory
        raise StoreError(
            f"{lock.lock_file}: cannot create the lock file ({exc.strerror or exc})"
        ) from exc


def _body_holds(body: Any, phrase: str) -> bool:
    """Whether a text, list item or image caption of ``body`` holds ``phrase`` (lower case)."""
    for block in body if isinstance(body, list) else ():
        if not isinstance(block, dict):
            continue
        parts = block.get("items") or [block.get("text") or block.get("caption") or ""]
        if any(phrase in str(p).lower() for p in parts):
            return True
    return False
