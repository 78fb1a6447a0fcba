"""A mirrored, append-only log of checksummed records: the commit log of decisions.

Every acknowledged change (a decision, a note, an undo, a merge, a conflict resolution, a
view) is one line appended to two files, ``journal.jsonl`` and ``journal-mirror.jsonl``,
each fsynced before the change is acknowledged (like a database's multiplexed redo log).
A line is ``<crc32 of the JSON, 8 hex digits> <JSON object>\\n``; records are numbered
(``seq``) from 1 without gaps, and record 0 names the store the journal belongs to.

Reading merges the two copies by ``seq``: a line damaged (or, checked by the caller, of
the wrong shape) in one copy is taken from the other, a copy of another store is not read,
a copy that is missing or shorter is rewritten from the other (``repair``), and a
torn last line (a crash mid-append) that the other copy lacks was never acknowledged, so
it is dropped. What neither copy holds is reported by the caller (``storage.local
.decisions``), never skipped in silence.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..jsonstore import atomic_write_bytes, fsync_dir

PRIMARY_NAME = "journal.jsonl"
MIRROR_NAME = "journal-mirror.jsonl"
FORMAT = 1

# Why a record (CRC already checked) is not one copydesk writes, or None: a record of the
# wrong shape counts as damaged in its copy, and a copy whose record 0 fails it is another
# store's journal (see storage.local.decisions.validate_record).
Check = Callable[[dict[str, Any]], "str | None"]


class JournalError(OSError):
    """A journal copy changed under us in a way no copydesk writer does."""


class JournalChanged(JournalError):
    """Another writer appended records this reader has not read (see ``append``)."""


def encode(record: dict[str, Any]) -> bytes:
    payload = orjson.dumps(record)
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def decode(line: bytes) -> dict[str, Any] | None:
    """The record of one line (without its newline), or None when it is damaged."""
    if len(line) < 10 or line[8:9] != b" ":
        return None
    payload = line[9:]
    try:
        if int(line[:8], 16) != zlib.crc32(payload):
            return None
        record = orjson.loads(payload)
    except ValueError:
        return None
    if not isinstance(record, dict) or type(record.get("seq")) is not int:
        return None
    return record


@dataclass(slots=True)
class CopyRead:
    """What one copy of the journal holds from ``start`` on."""

    exists: bool
    records: dict[int, dict[str, Any]] = field(default_factory=dict)
    damaged: list[int] = field(default_factory=list)  # byte offsets of bad lines
    end: int = 0  # offset after the last complete line
    torn: bool = False  # bytes after the last newline (a crash mid-append)


def read_copy(path: Path, start: int = 0) -> CopyRead:
    try:
        with open(path, "rb") as handle:
            handle.seek(start)
            raw = handle.read()
    except FileNotFoundError:
        return CopyRead(exists=False)
    result = CopyRead(exists=True, end=start)
    offset = start
    complete = raw.rfind(b"\n") + 1
    result.torn = complete < len(raw)
    for line in raw[:complete].split(b"\n")[:-1]:
        record = decode(line)
        if record is None:
            result.damaged.append(offset)
        else:
            result.records[record["seq"]] = record
        offset += len(line) + 1
    result.end = start + complete
    return result


@dataclass(slots=True)
class JournalRead:
    """The two copies read from their offsets and merged by ``seq``."""

    records: list[dict[str, Any]]  # ascending seq
    problems: list[str]  # what was damaged or missing, for a warning
    needs_repair: bool  # a copy is missing, damaged, torn or behind the other
    ends: tuple[int, int]  # where each copy's complete lines end
    exists: tuple[bool, bool]
    covers: int = 0  # records up to this seq are known to be before where reading began
    # seq -> why, for records that are in the journal (a line with a valid checksum) but
    # of the wrong shape in every copy that holds them: known to exist, unreadable
    unreadable: dict[int, str] = field(default_factory=dict)
    foreign: tuple[bool, bool] = (False, False)  # a copy whose record 0 is another's


def seq_before(path: Path, offset: int) -> int | None:
    """The ``seq`` of the complete line that ends at byte ``offset`` of ``path``, or None
    (no such line: the file is shorter, or was replaced)."""
    if offset <= 0:
        return None
    try:
        with open(path, "rb") as handle:
            start = max(0, offset - (1 << 16))
            handle.seek(start)
            raw = handle.read(offset - start)
    except OSError:
        return None
    if len(raw) != offset - start or not raw.endswith(b"\n"):
        return None
    line = raw[:-1].rsplit(b"\n", 1)[-1]
    record = decode(line)
    return record["seq"] if record is not None else None


class Journal:
    """The two files; the caller holds the store's write lock for ``append``/``repair``."""

    def __init__(self, directory: Path) -> None:
        self.paths = (directory / PRIMARY_NAME, directory / MIRROR_NAME)

    def read(self, starts: tuple[int, int] = (0, 0), check: Check | None = None) -> JournalRead:
        copies = [read_copy(path, start) for path, start in zip(self.paths, starts, strict=True)]
        problems: list[str] = []
        invalid: dict[int, str] = {}
        foreign = [False, False]
        for number, (path, copy) in enumerate(zip(self.paths, copies, strict=True)):
            for offset in copy.damaged:
                problems.append(f"{path.name}: damaged record at byte {offset}")
            if check is None:
                continue
            header = copy.records.get(0)
            reason = check(header) if header is not None else None
            if reason is not None:
                problems.append(f"{path.name}: {reason}; not read")
                copy.records.clear()
                foreign[number] = True
                continue
            for seq in sorted(copy.records):
                reason = check(copy.records[seq])
                if reason is not None:
                    del copy.records[seq]
                    problems.append(f"{path.name}: journal record {seq}: {reason}")
                    invalid.setdefault(seq, reason)
        merged: dict[int, dict[str, Any]] = {}
        for copy in copies:
            for seq, record in copy.records.items():
                merged.setdefault(seq, record)
        needs_repair = False
        for number, (path, copy, start) in enumerate(zip(self.paths, copies, starts, strict=True)):
            if not copy.exists:
                if merged:
                    problems.append(f"{path.name}: missing")
                    needs_repair = True
                continue
            # a copy read from an offset holds the records before it: not missing
            floor = seq_before(path, start) if start > 0 else None
            lacking = [n for n in merged if n > (-1 if floor is None else floor)]
            lacking = [n for n in lacking if n not in copy.records]
            explained = (
                copy.damaged
                or foreign[number]
                or any(f"{path.name}: journal record" in p for p in problems)
            )
            if lacking and not explained:
                problems.append(f"{path.name}: {len(lacking)} records missing")
            if copy.torn:
                problems.append(f"{path.name}: an incomplete last line (an interrupted write)")
            if copy.damaged or lacking or copy.torn:
                needs_repair = True
        ends = (copies[0].end, copies[1].end)
        return JournalRead(
            records=[merged[seq] for seq in sorted(merged)],
            problems=problems,
            needs_repair=needs_repair,
            ends=ends,
            exists=(copies[0].exists, copies[1].exists),
            unreadable={seq: why for seq, why in invalid.items() if seq not in merged},
            foreign=(foreign[0], foreign[1]),
        )

    def read_after(
        self, offsets: tuple[int, int], seq: int, check: Check | None = None
    ) -> JournalRead:
        """``read`` from a checkpoint's offsets: each copy whose line before its offset is
        record ``seq`` is read from there, any other copy from its start."""
        starts = tuple(
            offset if seq_before(path, offset) == seq else 0
            for path, offset in zip(self.paths, offsets, strict=True)
        )
        read = self.read((starts[0], starts[1]), check)
        read.covers = seq if any(starts) else 0
        return read

    def sizes(self) -> tuple[int, int]:
        """Current byte sizes (-1: missing): a cheap test for another writer's appends."""
        out = []
        for path in self.paths:
            try:
                out.append(path.stat().st_size)
            except FileNotFoundError:
                out.append(-1)
        return out[0], out[1]

    def append(self, records: list[dict[str, Any]], ends: tuple[int, int]) -> tuple[int, int]:
        """Append ``records`` to both copies, each fsynced; ``ends`` are the offsets after
        the last complete lines (beyond them only a torn line of a crashed append, never
        acknowledged, is cut). Returns the new ends. Durable when this returns.

        ``JournalChanged`` (nothing written) when a copy holds complete lines after its
        end: another writer's records, which the caller must read first."""
        data = b"".join(map(encode, records))
        opened: list[tuple[Path, int, int, bool]] = []
        current = self.paths[0]
        touched: list[tuple[int, int]] = []  # (fd, end) of the copies written to
        try:
            for path, end in zip(self.paths, ends, strict=True):
                current = path
                created = not path.exists()
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
                opened.append((path, end, fd, created))
                size = os.fstat(fd).st_size
                if size < end:
                    raise JournalError(f"{path}: shorter than when it was read; not appending")
                if size > end and b"\n" in os.pread(fd, size - end, end):
                    raise JournalChanged(f"{path}: another writer appended since it was read")
            new_ends = []
            for path, end, fd, created in opened:
                current = path
                touched.append((fd, end))
                if os.fstat(fd).st_size > end:
                    os.ftruncate(fd, end)  # a torn line of a crashed append
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
                if created:
                    fsync_dir(path.parent)
                new_ends.append(end + len(data))
        except OSError as exc:
            # not acknowledged, so not kept: no copy may hold the record (a full disk)
            for fd, end in touched:
                try:
                    os.ftruncate(fd, end)
                except OSError:  # pragma: no cover - the next writer cuts a torn line
                    pass
            if exc.filename is None:
                exc.filename = str(current)
            raise
        finally:
            for _, _, fd, _ in opened:
                os.close(fd)
        return new_ends[0], new_ends[1]

    def rewrite(self, records: list[dict[str, Any]]) -> tuple[int, int]:
        """Write both copies afresh with ``records`` (a repair, or a new journal)."""
        data = b"".join(map(encode, records))
        for path in self.paths:
            atomic_write_bytes(path, data, keep_backup=False)
        return len(data), len(data)
