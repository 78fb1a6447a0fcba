"""An import into a local store, so that its cost follows the batch, not the store.

1. Plan: when the store holds posts, every named file is stat'ed; one whose stat is the
   one recorded at the last import (``file_stats``) keeps its sha256, the others are read
   and hashed (threads; no parsing). A file whose bytes are known at the same path is
   unchanged; known bytes at a new path are a move (only the path is updated). Only the
   rest is parsed.
2. Shelve (phase 1): the files to parse go to worker processes in chunks; each chunk
   becomes one new segment file. The catalog gets the new rows and query fields, the shelf
   commits: the posts are listed, searchable and reviewable from here on.
3. Derive (phase 2): review hints and similarity features of the new posts, per segment
   in the workers, then similarity; a second commit. Until it ends, answers that need
   hints or similarity say so (``DerivedPendingError``) instead of guessing.
"""

from __future__ import annotations

import bisect
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import seeds

from ..analysis import (
    SEGMENT_FILES,
    DerivedPost,
    DeriveTask,
    Interner,
    ShelvedPost,
    ShelveTask,
    derive_segment,
    file_sha256,
    run_tasks,
    shelve_chunk,
    start_workers_early,
    worker_pool,
)
from ..catalog import Catalog, IndexEntry
from ..importer import collect_names
from ..models import FileError, ImportReport
from ..nogc import no_gc_passes
from . import file_stats
from .file_stats import FileStats, Stat, stat_of
from .layout import Layout
from .shelf import Location, Locations, Segment, ShelfState

Progress = Callable[[int, int], None]
HASH_THREADS = 4


@dataclass(slots=True)
class Plan:
    to_parse: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # post ids
    moved: dict[str, str] = field(default_factory=dict)  # post id -> new path
    moved_from: list[str] = field(default_factory=list)  # the old paths of those
    errors: list[FileError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stats: dict[str, Stat] = field(default_factory=dict)  # path -> stat taken before reading
    shas: dict[str, str] = field(default_factory=dict)  # path -> sha256, of known files
    taken_ns: int = 0  # when the stats were taken


HASH_CHUNK = 512  # files a thread hashes per task (a task per file costs more than it)


def _hash(path: str) -> str | FileError:
    try:
        return file_sha256(seeds.read_regular_file(path, seeds.MAX_SEED_BYTES, "seed document"))
    except seeds.UnreadableFile as exc:  # a FIFO swapped in is refused, never waited on
        return FileError(path, exc.reason)


def _hash_many(paths: list[str]) -> list[str | FileError]:
    return list(map(_hash, paths))


def plan_import(
    files: list[str],
    state: ShelfState,
    progress: Progress | None,
    known: FileStats | None = None,
    to_read: Callable[[int], None] | None = None,
) -> Plan:
    """Which files need parsing (see the module docstring). ``to_read`` is told, before
    the rest of the plan, how many files its file records cannot vouch for (they are
    hashed, and parsed unless the shelf holds their bytes): an import into a big store
    starts its workers then."""
    plan = Plan(taken_ns=time.time_ns())
    for path in files:  # before any read: a later change shows in the next stat
        stat = stat_of(path)
        if stat is not None:
            plan.stats[path] = stat
    if not state.locations:
        plan.to_parse = files
        return plan
    known = known or FileStats.empty()
    cached_shas = [
        known.known_sha(path, stat) if (stat := plan.stats.get(path)) is not None else None
        for path in files
    ]
    if to_read is not None:
        to_read(cached_shas.count(None))
    locations = Locations.of(state.locations)
    by_file = locations.by_file()
    named = set(files)
    to_hash: list[str] = []
    for path, cached in zip(files, cached_shas, strict=True):
        if cached is not None and cached in by_file:
            plan.shas[path] = cached
            _known_file(plan, by_file[cached], path, locations.path(by_file[cached]), named)
        else:
            to_hash.append(path)
    done = len(files) - len(to_hash)
    chunks = [to_hash[i : i + HASH_CHUNK] for i in range(0, len(to_hash), HASH_CHUNK)]
    if progress:
        progress(done, len(files))
    # hashlib and file reads let go of the GIL: threads hash on both cores
    with ThreadPoolExecutor(HASH_THREADS) as threads:
        for chunk, shas in zip(chunks, threads.map(_hash_many, chunks), strict=True):
            done += len(chunk)
            if progress:
                progress(done, len(files))
            for path, sha in zip(chunk, shas, strict=True):
                if isinstance(sha, FileError):
                    plan.errors.append(sha)
                    continue
                post_id = by_file.get(sha)
                if post_id is None:
                    plan.to_parse.append(path)
                else:
                    plan.shas[path] = sha
                    _known_file(plan, post_id, path, locations.path(post_id), named)
    return plan


def record_files(
    layout: Layout, plan: Plan, known: FileStats, before: ShelfState, after: ShelfState
) -> None:
    """Record in ``file_stats`` the files of this import: those whose bytes the shelf held
    when they were planned, and those stored by this import (with the sha256 their worker
    read, after the stat was taken). A file that failed to parse is in neither, so it is
    read again next time and fails again, saying why. A line in the log when the import
    changed few records, else a new base."""
    locations = Locations.of(after.locations)
    shas = dict(plan.shas)
    if after.next_doc_id > before.next_doc_id:  # this import stored posts
        stored = locations.files_since(before.next_doc_id)
        shas.update((path, stored[path]) for path in plan.to_parse if path in stored)
    recorded = file_stats.recorded(plan.stats, shas, plan.taken_ns)
    changes = known.changes(plan.stats, recorded, plan.moved_from)
    if known.can_log(changes):
        if changes:
            file_stats.append(layout, known, changes)
        return
    entries = known.after(plan.stats, recorded, locations.by_file())
    if entries != known.entries or known.logged or known.base is None:
        file_stats.write(layout, entries)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _known_file(plan: Plan, post_id: str, path: str, old_path: str, named: set[str]) -> None:
    """A file whose bytes are stored: unchanged, moved, or a second copy."""
    plan.unchanged.append(post_id)
    if old_path == path or _same_file(old_path, path):  # e.g. ./posts/a.txt and /x/posts/a.txt
        return
    if old_path in named or os.path.exists(old_path):
        plan.warnings.append(
            f"{path}: same content as {old_path} (post {post_id}); already imported"
        )
    else:
        plan.moved[post_id] = path
        plan.moved_from.append(old_path)


@dataclass(slots=True)
class Shelved:
    """What phase 1 made: the next shelf state and catalog, and the report."""

    state: ShelfState
    catalog: Catalog | None  # None: the catalog did not change (nothing new, or moves only)
    report: ImportReport
    changed: bool  # anything to commit


def shelve(
    plan: Plan,
    state: ShelfState,
    load_catalog: Callable[[], Catalog],
    layout: Layout,
    pool: Executor | None,
    progress: Progress | None,
    keep_pool: bool = True,
) -> Shelved:
    """Phase 1: parse and store the planned files; nothing is committed here. The catalog
    is loaded only when files were parsed (a re-import of known files never needs it).

    Unless ``keep_pool`` (the caller derives the batch in it next), ``pool`` ends once the
    files are parsed: the catalog is built in this process, and idle workers added
    ~100 MB to the import's peak of memory at 100,000 posts."""
    report = ImportReport(errors=list(plan.errors), warnings=list(plan.warnings))
    report.unchanged.extend(plan.unchanged)
    report.moved.extend(plan.moved)
    tasks = [
        ShelveTask(
            plan.to_parse[start : start + SEGMENT_FILES],
            state.next_doc_id + number * SEGMENT_FILES,
            str(layout.segment_path(state.next_segment + number)),
        )
        for number, start in enumerate(range(0, len(plan.to_parse), SEGMENT_FILES))
    ]
    changes: dict[str, ShelvedPost] = {}
    segments = list(state.segments)
    done = 0
    if progress:
        progress(0, len(plan.to_parse))
    intern = Interner()
    for number, result in enumerate(run_tasks(pool, shelve_chunk, tasks)):
        report.errors.extend(result.errors)
        posts = result.posts(intern)
        for post in posts:
            report.warnings.extend(f"{post.path}: {w}" for w in post.warnings)
            if post.id in changes:
                report.warnings.append(
                    f"{post.path}: same id {post.id} as {changes[post.id].path}; this one kept"
                )
            changes[post.id] = post
        if posts:
            first = result.task.first_doc_id
            segments.append(
                Segment(state.next_segment + number, first, first + len(result.task.paths) - 1)
            )
        done += len(result.task.paths)
        if progress:
            progress(done, len(plan.to_parse))
    if pool is not None and not keep_pool:
        pool.shutdown(wait=True)
    locations = Locations.of(state.locations)
    changed: dict[str, Location] = {}  # post id -> its new location (moved, or parsed)
    history = {post_id: list(docs) for post_id, docs in state.history.items()}
    for post_id, path in plan.moved.items():
        old = locations[post_id]
        changed[post_id] = Location(old.doc_id, path, old.file_sha256)
    catalog = load_catalog() if changes else None
    entries = []
    for post_id, post in changes.items():
        assert catalog is not None
        old_sha = catalog.sha256(post_id) if post_id in catalog else None
        if old_sha is None:
            report.imported.append(post_id)
        elif old_sha == post.row["sha256"]:
            report.unchanged.append(post_id)  # other bytes, same text (line ends, a BOM)
        else:
            report.updated.append(post_id)
        if old_sha != post.row["sha256"]:
            before = changed.get(post_id) or locations.get(post_id)
            if before is not None:
                history.setdefault(post_id, []).append(before.doc_id)
        changed[post_id] = Location(post.doc_id, post.path, post.file_sha256)
        if old_sha != post.row["sha256"]:
            entries.append(IndexEntry(post_id, post.doc_id, post.row, post.fields, None))
    changes_seen = bool(changes)
    del changes, intern
    next_state = ShelfState(
        # the generation names the catalog: moves alone change only the shelf
        generation=state.generation + (1 if changes_seen else 0),
        next_doc_id=state.next_doc_id + len(tasks) * SEGMENT_FILES,
        next_segment=state.next_segment + len(tasks),
        segments=segments,
        locations=locations.updated(changed),
        history=history,
    )
    # the search index build allocates many objects, none cyclic: a GC pass is pure cost
    with no_gc_passes():
        new_catalog = (
            # no pool: phase 1's entries carry no similarity features to build in one
            catalog.updated(entries) if catalog is not None and entries else catalog
        )
        del entries
    return Shelved(next_state, new_catalog, report, bool(changes_seen or plan.moved))


def derive_tasks(state: ShelfState, catalog: Catalog, layout: Layout) -> list[DeriveTask]:
    """One task per segment holding a post whose hints and features are pending."""
    by_segment: dict[int, list[int]] = {}
    starts = [segment.first_doc_id for segment in state.segments]
    for post_id in catalog.pending:
        location = state.locations.get(post_id)
        if location is None:
            continue
        at = bisect.bisect_right(starts, location.doc_id) - 1
        if at >= 0 and location.doc_id <= state.segments[at].last_doc_id:
            by_segment.setdefault(state.segments[at].number, []).append(location.doc_id)
    return [
        DeriveTask(str(layout.segment_path(n)), str(layout.hints_path(n)), sorted(docs))
        for n, docs in sorted(by_segment.items())
    ]


def derive(
    tasks: list[DeriveTask], catalog: Catalog, pool: Executor | None, progress: Progress | None
) -> Catalog:
    """Phase 2: hints (written beside their segments) and similarity of pending posts.
    Ends ``pool``: nothing after phase 2 needs it."""
    hint_codes: dict[str, tuple[str, ...]] = {}
    features: dict[str, dict[str, Any]] = {}
    total = sum(len(task.doc_ids) for task in tasks)
    done = 0
    if progress:
        progress(0, total)
    results: Iterable[list[DerivedPost]] = run_tasks(pool, derive_segment, tasks)
    for task, derived in zip(tasks, results, strict=True):
        for post in derived:
            if post.id in catalog.pending:
                hint_codes[post.id] = post.hint_codes
                features[post.id] = post.features
        done += len(task.doc_ids)
        if progress:
            progress(done, total)
    if pool is not None:
        # What is left runs in this process, and the import's memory peaks in it: the
        # idle workers (~100 MB at 100,000 posts) end first.
        pool.shutdown(wait=True)
    return catalog.with_derived(hint_codes, features)


def collect(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[str], list[FileError]]:
    return collect_names(paths)


__all__ = [
    "Plan",
    "Shelved",
    "collect",
    "derive",
    "derive_tasks",
    "plan_import",
    "shelve",
    "start_workers_early",
    "worker_pool",
]
