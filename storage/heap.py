"""``give_back_free_memory()``: hand the C heap's free pages back to the system.

glibc keeps the pages of freed memory for reuse. After an import's phase 1 the importing
process has freed most of what it held (the parsed posts, the workers' pickled results),
and phase 2 allocates other shapes: at 100,000 posts it kept ~90 MB it no longer used
through the rest of the import, where its memory peaks. A no-op where the C library has
no ``malloc_trim`` (not glibc)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def give_back_free_memory() -> bool:
    """Whether the C library could be asked to (glibc: yes)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
