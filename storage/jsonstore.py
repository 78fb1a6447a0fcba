"""Crash-safe JSON files for TinyDB.

Every write goes to a temp file in the same directory, is fsynced, then renamed over the
target, and the directory is fsynced so the rename itself is durable. The previous
generation is kept beside it as ``NAME.bak`` (a hard link, so the target path always
exists). A damaged file is never silently replaced by an empty one: reading recovers from
``.bak`` with a warning when that is valid, and otherwise raises ``StoreCorruptError``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from .errors import StoreCorruptError, StoreError

Warn = Callable[[str], None]


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes | memoryview) -> None:
    """Write all of ``data`` to ``fd`` (``os.write`` may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def atomic_write_bytes(
    path: Path, data: bytes | Iterable[Any], *, keep_backup: bool = True
) -> None:
    """Write ``data`` (or its parts, one after the other: any iterable, taken as it is
    written) to ``path`` so that a crash leaves either the old or the new file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for part in [data] if isinstance(data, bytes | bytearray | memoryview) else data:
            write_all(fd, part)
        os.fsync(fd)
    except BaseException as exc:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # so that the user's error names the store file
        raise
    os.close(fd)
    if keep_backup and path.exists():
        _keep_previous_generation(path)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def remove_stale_temp_files(directory: Path, prefix: str = ".") -> None:
    """Delete the temp files (``.NAME.PID.*.tmp``) of writers that died mid-write (kill -9).
    They are never read, only in the way; a live process's are left alone."""
    for tmp in Path(directory).glob(f"{prefix}*.tmp"):
        parts = tmp.name.split(".")
        if len(parts) < 5 or not parts[-3].isdigit():
            continue
        pid = int(parts[-3])
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
            continue  # alive (or reused by another process): keep
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # alive, another user's
        tmp.unlink(missing_ok=True)


def _keep_previous_generation(path: Path) -> None:
    bak = backup_path(path)
    link_tmp = path.with_name(f".{path.name}.{os.getpid()}.bak.tmp")
    link_tmp.unlink(missing_ok=True)
    try:
        os.link(path, link_tmp)
    except OSError:  # file systems without hard links: a copy is as good, only slower
        import shutil  # rarely: a file system without hard links

        shutil.copy2(path, link_tmp)
    os.replace(link_tmp, bak)


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


Validate = Callable[[dict[str, Any]], "str | None"]


def _decode(path: Path, validate: Validate | None = None) -> tuple[dict | None, str | None]:
    """Parse one JSON document; return (data, None) or (None, reason). ``validate`` says
    why valid JSON is still not the file it should be (the wrong shape), or None."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, "missing"
    except OSError as exc:
        return None, f"cannot read ({exc.strerror or exc})"
    if not raw.strip():
        return None, "empty (truncated?)"
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc})"
    if not isinstance(data, dict):
        return None, f"not a copydesk store file (top level is {type(data).__name__})"
    if validate is not None:
        try:
            problem = validate(data)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            problem = f"unexpected shape ({type(exc).__name__}: {exc})"
        if problem is not None:
            return None, f"not in the expected shape ({problem})"
    return data, None


DEFAULT_ADVICE = (
    "Restore it from your own backup, or move it aside to start afresh without what it held."
)


def read_json(
    path: Path,
    *,
    warn: Warn | None = None,
    advice: str | None = None,
    validate: Validate | None = None,
    writable: bool = True,
    recovered: list[str] | None = None,
) -> dict | None:
    """Read a store file, recovering from ``.bak`` if the file is damaged (then the note
    said is also appended to ``recovered``, when given).

    Returns None when neither the file nor a backup exists (a new store). ``advice`` is
    what the error tells the user to do when there is no valid backup. ``writable`` False
    (read-only commands) takes the backup in memory and leaves every file as it is.
    """
    path = Path(path)
    data, reason = _decode(path, validate)
    if reason is None:
        return data
    if reason == "missing" and not backup_path(path).exists():
        return None
    if recovered is not None:
        warn = _noting(warn, recovered)
    if not writable:
        return _recover(path, reason, warn, advice, validate, writable=False)
    # Recover under a lock, after reading again: a reader holds no store lock, and another
    # process may have recovered the file and saved a new generation over it meanwhile,
    # which must not be moved aside as "damaged".
    with _recovery_lock(path):
        data, reason = _decode(path, validate)
        if reason is None:
            return data
        return _recover(path, reason, warn, advice, validate, writable=True)


def _noting(warn: Warn | None, notes: list[str]) -> Warn:
    def both(message: str) -> None:
        notes.append(message)
        if warn is not None:
            warn(message)

    return both


def write_json(path: Path, data: dict[str, Any], *, keep_backup: bool = True) -> None:
    """Write one store file atomically (the previous generation kept as ``.bak``)."""
    atomic_write_bytes(path, orjson.dumps(data), keep_backup=keep_backup)


@contextmanager
def _recovery_lock(path: Path) -> Iterator[None]:
    import filelock  # only a damaged file is recovered under a lock

    lock = filelock.FileLock(str(path.with_name(f".{path.name}.recover.lock")))
    try:
        lock.acquire(timeout=60)
    except filelock.Timeout as exc:
        raise StoreCorruptError(
            path, "damaged and being recovered by another copydesk process; try again"
        ) from exc
    except OSError:  # no lock file possible here (read-only?): the recovery write fails too
        yield
        return
    try:
        yield
    finally:
        lock.release()


def _recover(
    path: Path,
    reason: str,
    warn: Warn | None,
    advice: str | None,
    validate: Validate | None,
    *,
    writable: bool,
) -> dict | None:
    bak = backup_path(path)
    bak_data, bak_reason = _decode(bak, validate)
    if bak_reason is not None:
        if reason == "missing" and bak_reason == "missing":
            return None
        raise StoreCorruptError(
            path,
            f"{reason}; no valid backup ({bak.name}: {bak_reason}). {advice or DEFAULT_ADVICE}",
        )
    if not writable:
        note = f"{path}: {reason}; read the previous generation from {bak.name} (left as it is)"
    elif reason != "missing":
        damaged = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(path, damaged)
        note = (
            f"{path}: {reason}; recovered the previous generation from {bak.name} "
            f"(damaged file kept as {damaged.name})"
        )
    else:
        note = f"{path}: missing; recovered the previous generation from {bak.name}"
    if writable:
        atomic_write_bytes(path, orjson.dumps(bak_data), keep_backup=False)
    if warn is not None:
        warn(note)
    return bak_data


class AtomicJSONStorage(Storage):
    """TinyDB storage: orjson, atomic durable writes, ``.bak`` generations, and a read cache.

    TinyDB reads the whole document for every operation; the cache is keyed on the file's
    (mtime, size, inode) so another process's write is still noticed.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        warn: Warn | None = None,
        advice: str | None = None,
        validate: Validate | None = None,
        writable: bool = True,
    ) -> None:
        self.path = Path(path)
        self._warn = warn
        self._advice = advice
        self._validate = validate
        self._writable = writable
        self._cache: dict | None = None
        self._signature: tuple | None = None

    def _stat_signature(self) -> tuple | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def read(self) -> dict[str, Any] | None:
        signature = self._stat_signature()
        if self._cache is not None and signature == self._signature:
            return self._cache
        data = read_json(
            self.path,
            warn=self._warn,
            advice=self._advice,
            validate=self._validate,
            writable=self._writable,
        )
        self._cache = data
        self._signature = self._stat_signature()
        return data

    def write(self, data: dict[str, Any]) -> None:
        if not self._writable:
            raise StoreError(f"{self.path}: opened read-only")
        self._cache = None  # if the write fails, the next read goes back to disk
        atomic_write_bytes(self.path, orjson.dumps(data))
        self._cache = data
        self._signature = self._stat_signature()

    def changed_on_disk(self) -> bool:
        return self._stat_signature() != self._signature

    def close(self) -> None:
        self._cache = None
