"""Open to first screen: copydesk's TUI on a store, against the bare Textual floor app on
the same titles, same run (issue 17: open <= 3 s, RSS after open <= 2 GB at 1,000,000).

    python benchmarks/open.py --db /tmp/bench/m1/store.json         # a 1,000,000-post store
    python benchmarks/open.py --smoke                                # 300 posts, quick

Starts copydesk in tmux at 120x40 (``--size``) ``--runs`` times and times, from the
process start, until the queue's first title shows in the list, then until the post's
meta shows; its ``VmRSS`` at that first screen, then once the search index is read (RSS
still for 5 s, or ``--settle`` seconds), and its peak. The baseline is the floor
(``shared/tools/floor_app.py``: an OptionList of the same titles and a body Static),
timed to its first screen once. copydesk opens the store as a reviewer does (writable: a
catalog that is stale after an upgrade is rebuilt and written by the first run).

Run on demand, not in CI: it needs tmux, and at 1,000,000 posts the floor alone takes ~50 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the repo importable
    sys.path.insert(0, str(ROOT))

from benchmarks.keylat import smoke_store, titles_file, tmux, tools_dir  # noqa: E402

OPEN_TARGET_S = 3.0
RSS_TARGET_GB = 2.0
META_MARK = "│ topic "  # the Meta pane's first row: the post under the cursor is shown
POLL_S = 0.02
TIMEOUT_S = 600
STILL_S = 5.0


def _status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _wait_for(session: str, text: str, started: float) -> float:
    """Seconds from ``started`` until ``text`` is on the session's screen."""
    while time.monotonic() - started < TIMEOUT_S:
        if text in tmux("capture-pane", "-p", "-t", session):
            return time.monotonic() - started
        time.sleep(POLL_S)
    screen = tmux("capture-pane", "-p", "-t", session)
    raise SystemExit(f"{session}: {text!r} not on screen after {TIMEOUT_S} s:\n{screen}")


def _start(session: str, command: str, size: tuple[int, int]) -> tuple[float, int]:
    """Start ``command`` (exec'd, so the pane's process is it) in a new tmux session."""
    width, height = size
    started = time.monotonic()
    tmux("new-session", "-d", "-s", session, "-x", str(width), "-y", str(height), command)
    pid = int(tmux("display-message", "-p", "-t", session, "#{pane_pid}").strip() or 0)
    return started, pid


def _settled_kb(pid: int, settle_s: float) -> tuple[int, int]:
    """(VmRSS once still for STILL_S, or after ``settle_s``; VmHWM then)."""
    deadline = time.monotonic() + settle_s
    last, still_since = _status_kb(pid, "VmRSS"), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _status_kb(pid, "VmRSS")
        if abs(now - last) > last / 100:
            last, still_since = now, time.monotonic()
        elif time.monotonic() - still_since >= STILL_S:
            break
    return last, _status_kb(pid, "VmHWM")


def open_copydesk(
    db: Path, first_title: str, size: tuple[int, int], work: Path, tag: str, settle_s: float
) -> dict[str, float]:
    session = f"open-copydesk-{tag}"
    config = work / f"config-{tag}"
    config.mkdir()
    env = f"COPYDESK_CONFIG_DIR={config} COPYDESK_REVIEWER=open-bench"
    command = f"cd {ROOT} && exec env {env} {sys.executable} -m tui.cli --db {db}"
    try:
        started, pid = _start(session, command, size)
        rows_s = _wait_for(session, first_title, started)
        first_kb = _status_kb(pid, "VmRSS")
        meta_s = _wait_for(session, META_MARK, started)
        settled_kb, peak_kb = _settled_kb(pid, settle_s)
        tmux("send-keys", "-t", session, "q")
        time.sleep(1.0)
    finally:
        tmux("kill-session", "-t", session)
    return {
        "rows_s": rows_s,
        "meta_s": meta_s,
        "first_gb": first_kb / 1e6,
        "settled_gb": settled_kb / 1e6,
        "peak_gb": peak_kb / 1e6,
    }


def open_floor(titles: Path, first_title: str, size: tuple[int, int], tag: str) -> float:
    session = f"open-floor-{tag}"
    command = f"exec {sys.executable} {tools_dir() / 'floor_app.py'} {titles}"
    try:
        started, _ = _start(session, command, size)
        return _wait_for(session, first_title, started)
    finally:
        tmux("kill-session", "-t", session)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="the store to open")
    parser.add_argument("--smoke", action="store_true", help="a small synthesized store")
    parser.add_argument("--smoke-posts", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=60.0, help="seconds to wait for RSS")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor app")
    parser.add_argument("--size", default="120x40")
    args = parser.parse_args()
    if not args.smoke and not args.db:
        parser.error("give --db STORE or --smoke")
    width, height = (int(part) for part in args.size.split("x"))
    size = (width, height)
    with tempfile.TemporaryDirectory(prefix="copydesk-open-") as work_dir:
        work = Path(work_dir)
        db = smoke_store(work, args.smoke_posts) if args.smoke else args.db
        titles = work / "titles.txt"
        titles_file(db, titles)
        # the list shows a title's start (its width is ~30 columns)
        first_title = titles.read_text(encoding="utf-8").split("\n", 1)[0][:16]
        runs = [
            open_copydesk(db, first_title, size, work, f"{n}", args.settle)
            for n in range(args.runs)
        ]
        floor = None if args.no_floor else open_floor(titles, first_title, size, "f")
    return report(runs, floor, str(db))


def report(runs: list[dict[str, float]], floor: float | None, label: str) -> int:
    def spread(key: str, unit: str, digits: int = 2) -> str:
        values = [run[key] for run in runs]
        median = statistics.median(values)
        return f"{median:.{digits}f} {unit} (runs: {', '.join(f'{v:.{digits}f}' for v in values)})"

    open_s = statistics.median(run["rows_s"] for run in runs)
    settled = statistics.median(run["settled_gb"] for run in runs)
    print(f"\nopen to first screen, {label}, {len(runs)} runs")
    print(f"  first rows shown      {spread('rows_s', 's')}")
    print(f"  the post's meta shown {spread('meta_s', 's')}")
    if floor is not None:
        print(f"  floor app, same titles {floor:.2f} s -> {open_s / floor:.2f}x the floor")
    print(f"  RSS at first screen   {spread('first_gb', 'GB')}")
    print(f"  RSS once settled      {spread('settled_gb', 'GB')}")
    print(f"  RSS peak              {spread('peak_gb', 'GB')}")
    open_ok, rss_ok = open_s <= OPEN_TARGET_S, settled <= RSS_TARGET_GB
    print(f"  open <= {OPEN_TARGET_S} s: {'met' if open_ok else 'NOT MET'}; ", end="")
    print(f"RSS after open <= {RSS_TARGET_GB} GB: {'met' if rss_ok else 'NOT MET'}")
    return 0 if open_ok and rss_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
