"""benchmarks/families.py in a small run: it goes end to end and prints every figure with
its baseline (the numbers themselves are not checked: no timed tests)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"\d+(?:\.\d+)?"


def test_small_run_prints_every_figure(tmp_path: Path) -> None:
    env = dict(os.environ, HOME=str(tmp_path / "home"), COPYDESK_REVIEWER="smoke")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "families.py"),
            *("--size", "200", "--repeat", "1"),
            *("--corpora", str(tmp_path / "corpora"), "--keep", str(tmp_path / "work")),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| `")]
    measures = [row.split("|")[1].strip() for row in rows]
    assert [m.split("`")[1] for m in measures] == [
        "boilerplate --json --all",
        "hints-report --json",
        "list -q hint:inconsistent_duplicate",
        "review ID",
        "review ID",
        "keep ID",
        "clusters --json",
    ]
    for row in rows[:-1]:
        _, measure, value, baseline, ratio, target, _ = row.split("|")
        assert re.match(rf" {NUMBER} s", value), row
        assert re.match(rf" {NUMBER} s", baseline), row
        assert re.fullmatch(rf" {NUMBER}x ", ratio), row
        assert target.strip().startswith("<="), row
