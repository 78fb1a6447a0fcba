"""Near-copy families and templates at scale (issue 18): each command as a real
``copydesk`` process, beside a baseline measured in the same run.

    python benchmarks/families.py                 # 100,000 posts (corpus cached in benchmarks/out)
    python benchmarks/families.py --size 2000     # quick
    python benchmarks/families.py --keep DIR      # work in DIR, reuse its store if complete

| measure | baseline (same run) | target |
| `boilerplate --json` over every post | a process reading every record (`iter_posts`) | <= 2x, well under 60 s at 100k |
| `hints-report --json` | a process listing every row (`search("", None)`) | <= 2x |
| `list -q hint:inconsistent_duplicate` | `list -q hint:near_duplicate` | <= 1.5x |
| `review ID` guarded, ID in a cluster | `review ID --force` | <= 1.5x |
| `review ID` guarded, ID in no cluster | `review ID --force` | <= 1.2x |
| `keep ID` | `review ID --force` | <= 1.5x |
| `clusters --json` | - | - |

Measured: a guarded review of a post in a cluster, and ``keep``, load the catalog (1.35 s
of their 2.3 s at 100,000 posts) for the similar lists; the near-duplicate pairs of one
post kept beside the near-dups hints file would spare it.
"""

from __future__ import annotations

import argparse
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

from benchmarks.corpus import corpus_dir  # noqa: E402
from benchmarks.scale import SAMPLE_S, _tree_rss_kb, row  # noqa: E402

READ_EVERY_RECORD = (
    "import sys; from storage import Store\n"
    "with Store.open(sys.argv[1], writable=False) as s:\n"
    "    n = sum(1 for _ in s.iter_posts())\n"
    "print(n)\n"
)
LIST_EVERY_ROW = (
    "import sys; from storage import Store\n"
    "with Store.open(sys.argv[1], writable=False) as s:\n"
    "    print(len(s.search('', limit=None)))\n"
)


def run_process(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak RSS of its process tree in MB, stdout) of one process."""
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
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
        raise RuntimeError(f"{' '.join(argv[1:4])} failed: {err.strip()[-2000:]}")
    return elapsed, peak / 1024, out


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """One ``copydesk`` command."""
    return run_process([sys.executable, "-m", "tui.cli", *args], env)


def python(code: str, *args: str, env: dict[str, str]) -> tuple[float, float, str]:
    """A small Python program, for a baseline."""
    return run_process([sys.executable, "-c", code, *args], env)


def prepare(db: Path, corpus: Path, env: dict[str, str]) -> None:
    """Import the corpus, then decide: every tenth post approved, every 17th rejected, and
    in every fourth cluster the first post approved and the others rejected (each such
    pair inconsistent)."""
    from storage import DecisionRequest, Status, Store

    run(["--db", str(db), "import", str(corpus)], env)
    with Store.open(db) as store:
        ids = store.ids()
        wanted = {pid: Status.APPROVED for pid in ids[::10]}
        wanted.update({pid: Status.REJECTED for pid in ids[::17]})
        for cluster in store.clusters()[::4]:
            wanted[cluster[0]] = Status.APPROVED
            wanted.update({pid: Status.REJECTED for pid in cluster[1:]})
        store.set_reviews([DecisionRequest(pid, status) for pid, status in wanted.items()])


def median_of(times: int, args: list[str], env: dict[str, str]) -> float:
    return statistics.median(run(args, env)[0] for _ in range(times))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5, help="runs of the short commands")
    parser.add_argument("--keep", type=Path, help="work in DIR and leave the store there")
    parser.add_argument("--corpora", type=Path, help="where synthesized corpora are cached")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="copydesk-families-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, COPYDESK_REVIEWER="benchmark", PYTHONPATH=str(ROOT))
    env.pop("COPYDESK_DB", None)
    corpus = corpus_dir(
        args.size, seed=args.seed, **({"root": args.corpora} if args.corpora else {})
    )
    db = work / "store" / "copydesk.json"
    ready = work / "store" / f"prepared-{args.size}-s{args.seed}"
    if not ready.exists():
        shutil.rmtree(db.parent, ignore_errors=True)
        prepare(db, corpus, env)
        ready.touch()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"copydesk families benchmark: {args.size:,} posts; load average {load}")
    cli = ["--db", str(db)]
    lines = []

    read_s, read_mb, _ = python(READ_EVERY_RECORD, str(db), env=env)
    plate_s, plate_mb, out = run([*cli, "boilerplate", "--json", "--all"], env)
    found = out.count('"kind"')
    lines.append(
        row(
            f"`boilerplate --json --all` ({found:,} found), peak RSS",
            f"{plate_s:.1f} s, {plate_mb:.0f} MB",
            f"{read_s:.1f} s, {read_mb:.0f} MB reading every record",
            plate_s / read_s,
            "<= 2x, < 60 s",
        )
    )

    rows_s, _, _ = python(LIST_EVERY_ROW, str(db), env=env)
    report_s, report_mb, _ = run([*cli, "hints-report", "--json"], env)
    lines.append(
        row(
            "`hints-report --json`",
            f"{report_s:.2f} s, {report_mb:.0f} MB",
            f"{rows_s:.2f} s listing every row",
            report_s / rows_s,
            "<= 2x",
        )
    )

    near_s = median_of(args.repeat, [*cli, "list", "-n", "20", "-q", "hint:near_duplicate"], env)
    odd_s = median_of(
        args.repeat, [*cli, "list", "-n", "20", "-q", "hint:inconsistent_duplicate"], env
    )
    lines.append(
        row(
            f"`list -q hint:inconsistent_duplicate` (median of {args.repeat})",
            f"{odd_s:.2f} s",
            f"{near_s:.2f} s hint:near_duplicate",
            odd_s / near_s,
            "<= 1.5x",
        )
    )

    from storage import Store

    with Store.open(db, writable=False) as store:
        clusters = store.clusters()
        clustered = {pid for cluster in clusters for pid in cluster}
        decided = store.reviews()
        # a family none of whose posts is decided yet
        member = next(c[1] for c in clusters if not any(pid in decided for pid in c))
        loner = next(pid for pid in reversed(store.ids()) if pid not in clustered)
    for name, post_id, target in (
        ("in a cluster", member, "<= 1.5x"),
        ("in no cluster", loner, "<= 1.2x"),
    ):
        forced = median_of(args.repeat, [*cli, "review", post_id, "-s", "approved", "--force"], env)
        guarded = median_of(args.repeat, [*cli, "review", post_id, "-s", "approved"], env)
        lines.append(
            row(
                f"`review ID` guarded, ID {name} (median of {args.repeat})",
                f"{guarded:.2f} s",
                f"{forced:.2f} s with --force",
                guarded / forced,
                target,
            )
        )
    keep_s = median_of(args.repeat, [*cli, "keep", member], env)
    forced = median_of(args.repeat, [*cli, "review", member, "-s", "approved", "--force"], env)
    lines.append(
        row(
            f"`keep ID` (a family of {len(next(c for c in clusters if member in c))})",
            f"{keep_s:.2f} s",
            f"{forced:.2f} s review --force",
            keep_s / forced,
            "<= 1.5x",
        )
    )
    clusters_s, clusters_mb, _ = run([*cli, "clusters", "--json"], env)
    lines.append(
        row(
            f"`clusters --json` ({len(clusters):,} clusters)",
            f"{clusters_s:.2f} s, {clusters_mb:.0f} MB",
            "-",
            None,
            "-",
        )
    )

    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| measure | value | baseline (same run) | ratio | target |")
    print("|---|---|---|---|---|")
    print("\n".join(lines))
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
