"""The reader parses one document in memory linear in its size, whatever its shape.

For every hostile shape of benchmarks/reader_scaling.py (a huge body, 100,000s of meta
fields, a million bullets, stray lines, duplicate fields, blank lines, ...) the tracemalloc
peak of a parse at 256 KB is about 4x the peak at 64 KB (a quadratic reader gives ~16x), and
at most 20x the document's size. Two shapes are over it, still linear: short_lines, a
document of 2-character lines (each line is a Python string of ~50 bytes: ~29x), and
records, a list of two-line items (each item's dict is ~190 bytes for ~24 bytes of input:
~20.5x). Memory, not
wall time: it does not move with the machine's load. Time ratios: run the benchmark.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.reader_scaling import SHAPES, document, parse_peak  # noqa: E402

SMALL = 64 * 1024
LARGE = 4 * SMALL
MAX_FACTOR = {"short_lines": 32.0, "records": 22.0}  # see the module docstring


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_memory_grows_linearly_and_stays_within_20x(shape):
    small, large = document(shape, SMALL), document(shape, LARGE)
    small_peak, large_peak = parse_peak(small), parse_peak(large)
    ratio = large_peak / small_peak
    # linear: ~4 (2.5-6: dicts and lists grow in steps); quadratic: ~16
    assert 2.5 <= ratio <= 6.0, f"{shape}: peak grew {ratio:.1f}x for 4x the size"
    factor = large_peak / len(large.encode("utf-8"))
    assert factor <= MAX_FACTOR.get(shape, 20.0), f"{shape}: {factor:.1f}x the size"
