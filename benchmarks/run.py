"""copydesk benchmarks: every figure next to a baseline measured in the same run.

    python benchmarks/run.py                      # 10,000 and 100,000 posts
    python benchmarks/run.py --sizes 10000        # one size
    python benchmarks/run.py --smoke              # ~50 posts, quick (CI)
    python benchmarks/run.py --keep /tmp/bench    # keep the stores there

Corpora are synthesized by ``seeds.synth`` and cached under ``benchmarks/out/`` (git-ignored).
Numbers are printed, never asserted: these machines are noisy (the load average is printed
with each table). The exit status is 0 when every measure ran, 1 when one failed.

| measure | baseline | target |
| import (``Store.import_paths`` into a fresh store) | reader parse-only, one process | <= 1.0x |
| search keystroke to top 50 (median) | ``fzf --filter`` on the same titles | <= 1.0x |
| similar posts lookup (median) | one ``rapidfuzz.process.extract`` over all titles | <= 0.5x |
| save one decision (median) | durable 1 KB write: write + fsync + rename | <= 5x |
| memory after open + search + similar | - | <= 400 MB at 100k |
| TUI cold start to first screen | - | <= 2 s at 100k |
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
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the repo importable
    sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
from rapidfuzz import process  # noqa: E402

import seeds  # noqa: E402
from benchmarks.corpus import corpus_dir  # noqa: E402
from storage import QueryError, Store  # noqa: E402
from storage.query import parse_query  # noqa: E402

PROBE = Path(__file__).resolve().parent / "probe.py"
SMOKE_SIZE = 50
FZF_MISSING = "fzf not installed: apt-get install -y fzf (or see github.com/junegunn/fzf)"

# What a reviewer types: free words with typos, field filters, negation, a phrase, a status.
QUERIES: tuple[str, ...] = (
    "kubernets",
    "postgress indexng",
    "laravel queue",
    "memory leaks",
    "rate limting",
    "zero downtime deploys",
    "redis cachng",
    "backgrund jobs rails",
    "renewing tls certificates",
    "webhooks",
    "dockr",
    "slow queries mysql",
    "feature flags",
    "nginx",
    "managing secrets",
    "paginating results",
    "health checks",
    "rotating logs",
    "connection pools",
    "aws lamda",
    "monitoring disk usage",
    "elasticsearch rebuilding indexs",
    "stack:php caching",
    "difficulty:advanced -stack:php migrations",
    "flag:needs_human_review deploys",
    "quality<70 backups",
    "reading_time>=10 search indexes",
    "code_language:python retry",
    "tools:composer",
    "flag:needs_human_review",
    "difficulty:beginner stack:laravel",
    '"rollback note" caching',
    "status:pending nginx",
)
TARGETS = {
    "import": 1.0,
    "search": 1.0,
    "similar": 0.5,
    "save": 5.0,
    "memory_mb": 400.0,
    "tui_s": 2.0,
}


@dataclass
class Settings:
    smoke: bool
    repeats: int  # of each timed query / fzf run
    similar_ids: int
    extract_queries: int
    saves: int
    tui_runs: int


@dataclass
class Row:
    measure: str
    value: str
    baseline: str
    ratio: float | None
    target: str
    over: bool | None  # None: no target to compare with


@dataclass
class Result:
    size: int
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed: bool = False


# ---------------------------------------------------------------------------- helpers


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p90(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def load_average() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def ratio_row(
    measure: str,
    value: float,
    base: float | None,
    base_label: str,
    target: float,
    fmt: Callable[[float], str] = ms,
) -> Row:
    if base is None or base <= 0:
        return Row(measure, fmt(value), base_label, None, f"<= {target:g}x", None)
    ratio = value / base
    return Row(
        measure, fmt(value), f"{fmt(base)} {base_label}", ratio, f"<= {target:g}x", ratio > target
    )


def absolute_row(measure: str, value: float, unit: str, target: float, applies: bool) -> Row:
    text = f"{value:.0f} MB" if unit == "MB" else f"{value:.2f} s"
    limit = f"<= {target:g} {unit}" + ("" if applies else " at 100k")
    return Row(measure, text, "-", None, limit, (value > target) if applies else None)


# ---------------------------------------------------------------------------- measures


def warm(files: list[Path]) -> None:
    """Read every file once so that the parse and the import both start from the page cache."""
    for path in files:
        with open(path, "rb") as fh:
            fh.read()


def measure_import(result: Result, corpus: Path, db: Path) -> list[str]:
    """Parse-only baseline (one process) vs ``Store.import_paths``. Returns the titles."""
    files = sorted(corpus.glob("*.txt"))
    warm(files)
    titles: list[str] = []
    parse_cpu = time.process_time()
    started = time.perf_counter()
    for path in files:
        titles.append(seeds.read_file(path).title)
    parse_s = time.perf_counter() - started
    parse_cpu = time.process_time() - parse_cpu
    analysed_at: list[float] = []

    def progress(done: int, total: int) -> None:
        if done == total:  # every file parsed and analysed: the rest is the index and writes
            analysed_at.append(time.perf_counter())

    store = Store.open(db)
    workers_cpu = _WorkerCpu()  # the pool's workers are the forkserver's children, not ours
    try:
        cpu_before = os.times()
        started = time.perf_counter()
        with workers_cpu:
            report = store.import_paths([corpus], progress=progress)
        finished = time.perf_counter()
        import_s = finished - started
        cpu_after = os.times()
    finally:
        store.close()
    if report.errors or len(report.imported) != len(files):
        result.notes.append(f"import: {report.summary()}")
    result.rows.append(
        ratio_row(
            f"import {len(files)} files (`Store.import_paths`, fresh store)",
            import_s,
            parse_s,
            "parse-only, 1 process",
            TARGETS["import"],
        )
    )
    result.notes.append(
        f"import: {len(files) / import_s:,.0f} posts/s; parse-only "
        f"{len(files) / parse_s:,.0f} posts/s on {os.cpu_count()} cores"
    )
    if analysed_at:
        analysis = analysed_at[-1] - started
        result.notes.append(
            f"import: parsing + analysis (hints, query fields, similarity features) "
            f"{ms(analysis)}, then index build and writes {ms(finished - analysed_at[-1])}"
        )
    own = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    workers = workers_cpu.seconds
    if parse_cpu > 0:
        result.notes.append(
            f"import CPU: {own:.2f} s in this process + {workers:.2f} s in pool workers "
            f"(sampled every {_WorkerCpu.EVERY_S} s) = "
            f"{(own + workers) / parse_cpu:.2f}x the parse-only CPU ({parse_cpu:.2f} s); "
            f"on {os.cpu_count()} cores the import cannot beat "
            f"{(own + workers) / (os.cpu_count() or 1) / parse_s:.2f}x"
        )
    return titles


def fzf_words(query: str) -> str:
    """The positive free words (and phrase words) of a query, as an fzf query."""
    parsed = parse_query(query, extra_fields=(), extra_flags=())
    words = []
    for term in parsed.terms:
        if term.negated:
            continue
        if term.kind == "word":
            words.append(term.value)
        elif term.kind == "phrase":
            words.extend(str(term.value).split())
    return " ".join(words)


class _WorkerCpu:
    """CPU seconds of this process's descendants while the block runs, sampled from /proc
    (each process's last reading before it exits: up to EVERY_S of CPU a worker is missed).
    ``os.times`` counts only children waited for, and the import's workers are the
    forkserver's."""

    EVERY_S = 0.2

    def __init__(self) -> None:
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @property
    def seconds(self) -> float:
        return sum(self._last.values())

    def __enter__(self) -> _WorkerCpu:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while not self._stop.wait(self.EVERY_S):
            parents: dict[int, list[int]] = {}
            times: dict[int, float] = {}
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                        fields = fh.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                parents.setdefault(int(fields[1]), []).append(int(entry))
                times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
            todo = list(parents.get(os.getpid(), ()))
            while todo:
                pid = todo.pop()
                todo.extend(parents.get(pid, ()))
                self._last[pid] = max(self._last.get(pid, 0.0), times.get(pid, 0.0))


def fzf_times(titles_file: Path, queries: list[str], repeats: int) -> list[float] | None:
    fzf = shutil.which("fzf")
    if fzf is None:
        return None
    out = []
    for query in queries:
        words = fzf_words(query)
        runs = []
        for _ in range(repeats):
            with open(titles_file, "rb") as stdin:
                started = time.perf_counter()
                subprocess.run(
                    [fzf, "--filter", words],
                    stdin=stdin,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    check=False,
                )
                runs.append(time.perf_counter() - started)
        out.append(median(runs))
    return out


def search_times(store: Store, queries: list[str], repeats: int) -> list[float]:
    """Median per query; the queries run in turn so each starts after a different one."""
    runs: list[list[float]] = [[] for _ in queries]
    for _ in range(repeats):
        for index, query in enumerate(queries):
            runs[index].append(timed(lambda q=query: store.search(q, limit=50)))
    return [median(r) for r in runs]


def keystroke_times(store: Store, queries: list[str]) -> list[float]:
    """Every prefix of every query, as typed (a malformed prefix is an error, timed too)."""
    out = []
    for query in queries:
        for end in range(1, len(query) + 1):
            prefix = query[:end]
            started = time.perf_counter()
            try:
                store.search(prefix, limit=50)
            except QueryError:
                pass
            out.append(time.perf_counter() - started)
    return out


def measure_search(
    result: Result, store: Store, titles: list[str], workdir: Path, settings: Settings
) -> None:
    queries = list(QUERIES)
    counts = {}
    for query in queries:
        counts[query] = len(store.search(query, limit=50))  # also warms lazy structures
    empty = [q for q, n in counts.items() if n == 0]
    if empty:
        result.notes.append(f"search: no results for {empty}")
    times = search_times(store, queries, settings.repeats)
    titles_file = workdir / "titles.txt"
    titles_file.write_text("".join(t.replace("\n", " ") + "\n" for t in titles), encoding="utf-8")
    fzf = fzf_times(titles_file, queries, settings.repeats)
    label = f"`store.search(q, limit=50)`, median of {len(queries)} queries"
    if fzf is None:
        row = ratio_row(
            f"search keystroke to top 50 ({label})",
            median(times),
            None,
            FZF_MISSING,
            TARGETS["search"],
        )
    else:
        row = ratio_row(
            f"search keystroke to top 50 ({label})",
            median(times),
            median(fzf),
            "`fzf --filter` median",
            TARGETS["search"],
        )
        result.notes.append(
            f"search: p90 {ms(p90(times))} vs fzf p90 {ms(p90(fzf))}; max {ms(max(times))}"
        )
    result.rows.append(row)
    slowest = sorted(zip(times, queries, strict=True), reverse=True)[:4]
    result.notes.append("search: slowest " + ", ".join(f"{q!r} {ms(t)}" for t, q in slowest))
    typed = keystroke_times(store, queries)
    result.notes.append(
        f"search typed character by character ({len(typed)} keystrokes): "
        f"median {ms(median(typed))}, p90 {ms(p90(typed))}, max {ms(max(typed))}"
    )


def measure_similar(result: Result, store: Store, titles: list[str], settings: Settings) -> None:
    ids = store.ids()
    step = max(1, len(ids) // settings.similar_ids)
    sample = ids[::step][: settings.similar_ids]
    store.similar(sample[0])  # lazy structures load here, not in the timing
    lookups = [timed(lambda i=i: store.similar(i, limit=10)) for i in sample]
    step = max(1, len(titles) // settings.extract_queries)
    probes = titles[::step][: settings.extract_queries]
    extracts = [timed(lambda t=t: process.extract(t, titles)) for t in probes]
    result.rows.append(
        ratio_row(
            f"similar posts lookup (`store.similar(id)`, median of {len(lookups)})",
            median(lookups),
            median(extracts),
            f"`process.extract` over {len(titles)} titles",
            TARGETS["similar"],
        )
    )


def durable_write(directory: Path, payload: bytes) -> None:
    tmp = directory / ".bench-baseline.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, directory / "bench-baseline.bin")


def measure_save(result: Result, store: Store, db: Path, workdir: Path, settings: Settings) -> None:
    ids = store.ids()
    statuses = ("approved", "rejected", "changes_requested")
    # the first decisions, into an empty decisions file (the last posts of the queue)
    first = [timed(lambda i=i: store.set_review(i, "approved", note="first")) for i in ids[-5:]]
    # then a reviewer some way into the queue: 5% of the posts decided (at most 5,000)
    prefill = ids[: max(1, min(5000, len(ids) // 20))]
    decisions = workdir / "decisions.jsonl"
    with open(decisions, "wb") as fh:
        for post_id in prefill:
            fh.write(
                orjson.dumps(
                    {
                        "id": post_id,
                        "status": "approved",
                        "note": "",
                        "decided_at": "2025-01-01T00:00:00Z",
                        "reviewer": "bench-prefill",
                        "content_sha256": "",
                    }
                )
                + b"\n"
            )
    store.merge_reviews(decisions)
    targets = ids[len(prefill) : -5][: settings.saves] or ids[: settings.saves]
    saves = [
        timed(lambda i=i, n=n: store.set_review(i, statuses[n % 3], note="benchmark"))
        for n, i in enumerate(targets)
    ]
    directory = store.data_dir
    directory.mkdir(parents=True, exist_ok=True)
    payload = os.urandom(512).hex().encode()  # 1 KB
    writes = [timed(lambda: durable_write(directory, payload)) for _ in range(len(saves))]
    for leftover in (directory / "bench-baseline.bin", directory / ".bench-baseline.tmp"):
        leftover.unlink(missing_ok=True)
    result.rows.append(
        ratio_row(
            f"save one decision (`store.set_review`, median of {len(saves)}, "
            f"{len(prefill)} decisions saved before)",
            median(saves),
            median(writes),
            "durable 1 KB write",
            TARGETS["save"],
        )
    )
    result.notes.append(
        f"save: the first {len(first)} decisions (an empty decisions file) "
        f"{ms(median(first))} median, {median(first) / median(writes):.2f}x"
    )


def run_probe(args: list[str], timeout: float = 600) -> tuple[dict, float]:
    """Run probe.py in a fresh interpreter; (its JSON line, seconds until that line)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(PROBE), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = child.stdout.readline() if child.stdout else ""
        elapsed = time.perf_counter() - started
        _, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        raise
    if not line.strip():
        raise RuntimeError(f"probe {args[0]} failed: {err.strip()[-2000:]}")
    return json.loads(line), elapsed


def measure_memory(
    result: Result, db: Path, ids: list[str], settings: Settings, applies: bool
) -> None:
    step = max(1, len(ids) // settings.similar_ids)
    sample = ids[::step][: settings.similar_ids]
    data, _ = run_probe(["memory", str(db), json.dumps(list(QUERIES)), json.dumps(sample)])
    result.rows.append(
        absolute_row(
            "memory after open + search + similar (RSS, fresh process)",
            data["rss_mb"],
            "MB",
            TARGETS["memory_mb"],
            applies,
        )
    )
    result.notes.append(
        f"memory: after imports {data['imports_mb']:.0f} MB, after open "
        f"{data['after_open_mb']:.0f} MB, peak {data['peak_mb']:.0f} MB; open took "
        f"{ms(data['open_s'])}, the first {len(QUERIES)} searches {ms(data['first_searches_s'])}"
    )


def measure_tui(result: Result, db: Path, workdir: Path, settings: Settings, applies: bool) -> None:
    config = workdir / "tui-config"
    config.mkdir(exist_ok=True)
    runs = [run_probe(["tui", str(db), str(config)]) for _ in range(settings.tui_runs)]
    walls = [elapsed for _, elapsed in runs]
    best = min(runs, key=lambda r: r[1])[0]
    result.rows.append(
        absolute_row(
            f"TUI cold start to first screen (fresh process, median of {len(runs)})",
            median(walls),
            "s",
            TARGETS["tui_s"],
            applies,
        )
    )
    result.notes.append(
        f"tui: fastest run: imports {ms(best['imports_s'])}, open {ms(best['open_s'])}, app "
        f"to rows {ms(best['app_to_rows_s'])}; {best['rows']} rows loaded"
    )


# ---------------------------------------------------------------------------- driver


def bench_size(size: int, corpus: Path, workdir: Path, settings: Settings) -> Result:
    result = Result(size)
    db = workdir / f"store-{size}" / "copydesk.json"
    if db.parent.exists():
        shutil.rmtree(db.parent)
    db.parent.mkdir(parents=True)
    applies = size >= 100_000

    def step(name: str, fn: Callable[[], object]) -> object:
        try:
            return fn()
        except Exception:  # one failed measure must not hide the others
            result.failed = True
            result.notes.append(f"{name} FAILED:\n{traceback.format_exc()}")
            result.rows.append(Row(name, "FAILED", "-", None, "-", None))
            return None

    titles = step("import", lambda: measure_import(result, corpus, db))
    if titles is None:
        return result
    started = time.perf_counter()
    store = Store.open(db)
    result.notes.append(
        f"open (this process, after the import): {ms(time.perf_counter() - started)}"
    )
    try:
        step("search", lambda: measure_search(result, store, titles, workdir, settings))
        step("similar", lambda: measure_similar(result, store, titles, settings))
        ids = store.ids()
        step("memory", lambda: measure_memory(result, db, ids, settings, applies))
        step("tui", lambda: measure_tui(result, db, workdir, settings, applies))
        step("save", lambda: measure_save(result, store, db, workdir, settings))
    finally:
        store.close()
    return result


def print_result(result: Result, load_before: str) -> None:
    print()
    print(
        f"### {result.size:,} posts  (load average before: {load_before}; "
        f"after: {load_average()}; {os.cpu_count()} cores)"
    )
    print()
    print("| measure | value | baseline (same run) | ratio | target | |")
    print("|---|---|---|---|---|---|")
    for row in result.rows:
        ratio = "-" if row.ratio is None else f"{row.ratio:.2f}x"
        verdict = {None: "", True: "OVER", False: "ok"}[row.over]
        print(
            f"| {row.measure} | {row.value} | {row.baseline} | {ratio} | {row.target} | {verdict} |"
        )
    print()
    for note in result.notes:
        print(f"- {note}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="10000,100000",
        help="comma-separated corpus sizes (default 10000,100000)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"one tiny run on {SMOKE_SIZE} posts (CI): every figure, quickly",
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="build the stores in DIR and leave them there"
    )
    parser.add_argument("--seed", type=int, default=0, help="synthesizer seed (default 0)")
    args = parser.parse_args(argv)

    if args.smoke:
        sizes = [SMOKE_SIZE]
        settings = Settings(True, repeats=1, similar_ids=20, extract_queries=5, saves=5, tui_runs=1)
    else:
        try:
            sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
        except ValueError:
            parser.error(f"--sizes: not a list of numbers: {args.sizes!r}")
        if not sizes or min(sizes) < 1:
            parser.error("--sizes: give positive numbers")
        settings = Settings(
            False, repeats=3, similar_ids=300, extract_queries=20, saves=30, tui_runs=3
        )

    if args.keep is not None:
        workdir = args.keep.resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        cleanup = False
    else:
        workdir = Path(tempfile.mkdtemp(prefix="copydesk-bench-"))
        cleanup = True
    fzf = shutil.which("fzf")
    fzf_version = (
        "missing"
        if fzf is None
        else subprocess.run(
            [fzf, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    )
    print(
        f"copydesk benchmarks: sizes {sizes}, python {sys.version.split()[0]}, "
        f"fzf {fzf_version}, work dir {workdir}"
    )
    if fzf is None:
        print(f"note: {FZF_MISSING}; search is printed without its baseline")
    os.environ.setdefault("COPYDESK_REVIEWER", "benchmark")
    failed = False
    try:
        for size in sizes:
            load_before = load_average()
            if settings.smoke:
                corpus = corpus_dir(size, seed=args.seed, root=workdir / "corpus", log=print)
            else:
                corpus = corpus_dir(size, seed=args.seed, log=print)
            result = bench_size(size, corpus, workdir, settings)
            print_result(result, load_before)
            failed = failed or result.failed
    finally:
        if cleanup:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
