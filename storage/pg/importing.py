"""An import into the team store, with the shared analysis (``storage.analysis``): the
same per-file errors, records, hints, query fields and similarity features as the local
store, then one transaction that sends the posts with COPY.

1. Plan: every named file is read and hashed (threads); bytes the database holds at the
   same path are unchanged, at another path a move (only the path changes). The rest:
2. Analyse, in the worker pool: ``shelve_chunk`` (parse, record, row, query fields) then
   ``derive_segment`` (hints, features). Both write their results as files, which this
   import keeps in a temporary directory and reads back (see the report: a variant that
   hands records back would save that round trip through the disk).
3. Store: ``PostgresStore.write_posts``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..analysis import (
    SEGMENT_FILES,
    DeriveTask,
    ShelvedPost,
    ShelveTask,
    derive_segment,
    file_sha256,
    post_row,
    read_segment,
    run_tasks,
    shelve_chunk,
)
from ..models import FileError

Progress = Callable[[int, int], None]
HASH_CHUNK = 512
HASH_THREADS = 4


@dataclass(slots=True)
class PostToStore:
    """One analysed post, as the posts table and the catalog need it."""

    id: str
    path: str
    file_sha256: str
    record: dict[str, Any]  # analysis.post_record (no path, no hints)
    hints: list[dict[str, Any]]
    row: dict[str, Any]  # postrows.ROW_KEYS, with the hint codes
    fields: Mapping[str, Any]
    features: dict[str, Any]


@dataclass(slots=True)
class Plan:
    to_parse: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    moved: dict[str, str] = field(default_factory=dict)  # post id -> new path
    errors: list[FileError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _hash_many(paths: list[str]) -> list[str | FileError]:
    out: list[str | FileError] = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                out.append(file_sha256(handle.read()))
        except OSError as exc:
            out.append(FileError(path, f"cannot read: {exc.strerror or exc}"))
    return out


def plan_import(files: list[str], known: Mapping[str, tuple[str, str]]) -> Plan:
    """``known``: file sha256 -> (post id, path) of what the database holds."""
    plan = Plan()
    if not known:
        plan.to_parse = list(files)
        return plan
    named = set(files)
    chunks = [files[i : i + HASH_CHUNK] for i in range(0, len(files), HASH_CHUNK)]
    with ThreadPoolExecutor(HASH_THREADS) as threads:  # hashlib lets go of the GIL
        for chunk, shas in zip(chunks, threads.map(_hash_many, chunks), strict=True):
            for path, sha in zip(chunk, shas, strict=True):
                if isinstance(sha, FileError):
                    plan.errors.append(sha)
                    continue
                held = known.get(sha)
                if held is None:
                    plan.to_parse.append(path)
                    continue
                post_id, old_path = held
                plan.unchanged.append(post_id)
                if old_path == path:
                    continue
                if old_path in named or Path(old_path).exists():
                    plan.warnings.append(
                        f"{path}: same content as {old_path} (post {post_id}); already imported"
                    )
                else:
                    plan.moved[post_id] = path
    return plan


@dataclass(slots=True)
class Analysed:
    posts: dict[str, PostToStore]
    errors: list[FileError]
    warnings: list[str]


def analyse(files: list[str], pool: Executor | None, progress: Progress | None) -> Analysed:
    """Parse and derive ``files`` with the shared analysis (see the module docstring)."""
    errors: list[FileError] = []
    warnings: list[str] = []
    posts: dict[str, PostToStore] = {}
    with tempfile.TemporaryDirectory(prefix="copydesk-pg-import-") as scratch:
        tasks = [
            ShelveTask(files[start : start + SEGMENT_FILES], start, f"{scratch}/s{n}.json")
            for n, start in enumerate(range(0, len(files), SEGMENT_FILES))
        ]
        shelved: list[tuple[ShelveTask, list[ShelvedPost]]] = []
        done = 0
        if progress:
            progress(0, len(files))
        for result in run_tasks(pool, shelve_chunk, tasks):
            errors.extend(result.errors)
            chunk = result.posts()
            if chunk:
                shelved.append((result.task, chunk))
            done += len(result.task.paths)
            if progress:
                progress(done, len(files))
        derive_tasks = [
            DeriveTask(task.segment_path, task.segment_path + ".hints", [p.doc_id for p in got])
            for task, got in shelved
        ]
        derived = run_tasks(pool, derive_segment, derive_tasks)
        for (task, got), found in zip(shelved, derived, strict=True):
            records = read_segment(task.segment_path)
            hints = orjson.loads(Path(task.segment_path + ".hints").read_bytes())["hints"]
            by_id = {d.id: d for d in found}
            for post in got:
                warnings.extend(f"{post.path}: {w}" for w in post.warnings)
                if post.id in posts:
                    warnings.append(
                        f"{post.path}: same id {post.id} as {posts[post.id].path}; this one kept"
                    )
                record = records[str(post.doc_id)]
                extra = by_id[post.id]
                posts[post.id] = PostToStore(
                    id=post.id,
                    path=post.path,
                    file_sha256=post.file_sha256,
                    record=record,
                    hints=list(hints.get(str(post.doc_id), [])),
                    row=post_row(record, extra.hint_codes),
                    fields=dict(post.fields.items()),
                    features=extra.features,
                )
    return Analysed(posts, errors, warnings)
