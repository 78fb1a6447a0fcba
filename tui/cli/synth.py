"""synth: write a realistic synthetic corpus of seed documents."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from seeds.synth import MAX_COUNT, synthesize
from tui.text import clean_name

from .common import fail


@click.command("synth")
@click.option(
    "--count",
    "-n",
    type=click.IntRange(1, MAX_COUNT),
    required=True,
    help="How many documents to write.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory to write into (created; must be empty).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same documents.")
def synth_cmd(count: int, out_dir: Path, seed: int) -> None:
    """Write COUNT synthetic seed documents (*.txt, flat) into an empty directory."""
    try:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            columns = (
                TextColumn("writing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task("synth", total=count)
                paths = synthesize(
                    count,
                    out_dir,
                    seed=seed,
                    progress=lambda done, _total: bar.update(task, completed=done),
                )
        else:
            paths = synthesize(count, out_dir, seed=seed)
    except FileExistsError as exc:
        fail(str(exc), 2)
    except OSError as exc:
        fail(f"{out_dir}: {exc.strerror or exc}", 1)
    click.echo(f"wrote {len(paths)} documents to {clean_name(out_dir)}")
