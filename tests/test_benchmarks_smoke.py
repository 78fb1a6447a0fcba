"""The benchmark script in smoke mode: it runs end to end and prints every figure.

Numbers are not checked (no timed tests); only that each measure produced a value and the
baseline it is compared with.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NUMBER = r"\d+(?:\.\d+)?"


def _row(output: str, measure: str) -> list[str]:
    for line in output.splitlines():
        if line.startswith(f"| {measure}"):
            return [cell.strip() for cell in line.strip().strip("|").split("|")]
    raise AssertionError(f"no table row for {measure!r} in:\n{output}")


def test_smoke_run_prints_every_figure_with_its_baseline(tmp_path: Path) -> None:
    env = dict(os.environ, HOME=str(tmp_path / "home"), COPYDESK_REVIEWER="smoke")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    output = done.stdout
    assert done.returncode == 0, output + done.stderr
    assert "### 50 posts" in output

    timed_with_baseline = {
        "import 50 files": "parse-only, 1 process",
        "search keystroke to top 50": "fzf --filter",
        "similar posts lookup": "process.extract",
        "save one decision": "durable 1 KB write",
    }
    for measure, baseline in timed_with_baseline.items():
        _, value, base, ratio, target, _ = _row(output, measure)
        assert re.fullmatch(rf"{NUMBER} m?s", value), (measure, value)
        if baseline == "fzf --filter" and "fzf not installed" in base:
            assert ratio == "-"  # printed without its baseline, with how to install fzf
            assert "apt-get install" in base
            continue
        assert re.match(rf"{NUMBER} m?s ", base) and baseline in base, (measure, base)
        assert re.fullmatch(rf"{NUMBER}x", ratio), (measure, ratio)
        assert target.startswith("<= ")

    _, memory, *_ = _row(output, "memory after open + search + similar")
    assert re.fullmatch(rf"{NUMBER} MB", memory)
    _, start, *_ = _row(output, "TUI cold start to first screen")
    assert re.fullmatch(rf"{NUMBER} s", start)
    # the TUI really showed the imported posts
    assert "50 rows loaded" in output
    # the store was built where --keep said, from a synthesized corpus of 50 documents
    assert (tmp_path / "store-50" / "copydesk.json").exists()
    assert len(list((tmp_path / "corpus" / "corpus-50-s0").glob("*.txt"))) == 50


def test_missing_fzf_prints_search_without_baseline(tmp_path: Path, monkeypatch) -> None:
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks import run
    finally:
        sys.path.remove(str(ROOT))
    from storage import Store

    monkeypatch.setattr(run.shutil, "which", lambda name: None)
    store = Store.open(tmp_path / "db.json")
    try:
        store.import_samples()
        titles = [row.title for row in store.search("", limit=None)]
        result = run.Result(len(titles))
        settings = run.Settings(
            True, repeats=1, similar_ids=5, extract_queries=2, saves=2, tui_runs=1
        )
        run.measure_search(result, store, titles, tmp_path, settings)
    finally:
        store.close()
    (row,) = result.rows
    assert row.measure.startswith("search keystroke to top 50")
    assert re.fullmatch(rf"{NUMBER} m?s", row.value)
    assert row.ratio is None and row.over is None
    assert "fzf not installed" in row.baseline and "apt-get install -y fzf" in row.baseline
