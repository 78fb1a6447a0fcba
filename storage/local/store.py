"""The local store: one reviewer's TinyDB files (see layout.py for what lives where).

``LocalStore`` is split by job: the posts and opening (this module), the import and its
repair (``store_imports``), decisions, views and merges (``store_decisions``), over the
state and locks they share (``store_base``). The parts they compose, each with one job:
the manifest (``layout``), the post shelf (``shelf``), the decision log (``decisions``),
the derived catalog files (``index_files``) and the import steps (``importing``).

A store opened read-only (``writable=False``) writes nothing at all: no lock files, no
recovered files, no rebuilt caches.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import StoreCorruptError
from ..models import StoredPost
from ..paths import default_db_path
from . import index_files
from .decisions import DecisionLog
from .layout import (
    LEGACY_FORMAT,
    Layout,
    StoreMissingError,
    can_create,
    create_manifest,
    make_dirs,
    new_store_id,
    read_manifest,
    upgrade_manifest,
)
from .store_base import Warn
from .store_decisions import LocalDecisions
from .store_imports import LocalImports

if TYPE_CHECKING:  # the catalog and the import load on first use: a one-post command
    # (`copydesk show`, `review`) needs neither, and they cost ~0.1 s of imports
    from ..catalog import BodyContains

PHRASES_REMEMBERED = 8  # quoted phrases whose body scans are kept (see _body_contains)


class LocalStore(LocalImports, LocalDecisions):
    """Open with ``LocalStore.open(path)``; see the module docstring."""

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
        if writable:  # before anything of the newer format is written
            manifest = upgrade_manifest(layout, manifest)
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

    def stop_waiting(self) -> None:
        """Nothing waits for a server here (file locks time out by themselves)."""

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ posts

    def __len__(self) -> int:
        return len(self._shelf.state.locations)

    def __contains__(self, post_id: object) -> bool:
        return post_id in self._shelf.state.locations

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


def _body_holds(body: Any, phrase: str) -> bool:
    """Whether a text, list item or image caption of ``body`` holds ``phrase`` (lower case)."""
    for block in body if isinstance(body, list) else ():
        if not isinstance(block, dict):
            continue
        parts = block.get("items") or [block.get("text") or block.get("caption") or ""]
        if any(phrase in str(p).lower() for p in parts):
            return True
    return False
