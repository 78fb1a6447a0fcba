"""Seed files known unchanged without reading them: the stat and sha256 of each file the
last import saw (in the store's data folder), so that a re-import of 100,000 unchanged
files stats them instead of reading and hashing ~800 MB.

The cache can only spare a read, never decide alone: an entry counts when the file's
stat (size, mtime, inode, device) is the one recorded, at its path or (a file renamed or
moved within its file system keeps all four) at another, and its sha256 is one the shelf
holds; anything else is hashed as before (a copy has a new inode: it is read). A file
rewritten within the same mtime tick as its stat was taken could keep that stat (git's
"racy" case), so a file is recorded only when its mtime is at least ``RACY_NS`` older
than the moment its stat was taken. A missing or damaged cache costs one hashing pass and
nothing else.

The records are a base (``file-stats.json``, written whole) and a log of the imports
since (``file-stats.log``, a line each: the records an import sets and the paths it
drops, naming the base it follows). A batch of 1,000 new files into a 100,000-file store
appends ~0.2 MB instead of writing the 17 MB base again and going through every record
to work out the next one. The log is folded into a new base once it holds a quarter as
many records as the base. What a line leaves in place that a whole write would drop (the
record of a file whose post has other bytes since; an old path of a file also at a new
one) can only have a file hashed that need not be; the next fold drops it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson

from ..jsonstore import atomic_write_bytes, write_all
from .layout import Layout

FILE = "file-stats.json"
LOG = "file-stats.log"
FORMAT = 1
RACY_NS = 2_000_000_000  # mtime granularity to allow for (FAT: 2 s; most: 1 ns-1 s)
# The log is folded into a new base once it holds 1/FOLD_SHARE as many records as the base.
FOLD_SHARE = 4

Stat = tuple[int, int, int, int]  # size, mtime_ns, inode, device
# (stat key, sha256); the key is the stat as text: one string compare per file, and a
# 100,000-entry cache reads in ~0.1 s (lists of four ints took ~0.8 s to check)
Entries = dict[str, tuple[str, str]]


def stat_of(path: str) -> Stat | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


def stat_key(stat: Stat) -> str:
    size, mtime_ns, inode, device = stat
    return f"{size}:{mtime_ns}:{inode}:{device}"


@dataclass(slots=True)
class Changes:
    """What one import changes in the records: paths set anew, paths dropped."""

    set: Entries = field(default_factory=dict)
    drop: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.set or self.drop)


class FileStats:
    """Path -> (stat key, sha256) of the files the last imports saw: the base and the log
    lines that follow it, applied in order."""

    def __init__(
        self, entries: Entries, base: str | None = None, base_count: int = 0, logged: int = 0
    ) -> None:
        self.entries = entries
        self.base = base  # the base's token, which log lines name (None: no sound base)
        self.base_count = base_count  # records in the base
        self.logged = logged  # records set by the log's lines
        self._by_stat: dict[str, str] | None = None  # built on the first unknown path

    @classmethod
    def empty(cls) -> FileStats:
        return cls({})

    @classmethod
    def read(cls, layout: Layout) -> FileStats:
        try:
            data = orjson.loads((layout.data_dir / FILE).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return cls.empty()
        entries = _entries(data)
        if entries is None:
            return cls.empty()
        base = data.get("base")
        if not isinstance(base, str):
            return cls(entries)  # a base from before the log: written whole next time
        known = cls(entries, base, len(entries))
        known._apply_log(layout.data_dir / LOG)
        return known

    def _apply_log(self, path: Path) -> None:
        """Apply the log's lines for this base, up to the first that is not one (a line
        torn by a crash mid-append, damage): its records and those after are lost, which
        costs their files a read. A log with such a line is not appended to again."""
        try:
            raw = path.read_bytes()
        except OSError:
            return  # none yet
        lines = raw.split(b"\n")
        if not lines[-1]:
            lines.pop()  # what follows the last line's newline (a torn line stays, refused)
        for line in lines:
            changes = _log_line(line, self.base)
            if changes is None:
                self.base = None  # the next write is whole
                return
            for path_dropped in changes.drop:
                self.entries.pop(path_dropped, None)
            self.entries.update(changes.set)
            self.logged += len(changes.set)

    def known_sha(self, path: str, stat: Stat) -> str | None:
        """The sha256 recorded for ``path`` if its stat is the one recorded; else that of
        a recorded file with this very stat (inode and device included) under another
        path: the same file, renamed or moved within its file system."""
        key = stat_key(stat)
        entry = self.entries.get(path)
        if entry is not None:
            return entry[1] if entry[0] == key else None
        if self._by_stat is None:
            self._by_stat = dict(self.entries.values())  # (stat, sha) pairs, at C level
        return self._by_stat.get(key)

    def changes(
        self, stats: Mapping[str, Stat], recorded: Entries, moved_from: list[str]
    ) -> Changes:
        """What an import that stat'ed ``stats`` changes: its ``recorded`` files are set,
        its other files and the old paths of the files it found moved are dropped."""
        entries = self.entries
        changes = Changes({p: e for p, e in recorded.items() if entries.get(p) != e})
        changes.drop = [p for p in (*stats, *moved_from) if p in entries and p not in recorded]
        return changes

    def after(
        self, stats: Mapping[str, Stat], recorded: Entries, held: Mapping[str, object]
    ) -> Entries:
        """The entries of a new base after an import that stat'ed ``stats``: its
        ``recorded`` files, and earlier entries of other paths whose bytes the shelf still
        holds (``held``: by sha256)."""
        seen = {entry[0] for entry in recorded.values()}  # a moved file's old path goes
        kept = {
            path: entry
            for path, entry in self.entries.items()
            if path not in stats and entry[1] in held and entry[0] not in seen
        }
        return kept | recorded

    def can_log(self, changes: Changes) -> bool:
        """Whether ``changes`` go to the log (else a new base is written)."""
        if self.base is None or not self.base_count:
            return False
        return (self.logged + len(changes.set)) * FOLD_SHARE <= self.base_count


_STAT, _SHA = itemgetter(0), itemgetter(1)


def recorded(stats: Mapping[str, Stat], shas: Mapping[str, str], taken_ns: int) -> Entries:
    """What an import that stat'ed ``stats`` at ``taken_ns`` and found ``shas`` (path ->
    sha256 the shelf holds) records: its files old enough not to be racy."""
    recorded: Entries = {}
    for path, sha in shas.items():
        stat = stats[path]
        if stat[1] <= taken_ns - RACY_NS:
            recorded[path] = (stat_key(stat), sha)
    return recorded


def _text_columns(data: dict[str, Any], *keys: str) -> list[list[str]] | None:
    """``data``'s lists of texts under ``keys``, or None when one is anything else."""
    columns = [data.get(key) for key in keys]
    if all(isinstance(c, list) and set(map(type, c)) <= {str} for c in columns):
        return columns  # type: ignore[return-value]
    return None


def _records(columns: list[list[str]]) -> Entries | None:
    """Path -> (stat key, sha256) of a paths, stats and shas column, or None."""
    paths, stats, shas = columns
    if not (len(paths) == len(stats) == len(shas)):
        return None
    return dict(zip(paths, zip(stats, shas, strict=True), strict=True))


def _entries(data: Any) -> Entries | None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    columns = _text_columns(data, "paths", "stats", "shas")
    return None if columns is None else _records(columns)


def _log_line(line: bytes, base: str | None) -> Changes | None:
    """The changes of one log line written for ``base``; None for anything else."""
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or data.get("base") != base:
        return None
    columns = _text_columns(data, "paths", "stats", "shas", "drop")
    records = None if columns is None else _records(columns[:3])
    if columns is None or records is None:
        return None
    return Changes(records, columns[3])


def _columns(entries: Entries) -> dict[str, list[str]]:
    values = entries.values()
    return {
        "paths": list(entries),
        "stats": list(map(_STAT, values)),
        "shas": list(map(_SHA, values)),
    }


def write(layout: Layout, entries: Entries) -> None:
    """Replace the records with a new base (no ``.bak``: it is rebuilt by hashing when
    lost); the log, which names the base before, goes after it."""
    data = {"format": FORMAT, "base": secrets.token_hex(8), **_columns(entries)}
    atomic_write_bytes(layout.data_dir / FILE, orjson.dumps(data), keep_backup=False)
    (layout.data_dir / LOG).unlink(missing_ok=True)


def append(layout: Layout, known: FileStats, changes: Changes) -> None:
    """Add ``changes`` to the log as one line (not fsynced: a lost or torn line costs its
    files a read, see ``FileStats._apply_log``)."""
    line = {"base": known.base, **_columns(changes.set), "drop": changes.drop}
    fd = os.open(layout.data_dir / LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        write_all(fd, orjson.dumps(line) + b"\n")
    finally:
        os.close(fd)
