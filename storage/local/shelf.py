"""The post shelf of a local store: segment files of post records, and ``shelf.json``.

Each import writes its posts as new segment files (``posts/NNNNNN.json``, one TinyDB
document each, written once and never changed), so a day's batch writes a batch, whatever
the store holds. ``shelf.json`` is the commit record: the segments and, per post id, where
its current record is (doc id), the path it was imported from and that file's sha256. An
import is visible once ``shelf.json`` is written (atomically, previous generation kept as
``.bak``); segments not named there are leftovers of an import that died, removed by the
next writer. A re-imported post gets a new doc id in a new segment: its old record stays
behind, unread.

Review hints are computed after the posts are stored (``storage/analysis.py``): a
segment's hints file (``NNNNNN.hints.json``) exists once they are.
"""

from __future__ import annotations

import bisect
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, KeysView, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..analysis import read_segment, valid_hint, valid_record
from ..errors import StoreCorruptError
from ..jsonstore import backup_path, read_json, write_json
from .layout import Layout

SHELF_FORMAT = 2  # 2: the locations as rows (see Locations); 1: as four lists
READABLE_FORMATS = (1, 2)


class ShelfLostError(StoreCorruptError):
    """``shelf.json`` is gone (with its ``.bak``) while post segments remain."""


SEGMENTS_CACHED = 3  # parsed segments kept for reading posts one by one

Warn = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Location:
    doc_id: int
    path: str
    file_sha256: str


@dataclass(frozen=True, slots=True)
class Segment:
    number: int
    first_doc_id: int
    last_doc_id: int


FOUND_KEPT = 64  # posts a rows-backed Locations remembers having looked up


@dataclass(slots=True)
class _Columns:
    ids: list[str]
    doc_ids: list[int]
    paths: list[str]
    shas: list[str]
    index: dict[str, int]


class Locations(Mapping[str, Location]):
    """Post id -> ``Location``.

    Two forms, one mapping. Columns (ids, doc ids, paths, file sha256s, and an index) for
    the commands that go through every post (an import, the catalog's check). Or, as
    ``shelf.json`` (format 2) holds them, one text of rows, ``id TAB doc_id TAB path TAB
    sha256`` each, which a one-post command (`copydesk show`, `review`) searches for its
    post without splitting the rest: a fresh process reads, parses, checks and searches
    100,000 of them in ~0.05 s, where the four JSON lists of format 1 took ~0.1 s to parse,
    check and index. The columns are made from the rows on first need of them.

    Rows cannot hold a tab or a newline: a store with such an id or path keeps the four
    lists (``to_data``). The rows are covered by a crc32 (with the post count) in the
    file, checked when it is read, so an edited or damaged row fails the read like any
    other wrong shape and the ``.bak`` is read instead.
    """

    __slots__ = ("_columns", "_count", "_found", "_rows", "_source")

    def __init__(
        self, ids: list[str], doc_ids: list[int], paths: list[str], shas: list[str]
    ) -> None:
        index = dict(zip(ids, range(len(ids)), strict=True))
        self._columns: _Columns | None = _Columns(ids, doc_ids, paths, shas, index)
        self._count = len(ids)
        self._rows: str | None = None
        self._source = Path()
        self._found: dict[str, Location | None] = {}

    @classmethod
    def from_rows(cls, rows: str, count: int, source: Path) -> Locations:
        """The locations of ``count`` rows (``to_data``'s "rows", already checked against
        its crc32); ``source`` is the file named if a row turns out malformed."""
        self = cls.__new__(cls)
        self._columns, self._count, self._rows, self._source = None, count, rows, source
        self._found = {}
        return self

    @classmethod
    def from_data(cls, data: dict[str, Any], count: int, source: Path) -> Locations:
        """What ``to_data`` wrote (either form; ``problem`` found nothing wrong)."""
        if "rows" in data:
            return cls.from_rows(data["rows"], count, source)
        return cls(data["ids"], data["doc_ids"], data["paths"], data["file_sha256"])

    @classmethod
    def of(cls, locations: Mapping[str, Location]) -> Locations:
        if isinstance(locations, Locations):
            return locations
        values = list(locations.values())
        return cls(
            list(locations),
            [v.doc_id for v in values],
            [v.path for v in values],
            [v.file_sha256 for v in values],
        )

    def updated(self, changes: Mapping[str, Location]) -> Locations:
        """These locations with ``changes`` made (a post's location replaced, or a new
        post's added after the others); this one is unchanged. Column copies at C level:
        an import of 1,000 files into a 100,000-post store made a dict of every post's
        ``Location`` to change a few (~0.3 s)."""
        if not changes:
            return self
        columns = self._all()
        ids, doc_ids = list(columns.ids), list(columns.doc_ids)
        paths, shas, index = list(columns.paths), list(columns.shas), dict(columns.index)
        for post_id, location in changes.items():
            at = index.get(post_id)
            if at is None:
                index[post_id] = len(ids)
                ids.append(post_id)
                doc_ids.append(location.doc_id)
                paths.append(location.path)
                shas.append(location.file_sha256)
            else:
                doc_ids[at], paths[at], shas[at] = (
                    location.doc_id,
                    location.path,
                    location.file_sha256,
                )
        made = Locations.__new__(Locations)
        made._columns = _Columns(ids, doc_ids, paths, shas, index)
        made._count, made._source, made._found = len(ids), self._source, {}
        # Every change a new post, and these rows' text known: this text and the new
        # rows' (the shelf commit wrote every row again, ~0.1 s at 100,000 posts).
        made._rows, before = None, len(columns.ids)
        if self._rows is not None and len(ids) - before == len(changes):
            added = _rows_text(made._columns, before)
            if added is not None:
                made._rows = f"{self._rows}\n{added}" if before else added
        return made

    # ------------------------------------------------------------------ one post

    def _find(self, post_id: str) -> Location | None:
        columns = self._columns
        if columns is not None:
            at = columns.index.get(post_id)
            if at is None:
                return None
            return Location(columns.doc_ids[at], columns.paths[at], columns.shas[at])
        if post_id in self._found:
            return self._found[post_id]
        found = self._search(post_id)
        if len(self._found) >= FOUND_KEPT:
            self._found.clear()
        self._found[post_id] = found
        return found

    def _search(self, post_id: str) -> Location | None:
        """The row of ``post_id`` in the rows text, found without splitting it."""
        rows = self._rows
        if not isinstance(post_id, str) or rows is None or "\t" in post_id or "\n" in post_id:
            return None  # no row holds such an id
        key = post_id + "\t"
        if rows.startswith(key):
            start = 0
        else:
            at = rows.find("\n" + key)
            if at < 0:
                return None
            start = at + 1
        end = rows.find("\n", start)
        fields = rows[start : end if end >= 0 else len(rows)].split("\t")
        if len(fields) != 4 or not _is_number(fields[1]):
            raise self._damaged(f"the row of post {post_id} is malformed")
        return Location(int(fields[1]), fields[2], fields[3])

    def __getitem__(self, post_id: str) -> Location:
        found = self._find(post_id)
        if found is None:
            raise KeyError(post_id)
        return found

    def __contains__(self, post_id: object) -> bool:
        return isinstance(post_id, str) and self._find(post_id) is not None

    def doc_id(self, post_id: str) -> int:
        columns = self._columns
        if columns is not None:  # no Location made: loops over every post call this
            return columns.doc_ids[columns.index[post_id]]
        return self[post_id].doc_id

    def path(self, post_id: str) -> str:
        columns = self._columns
        if columns is not None:
            return columns.paths[columns.index[post_id]]
        return self[post_id].path

    def __len__(self) -> int:
        return self._count

    # ------------------------------------------------------------------ every post

    def _all(self) -> _Columns:
        """The columns, made from the rows on first use."""
        if self._columns is not None:
            return self._columns
        rows = self._rows or ""
        flat = rows.replace("\n", "\t").split("\t") if self._count else []
        if len(flat) != 4 * self._count:
            raise self._damaged(f"{len(flat) / 4:g} rows where {self._count} posts were listed")
        numbers = flat[1::4]
        if not _all_numbers(numbers):
            raise self._damaged("a doc id is not a number")
        ids = flat[0::4]
        index = dict(zip(ids, range(len(ids)), strict=True))
        if len(index) != len(ids):
            raise self._damaged("a post id is listed twice")
        self._columns = _Columns(ids, list(map(int, numbers)), flat[2::4], flat[3::4], index)
        # the rows text is kept (an import's ``updated`` appends to it); lookups go to the
        # columns from here on
        self._found = {}
        return self._columns

    def _damaged(self, reason: str) -> StoreCorruptError:
        return StoreCorruptError(
            self._source, f"{reason}; run `copydesk repair` to rebuild it from the post segments"
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._all().ids)

    def keys(self) -> KeysView[str]:
        """The ids as a dict's keys: compared with a set in C (the Mapping default looks
        up each id, making a Location of each: 0.36 s at 100,000 posts, at every open)."""
        return self._all().index.keys()

    def by_file(self) -> dict[str, str]:
        """File sha256 -> post id (of the last post imported from such a file)."""
        columns = self._all()
        return dict(zip(columns.shas, columns.ids, strict=True))

    def files_since(self, doc_id: int) -> dict[str, str]:
        """Path -> file sha256 of the posts stored at ``doc_id`` or later."""
        columns = self._all()
        return {
            path: sha
            for at, path, sha in zip(columns.doc_ids, columns.paths, columns.shas, strict=True)
            if at >= doc_id
        }

    # ------------------------------------------------------------------ shelf.json

    def to_data(self) -> dict[str, Any]:
        """The rows and their crc32, or the four lists when a value holds a tab or a
        newline (or there are no posts)."""
        if self._rows is not None:
            return {"rows": self._rows, "crc32": rows_crc32(self._count, self._rows)}
        columns = self._all()
        count = len(columns.ids)
        rows = _rows_text(columns, 0) if count else None
        if rows is not None:
            return {"rows": rows, "crc32": rows_crc32(count, rows)}
        return {
            "ids": columns.ids,
            "doc_ids": columns.doc_ids,
            "paths": columns.paths,
            "file_sha256": columns.shas,
        }

    @staticmethod
    def problem(data: Any, count: Any) -> str | None:
        """Why ``data`` is not what ``to_data`` writes for ``count`` posts, or None."""
        if not isinstance(data, dict):
            return "no locations"
        if "rows" in data:
            rows, crc = data["rows"], data.get("crc32")
            if not isinstance(rows, str) or type(crc) is not int or type(count) is not int:
                return "the location rows are not text with a crc32"
            if rows_crc32(count, rows) != crc:
                return f"the location rows of {count} posts do not match their crc32"
            return None
        columns = [data.get(key) for key in ("ids", "doc_ids", "paths", "file_sha256")]
        if not all(isinstance(column, list) for column in columns):
            return "a locations column is missing"
        ids, doc_ids, paths, shas = columns
        if not len(ids) == len(doc_ids) == len(paths) == len(shas):  # type: ignore[arg-type]
            return "locations columns of different lengths"
        if not (set(map(type, ids)) <= {str} and set(map(type, paths)) <= {str}):  # type: ignore[arg-type]
            return "a post id or path is not text"
        if not (set(map(type, doc_ids)) <= {int} and set(map(type, shas)) <= {str}):  # type: ignore[arg-type]
            return "a doc id is not a number"
        if len(set(ids)) != len(ids):  # type: ignore[arg-type]
            return "a post id is listed twice"
        if count != len(ids):  # type: ignore[arg-type]
            return f"holds {len(ids)} posts, its header says {count}"  # type: ignore[arg-type]
        return None


CRC_CHUNK = 1 << 16  # characters encoded at a time: small blocks are reused, where one
# 15 MB copy of the rows costs a fresh process ~10 ms of page faults


def rows_crc32(count: int, rows: str) -> int:
    """The crc32 of the post count (a line) and the location rows (UTF-8)."""
    crc = zlib.crc32(b"%d\n" % count)
    for start in range(0, len(rows), CRC_CHUNK):
        chunk = rows[start : start + CRC_CHUNK].encode("utf-8", "surrogatepass")
        crc = zlib.crc32(chunk, crc)
    return crc


def _rows_text(columns: _Columns, start: int) -> str | None:
    """The rows text (``id TAB doc_id TAB path TAB sha256`` a line) of the posts from
    ``start`` on; None when an id or path holds a tab or a newline (the four lists are
    written then)."""
    count = len(columns.ids) - start
    rows = "\n".join(
        f"{post_id}\t{doc_id}\t{path}\t{sha}"
        for post_id, doc_id, path, sha in zip(
            columns.ids[start:],
            columns.doc_ids[start:],
            columns.paths[start:],
            columns.shas[start:],
            strict=True,
        )
    )
    return rows if rows.count("\t") == 3 * count and rows.count("\n") == count - 1 else None


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _all_numbers(texts: list[str]) -> bool:
    """``all(map(_is_number, texts))`` at C level (a call per row was ~0.03 s of every
    100,000-row read): every text non-empty, and all of them joined ASCII digits."""
    joined = "".join(texts)
    return all(texts) and (not texts or (joined.isascii() and joined.isdigit()))


@dataclass(slots=True)
class ShelfState:
    """What ``shelf.json`` holds."""

    generation: int = 0
    next_doc_id: int = 1
    next_segment: int = 1
    segments: list[Segment] = field(default_factory=list)
    locations: Mapping[str, Location] = field(default_factory=dict)
    # post id -> the doc ids of its earlier versions, oldest first: what a decision was
    # made on stays readable after a re-import changed the post ("what changed")
    history: dict[str, list[int]] = field(default_factory=dict)
    # posts whose hints and similarity this generation's catalog still waits for (import
    # phase 2); None in a shelf written before it was recorded. Phase 2 writes hints files
    # before it commits, so those files cannot say whether it did.
    derived_pending: int | None = None

    def by_file(self) -> dict[str, str]:
        """File sha256 -> post id (of the last post imported from such a file)."""
        return Locations.of(self.locations).by_file()


class PostShelf:
    """Reads post records and commits imports; see the module docstring."""

    def __init__(self, layout: Layout, store_id: str, *, writable: bool, warn: Warn) -> None:
        self.layout = layout
        self.store_id = store_id
        self.writable = writable
        self._warn = warn
        self.state = ShelfState()
        self._starts: list[int] = []
        self._signature: tuple[int, int, int] | None = None
        self.adopted = False  # load() took in posts of segments the shelf did not name
        # posts_digest of the shelf's posts as committed (None: a shelf written before it
        # was recorded, or one that took posts back in)
        self.posts_digest: str | None = None
        self._segments: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._hints: OrderedDict[int, dict[str, Any]] = OrderedDict()

    # ------------------------------------------------------------------ shelf.json

    def load(self) -> ShelfState:
        """Read ``shelf.json``. Segments it does not name are a dead import's leftovers,
        unless the shelf came back from an older ``.bak``: then they hold posts committed
        since, which are taken back in (named in a warning). ``ShelfLostError`` when
        neither ``shelf.json`` nor its ``.bak`` is there but segments are."""
        path = self.layout.shelf_path
        recovered: list[str] = []
        data = read_json(
            path,
            warn=self._warn,
            validate=self._problem,
            writable=self.writable,
            advice="Restore it from a backup, or run `copydesk repair` to rebuild it from "
            "the post segments (decisions are kept).",
            recovered=recovered,
        )
        self._signature = _signature(path)
        if data is None and self.segment_files():
            raise ShelfLostError(
                path,
                f"missing (and its .bak), but {len(self.segment_files())} post segments are "
                "in posts/; run `copydesk repair` to rebuild it from them (decisions are "
                "kept)",
            )
        state = _state_of(data, path) if data is not None else ShelfState()
        digest = data["shelf"]["1"].get("posts_digest") if data is not None else None
        self.posts_digest = digest if isinstance(digest, str) else None
        self.adopted = False
        if recovered:
            adopted = self._adopt_orphans(state)
            self.adopted = adopted is not state
            if self.adopted:
                self.posts_digest = None
            state = adopted
        self._take(state)
        return self.state

    def rebuild(self) -> ShelfState:
        """The shelf as the segments on disk say (``copydesk repair``): every post at its
        newest record; paths are unknown until the next import finds the files again."""
        return self._adopt_orphans(ShelfState(), quiet=True)

    def segment_files(self) -> dict[int, Path]:
        """Segment number -> file, for every segment file in posts/."""
        out = {}
        for path in self.layout.posts_dir.glob("*.json"):
            stem, _, rest = path.name.partition(".")
            if stem.isdigit() and len(stem) == 6 and rest == "json":
                out[int(stem)] = path
        return out

    def _adopt_orphans(self, state: ShelfState, *, quiet: bool = False) -> ShelfState:
        """``state`` with the posts of the segments it does not name taken in."""
        owned = {segment.number for segment in state.segments}
        orphans = {n: p for n, p in self.segment_files().items() if n not in owned}
        if not orphans:
            return state
        locations = dict(state.locations)
        history = {k: list(v) for k, v in state.history.items()}
        segments = list(state.segments)
        adopted: set[str] = set()
        next_doc_id = state.next_doc_id
        for number in sorted(orphans):
            records = self._read_segment(number)
            if not records:
                continue
            doc_ids = sorted(int(d) for d in records if d.isdigit())
            if not doc_ids:
                continue
            segments.append(Segment(number, doc_ids[0], doc_ids[-1]))
            next_doc_id = max(next_doc_id, doc_ids[-1] + 1)
            for doc_id in doc_ids:
                post_id = records[str(doc_id)].get("id")
                if not isinstance(post_id, str):
                    continue
                old = locations.get(post_id)
                if old is not None and old.doc_id > doc_id:
                    continue
                if old is not None:
                    history.setdefault(post_id, []).append(old.doc_id)
                locations[post_id] = Location(doc_id, old.path if old else "", "")
                adopted.add(post_id)
        segments.sort(key=lambda s: s.first_doc_id)
        if adopted and not quiet:
            self._warn(
                f"{self.layout.shelf_path}: {len(adopted)} posts of a later import were "
                f"found in {len(orphans)} segments it did not name and taken back in; "
                "import their files again to restore their paths"
            )
        return ShelfState(
            generation=state.generation + 1,
            next_doc_id=next_doc_id,
            next_segment=max(state.next_segment, max(orphans) + 1),
            segments=segments,
            locations=locations,
            history=history,
        )

    def changed_on_disk(self) -> bool:
        return _signature(self.layout.shelf_path) != self._signature

    def _take(self, state: ShelfState) -> None:
        self.state = state
        self._starts = [segment.first_doc_id for segment in state.segments]
        self._segments.clear()
        self._hints.clear()

    def _problem(self, data: dict[str, Any]) -> str | None:
        meta = (data.get("shelf") or {}).get("1")
        if not isinstance(meta, dict) or meta.get("format") not in READABLE_FORMATS:
            return "not a copydesk shelf"
        if meta.get("store") != self.store_id:
            return "the shelf of another store"
        for key in ("generation", "next_doc_id", "next_segment"):
            if type(meta.get(key)) is not int:
                return f"no {key}"
        segments = meta.get("segments")
        if not isinstance(segments, list) or not all(
            isinstance(s, list) and len(s) == 3 and all(type(v) is int for v in s) for s in segments
        ):
            return "bad segment list"
        problem = Locations.problem(data.get("locations"), meta.get("posts"))
        if problem is not None:
            return problem
        history = data.get("history", {})
        if not isinstance(history, dict) or not all(
            isinstance(v, list) and set(map(type, v)) <= {int} for v in history.values()
        ):
            return "bad history"
        pending = meta.get("derived_pending", 0)
        if type(pending) is not int or pending < 0:
            return "bad derived_pending"
        return None

    def commit(self, state: ShelfState) -> None:
        """Make ``state`` the shelf (the commit point of an import)."""
        data = {
            "shelf": {
                "1": {
                    "format": SHELF_FORMAT,
                    "store": self.store_id,
                    "generation": state.generation,
                    "next_doc_id": state.next_doc_id,
                    "next_segment": state.next_segment,
                    "segments": [[s.number, s.first_doc_id, s.last_doc_id] for s in state.segments],
                    "posts": len(state.locations),
                    "posts_digest": (digest := posts_digest(state.locations)),
                    **(
                        {"derived_pending": state.derived_pending}
                        if state.derived_pending is not None
                        else {}
                    ),
                }
            },
            "locations": Locations.of(state.locations).to_data(),
            "history": state.history,
        }
        path = self.layout.shelf_path
        write_json(path, data)
        if not backup_path(path).exists():
            # the store's first commit: its copy is the .bak (a copy, not a link: damage
            # done to the file in place must not reach its backup)
            write_json(backup_path(path), data, keep_backup=False)
        self._signature = _signature(path)
        self.posts_digest = digest
        self._take(state)

    # ------------------------------------------------------------------ records

    def segment_of(self, doc_id: int) -> Segment | None:
        at = bisect.bisect_right(self._starts, doc_id) - 1
        if at < 0:
            return None
        segment = self.state.segments[at]
        return segment if doc_id <= segment.last_doc_id else None

    def record(self, post_id: str) -> dict[str, Any]:
        """The stored record of one post; ``StoreCorruptError`` when its segment is gone."""
        location = self.state.locations[post_id]
        segment = self.segment_of(location.doc_id)
        records = self._segment(segment) if segment is not None else {}
        record = records.get(str(location.doc_id))
        if record is None or record.get("id") != post_id or not valid_record(record):
            raise StoreCorruptError(
                self.layout.segment_path(segment.number if segment else 0),
                f"the text of post {post_id} is missing; run `copydesk repair`, then import "
                f"its seed file again ({location.path})",
            )
        found: dict[str, Any] = record
        return found

    def version_with(self, post_id: str, sha256: str) -> dict[str, Any] | None:
        """The record of an earlier version of ``post_id`` whose text has ``sha256``."""
        for doc_id in reversed(self.state.history.get(post_id, [])):
            segment = self.segment_of(doc_id)
            record = self._segment(segment).get(str(doc_id)) if segment else None
            if record and (record.get("source") or {}).get("sha256") == sha256:
                found: dict[str, Any] = record
                return found
        return None

    def hints(self, post_id: str) -> list[dict[str, Any]] | None:
        """The review hints of one post; None while they are being computed."""
        location = self.state.locations[post_id]
        segment = self.segment_of(location.doc_id)
        if segment is None:
            return None
        table = self._cached(self._hints, segment.number, self._read_hints)
        if table is None:
            return None
        found = table.get(str(location.doc_id), [])
        if not (isinstance(found, list) and all(map(valid_hint, found))):
            self._warn(f"{self.layout.hints_path(segment.number)}: damaged hints of {post_id}")
            return None
        return list(found)

    def has_hints(self, segment: Segment) -> bool:
        return self.layout.hints_path(segment.number).exists()

    def hints_sound(self, segment: Segment) -> bool:
        """Whether the segment's hints file is there and holds a list of hints per post.
        (Each hint is checked when it is read, by ``hints``: checking all ~250,000 of a
        100,000-post store here cost every import 0.35 s.)"""
        table = self._read_hints(segment.number)
        return table is not None and set(map(type, table.values())) <= {list}

    def live_doc_ids(self, segment: Segment) -> list[int]:
        """The doc ids of the segment that are current posts."""
        locations = Locations.of(self.state.locations)
        return sorted(
            doc_id
            for post_id in locations
            if segment.first_doc_id <= (doc_id := locations.doc_id(post_id)) <= segment.last_doc_id
        )

    def _segment(self, segment: Segment) -> dict[str, Any]:
        return self._cached(self._segments, segment.number, self._read_segment) or {}

    def _read_segment(self, number: int) -> dict[str, Any] | None:
        path = self.layout.segment_path(number)
        try:
            return read_segment(str(path))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            self._warn(f"{path}: damaged ({exc}); its posts cannot be read until re-imported")
            return None

    def _read_hints(self, number: int) -> dict[str, Any] | None:
        path = self.layout.hints_path(number)
        try:
            data = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, orjson.JSONDecodeError) as exc:
            self._warn(f"{path}: damaged ({exc}); hints of its posts are recomputed")
            return None
        hints = data.get("hints") if isinstance(data, dict) else None
        return hints if isinstance(hints, dict) else None

    @staticmethod
    def _cached(cache: OrderedDict[int, Any], number: int, read: Callable[[int], Any]) -> Any:
        if number in cache:
            cache.move_to_end(number)
            return cache[number]
        value = cache[number] = read(number)
        while len(cache) > SEGMENTS_CACHED:
            cache.popitem(last=False)
        return value

    def live_by_segment(self) -> dict[int, list[tuple[int, str]]]:
        """Segment number (-1: none) -> (doc id, post id) of its current posts."""
        locations = Locations.of(self.state.locations)
        by_segment: dict[int, list[tuple[int, str]]] = {}
        for post_id in locations:
            doc_id = locations.doc_id(post_id)
            segment = self.segment_of(doc_id)
            by_segment.setdefault(segment.number if segment else -1, []).append((doc_id, post_id))
        return by_segment

    def live_records(self) -> Iterator[tuple[str, Location, dict[str, Any] | None]]:
        """(post id, location, record or None when unreadable) of every post, segment by
        segment (each segment is read once)."""
        by_segment: dict[int, list[tuple[str, Location]]] = {}
        for post_id, location in self.state.locations.items():
            segment = self.segment_of(location.doc_id)
            by_segment.setdefault(segment.number if segment else -1, []).append((post_id, location))
        for number, posts in sorted(by_segment.items()):
            records = (self._read_segment(number) or {}) if number >= 0 else {}
            for post_id, location in posts:
                record = records.get(str(location.doc_id))
                readable = record and record.get("id") == post_id and valid_record(record)
                yield post_id, location, record if readable else None

    def orphan_files(self) -> list[Path]:
        """Segment and hints files no committed segment owns (a dead import's)."""
        owned = {segment.number for segment in self.state.segments}
        out = []
        for path in self.layout.posts_dir.glob("*.json"):
            stem = path.name.split(".", 1)[0]
            if stem.isdigit() and len(stem) == 6 and int(stem) not in owned:
                out.append(path)
        return out


def posts_digest(ids: Iterable[str]) -> str:
    """A digest of a set of post ids, whatever their order: the shelf and the catalog of
    one generation record it, so that opening a store compares two short texts instead of
    reading every id of the shelf (0.1 s at 100,000 posts, 1.3 s at 1,000,000). The count
    and two sums of per-id checksums, at C level."""
    encoded = [post_id.encode("utf-8", "surrogatepass") for post_id in ids]
    crc = sum(map(zlib.crc32, encoded))
    adler = sum(map(zlib.adler32, encoded))
    return f"{len(encoded)}:{crc:x}:{adler:x}"


def _state_of(data: dict[str, Any], path: Path) -> ShelfState:
    meta = data["shelf"]["1"]
    return ShelfState(
        generation=meta["generation"],
        next_doc_id=meta["next_doc_id"],
        next_segment=meta["next_segment"],
        segments=[Segment(*s) for s in meta["segments"]],
        locations=Locations.from_data(data["locations"], meta["posts"], path),
        history=dict(data.get("history", {})),
        derived_pending=meta.get("derived_pending"),
    )


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino
