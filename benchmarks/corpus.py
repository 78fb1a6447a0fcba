"""Synthesized corpora for the benchmarks, cached under ``benchmarks/out/``.

A cached corpus is reused when it holds the right number of files and a sample of its
documents is byte-identical to what the synthesizer renders now (the synthesizer is
deterministic); otherwise it is synthesized again.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from seeds.synth import render_document, synthesize

OUT_DIR = Path(__file__).resolve().parent / "out"
SAMPLE = 96  # documents compared with a fresh rendering before a cached corpus is reused


def _sample_indices(count: int) -> list[int]:
    step = max(1, count // SAMPLE)
    return sorted({*range(0, count, step), count - 1})


def is_current(directory: Path, count: int, seed: int) -> bool:
    """True when ``directory`` holds exactly the ``count`` documents ``seed`` gives now."""
    try:
        names = [n for n in os.listdir(directory) if n.endswith(".txt")]
    except FileNotFoundError:
        return False
    if len(names) != count:
        return False
    for index in _sample_indices(count):
        name, text = render_document(index, seed)
        try:
            if (directory / name).read_bytes() != text.encode():
                return False
        except FileNotFoundError:
            return False
    return True


def corpus_dir(count: int, *, seed: int = 0, root: Path = OUT_DIR, log=print) -> Path:
    """The directory holding ``count`` synthesized documents, made when missing or stale.

    Written to ``NAME.partial`` first and renamed when complete, so an interrupted run
    never leaves a short corpus behind.
    """
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"corpus-{count}-s{seed}"
    if is_current(target, count, seed):
        return target
    partial = root / f"corpus-{count}-s{seed}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    started = time.perf_counter()
    synthesize(count, partial, seed=seed)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    log(f"synthesized {count} documents in {time.perf_counter() - started:.1f}s -> {target}")
    return target
