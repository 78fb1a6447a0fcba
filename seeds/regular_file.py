"""Reading the bytes of a file that must be a regular file, and not too large.

A FIFO named as a seed (or swapped in for one during an import) would block ``open()``
forever, ``/dev/zero`` would fill the memory, a file of gigabytes would too. So the file
is opened non-blocking (which cannot wait on a FIFO; it has no effect on a regular file),
the open descriptor is checked with ``fstat`` (what was opened, not what a name pointed
to a moment before), non-regular files are refused, and reading stops past a size limit.
Symbolic links are followed: a link to a seed document is a seed document (a link to a
FIFO or a device is refused like the thing itself).

The seed reader (``seeds.read_file``) and the store's readers (a colleague's review file)
use this one function.
"""

from __future__ import annotations

import errno
import os
import stat

MiB = 1024 * 1024
# A seed document is a few KB; 64 MiB is far beyond any real one, and a post of that size
# still parses in about a gigabyte of memory.
MAX_SEED_BYTES = 64 * MiB

_READ_CHUNK = MiB
NOT_REGULAR = "not a regular file"


class UnreadableFile(Exception):
    """A file that was not read. ``str(err)`` is ``path: reason``."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(str(path), reason)  # both in args: it pickles across processes
        self.path = str(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """``a directory``, ``a FIFO (named pipe)``, ... for a ``st_mode`` that is not regular."""
    return next((name for test, name in _KINDS if test(mode)), "an unknown kind of file")


def size_text(size: int) -> str:
    if size >= MiB:
        return f"{size / MiB:.0f} MiB" if size % MiB == 0 else f"{size / MiB:.1f} MiB"
    return f"{size:,} bytes"


def open_reason(err: OSError) -> str:
    """Why ``open()`` failed, in words (a symlink loop is not "no such file")."""
    if err.errno == errno.ELOOP:
        return "symbolic link loop (too many levels of symbolic links)"
    if err.errno == errno.ENXIO:  # a socket, or a device with nothing behind it
        return f"{NOT_REGULAR} (no such device or address)"
    return f"cannot read: {err.strerror or err}"


def read_regular_file(path: str | os.PathLike[str], max_bytes: int, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes`` of them; else
    ``UnreadableFile`` naming the reason (``what`` names the file in the size message:
    "larger than the 64 MiB limit for a seed document")."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise UnreadableFile(path, open_reason(err)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(path, f"{file_kind(info.st_mode)}, {NOT_REGULAR}")
        too_large = f"larger than the {size_text(max_bytes)} limit for a {what}"
        if info.st_size > max_bytes:
            raise UnreadableFile(path, f"{too_large} ({size_text(info.st_size)})")
        os.set_blocking(fd, True)  # a regular file: reads are ordinary from here on
        parts = []
        total = 0
        want = info.st_size + 1  # one more than fstat said: EOF in two reads, or growth
        while total <= max_bytes:
            ask = want - total if want > total else _READ_CHUNK  # a small file: no 1 MiB buffer
            chunk = os.read(fd, min(ask, max_bytes + 1 - total))
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
        if total > max_bytes:  # it grew while being read, or fstat gave no size (/proc)
            raise UnreadableFile(path, too_large)
        return b"".join(parts)
    except OSError as err:
        raise UnreadableFile(path, f"cannot read: {err.strerror or err}") from None
    finally:
        os.close(fd)
