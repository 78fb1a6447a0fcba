"""A 50 MB post and a post with 100,000 meta fields in the review TUI: time to show, and CPU after.

    python benchmarks/bigpost.py            # 50 MB body, 100,000 meta fields
    python benchmarks/bigpost.py --smoke    # 2 MB body, 5,000 fields

Imports the two posts (with 20 ordinary ones) into a fresh store, opens the TUI headless at
120x40 (``App.run_test``), jumps to each big post (nothing read ahead) and times the cursor jump to every pane
showing it (target: within a second), then the process CPU over the next two seconds (it
must not spin: the panes show a bounded prefix, and ``L`` renders the rest on request).
The import itself is printed but is not the measure.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PARAGRAPH = (
    "a long paragraph about rollbacks, caches and queues that keeps going so that the "
    "body grows to the size this benchmark wants. "
) * 8


def write_seeds(directory: Path, body_mb: int, fields: int) -> tuple[str, str]:
    from seeds.synth import synthesize

    synthesize(20, directory, seed=5)
    big_ref, wide_ref = "anp-ref-999999-0001", "anp-ref-999999-0002"
    paragraphs = max(1, body_mb * 1_000_000 // (len(PARAGRAPH) + 2))
    with open(directory / "big_body.txt", "w", encoding="utf-8") as out:
        out.write("a post with a very big body\n\n")
        for _ in range(paragraphs):
            out.write(PARAGRAPH + "\n\n")
        out.write(f"alphanode post meta\n\ntopicbig / body\nreference{big_ref}\n")
    lines = [f"extra field {n:06}: value {n}" for n in range(fields)]
    (directory / "many_fields.txt").write_text(
        "a post with very many meta fields\n\na short body.\n\nalphanode post meta\n\n"
        f"topicwide / meta\nreference{wide_ref}\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    return big_ref, wide_ref


async def show(db: Path, post_ids: list[str]) -> list[tuple[str, float, float]]:
    from storage import Store
    from tui.app import create_app

    results = []
    with Store.open(db) as store, tempfile.TemporaryDirectory() as config:
        app = create_app(store, config_dir=Path(config))
        async with app.run_test(size=(120, 40)) as pilot:
            await asyncio.sleep(2)
            screen = app.screen
            for post_id in post_ids:
                screen.preparer.drop()  # cold: nothing read or rendered ahead
                app.gateway.drop_cached()
                started = time.perf_counter()
                screen.jump_to(post_id)
                while not (screen.panes.shown_id == post_id and screen.panes.loaded):
                    await pilot.pause(0.005)
                shown = time.perf_counter() - started
                cpu = time.process_time()
                await asyncio.sleep(2)
                results.append((post_id, shown, time.process_time() - cpu))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    body_mb, fields = (2, 5_000) if args.smoke else (50, 100_000)
    from storage import Store

    with tempfile.TemporaryDirectory(prefix="copydesk-bigpost-") as work:
        seeds = Path(work) / "seeds"
        seeds.mkdir()
        big, wide = write_seeds(seeds, body_mb, fields)
        db = Path(work) / "store" / "store.json"
        started = time.perf_counter()
        with Store.open(db) as store:
            report = store.import_paths([seeds])
        print(f"import: {report.summary()} in {time.perf_counter() - started:.1f} s")
        results = asyncio.run(show(db, [big, wide]))
    labels = {big: f"{body_mb} MB body", wide: f"{fields:,} meta fields"}
    print(f"{'post':<22} {'shown in':>10} {'CPU next 2 s':>13}  target")
    ok = True
    for post_id, shown, cpu in results:
        met = shown <= 1.0 and cpu <= 0.5
        ok &= met
        print(
            f"{labels[post_id]:<22} {shown * 1000:>8.0f} ms {cpu:>11.2f} s  "
            f"<= 1000 ms, idle: {'ok' if met else 'NOT MET'}"
        )
    return 0 if ok or args.smoke else 1


if __name__ == "__main__":
    raise SystemExit(main())
