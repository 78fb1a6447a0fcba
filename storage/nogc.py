"""``no_gc_passes()``: cyclic garbage collection held off while a block allocates many
objects that form no cycles (an index build, an import's results, a large comparison):
each GC pass over them is pure cost (measured where it is used). Nested uses are safe:
only the outermost turns collection back on."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_gc_passes() -> Iterator[None]:
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
