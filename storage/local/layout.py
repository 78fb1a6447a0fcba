"""Where a local store's files are, and whether a path is a copydesk store at all.

``--db FILE`` names the manifest; everything else lives in ``FILE.d/``::

    FILE                      manifest: {"copydesk": {"1": {"format", "store", "created"}}}
    FILE.d/shelf.json         the post shelf's commit record: segments, post locations
    FILE.d/posts/NNNNNN.json  post records, one TinyDB document per segment, written once
    FILE.d/posts/NNNNNN.hints.json  review hints of a segment's posts (computed later)
    FILE.d/decisions.json     decisions checkpoint        } see decisions.py
    FILE.d/journal*.jsonl     the mirrored decision journal }
    FILE.d/index-G.cdx        derived: the catalog (storage/catalog.py) of shelf generation G
    FILE.d/search-G.cdx       derived: its search index, read on first use (a later
                              generation's catalog may name an earlier one's file)
    FILE.d/near-dups-G.json   derived: near-duplicate hints by post, for one-post commands
    FILE.d/file-stats.json    cache: the stat and sha256 of each file imported } see
    FILE.d/file-stats.log     cache: the imports since, a line each            } file_stats.py
    FILE.lock                 writers' lock

copydesk writes only into a store it created: an existing ``FILE`` must carry the
manifest's ``copydesk`` table (format 1 stores carry a ``store`` table with their format),
else opening refuses it before anything is written, unless ``FILE.d`` holds a store (then
``FILE`` is a damaged manifest: recovered from ``FILE.bak``, or rebuilt from the store id
that ``FILE.d``'s journal, shelf and checkpoint record; never a new empty store over it).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import StoreCorruptError, StoreError
from ..jsonstore import backup_path, read_json, write_json
from ..reviews import now_iso
from .journal import MIRROR_NAME, PRIMARY_NAME, decode

# 3: shelf.json may be in its format 2 (the locations as one text), which a copydesk of
# store format 2 would take for damage (and go back to the .bak). A store becomes format 3
# at its first writable open, before any shelf of format 2 is written, so that an older
# copydesk refuses it as written by a newer one instead.
FORMAT = 3
READ_FORMATS = (2, 3)
LEGACY_FORMAT = 1
MANIFEST_TABLE = "copydesk"
LEGACY_MANIFEST_TABLE = "store"


class NotAStoreError(StoreError):
    """``--db`` names a file copydesk did not create."""


class StoreMissingError(StoreError):
    """A read-only command named a store that does not exist."""


@dataclass(frozen=True, slots=True)
class Manifest:
    format: int
    store_id: str


@dataclass(frozen=True, slots=True)
class Layout:
    path: Path

    @property
    def data_dir(self) -> Path:
        return self.path.with_name(self.path.name + ".d")

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @property
    def posts_dir(self) -> Path:
        return self.data_dir / "posts"

    @property
    def shelf_path(self) -> Path:
        return self.data_dir / "shelf.json"

    def segment_path(self, number: int) -> Path:
        return self.posts_dir / f"{number:06d}.json"

    def hints_path(self, number: int) -> Path:
        return self.posts_dir / f"{number:06d}.hints.json"


def _manifest_problem(data: dict[str, Any]) -> str | None:
    table = data.get(MANIFEST_TABLE)
    if isinstance(table, dict):
        doc = table.get("1")
        if not isinstance(doc, dict) or not isinstance(doc.get("store"), str):
            return "a copydesk manifest without a store id"
        if doc.get("format") not in READ_FORMATS:
            return f"store format {doc.get('format')!r}; this copydesk reads {READ_FORMATS}"
        return None
    legacy = data.get(LEGACY_MANIFEST_TABLE)
    if isinstance(legacy, dict) and isinstance(legacy.get("1"), dict):
        if legacy["1"].get("format") == LEGACY_FORMAT:
            return None
    return "not a copydesk store"


def _is_ours(raw: bytes) -> bool:
    """Whether a manifest's bytes (damaged or not) look like a copydesk manifest at all."""
    return b'"copydesk"' in raw[:4096] or b'"store":{"1":{"format":1' in raw[:4096]


def read_manifest(layout: Layout, *, writable: bool, warn: Any) -> Manifest | None:
    """The manifest, None when there is no store at ``layout.path``.

    Raises ``NotAStoreError`` for a file copydesk did not create (an ordinary JSON file,
    another store's shard, an empty file): nothing is written then. A manifest that is
    missing or damaged beside a data directory holding a store is recovered from its
    ``.bak``, else rebuilt from the store id the data directory's files record.
    """
    path = layout.path
    if path.is_dir():
        raise StoreError(f"{path}: is a directory; --db takes a file name")
    exists, bak = path.exists(), backup_path(path)
    if not exists and not bak.exists():
        return _rebuilt(layout, "missing", writable=writable, warn=warn)
    if exists:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise StoreError(f"{path}: cannot read ({exc.strerror or exc})") from exc
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
        newer = _newer_format(data)
        if newer is not None:  # not damage: never "recovered" from an older .bak
            raise StoreError(
                f"{path}: store format {newer}, written by a newer copydesk (this one reads "
                f"{FORMAT}); upgrade copydesk to open it"
            )

        def damaged_store() -> bool:  # FILE is not ours, unless FILE.d holds a store
            return layout.data_dir.is_dir() and (
                _valid_manifest(bak) or _data_dir_store(layout) is not None
            )

        if isinstance(data, dict) and _manifest_problem(data) == "not a copydesk store":
            if not damaged_store():
                raise NotAStoreError(
                    f"{path}: not a copydesk store (copydesk only writes to stores it "
                    "created); name a new file to create a store"
                )
        elif data is not None and not isinstance(data, dict):
            if not damaged_store():
                raise NotAStoreError(
                    f"{path}: not a copydesk store (JSON, but not an object); copydesk only "
                    "writes to stores it created"
                )
        elif data is None and not (_is_ours(raw) and layout.data_dir.is_dir()):
            if not damaged_store():
                raise NotAStoreError(
                    f"{path}: not a copydesk store ({'empty' if not raw.strip() else 'not JSON'}); "
                    "copydesk only writes to stores it created"
                )
    try:
        data = read_json(path, warn=warn, validate=_manifest_problem, writable=writable)
    except StoreCorruptError as exc:
        rebuilt = _rebuilt(layout, exc.reason, writable=writable, warn=warn)
        if rebuilt is None:
            raise
        return rebuilt
    if data is None:
        return None
    if MANIFEST_TABLE in data:
        doc = data[MANIFEST_TABLE]["1"]
        return Manifest(doc["format"], doc["store"])
    return Manifest(LEGACY_FORMAT, "")


def _newer_format(data: Any) -> int | None:
    doc = data.get(MANIFEST_TABLE) if isinstance(data, dict) else None
    doc = doc.get("1") if isinstance(doc, dict) else None
    number = doc.get("format") if isinstance(doc, dict) else None
    return number if type(number) is int and number > FORMAT else None


def _valid_manifest(path: Path) -> bool:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(data, dict) and _manifest_problem(data) is None


def _data_dir_store(layout: Layout) -> str | None:
    """The store id the data directory's own files record ("" for a format 1 store's
    files), None when it holds no store. ``StoreCorruptError`` when its files name
    several stores."""
    directory = layout.data_dir
    if not directory.is_dir():
        return None
    found: dict[str, str] = {}  # store id -> a file that names it
    for name in (PRIMARY_NAME, MIRROR_NAME):
        try:
            with open(directory / name, "rb") as handle:
                record = decode(handle.readline(1 << 16).rstrip(b"\n"))
        except OSError:
            continue
        if record is not None and record["seq"] == 0 and isinstance(record.get("store"), str):
            found.setdefault(record["store"], name)
    # the current files first; a .bak only when none of them names a store (a .bak can be
    # the previous generation of another store id, after a conversion ran twice)
    for candidates in (("shelf.json", "decisions.json"), ("shelf.json.bak", "decisions.json.bak")):
        if found:
            break
        for name in candidates:
            try:
                data = orjson.loads((directory / name).read_bytes())
                table = "shelf" if name.startswith("shelf") else "checkpoint"
                store = data[table]["1"]["store"]
            except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
                continue
            if isinstance(store, str):
                found.setdefault(store, name)
    if len(found) > 1:
        names = ", ".join(sorted(found.values()))
        raise StoreCorruptError(
            layout.path,
            f"missing or damaged, and the files in {directory.name} belong to different "
            f"stores ({names}); restore {layout.path.name} from a backup",
        )
    if found:
        return next(iter(found))
    if any(directory.glob("posts-*.json")) or (directory / "reviews.json").exists():
        return ""
    return None


def _rebuilt(layout: Layout, reason: str, *, writable: bool, warn: Any) -> Manifest | None:
    """The manifest of the store the data directory holds (``reason``: what is wrong with
    the manifest file), written again when ``writable``; None when it holds none."""
    store_id = _data_dir_store(layout)
    if store_id is None:
        return None
    path = layout.path
    if store_id == "":  # a format 1 store: its conversion writes the new manifest
        if warn is not None:
            warn(f"{path}: {reason}; {layout.data_dir.name} holds a store of the first format")
        return Manifest(LEGACY_FORMAT, "")
    if writable:
        if path.exists():
            os.replace(
                path, path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
            )
        doc = {"format": FORMAT, "store": store_id, "created": now_iso(), "rebuilt": True}
        write_json(path, {MANIFEST_TABLE: {"1": doc}}, keep_backup=False)
        done = f"rebuilt it from {layout.data_dir.name} (store {store_id})"
    else:
        done = f"read the store in {layout.data_dir.name} as it is (a writing command rebuilds it)"
    if warn is not None:
        warn(f"{path}: {reason}; {done}")
    return Manifest(FORMAT, store_id)


def upgrade_manifest(layout: Layout, manifest: Manifest) -> Manifest:
    """The manifest of a store of an older ``READ_FORMATS`` entry rewritten as ``FORMAT``
    (on a writable open: see ``FORMAT``); the rest of its table is kept."""
    if manifest.format >= FORMAT:
        return manifest
    data = read_json(layout.path, validate=_manifest_problem, writable=True)
    doc = dict(data[MANIFEST_TABLE]["1"]) if data is not None else {"store": manifest.store_id}
    doc.update(format=FORMAT, upgraded=now_iso())
    write_json(layout.path, {MANIFEST_TABLE: {"1": doc}})
    return Manifest(FORMAT, manifest.store_id)


def new_store_id() -> str:
    import uuid  # a new store only

    return uuid.uuid4().hex


def make_dirs(layout: Layout) -> None:
    layout.path.parent.mkdir(parents=True, exist_ok=True)
    layout.data_dir.mkdir(exist_ok=True)
    layout.posts_dir.mkdir(exist_ok=True)


def create_manifest(layout: Layout, store_id: str | None = None) -> Manifest:
    """Create the manifest of a new store (the path must not exist): the last file a new
    store gets, so that a store whose creation died has no manifest that claims more."""
    manifest = Manifest(FORMAT, store_id or new_store_id())
    make_dirs(layout)
    doc = {"format": FORMAT, "store": manifest.store_id, "created": now_iso()}
    write_json(layout.path, {MANIFEST_TABLE: {"1": doc}})
    return manifest


def can_create(path: Path) -> None:
    """Raise ``StoreError`` when a store cannot be created at ``path``."""
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{parent}: cannot create the store directory ({exc})") from exc
    if not os.access(parent, os.W_OK):
        raise StoreError(f"{parent}: not writable; cannot create a store there")
