"""Seed files -> post records and what the catalog needs of them, in worker processes.

An import runs in two phases, so that posts are reviewable as soon as they are stored:

1. ``shelve_chunk``: read and parse a chunk of files, write their records as one segment
   file, and hand back each post's list row and query fields (small). One ``FileError``
   per bad file; the others go on.
2. ``derive_segment``: for the posts of a stored segment, the review hints (written beside
   the segment) and the similarity features; the store then updates similarity.

Both are plain functions of plain data, so that a process pool can run them.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from .jsonstore import atomic_write_bytes
from .models import FileError

if TYPE_CHECKING:  # the import's parts load with it: a one-post command reads segments
    # through this module and needs neither the seed parser nor multiprocessing (~25 ms)
    from concurrent.futures import Executor

    import seeds

Progress = Callable[[int, int], None]

# Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 200
# Files per segment: a segment is parsed whole to read one post (~1.4 MB, ~5 ms), and
# written with one fsync.
SEGMENT_FILES = 256


class PackedFields(Mapping[str, Any]):
    """A post's query fields as two tuples (names, values) instead of a dict: ~0.4 KB a
    post instead of ~2.5 KB while an import holds 100,000 of them (the names tuple is
    shared by every post with the same fields, the values interned by ``Interner``)."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: tuple[str, ...], values: tuple[Any, ...]) -> None:
        self._names = names
        self._values = values

    def __getitem__(self, name: str) -> Any:
        try:
            return self._values[self._names.index(name)]
        except ValueError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def items(self) -> Any:
        return zip(self._names, self._values, strict=True)  # what SearchIndex iterates


class Interner:
    """One object per distinct text, and per distinct list of texts and numbers (topics,
    tools, notes and checklists repeat across posts; unpickled results carry a new object
    for each). Numbers are not interned: the small ones are shared by Python already, and
    ``1 == True`` would let a flag take another's type.

    ``fields`` and ``row`` are the hot path of an import's parent process (~75 values a
    post): they test each value's exact type and intern flat lists at C speed."""

    _FLAT = frozenset({str, int})  # the item types of a list interned in one C-level pass

    def __init__(self) -> None:
        self._seen: dict[Any, Any] = {}
        self._keep = self._seen.setdefault

    def __call__(self, value: Any) -> Any:
        kind = value.__class__
        if kind is str:
            return self._keep(value, value)
        if kind is list or kind is tuple:
            if self._FLAT.issuperset(map(type, value)):
                return self._flat(value)
            return tuple(map(self, value))  # nested or odd items: a tuple, not interned
        return value

    def _flat(self, items: list[Any] | tuple[Any, ...]) -> tuple[Any, ...]:
        """A list of only str and int items, as one shared tuple of shared items (an int
        interned as itself: never equal to a str, and no bool is among them)."""
        keep = self._keep
        value: tuple[Any, ...] = tuple(map(keep, items, items))
        kept: tuple[Any, ...] = keep(value, value)
        return kept

    def fields(self, fields: Mapping[str, Any]) -> PackedFields:
        keep, values = self._keep, []
        for value in fields.values():
            kind = value.__class__
            if kind is str:
                value = keep(value, value)
            elif kind is not int:
                value = self(value)
            values.append(value)
        return PackedFields(self._flat(tuple(fields)), tuple(values))

    def row(self, row: dict[str, Any]) -> dict[str, Any]:
        return {key: self(value) for key, value in row.items()}


@dataclass(slots=True)
class ShelvedPost:
    """What the parent keeps of one stored post (no body)."""

    path: str
    id: str
    doc_id: int
    file_sha256: str  # of the file's bytes: an unchanged file is known without parsing
    row: dict[str, Any]  # storage.postrows.ROW_KEYS
    fields: Mapping[str, Any]  # storage.query.index_fields
    warnings: list[str]


@dataclass(slots=True)
class ShelveTask:
    paths: list[str]
    first_doc_id: int
    segment_path: str  # where the chunk's records go (written only if any file parsed)


class _Numbering:
    """The distinct values of one chunk's rows and query fields, numbered: each is
    pickled once, and the parent makes one object of it once (``Interner``) instead of
    once a post. What ``Interner`` shares (texts, ints, lists of only texts and ints) is
    numbered by value; anything else (a bool, a float, a nested list) gets a number of its
    own, so that no value takes another's type (``1 == True == 1.0``, ``0.0 == -0.0``).

    Rows and fields as numbers into the chunk's values, the parent unpickles and interns
    a post in ~19 us instead of ~40 us (~45 values a post; best of three over 4,096
    posts), and ~1.1 KB of it is sent instead of ~2.2 KB."""

    _FLAT = frozenset({str, int})

    def __init__(self) -> None:
        self.values: list[Any] = []
        self._numbers: dict[Any, int] = {}

    def __call__(self, value: Any) -> int:
        kind = value.__class__
        if kind is str or kind is int:
            key = value
        elif (kind is list or kind is tuple) and self._FLAT.issuperset(map(type, value)):
            key = value = tuple(value)
        else:
            self.values.append(value)
            return len(self.values) - 1
        number = self._numbers.get(key)
        if number is None:
            number = self._numbers[key] = len(self.values)
            self.values.append(value)
        return number

    def mapping(self, mapping: Mapping[str, Any]) -> tuple[int, tuple[int, ...]]:
        """The number of ``mapping``'s keys (a tuple) and those of its values."""
        return self(tuple(mapping)), tuple(map(self, mapping.values()))


@dataclass(slots=True)
class _NumberedPost:
    """A ``ShelvedPost`` on its way to the parent: its row and fields as numbers."""

    path: str
    id: str
    doc_id: int
    file_sha256: str
    row: tuple[int, tuple[int, ...]]
    fields: tuple[int, tuple[int, ...]]
    warnings: list[str]


@dataclass(slots=True)
class ShelveResult:
    """What a worker hands back for one chunk (``posts`` gives its posts)."""

    task: ShelveTask
    numbered: list[_NumberedPost] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)  # what the posts' numbers name

    def posts(self, intern: Interner | None = None) -> list[ShelvedPost]:
        """The chunk's posts, their values made one object each by ``intern`` (across
        chunks: the same ``Interner`` for all)."""
        table = list(map(intern or Interner(), self.values))
        item = table.__getitem__
        return [
            ShelvedPost(
                post.path,
                post.id,
                post.doc_id,
                post.file_sha256,
                dict(zip(table[post.row[0]], map(item, post.row[1]), strict=True)),
                PackedFields(table[post.fields[0]], tuple(map(item, post.fields[1]))),
                post.warnings,
            )
            for post in self.numbered
        ]


@dataclass(slots=True)
class DeriveTask:
    segment_path: str
    hints_path: str
    doc_ids: list[int]  # the live posts of the segment


@dataclass(slots=True)
class DerivedPost:
    id: str
    hint_codes: tuple[str, ...]
    features: dict[str, Any]


def valid_record(record: dict[str, Any]) -> bool:
    """Whether a stored record has the shape the importer writes (what reads it needs)."""
    body, meta = record.get("body", []), record.get("meta", {})
    return (
        isinstance(record.get("title", ""), str)
        and isinstance(record.get("reference", ""), str)
        and isinstance(body, list)
        and all(isinstance(b, dict) and isinstance(b.get("type", ""), str) for b in body)
        and isinstance(meta, dict)
        and all(isinstance(record.get(k, []), list) for k in ("warnings", "listed_similar"))
        and all(isinstance(w, str) for w in record.get("warnings", []))
        and all(isinstance(t, str) for t in record.get("listed_similar", []))
        and isinstance(record.get("source", {}), dict)
    )


def valid_hint(hint: Any) -> bool:
    return (
        isinstance(hint, dict)
        and isinstance(hint.get("code"), str)
        and isinstance(hint.get("message", ""), str)
        and isinstance(hint.get("severity", ""), str)
    )


@dataclass(slots=True)
class RebuildTask:
    segment_path: str
    hints_path: str
    posts: list[tuple[int, str]]  # (doc id, post id) of the segment's current posts


def catalog_entries(task: RebuildTask) -> tuple[list[tuple[Any, ...]], list[str]]:
    """What the catalog needs of one segment's posts, read back from the segment and its
    hints file (a rebuild of a lost or stale catalog): ``(id, doc id, row, fields,
    features or None)`` per readable post (None: hints not computed yet, the post is
    pending), and the ids of the posts that cannot be read."""
    from .query import index_fields
    from .similarity import features

    try:
        records = read_segment(task.segment_path)
    except (OSError, ValueError):
        return [], [post_id for _, post_id in task.posts]
    try:
        table = orjson.loads(Path(task.hints_path).read_bytes()).get("hints")
    except (OSError, ValueError, AttributeError):
        table = None
    entries, unreadable = [], []
    for doc_id, post_id in task.posts:
        record = records.get(str(doc_id))
        if not (record and record.get("id") == post_id and valid_record(record)):
            unreadable.append(post_id)
            continue
        found = table.get(str(doc_id)) if isinstance(table, dict) else None
        hints = found if isinstance(found, list) and all(map(valid_hint, found)) else None
        sound = hints is not None
        data = post_dict(record)
        codes = tuple(h["code"] for h in hints) if hints is not None else ()
        feats = features(data) if sound else None
        entries.append((post_id, doc_id, post_row(record, codes), index_fields(data), feats))
    return entries, unreadable


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_source(path: str) -> bytes:
    """The bytes of one seed file; ``seeds.ParseError`` when it cannot be read, is not a
    regular file (a FIFO swapped in: never a hang) or is over ``seeds.MAX_SEED_BYTES``."""
    import seeds

    try:
        return seeds.read_regular_file(path, seeds.MAX_SEED_BYTES, "seed document")
    except seeds.UnreadableFile as exc:
        raise seeds.ParseError(path, exc.reason) from None


def post_record(post: seeds.Post) -> dict[str, Any]:
    """The stored record of one parsed post (its path and hints are kept elsewhere)."""
    return {
        "id": post.id,
        "reference": post.reference or "",
        **post.to_dict(),
        "source": {"sha256": post.sha256},
    }


def post_row(record: dict[str, Any], hint_codes: tuple[str, ...] = ()) -> dict[str, Any]:
    """The list row of one record (see storage/postrows.py)."""
    meta = record.get("meta")
    meta = meta if isinstance(meta, dict) else {}
    flags = meta.get("flags")
    flags = flags if isinstance(flags, dict) else {}
    return {
        "id": record["id"],
        "reference": record.get("reference") or "",
        "title": record.get("title") or "",
        "topic": str(meta.get("topic", "")),
        "needs_human_review": flags.get("needs_human_review") == 1,
        "hint_codes": list(hint_codes),
        "sha256": str((record.get("source") or {}).get("sha256", "")),
    }


def post_dict(record: dict[str, Any]) -> dict[str, Any]:
    """The post dict of ARCHITECTURE.md out of a stored record."""
    return {
        "title": record.get("title") or "",
        "body": record.get("body") or [],
        "meta": record.get("meta") or {},
        "listed_similar": record.get("listed_similar") or [],
        "warnings": record.get("warnings") or [],
    }


def _parse(path: str) -> tuple[seeds.Post, str] | FileError:
    import seeds

    try:
        data = read_source(path)
        return seeds.parse(seeds.decode(data, path), path), file_sha256(data)
    except seeds.ParseError as exc:
        return FileError(path, exc.reason)
    except Exception as exc:  # a reader bug must not stop the other files
        return FileError(path, f"could not be read ({type(exc).__name__}: {exc})")


def shelve_chunk(task: ShelveTask) -> ShelveResult:
    """Phase 1 for one chunk of files (see the module docstring). Never raises for a bad
    file; an OSError writing the segment propagates (the import stops, nothing committed)."""
    from .query import index_fields

    result = ShelveResult(task)
    records: dict[str, bytes] = {}
    number = _Numbering()
    for offset, path in enumerate(task.paths):
        parsed = _parse(path)
        if isinstance(parsed, FileError):
            result.errors.append(parsed)
            continue
        post, sha = parsed
        doc_id = task.first_doc_id + offset
        record = post_record(post)
        records[str(doc_id)] = orjson.dumps(record)
        row, fields = post_row(record), index_fields(record)  # the record holds title, meta
        result.numbered.append(
            _NumberedPost(
                path,
                post.id,
                doc_id,
                sha,
                number.mapping(row),
                number.mapping(fields),
                list(post.warnings),
            )
        )
    result.values = number.values
    if records:
        write_segment(task.segment_path, records)
    return result


def write_segment(path: str, records: dict[str, bytes]) -> None:
    """One segment as a TinyDB document ``{"posts": {doc id: record}}``, atomically."""
    table = {doc_id: orjson.Fragment(raw) for doc_id, raw in records.items()}
    atomic_write_bytes(Path(path), orjson.dumps({"posts": table}), keep_backup=False)


def read_segment(path: str) -> dict[str, Any]:
    """The records of one segment by doc id (str); ``ValueError`` when damaged."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from exc
    posts = data.get("posts") if isinstance(data, dict) else None
    if not isinstance(posts, dict) or not all(isinstance(r, dict) for r in posts.values()):
        raise ValueError("not a segment of post records")
    return posts


def derive_segment(task: DeriveTask) -> list[DerivedPost]:
    """Phase 2 for one segment: hints (written to ``hints_path``) and features."""
    from .hints import compute_hints_many
    from .similarity import features

    posts = read_segment(task.segment_path)
    records = [posts[str(doc_id)] for doc_id in task.doc_ids if str(doc_id) in posts]
    datas = [post_dict(record) for record in records]
    hints = compute_hints_many(datas)
    table = {
        str(doc_id): found
        for doc_id, found in zip(task.doc_ids, hints, strict=False)
        if str(doc_id) in posts
    }
    atomic_write_bytes(Path(task.hints_path), orjson.dumps({"hints": table}), keep_backup=False)
    return [
        DerivedPost(record["id"], tuple(h["code"] for h in found), features(data))
        for record, data, found in zip(records, datas, hints, strict=True)
    ]


@contextmanager
def worker_pool(count: int, workers: int | None = None) -> Iterator[Executor | None]:
    """A process pool for ``count`` tasks' worth of files, or None when one process is
    cheaper."""
    workers = _pool_size(count, workers)
    if not workers:
        yield None
        return
    from concurrent.futures import ProcessPoolExecutor

    context = _worker_context()
    _start_helper_processes()
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield pool


def start_workers_early(count: int) -> None:
    """Start the server ``worker_pool`` forks its workers from, for ``count`` files to
    read, so that it loads its modules while this process plans the import (a batch into
    a big store waited ~0.15 s for its first worker after its plan). Nothing for a
    re-import of files the file records vouch for."""
    if _pool_size(count):
        _worker_context()
        _start_helper_processes()


def _pool_size(count: int, workers: int | None = None) -> int:
    """How many workers ``worker_pool`` starts for ``count`` tasks' worth of files; 0
    when one process is cheaper."""
    workers = workers or min(os.cpu_count() or 1, 8)
    return workers if count >= PARALLEL_THRESHOLD and workers >= 2 else 0


def _start_helper_processes() -> None:
    """Start multiprocessing's forkserver and resource tracker (once a process) with a
    real standard error for them to inherit. In the TUI ``sys.stderr`` is Textual's
    capture of prints, whose file descriptor is -1: started there, they failed ("bad
    value(s) in fds_to_keep"), and so did the catalog rebuild or import that wanted them."""
    from multiprocessing import forkserver

    try:
        usable = sys.stderr is not None and sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if usable:
        forkserver.ensure_running()
        return
    captured = sys.stderr
    with open(os.devnull, "w") as devnull:
        sys.stderr = devnull  # what they would write goes nowhere, as with the capture
        try:
            forkserver.ensure_running()
        finally:
            sys.stderr = captured


@functools.cache
def _worker_context() -> Any:
    """Workers forked from a small server process (``forkserver``), not from this one. A
    fork of a process holding a 100,000-post catalog made each worker of import phase 2
    ~410 MB (the tree of a cold import peaked at 1,441 MB); forked from the server, a
    worker holds the modules it runs. It is also safe in a process with threads (the
    TUI), where a plain fork is not. As with Python's spawn, a script that imports through
    a pool must guard its entry point (``if __name__ == "__main__"``): a worker imports it."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["storage.analysis", "storage.hints", "storage.similarity"])
    return context


def run_tasks(pool: Executor | None, function: Callable[[Any], Any], tasks: list[Any]) -> Any:
    """``map(function, tasks)`` in the pool when there is one, results in task order."""
    if pool is None:
        return map(function, tasks)
    return pool.map(function, tasks)
