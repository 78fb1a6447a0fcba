"""``no_gc_passes()``: cyclic garbage collection held off while a block allocates many
objects that form no cycles (an index build, a catalog decode, a large comparison). Each
GC pass over them is pure cost: a million-post catalog decoded in the TUI took ~2.5 s more
with the passes. Nested uses are safe: only the outermost turns collection back on."""

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
