"""Child processes of the benchmark: measures that need a fresh interpreter.

    python benchmarks/probe.py memory DB QUERIES_JSON IDS_JSON
    python benchmarks/probe.py tui DB CONFIG_DIR

Each prints one JSON line on stdout. ``tui`` prints it as soon as the post list shows rows,
so the parent can time "process start -> first screen" from outside.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

STARTED = time.perf_counter()


def _status_kb(field: str) -> int:
    """A ``VmRSS``-style field of /proc/self/status in kB (0 where there is no /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    if field == "VmHWM":
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    return 0


def memory(db: str, queries_json: str, ids_json: str) -> dict:
    """RSS after opening the store, running the queries and looking up similar posts."""
    from storage import QueryError, Store

    baseline_kb = _status_kb("VmRSS")
    started = time.perf_counter()
    store = Store.open(db)
    opened = time.perf_counter() - started
    open_kb = _status_kb("VmRSS")
    started = time.perf_counter()
    for query in json.loads(queries_json):
        try:
            store.search(query, limit=50)
        except QueryError:
            pass
    searched = time.perf_counter() - started
    for post_id in json.loads(ids_json):
        store.similar(post_id)
    return {
        "imports_mb": baseline_kb / 1024,
        "open_s": opened,
        "after_open_mb": open_kb / 1024,
        "first_searches_s": searched,
        "rss_mb": _status_kb("VmRSS") / 1024,
        "peak_mb": _status_kb("VmHWM") / 1024,
    }


def tui(db: str, config_dir: str) -> None:
    """Open the store, start the app headless, print once the post list shows rows."""
    from storage import Store
    from tui.app import create_app
    from tui.widgets.post_list import PostList

    imported = time.perf_counter()
    store = Store.open(db)
    opened = time.perf_counter()
    app = create_app(store, config_dir=config_dir)

    async def until_rows() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            deadline = time.perf_counter() + 300
            while time.perf_counter() < deadline:
                lists = app.screen.query(PostList)
                if lists and lists.first().row_count > 0:
                    break
                await pilot.pause(0.005)
            else:
                raise SystemExit("the post list never showed rows")
            await pilot.pause()  # one more refresh: the rows are drawn
            rows = app.screen.query_one(PostList).row_count
            shown = time.perf_counter()
            print(
                json.dumps(
                    {
                        "imports_s": imported - STARTED,
                        "open_s": opened - imported,
                        "app_to_rows_s": shown - opened,
                        "in_process_s": shown - STARTED,
                        "rows": rows,
                    }
                ),
                flush=True,
            )

    asyncio.run(until_rows())
    store.close()


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "memory":
        print(json.dumps(memory(*argv[1:])), flush=True)
        return 0
    if len(argv) == 3 and argv[0] == "tui":
        tui(*argv[1:])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
