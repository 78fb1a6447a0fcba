"""The team store (PostgreSQL) benchmark: every figure next to a baseline of the same run.

    python benchmarks/pg.py --corpus /tmp/bench/c100k   # a corpus directory of *.txt
    python benchmarks/pg.py --size 10000                # synthesized (cached in benchmarks/out)
    python benchmarks/pg.py --smoke                     # 60 posts, quick

It starts a throwaway local server (``storage.pg.localserver``, default settings: fsync on)
unless ``--url`` names a database to use (its tables are replaced). The fresh processes of
"open to first screen" run without ``PYTHONDONTWRITEBYTECODE``, after one untimed run, so
that they have bytecode caches as users' runs do.

| measure | baseline | target |
| import into an empty database | the local (TinyDB) store's import of the same files | <= 1.5x |
| open to first screen (fresh process, TUI headless) | - | <= 2 s at 100k |
| search keystroke to top 50 (median) | ``fzf --filter`` on the same titles | <= 1.0x |
| save one decision (median) | a bare one-row INSERT ... COMMIT on the same connection | <= 3x |
| claim-next (median) with 8 reviewer processes claiming at once | - | <= 5 ms |
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the repo importable
    sys.path.insert(0, str(ROOT))

CLAIMERS = 8
CLAIMS_EACH = 150
SAVES = 300


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "?"


# ---------------------------------------------------------------------------- children


def child_tui(url: str, config_dir: str) -> None:
    """Open the team store, start the app headless, print once the post list has rows."""
    from storage.open import open_store
    from tui.app import create_app
    from tui.widgets.post_list import PostList

    started = time.perf_counter()
    store = open_store(url)
    opened = time.perf_counter()
    app = create_app(store, config_dir=config_dir)

    async def until_rows() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            deadline = time.perf_counter() + 120
            while time.perf_counter() < deadline:
                lists = app.screen.query(PostList)
                if lists and lists.first().row_count > 0:
                    break
                await pilot.pause(0.005)
            else:
                raise SystemExit("the post list never showed rows")
            await pilot.pause()
            print(
                json.dumps({"open_s": opened - started, "app_s": time.perf_counter() - opened}),
                flush=True,
            )

    asyncio.run(until_rows())
    store.close()


def child_claim(url: str, reviewer: str, start_at: str, count: str) -> None:
    """Wait for the common start time, then claim-next ``count`` times (each decided,
    untimed, so the next claim walks on); print the claim latencies."""
    from storage.pg import PostgresStore

    store = PostgresStore.open(url, reviewer=reviewer)
    team = store.team
    times = []
    time.sleep(max(0.0, float(start_at) - time.time()))
    for _ in range(int(count)):
        started = time.perf_counter()
        got = team.claim_next(1, 60)
        times.append(time.perf_counter() - started)
        if not got:
            break
        store.set_review(got[0], "approved")
    print(json.dumps(times), flush=True)
    store.close()


# ---------------------------------------------------------------------------- measures


def warm(files: list[Path]) -> None:
    for path in files:
        path.read_bytes()


def measure_import(corpus: Path, url: str, workdir: Path) -> tuple[float, float]:
    from storage import Store
    from storage.pg import PostgresStore

    with Store.open(workdir / "local.json") as local:
        started = time.perf_counter()
        local.import_paths([str(corpus)])
        local_s = time.perf_counter() - started
    with PostgresStore.open(url, reviewer="bench") as team:
        started = time.perf_counter()
        team.import_paths([str(corpus)])
        team_s = time.perf_counter() - started
    return local_s, team_s


def measure_open(url: str, workdir: Path, runs: int) -> tuple[float, dict]:
    config = workdir / "tui-config"
    config.mkdir(exist_ok=True)
    walls, details = [], []
    env = {**os.environ, "COPYDESK_REVIEWER": "bench-open", "PYTHONPATH": str(ROOT)}
    # users' runs have bytecode caches: without them each fresh process recompiles what it
    # imports (~0.1 s); one untimed run first writes them
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for run in range(runs + 1):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "_tui", url, str(config)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            timeout=300,
        )
        if run == 0:
            continue  # the warm-up
        walls.append(time.perf_counter() - started)
        details.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return median(walls), min(details, key=lambda d: d["open_s"] + d["app_s"])


def measure_search(team, workdir: Path, repeats: int) -> tuple[float, float | None]:
    from benchmarks.run import QUERIES, fzf_times, search_times

    titles = [s.title for s in team.search("", None)]
    titles_file = workdir / "titles.txt"
    titles_file.write_text("".join(t.replace("\n", " ") + "\n" for t in titles), encoding="utf-8")
    for query in QUERIES:
        team.search(query, limit=50)  # warm
    ours = median(search_times(team, list(QUERIES), repeats))
    fzf = fzf_times(titles_file, list(QUERIES), repeats)
    return ours, None if fzf is None else median(fzf)


def measure_save(team, url: str) -> tuple[float, float]:
    import psycopg

    ids = [p for p in team.ids() if team.status_of(p) == "pending"][:SAVES]
    inserts, saves = [], []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_insert (id bigserial, post_id text, note text)"
        )
        for post_id in ids:  # interleaved, so drift in the machine hits both alike
            started = time.perf_counter()
            conn.execute("INSERT INTO bench_insert (post_id, note) VALUES (%s, %s)", (post_id, "x"))
            inserts.append(time.perf_counter() - started)
            started = time.perf_counter()
            team.set_review(post_id, "approved", note="x")
            saves.append(time.perf_counter() - started)
        conn.execute("DROP TABLE bench_insert")
    # the benchmark's decisions come off again, so the claim measure sees the same queue
    team.restore_reviews({post_id: None for post_id in ids})
    return median(saves), median(inserts)


def measure_claims(url: str, claims_each: int) -> list[float]:
    start_at = time.time() + 3.0  # every child connected and loaded before the start
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "_claim",
                url,
                f"claimer{i}",
                str(start_at),
                str(claims_each),
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(CLAIMERS)
    ]
    times: list[float] = []
    for child in children:
        out, _ = child.communicate(timeout=600)
        times.extend(json.loads(out.strip().splitlines()[-1]))
    return times


def sizes(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT pg_database_size(current_database()),"
            " pg_total_relation_size('posts'), pg_total_relation_size('catalogs'),"
            " (SELECT octet_length(data) FROM catalogs ORDER BY generation DESC LIMIT 1),"
            " pg_total_relation_size('decisions'), pg_total_relation_size('queue')"
        ).fetchone()
    keys = ("database", "posts", "catalogs", "catalog_bytes", "decisions", "queue")
    return dict(zip(keys, row, strict=True))


# ---------------------------------------------------------------------------- driver


def corpus_of(args: argparse.Namespace, workdir: Path) -> Path:
    if args.corpus:
        return Path(args.corpus)
    from seeds.synth import synthesize

    size = 60 if args.smoke else args.size
    cached = ROOT / "benchmarks" / "out" / f"pg-corpus-{size}"
    if not cached.exists():
        synthesize(size, cached, seed=7)
    return cached


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_tui":
        child_tui(*argv[1:])
        return 0
    if argv and argv[0] == "_claim":
        child_claim(*argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", help="directory of *.txt (else a synthesized corpus)")
    parser.add_argument("--size", type=int, default=10_000, help="synthesized corpus size")
    parser.add_argument("--url", help="a database to use instead of a throwaway server")
    parser.add_argument("--smoke", action="store_true", help="60 posts, quick")
    args = parser.parse_args(argv)

    from storage.pg import init_database
    from storage.pg.localserver import LocalServer

    workdir = Path(tempfile.mkdtemp(prefix="copydesk-pg-bench-"))
    server = None
    if args.url:
        url = args.url
    else:
        server = LocalServer().start()
        url = server.create_database("bench")
    try:
        init_database(url)
        corpus = corpus_of(args, workdir)
        files = sorted(corpus.rglob("*.txt"))
        warm(files)
        load_before = load_average()
        repeats = 1 if args.smoke else 3
        local_s, team_s = measure_import(corpus, url, workdir)
        open_s, open_detail = measure_open(url, workdir, 1 if args.smoke else 3)
        from storage.pg import PostgresStore

        with PostgresStore.open(url, reviewer="bench") as team:
            search_s, fzf_s = measure_search(team, workdir, repeats)
            save_s, insert_s = measure_save(team, url)
        claims = measure_claims(url, 10 if args.smoke else CLAIMS_EACH)
        size = sizes(url)
        rows = [
            (
                "import into an empty database",
                f"{team_s:.1f} s",
                f"local store import: {local_s:.1f} s",
                f"{team_s / local_s:.2f}x",
                "<= 1.5x",
            ),
            ("open to first screen (fresh process, median)", f"{open_s:.2f} s", "-", "-", "<= 2 s"),
            (
                "search keystroke to top 50 (median)",
                ms(search_s),
                "fzf --filter: " + (ms(fzf_s) if fzf_s else "missing"),
                f"{search_s / fzf_s:.2f}x" if fzf_s else "-",
                "<= 1.0x",
            ),
            (
                "save one decision (median)",
                ms(save_s),
                f"bare INSERT ... COMMIT: {ms(insert_s)}",
                f"{save_s / insert_s:.2f}x",
                "<= 3x",
            ),
            (
                f"claim-next (median, {CLAIMERS} processes at once, {len(claims)} claims)",
                ms(median(claims)),
                f"p90 {ms(sorted(claims)[int(0.9 * len(claims))])}",
                "-",
                "<= 5 ms",
            ),
        ]
        print(f"\n{len(files):,} posts; load average before {load_before}, after {load_average()}")
        print("| measure | value | baseline (same run) | ratio | target |")
        print("| --- | --- | --- | --- | --- |")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        print(
            f"\nopen: store open {open_detail['open_s']:.2f} s, app to rows "
            f"{open_detail['app_s']:.2f} s (fastest run)"
        )
        mb = {k: v / 2**20 for k, v in size.items() if v is not None}
        print(
            "sizes: database {database:.0f} MB, posts {posts:.0f} MB, catalog {catalog_bytes:.0f} MB,"
            " decisions {decisions:.1f} MB, queue {queue:.1f} MB".format(**mb)
        )
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
