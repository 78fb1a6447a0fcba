"""A copy of the team catalog's bytes on this machine, so that opening the team store
reads a local file instead of fetching the whole catalog from the server again.

Named by the sha256 the server computes from the bytes it holds (``catalogs.sha256``, a
generated column): the server always says which catalog is current, and a file is used
only when its bytes hash to exactly that digest (checked at every read, so a damaged,
truncated or swapped file is never used: the server's bytes are fetched instead). The
bytes are data only (``storage.codec``): nothing in them can run code when read.

In ``$COPYDESK_CACHE_DIR`` (empty: no cache), else the user cache dir; the
``KEEP`` most recently used catalogs are kept, older ones deleted.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import platformdirs

from ..jsonstore import write_all
from ..paths import APP_NAME

KEEP = 2
_SUFFIX = ".catalog"


def cache_dir() -> Path | None:
    env = os.environ.get("COPYDESK_CACHE_DIR")
    if env is not None:
        return Path(env).expanduser() / "team-catalogs" if env.strip() else None
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "team-catalogs"


def _path(folder: Path, digest: str) -> Path | None:
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return None  # never a path from anything but a hex digest
    return folder / f"{digest}{_SUFFIX}"


def load(digest: str | None, size: int | None) -> bytes | None:
    """The cached bytes whose sha256 is ``digest`` (and length ``size``), else None."""
    folder = cache_dir()
    path = _path(folder, digest) if folder is not None and digest else None
    if path is None:
        return None
    try:
        if size is not None and path.stat().st_size != size:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != digest:
        path.unlink(missing_ok=True)  # damaged: the server's bytes are fetched instead
        return None
    try:
        os.utime(path)  # recently used: kept
    except OSError:
        pass
    return data


def store(digest: str | None, data: bytes) -> None:
    """Keep ``data`` under ``digest`` (only when it is its sha256); never raises."""
    folder = cache_dir()
    if folder is None or not digest or hashlib.sha256(data).hexdigest() != digest:
        return
    path = _path(folder, digest)
    if path is None:
        return
    tmp = folder / f".{digest}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, path)  # no fsync: a torn file fails its digest and is refetched
        _evict(folder)
    except OSError:
        tmp.unlink(missing_ok=True)


def _evict(folder: Path) -> None:
    def used(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return 0.0

    held = sorted(folder.glob(f"*{_SUFFIX}"), key=used, reverse=True)
    for old in held[KEEP:]:
        old.unlink(missing_ok=True)
