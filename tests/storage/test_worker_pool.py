"""The import's worker processes start small: they are not forks of the importing process,
which at import phase 2 holds the whole catalog (storage.analysis.worker_pool)."""

from __future__ import annotations

from pathlib import Path

from storage.analysis import PARALLEL_THRESHOLD, worker_pool

BALLAST_MB = 300


def _rss_mb(status: str) -> int:
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) // 1024


def test_a_worker_does_not_carry_the_memory_of_the_process_that_started_it():
    ballast = bytearray(BALLAST_MB << 20)
    ballast[::4096] = b"x" * len(ballast[::4096])  # every page resident
    status = Path("/proc/self/status")
    here = _rss_mb(status.read_text())
    assert here >= BALLAST_MB
    with worker_pool(PARALLEL_THRESHOLD) as pool:
        assert pool is not None
        # a fork would hold the ballast's pages (shared, resident: counted in its RSS)
        worker = _rss_mb(pool.submit(status.read_text).result())
    assert worker < BALLAST_MB // 2, (worker, here)
    del ballast


def test_a_worker_runs_the_import_functions():
    from storage.analysis import file_sha256

    with worker_pool(PARALLEL_THRESHOLD) as pool:
        assert pool is not None
        assert pool.submit(file_sha256, b"abc").result() == file_sha256(b"abc")
