"""Cost follows the work: what an import, a re-import and one-post commands cost at scale,
each beside a baseline measured in the same run (issue 17).

    python benchmarks/scale.py                    # 100,000 posts (~10 minutes)
    python benchmarks/scale.py --size 1000000     # one million (~1 hour; disk: ~16 GB)
    python benchmarks/scale.py --size 2000 --batch 200   # quick

Every command runs as a real ``copydesk`` process; memory is the peak of the summed RSS of
its whole process tree (the import's pool workers included), sampled every 50 ms.

The children run without ``PYTHONDONTWRITEBYTECODE`` (whatever this process has), and the
one-post commands once untimed before their timed runs: users have bytecode caches, and
without them every run recompiles ~56 modules (~0.1 s of a ~0.3 s command).

| measure | baseline (same run) | target |
| cold import, until the posts are reviewable | reference reader, parse only, one process | <= 1.0x |
| re-import of the same unchanged files | read + sha256 of every file, one process | <= 2x, RSS <= 300 MB |
| the same files moved to another directory | the same read + sha256 pass | <= 2x |
| BATCH new posts into the N-post store | the same BATCH into an empty store | <= 2x |
| peak RSS of the cold import | - | <= 500 MB at 100k |
| `show ID`, `review ID` | - | <= 0.3 s at 100k |
| store size | the source files | <= 1.2x |
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import seeds  # noqa: E402
from benchmarks.corpus import corpus_dir  # noqa: E402

SAMPLE_S = 0.05
BATCH_RUNS = 3
ONE_POST_RUNS = 9


def _tree_rss_kb(pid: int) -> int:
    """The summed VmRSS of ``pid`` and its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                parent = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, ()))
        try:
            with open(f"/proc/{current}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def run(args: list[str], *, env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak tree RSS in MB, stdout) of one copydesk command. The dirty pages of
    earlier steps are written out first (``sync``, untimed): a command timed while the disk
    flushes the last import's ~800 MB measures the benchmark, not the command."""
    os.sync()
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss_kb(child.pid))
            stop.wait(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = child.communicate()
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    if child.returncode != 0:
        raise RuntimeError(f"copydesk {' '.join(args)} failed: {err.strip()[-2000:]}")
    return elapsed, peak / 1024, out


def reviewable_after(stdout: str) -> float | None:
    """The import's own "reviewable after N s" figure (phase 1), if it printed one."""
    marker = "reviewable after "
    at = stdout.find(marker)
    if at < 0:
        return None
    return float(stdout[at + len(marker) :].split(" ", 1)[0])


def parse_only(files: list[Path]) -> float:
    started = time.perf_counter()
    for path in files:
        seeds.read_file(path)
    return time.perf_counter() - started


def read_and_hash(files: list[Path]) -> float:
    started = time.perf_counter()
    for path in files:
        with open(path, "rb") as fh:
            hashlib.sha256(fh.read()).hexdigest()
    return time.perf_counter() - started


def du(path: Path) -> int:
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total


def row(measure: str, value: str, baseline: str, ratio: float | None, target: str) -> str:
    shown = "-" if ratio is None else f"{ratio:.2f}x"
    return f"| {measure} | {value} | {baseline} | {shown} | {target} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="work in DIR and leave the stores there")
    args = parser.parse_args(argv)
    size, batch = args.size, args.batch
    work = args.keep or Path(tempfile.mkdtemp(prefix="copydesk-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, COPYDESK_REVIEWER="benchmark", PYTHONPATH=str(ROOT))
    env.pop("COPYDESK_DB", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users' runs have bytecode caches: so do ours
    corpus = corpus_dir(size, seed=args.seed)
    bigger = corpus_dir(size + batch, seed=args.seed)  # its first SIZE files are corpus's
    files = sorted(corpus.glob("*.txt"))
    new = work / "batch"
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir()
    for path in sorted(bigger.glob("*.txt"))[size:]:
        os.link(path, new / path.name)
    lines = []
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"copydesk scale benchmark: {size:,} posts, batch {batch:,}; load average {load}")

    for path in files:  # page cache warm for every pass alike
        path.read_bytes()
    parse_s = parse_only(files)
    hash_s = read_and_hash(files)

    db = work / "store" / "copydesk.json"
    shutil.rmtree(db.parent, ignore_errors=True)
    import_s, import_mb, out = run(["--db", str(db), "import", str(corpus)], env=env)
    phase1 = reviewable_after(out) or import_s
    lines.append(
        row(
            "cold import, until reviewable (phase 1)",
            f"{phase1:.1f} s",
            f"{parse_s:.1f} s parse only",
            phase1 / parse_s,
            "<= 1.0x",
        )
    )
    lines.append(
        row(
            "cold import with hints and similarity (phase 2)",
            f"{import_s:.1f} s",
            f"{parse_s:.1f} s parse only",
            import_s / parse_s,
            "-",
        )
    )
    lines.append(row("peak RSS of the cold import", f"{import_mb:.0f} MB", "-", None, "<= 500 MB"))

    again_s, again_mb, _ = run(["--db", str(db), "import", str(corpus)], env=env)
    lines.append(
        row(
            "re-import of the same unchanged files",
            f"{again_s:.1f} s, {again_mb:.0f} MB",
            f"{hash_s:.1f} s read + sha256",
            again_s / hash_s,
            "<= 2x, <= 300 MB",
        )
    )
    moved = work / "moved"
    shutil.rmtree(moved, ignore_errors=True)
    moved.mkdir()
    for path in files:
        os.link(path, moved / path.name)
    try:
        moved_s, moved_mb, out = run(["--db", str(db), "import", str(moved)], env=env)
    finally:
        shutil.rmtree(moved, ignore_errors=True)
    lines.append(
        row(
            "the same files at another path (moved)",
            f"{moved_s:.1f} s, {moved_mb:.0f} MB",
            f"{hash_s:.1f} s read + sha256",
            moved_s / hash_s,
            "<= 2x",
        )
    )

    # The batch, BATCH_RUNS times each way, alternating (this machine's speed drifts by
    # tens of percent within minutes): into an empty store, and into a copy of the store.
    empty = work / "empty" / "copydesk.json"
    trial = work / "trial"
    alone, into, into_peak = [], [], 0.0
    for number in range(BATCH_RUNS):
        shutil.rmtree(empty.parent, ignore_errors=True)
        alone.append(run(["--db", str(empty), "import", str(new)], env=env)[0])
        last = number == BATCH_RUNS - 1
        target = db  # the last run imports into the store itself (the rows below use it)
        if not last:
            shutil.rmtree(trial, ignore_errors=True)
            shutil.copytree(db.parent, trial)
            target = trial / db.name
        seconds, peak, _ = run(["--db", str(target), "import", str(new)], env=env)
        into.append(seconds)
        into_peak = max(into_peak, peak)
    shutil.rmtree(trial, ignore_errors=True)
    alone_s, into_s = statistics.median(alone), statistics.median(into)
    lines.append(
        row(
            f"{batch:,} new posts into the {size:,}-post store (median of {BATCH_RUNS})",
            f"{into_s:.2f} s, {into_peak:.0f} MB",
            f"{alone_s:.2f} s into an empty store",
            into_s / alone_s,
            "<= 2x",
        )
    )

    post_id = seeds.read_file(files[len(files) // 2]).id
    show = ["--db", str(db), "show", post_id]
    review = ["--db", str(db), "review", post_id, "--status", "approved"]
    run(show, env=env)  # warm-up, untimed: the bytecode caches of what they import exist
    run(review, env=env)
    shows, reviews = [], []
    for _ in range(ONE_POST_RUNS):  # interleaved: a slow minute costs both alike
        shows.append(run(show, env=env)[0])
        reviews.append(run(review, env=env)[0])
    lines.append(
        row(
            f"`copydesk show ID` (median of {ONE_POST_RUNS})",
            f"{statistics.median(shows):.2f} s",
            "-",
            None,
            "<= 0.3 s",
        )
    )
    lines.append(
        row(
            f"`copydesk review ID --status …` (median of {ONE_POST_RUNS})",
            f"{statistics.median(reviews):.2f} s",
            "-",
            None,
            "<= 0.3 s",
        )
    )
    store_bytes = du(db.parent)
    source_bytes = du(corpus)
    lines.append(
        row(
            "store size",
            f"{store_bytes / 1e6:,.0f} MB",
            f"{source_bytes / 1e6:,.0f} MB source",
            store_bytes / source_bytes,
            "<= 1.2x",
        )
    )
    # the catalog is index-G.cdx and the search file it names: search-G.cdx, or an
    # earlier generation's that it shares (catalog format 5; the only one left)
    data_dir = db.with_name(db.name + ".d")
    catalog = sorted(data_dir.glob("index-*.cdx"))
    if catalog:
        from storage.local import index_files
        from storage.local.layout import Layout

        generation = int(catalog[-1].stem.split("-")[-1])
        search = index_files.search_file_of(Layout(db), generation)
        sizes = [path.stat().st_size for path in (catalog[-1], search) if path.exists()]
        per_post = sum(sizes) / (size + batch)
        lines.append(row("catalog (index) bytes per post", f"{per_post:,.0f} B", "-", None, "-"))

    print()
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| measure | value | baseline (same run) | ratio | target |")
    print("|---|---|---|---|---|")
    print("\n".join(lines))
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
