"""Key to settled screen in the review TUI, against the bare Textual floor app, same run.

    python benchmarks/keylat.py --db /tmp/bench/s100k/store.json   # a 100,000-post store
    python benchmarks/keylat.py --smoke                             # 300 posts, quick

Starts ``floor_app.py`` (an OptionList of the same titles and a body Static) and copydesk in
tmux at 120x40 (``--size``), on a copy of the store (decisions write to it), and times each
key with ``keylat.py`` (tmux capture-pane until the screen has been still for 0.6 s; both
tools from ``shared/tools``, used as they are). Prints each key's settled median beside the
floor's ``j`` and the ratio; the target is 1.5x. Keys: ``j``, ``k``, ``a`` / ``x`` / ``c``
(decide and advance; each followed by ``u``, so the store ends as it began), ``u``, and one
character typed into the search box (the median over the characters of ``laravel``).

Run on demand, not in CI: it needs tmux and takes a few minutes at 100,000 posts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the repo importable
    sys.path.insert(0, str(ROOT))

TARGET = 1.5
SEARCH_TEXT = "laravel"  # no space: a trailing space changes nothing on screen
START_TIMEOUT_S = 60


def tools_dir() -> Path:
    for candidate in (ROOT.parent / "shared" / "tools", Path("/work/shared/tools")):
        if (candidate / "keylat.py").exists() and (candidate / "floor_app.py").exists():
            return candidate
    raise SystemExit("keylat.py and floor_app.py not found in ../shared/tools")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def start(session: str, command: str, size: tuple[int, int], ready: str) -> None:
    """Start ``command`` in a new tmux session and wait until the screen shows ``ready``."""
    width, height = size
    tmux("new-session", "-d", "-s", session, "-x", str(width), "-y", str(height), command)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if ready in tmux("capture-pane", "-p", "-t", session):
            time.sleep(3)  # let the first screen's work (prefetch, polls) finish
            return
        time.sleep(0.2)
    screen = tmux("capture-pane", "-p", "-t", session)
    raise SystemExit(f"{session}: {ready!r} not on screen after {START_TIMEOUT_S} s:\n{screen}")


def keylat(tools: Path, session: str, key: str, count: int) -> dict:
    out = subprocess.run(
        [sys.executable, str(tools / "keylat.py"), session, key, str(count)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def send(session: str, *keys: str) -> None:
    tmux("send-keys", "-t", session, *keys)
    time.sleep(1.0)


def titles_file(store_path: Path, target: Path) -> None:
    """The store's titles in queue order, one a line: what the floor app lists."""
    from storage import Store

    with Store.open(store_path) as store:
        titles = [row.title.replace("\n", " ") for row in store.search("", limit=None)]
    target.write_text("\n".join(titles) + "\n", encoding="utf-8")


def smoke_store(directory: Path, count: int) -> Path:
    from seeds.synth import synthesize
    from storage import Store

    synthesize(count, directory / "seeds", seed=3)
    db = directory / "store" / "store.json"
    with Store.open(db) as store:
        store.import_paths([directory / "seeds"])
    return db


def copy_store(db: Path, directory: Path) -> Path:
    target = directory / "store"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(db, target / db.name)
    shutil.copytree(db.with_name(db.name + ".d"), target / (db.name + ".d"))
    return target / db.name


def measure(args: argparse.Namespace, work: Path) -> list[tuple[str, dict]]:
    tools = tools_dir()
    if args.smoke:
        db = smoke_store(work, args.smoke_posts)
    else:
        db = copy_store(Path(args.db), work)
    titles = work / "titles.txt"
    titles_file(db, titles)
    size = tuple(int(part) for part in args.size.split("x"))
    tag = f"{os.getpid()}"
    floor, desk = f"keylat-floor-{tag}", f"keylat-copydesk-{tag}"
    config = work / "config"
    config.mkdir()
    env = f"COPYDESK_CONFIG_DIR={config} COPYDESK_REVIEWER=keylat"
    py = sys.executable
    results: list[tuple[str, dict]] = []
    try:
        first_title = titles.read_text(encoding="utf-8").split("\n", 1)[0][:16]
        start(floor, f"{py} {tools / 'floor_app.py'} {titles}", size, first_title)
        start(desk, f"cd {ROOT} && {env} {py} -m tui.cli --db {db}", size, "reviewed")
        count = args.count
        keylat(tools, floor, "j", 2)  # warm-up: first moves build caches in both apps
        keylat(tools, desk, "j", 2)
        results.append(("floor j", keylat(tools, floor, "j", count)))
        tmux("kill-session", "-t", floor)
        for key in ("j", "k"):
            results.append((key, keylat(tools, desk, key, count)))
        undo: list[dict] = []
        for key in ("a", "x", "c"):
            results.append((key, keylat(tools, desk, key, count)))
            undo.append(keylat(tools, desk, "u", count))
        results.append(("u", merge(undo)))
        send(desk, "/")
        typed = [keylat(tools, desk, char if char != " " else "Space", 1) for char in SEARCH_TEXT]
        results.append(("search char", merge(typed)))
        send(desk, "Escape")
    finally:
        for session in (floor, desk):
            tmux("kill-session", "-t", session)
    return results


def merge(runs: list[dict]) -> dict:
    settled = [run["settled_ms"] for run in runs]
    return {"settled_ms": round(statistics.median(settled)), "max_ms": max(settled)}


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def report(results: list[tuple[str, dict]], label: str) -> bool:
    floor = results[0][1]["settled_ms"]
    print(f"\nkey to settled screen, {label}; load average {load_average()}")
    print(f"{'key':<12} {'settled ms':>10} {'max ms':>8} {'floor j ms':>10} {'ratio':>6}  target")
    ok = True
    for name, result in results:
        settled = result["settled_ms"]
        ratio = settled / floor if floor else float("inf")
        verdict = "" if name == "floor j" else ("ok" if ratio <= TARGET else "NOT MET")
        ok &= name == "floor j" or ratio <= TARGET
        print(
            f"{name:<12} {settled:>10} {result['max_ms']:>8} {floor:>10} {ratio:>6.2f}  "
            f"<= {TARGET}x {verdict}"
        )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="the store to measure (copied first)")
    parser.add_argument("--smoke", action="store_true", help="a small synthesized store")
    parser.add_argument("--smoke-posts", type=int, default=300)
    parser.add_argument("--count", type=int, default=9, help="presses per key (median)")
    parser.add_argument("--size", default="120x40")
    args = parser.parse_args()
    if not args.smoke and not args.db:
        parser.error("give --db STORE or --smoke")
    if args.smoke:
        args.count = min(args.count, 3)
    if shutil.which("tmux") is None:
        print("tmux not installed: apt-get install -y tmux", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="copydesk-keylat-") as work:
        results = measure(args, Path(work))
    label = f"{args.smoke_posts} posts (smoke)" if args.smoke else f"{args.db}, {args.size}"
    met = report(results, label)
    return 0 if met or args.smoke else 1


if __name__ == "__main__":
    raise SystemExit(main())
