"""The import's worker processes start small: they are not forks of the importing process,
which at import phase 2 holds the whole catalog (storage.analysis.worker_pool)."""

from __future__ import annotations

import subprocess
import sys
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


def test_a_pool_starts_where_standard_error_has_no_file(tmp_path):
    # In the TUI sys.stderr is Textual's capture of prints, whose fileno() is -1; the
    # forkserver and resource tracker inherit it. Started there they failed ("bad
    # value(s) in fds_to_keep"), and a catalog rebuilt at open in the TUI crashed it. A
    # fresh process: the forkserver of this one may be running already.
    from seeds.synth import synthesize
    from storage.analysis import PARALLEL_THRESHOLD

    synthesize(PARALLEL_THRESHOLD, tmp_path / "seeds", seed=4)
    script = f"""
import io, sys

class Captured(io.TextIOBase):  # as Textual's: writable, no file behind it
    def write(self, text):
        return len(text)
    def fileno(self):
        return -1

if __name__ == "__main__":
    sys.stderr = Captured()
    from storage import Store
    with Store.open({str(tmp_path / "db.json")!r}) as store:
        report = store.import_paths([{str(tmp_path / "seeds")!r}])
        print(len(report.imported), store.derived_pending)
"""
    (tmp_path / "run.py").write_text(script)
    out = subprocess.run(
        [sys.executable, str(tmp_path / "run.py")], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.split() == [str(PARALLEL_THRESHOLD), "0"]
