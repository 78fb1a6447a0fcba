"""Stores of copydesk's first format (64 post shards, reviews.json + reviews-recent.json)
are converted to the current layout when a writing command opens them.

Everything is read through data-only readers (the old ``index.pickle`` is never loaded:
it is a derived cache, rebuilt from the records). The new files are written first; the
manifest switch is the commit point; the old files are then moved into
``FILE.d/format-1/``, kept for the user to delete.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from ..analysis import SEGMENT_FILES, write_segment
from ..errors import StoreError
from ..jsonstore import atomic_write_bytes, read_json, write_json
from ..reviews import ReviewBook, now_iso
from .decisions import DecisionLog, DecisionState
from .layout import FORMAT, MANIFEST_TABLE, Layout, Manifest
from .shelf import Location, PostShelf, Segment, ShelfState

LEGACY_SHARDS = 64
Warn = Callable[[str], None]


def migrate(layout: Layout, *, writable: bool, warn: Warn | None) -> Manifest:
    if not writable:
        raise StoreError(
            f"{layout.path}: a store of copydesk's first format; open it once with "
            "`copydesk` (or run `copydesk import`) to convert it, then run this again"
        )
    say = warn or (lambda message: None)
    data_dir = layout.data_dir
    records = _legacy_records(data_dir, say)
    decisions, conflicts, views = _legacy_decisions(data_dir, say)
    manifest = Manifest(FORMAT, uuid.uuid4().hex)
    layout.posts_dir.mkdir(parents=True, exist_ok=True)
    state = ShelfState(generation=1)
    locations: dict[str, Location] = {}
    state.locations = locations
    for start in range(0, len(records), SEGMENT_FILES):
        chunk = records[start : start + SEGMENT_FILES]
        number, first = state.next_segment, state.next_doc_id
        table: dict[str, bytes] = {}
        hints: dict[str, Any] = {}
        for offset, record in enumerate(chunk):
            doc_id = first + offset
            source = record.get("source") or {}
            path = str(source.get("path", ""))
            locations[record["id"]] = Location(doc_id, path, _file_sha(path))
            hints[str(doc_id)] = record.get("hints") or []
            table[str(doc_id)] = orjson.dumps(
                {
                    **{k: v for k, v in record.items() if k not in ("hints", "source")},
                    "source": {"sha256": str(source.get("sha256", ""))},
                }
            )
        write_segment(str(layout.segment_path(number)), table)
        atomic_write_bytes(
            layout.hints_path(number), orjson.dumps({"hints": hints}), keep_backup=False
        )
        state.segments.append(Segment(number, first, first + len(chunk) - 1))
        state.next_segment += 1
        state.next_doc_id += SEGMENT_FILES
    PostShelf(layout, manifest.store_id, writable=True, warn=say).commit(state)
    log = DecisionLog(data_dir, manifest.store_id, writable=True, warn=say)
    log.start_over(DecisionState(0, decisions, conflicts, views), why="migrated from format 1")
    doc = {"format": FORMAT, "store": manifest.store_id, "created": now_iso(), "migrated": 1}
    write_json(layout.path, {MANIFEST_TABLE: {"1": doc}})  # the commit point
    _move_aside(layout)
    say(
        f"{layout.path}: converted to the current store format ({len(records)} posts, "
        f"{len(decisions)} decisions); the old files are in {data_dir / 'format-1'}"
    )
    return manifest


def _legacy_records(data_dir: Path, warn: Warn) -> list[dict[str, Any]]:
    by_id: dict[str, tuple[int, dict[str, Any]]] = {}
    for shard in range(LEGACY_SHARDS):
        path = data_dir / f"posts-{shard:02d}.json"
        if not path.exists() and not Path(str(path) + ".bak").exists():
            continue
        data = read_json(path, warn=warn) or {}
        posts = data.get("posts")
        for doc_id, record in posts.items() if isinstance(posts, dict) else ():
            if isinstance(record, dict) and isinstance(record.get("id"), str):
                number = int(doc_id) if str(doc_id).isdigit() else 0
                if record["id"] not in by_id or by_id[record["id"]][0] < number:
                    by_id[record["id"]] = (number, record)
    return [record for _, record in sorted(by_id.values(), key=lambda item: item[0])]


def _legacy_decisions(data_dir: Path, warn: Warn) -> tuple[dict[str, Any], list[Any], list[Any]]:
    book = ReviewBook(data_dir / "reviews.json", warn=warn)
    try:
        decisions = dict(book.all())
        return decisions, book.conflict_records(), book.view_records()
    finally:
        book.close()


def _file_sha(path: str) -> str:
    """The sha256 of the file's bytes when it is still there ("" when not: the next import
    parses it once)."""
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return ""


def _move_aside(layout: Layout) -> None:
    old = layout.data_dir / "format-1"
    old.mkdir(exist_ok=True)
    for path in layout.data_dir.iterdir():
        name = path.name
        legacy = name.startswith(("posts-", "reviews", "index.pickle", ".")) and path.is_file()
        if legacy:
            os.replace(path, old / name)
    backup = Path(str(layout.path) + ".bak")
    if backup.exists():
        os.replace(backup, old / backup.name)
