"""A local store's import (both phases, under ``FILE.import.lock``) and its repair:
the writers of post segments, the shelf and the derived files (see importing.py)."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import StoreError
from ..jsonstore import remove_stale_temp_files
from ..models import ImportReport
from ..nogc import no_gc_passes
from ..paths import samples_dir
from . import file_stats, index_files
from .decisions import DecisionState

if TYPE_CHECKING:  # the catalog and the import load on first use: a one-post command
    # (`copydesk show`, `review`) needs neither, and they cost ~0.1 s of imports
    from ..catalog import Catalog

from .store_base import LOCK_TIMEOUT_S, LocalStoreBase, Progress, _acquire

# An import that leaves at most this many posts pending derives them before it commits:
# a commit rewrites the whole catalog (~0.5 s at 100,000 posts), and a second one cost more
# than deriving 1,000 posts does (0.3 s); a bigger import commits its posts first, so that
# they are reviewable while their hints and similarity are computed.
DERIVE_BEFORE_COMMIT = 5000


class LocalImports(LocalStoreBase):
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
        ``finish_derived`` then computes their hints and similarity (a batch of at most
        ``DERIVE_BEFORE_COMMIT`` posts has them computed before it returns all the same)."""
        from . import importing

        files, errors = importing.collect(paths)
        # An import makes many objects and no cycle (the workers' results, their
        # locations and entries, the file records): GC passes over its growing heap are
        # pure cost (~0.25 s of 1,000 posts into 100,000; ~28% of the importing process's
        # CPU in a 30,000-file import's phase 1, 2.0 of 7.1 s).
        with self._importing(), no_gc_passes():
            self._reload_shelf()
            state = self._shelf.state
            self._remove_litter()
            known = file_stats.FileStats.read(self.layout)
            # files to read: the server the workers fork from starts while the plan goes on
            plan = importing.plan_import(
                files, state, progress, known, importing.start_workers_early
            )
            plan.errors[:0] = errors
            # a small batch is derived before its one commit, in the same workers
            small = len(plan.to_parse) <= DERIVE_BEFORE_COMMIT
            # files to parse: the catalog is read while the workers parse them
            catalog_of = self._catalog_read_ahead() if plan.to_parse else self._catalog
            with importing.worker_pool(len(plan.to_parse)) as pool:
                shelved = importing.shelve(
                    plan, state, catalog_of, self.layout, pool, progress, keep_pool=small
                )
                catalog, shelved.catalog = shelved.catalog, None  # held here only
                if (
                    small
                    and catalog is not None
                    and 0 < len(catalog.pending) <= DERIVE_BEFORE_COMMIT
                ):
                    tasks = importing.derive_tasks(shelved.state, catalog, self.layout)
                    catalog = importing.derive(tasks, catalog, pool, derive_progress)
            # The workers have ended: the commit is where the import's memory peaks (the
            # catalog and its bytes), and idle workers added ~100 MB to it at 100,000
            # posts. Phase 2 starts workers of its own (~0.1 s).
            if shelved.changed:
                self._commit(shelved.state, catalog)
            phase_two = catalog is not None and bool(catalog.pending)
            del catalog
            if phase_two:
                self._let_go_of_phase_one()
            importing.record_files(self.layout, plan, known, state, self._shelf.state)
            if not shelved.changed:
                self._save_a_stale_catalog(progress)
            if derive:
                self._derive_pending(derive_progress)
        return shelved.report

    def _save_a_stale_catalog(self, progress: Progress | None) -> None:
        """An import that changed nothing still builds and saves a catalog that is
        missing or of other code (after an upgrade), once: commands that only read build
        it for themselves each time and say that the next import does it for good."""
        generation = self._shelf.state.generation
        if generation and not index_files.catalog_is_current(self.layout, generation):
            self._loaded = None
            self._catalog(progress=progress)

    def _let_go_of_phase_one(self) -> None:
        """Drop the catalog phase 1 built, once committed, and give the memory back.

        Built from the workers' results, its objects lie scattered among those freed
        since: the process held ~425 MB at 100,000 posts for ~100 MB of live data. Phase 2
        reads the catalog back from its file (~0.4 s; its search index is copied from
        ``search-G.cdx`` when phase 2 commits, never decoded), compactly: the process goes
        into phase 2 at ~330 MB."""
        from ..heap import give_back_free_memory  # ctypes: not for one-post commands

        self._loaded = None
        gc.collect()
        give_back_free_memory()

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
            with self._importing(timeout=-1 if wait else 0), no_gc_passes():
                self._reload_shelf()
                segments = self._shelf.state.segments
                lost = [s for s in segments if not self._shelf.hints_sound(s)]
                if not lost and not self.derived_pending:
                    return True  # every segment's hints are committed: nothing is pending
                self._derive_pending(progress)
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

    def _derive_pending(self, progress: Progress | None) -> None:
        """Import phase 2 for every pending post, in a worker pool of its own."""
        from . import importing

        pending = len(self._catalog().pending)
        if pending:
            with importing.worker_pool(pending) as pool:
                self._derive(pool, progress)

    def _derive(self, pool: Any, progress: Progress | None) -> None:
        from . import importing

        catalog = self._catalog()
        if not catalog.pending:
            return
        tasks = importing.derive_tasks(self._shelf.state, catalog, self.layout)
        derived = importing.derive(tasks, catalog, pool, progress)
        # the catalog before phase 2 is not written again: let go of it before the
        # commit, where the import's memory peaks
        del catalog
        self._loaded = None
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
            search = index_files.write_catalog(self.layout, state.generation, catalog)
            index_files.write_near_dups(self.layout, state.generation, catalog)
        with self._write_lock():
            self._shelf.commit(state)
        if catalog is not None:
            self._loaded, self._loaded_generation = catalog, state.generation
            index_files.remove_other_generations(self.layout, state.generation, search)

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
