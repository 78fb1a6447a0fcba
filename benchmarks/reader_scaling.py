"""How the seed reader grows with one document's size, for every hostile shape of document.

    python benchmarks/reader_scaling.py                 # 1 MB and 8 MB of each shape
    python benchmarks/reader_scaling.py --small 0.25 --large 2 body meta_fields

Each shape is a real sample seed with one part blown up (the body, 100,000s of meta
fields, a meta list or mapping of a million bullets, stray lines, one huge line, code,
images, blank lines, lines that mention the markers, duplicate fields, ...). For each, the
parse time and the tracemalloc peak at the small and the large size are printed with their
ratios: a linear reader gives both ratios near large/small (8 by default), a quadratic one
~64. The memory ratio is the stable figure (time moves with the machine's load).
tests/seeds/test_seeds_scaling.py checks the memory figures at small sizes.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the repo importable
    sys.path.insert(0, str(ROOT))

import seeds  # noqa: E402

SAMPLE = (ROOT / "seeds" / "samples" / "000_d88866b715cabc30.txt").read_text(encoding="utf-8")
_TITLE, _REST = SAMPLE.split("\n", 1)
_BODY, _META = _REST.split("alphanode post meta", 1)
_META = "alphanode post meta" + _META
MiB = 1024 * 1024


def _fill(unit: str, size: int) -> str:
    return unit * (size // len(unit) + 1)


def _in_meta(extra: Callable[[int], str]) -> Callable[[int], str]:
    return lambda n: (
        f"{_TITLE}\n{_BODY}" + _META.replace("Similar Posts", extra(n) + "\nSimilar Posts")
    )


SHAPES: dict[str, Callable[[int], str]] = {
    "body": lambda n: f"{_TITLE}\n{_fill(_BODY, n)}{_META}",
    "meta_fields": _in_meta(
        lambda n: _fill("".join(f"field{i}: value {i}\n" for i in range(1000)), n)
    ),
    "meta_list": lambda n: (
        f"{_TITLE}\n{_BODY}"
        + _META.replace("checklist\n", "checklist\n" + _fill("  • one more checklist item\n", n))
    ),
    "meta_mapping": lambda n: (
        f"{_TITLE}\n{_BODY}"
        + _META.replace(
            "payload\n", "payload\n" + _fill("".join(f"  • key{i}: v{i}\n" for i in range(1000)), n)
        )
    ),
    "unknown_mapping": _in_meta(
        lambda n: "custom thing\n" + _fill("".join(f"  • k{i}: v\n" for i in range(500)), n)
    ),
    "records": _in_meta(lambda n: "custom thing\n" + _fill("  • name: x\n    • type: y\n", n)),
    "unknown_fields_with_bullets": _in_meta(lambda n: _fill("custom a\n  • x\n", n)),
    "stray_lines": _in_meta(lambda n: _fill("    stray line that fits nowhere\n", n)),
    "duplicate_fields": _in_meta(lambda n: _fill("topicagain\n", n)),
    "one_line": lambda n: f"{_TITLE}\n\n{_fill('word ', n)}\n\n{_META}",
    "code": lambda n: f"{_TITLE}\n\n{_fill('    x = call(y);' + chr(10), n)}\n{_META}",
    "code_groups": lambda n: f"{_TITLE}\n\n{_fill('    x = call(y);' + chr(10) * 2, n)}{_META}",
    "images": lambda n: (
        f"{_TITLE}\n\n"
        + _fill("a caption\na caption. image source: host.example\n", n)
        + f"\n{_META}"
    ),
    "bullets": lambda n: f"{_TITLE}\n\n{_fill('  • item' + chr(10), n)}\n{_META}",
    "similar_list": lambda n: SAMPLE.rstrip() + "\n" + _fill("anp-ref-000001-0001\n", n),
    "blank_lines": lambda n: f"{_TITLE}\n{_fill(chr(10), n)}{_BODY}{_META}",
    "marker_mentions": lambda n: (
        f"{_TITLE}\n" + _fill("alphanode post meta is mentioned\n", n) + _META
    ),
    "short_lines": lambda n: f"{_TITLE}\n\n{_fill('ab' + chr(10), n)}\n{_META}",
}


def document(shape: str, size: int) -> str:
    return SHAPES[shape](size)


def parse_peak(text: str) -> int:
    """The tracemalloc peak (bytes) of parsing ``text``, above what was allocated before."""
    gc.collect()
    tracemalloc.start()
    try:
        seeds.parse(text)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def parse_seconds(text: str) -> float:
    started = time.perf_counter()
    seeds.parse(text)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shapes", nargs="*", default=list(SHAPES))
    parser.add_argument("--small", type=float, default=1.0, help="MB (default 1)")
    parser.add_argument("--large", type=float, default=8.0, help="MB (default 8)")
    args = parser.parse_args(argv)
    small, large = int(args.small * MiB), int(args.large * MiB)
    print(
        f"shape: time and peak memory (x the document's size) at {args.small} and "
        f"{args.large} MB; ratios (linear: {large / small:.1f})"
    )
    for shape in args.shapes:
        figures = []
        for size in (small, large):
            text = document(shape, size)
            length = len(text.encode("utf-8"))
            figures.append((parse_seconds(text), parse_peak(text), length))
        (t1, m1, n1), (t2, m2, n2) = figures
        print(
            f"{shape:28} {t1 * 1000:7.0f} ms {m1 / n1:5.1f}x | {t2 * 1000:7.0f} ms "
            f"{m2 / n2:5.1f}x | time {t2 / t1:5.1f} memory {m2 / m1:5.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
