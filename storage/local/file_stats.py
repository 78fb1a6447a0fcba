"""Seed files known unchanged without reading them: the stat and sha256 of each file the
last import saw (``file-stats.json`` in the store's data folder), so that a re-import of
100,000 unchanged files stats them instead of reading and hashing ~800 MB.

The cache can only spare a read, never decide alone: an entry counts when the file's
stat (size, mtime, inode, device) is the one recorded, at its path or (a file renamed or
moved within its file system keeps all four) at another, and its sha256 is one the shelf
holds; anything else is hashed as before (a copy has a new inode: it is read). A file rewritten within the same mtime tick as
its stat was taken could keep that stat (git's "racy" case), so a file is recorded only
when its mtime is at least ``RACY_NS`` older than the moment its stat was taken. A missing
or damaged cache costs one hashing pass and nothing else; it is rewritten after each
import.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import orjson

from ..jsonstore import atomic_write_bytes
from .layout import Layout

FILE = "file-stats.json"
FORMAT = 1
RACY_NS = 2_000_000_000  # mtime granularity to allow for (FAT: 2 s; most: 1 ns-1 s)

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


class FileStats:
    """Path -> (stat key, sha256) of the files the last imports saw."""

    def __init__(self, entries: Entries) -> None:
        self.entries = entries
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
        return cls.empty() if entries is None else cls(entries)

    def known_sha(self, path: str, stat: Stat) -> str | None:
        """The sha256 recorded for ``path`` if its stat is the one recorded; else that of
        a recorded file with this very stat (inode and device included) under another
        path: the same file, renamed or moved within its file system."""
        key = stat_key(stat)
        entry = self.entries.get(path)
        if entry is not None:
            return entry[1] if entry[0] == key else None
        if self._by_stat is None:
            self._by_stat = {stat: sha for stat, sha in self.entries.values()}
        return self._by_stat.get(key)

    def after(
        self,
        stats: Mapping[str, Stat],
        shas: Mapping[str, str],
        taken_ns: int,
        held: Mapping[str, object],
    ) -> Entries:
        """The entries to keep after an import that stat'ed ``stats`` at ``taken_ns`` and
        found ``shas`` (path -> sha256 the shelf holds): this import's files that are
        old enough not to be racy, and earlier entries of other paths whose bytes the
        shelf still holds (``held``: by sha256)."""
        recorded: Entries = {}
        for path, sha in shas.items():
            stat = stats[path]
            if stat[1] <= taken_ns - RACY_NS:
                recorded[path] = (stat_key(stat), sha)
        seen = {entry[0] for entry in recorded.values()}  # a moved file's old path goes
        kept = {
            path: entry
            for path, entry in self.entries.items()
            if path not in stats and entry[1] in held and entry[0] not in seen
        }
        return kept | recorded


def _entries(data: Any) -> Entries | None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    paths, stats, shas = data.get("paths"), data.get("stats"), data.get("shas")
    if not (isinstance(paths, list) and isinstance(stats, list) and isinstance(shas, list)):
        return None
    if not (len(paths) == len(stats) == len(shas)):
        return None
    if not all(set(map(type, column)) <= {str} for column in (paths, stats, shas)):
        return None
    return dict(zip(paths, zip(stats, shas, strict=True), strict=True))


def write(layout: Layout, entries: Entries) -> None:
    """Replace the cache (no ``.bak``: it is rebuilt by hashing when lost)."""
    data = {
        "format": FORMAT,
        "paths": list(entries),
        "stats": [entry[0] for entry in entries.values()],
        "shas": [entry[1] for entry in entries.values()],
    }
    atomic_write_bytes(layout.data_dir / FILE, orjson.dumps(data), keep_backup=False)
