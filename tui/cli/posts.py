"""import, list, show, review."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from storage import STATUSES, ReviewStore, Status
from tui.text import clean_line, clean_name

from .common import db_option, handles_errors, live_console, open_store
from .ids import nfc
from .output import print_json
from .views import view_option, view_query


@contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a bar on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    console = Console(stderr=True)
    with Progress(*columns, console=console, transient=True) as bar, live_console(console):
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@click.command("import")
@db_option
# readable=False: an unreadable file is that file's error, not a usage error for all
@click.argument("paths", nargs=-1, required=True, type=click.Path(readable=False, path_type=Path))
@click.option(
    "--verbose", "-v", is_flag=True, help="Name what the directory walks skipped, and why."
)
@click.pass_context
@handles_errors
def import_cmd(ctx: click.Context, paths: tuple[Path, ...], verbose: bool) -> None:
    """Import seed documents: files, or directories of *.txt (recursive).

    Re-importing is safe: unchanged posts are skipped, changed ones updated.
    Exits 1 when some files could not be imported (the others are). What a directory walk
    passes over (FIFOs, devices, dangling or looping links, unreadable directories) is
    counted in the summary; -v names each.
    """
    from storage.files import collect  # the directory walk and the seed reader

    store = open_store(ctx, writable=True)
    started = time.monotonic()
    files = collect(paths)  # the store takes the collected files as they are
    with _progress_bar("importing") as progress:
        report = store.import_paths(files, progress=progress, derive=False)
    for error in report.errors:
        click.echo(clean_name(error), err=True)
    for warning in report.warnings:
        click.secho(f"warning: {clean_name(warning)}", fg="yellow", err=True)
    if verbose:
        for skipped in files.skipped:
            click.echo(f"skipped {clean_name(skipped)}", err=True)
    summary = report.summary()
    if files.skipped:
        summary += f", {len(files.skipped)} skipped" + ("" if verbose else " (-v names them)")
    click.echo(
        f"{summary} ({len(store)} posts in {clean_name(store.path)}; "
        f"reviewable after {time.monotonic() - started:.1f} s)"
    )
    pending = store.derived_pending
    if pending:
        with _progress_bar(f"hints and similar posts for {pending:,} posts") as bar:
            store.finish_derived(bar)
        click.echo(f"hints and similarity done ({time.monotonic() - started:.1f} s in all)")
    if report.errors:
        sys.exit(1)


def _progress_lines(done: int, total: int) -> None:
    click.echo(f"progress {done} {total}")
    sys.stdout.flush()


# `finish-import --no-wait` when another process is computing them (sysexits EX_TEMPFAIL)
EXIT_BUSY = 75


@click.command("finish-import")
@db_option
@click.option(
    "--no-wait", is_flag=True, help=f"Exit {EXIT_BUSY} at once if another copydesk is at it."
)
@click.option(
    "--progress-lines",
    is_flag=True,
    help="Print `progress DONE TOTAL` lines on stdout instead of a bar (for programs).",
)
@click.pass_context
@handles_errors
def finish_import_cmd(ctx: click.Context, no_wait: bool, progress_lines: bool) -> None:
    """Compute the hints and similar posts an interrupted import left to do.

    `copydesk import` makes posts reviewable first and computes their hints and similar
    posts after; stopped in between, the rest is done here (the TUI does it by itself in
    the background when it opens such a store).
    """
    store = open_store(ctx, writable=True)
    pending = store.derived_pending
    if not pending:
        click.echo("nothing to finish: every post has its hints and similar posts")
        return
    started = time.monotonic()
    if progress_lines:
        finished = store.finish_derived(_progress_lines, wait=not no_wait)
    else:
        with _progress_bar(f"hints and similar posts for {pending:,} posts") as bar:
            finished = store.finish_derived(bar, wait=not no_wait)
    if not finished:
        click.echo("another copydesk is computing the hints and similar posts", err=True)
        sys.exit(EXIT_BUSY)
    click.echo(
        f"hints and similar posts done for {pending:,} posts ({time.monotonic() - started:.1f} s)"
    )


@click.command("list")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--query", "-q", default="", help="Search query (see README: query language).")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=None, help="At most N posts.")
@view_option
@click.pass_context
@handles_errors
def list_cmd(
    ctx: click.Context, as_json: bool, query: str, limit: int | None, view_name: str | None
) -> None:
    """List posts in queue order (pending posts needing review first)."""
    store = open_store(ctx)
    rows = store.search(view_query(store, view_name, query), limit=limit)
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    for row in rows:
        status = Status.parse(row.status)
        mark = status.mark if status is not None else "?"  # the marks of the TUI's list
        flag = "!" if row.needs_human_review else " "
        click.echo(f"{mark}{flag} {clean_name(row.id):<22} {clean_line(row.title)}")


@click.command("show")
@db_option
@click.argument("post_id", callback=nfc)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--full", is_flag=True, help="Show all of a huge post (by default it is cut).")
@click.pass_context
@handles_errors
def show_cmd(ctx: click.Context, post_id: str, as_json: bool, full: bool) -> None:
    """Show one post: body, meta, flags, decision and hints.

    A huge post (a body past 20,000 characters, more than 100 meta fields) shows its
    beginning and says what was cut; --full shows all of it, --json gives the data.
    """
    store = open_store(ctx)
    post = store.get(post_id)
    if as_json:
        print_json(post.to_dict())
        return
    from rich.console import Console

    from .render import render_post

    # every text of the post is a Text (sanitised): no markup or emoji codes to look for
    console = Console(highlight=False, markup=False, emoji=False)
    console.print(render_post(post, full=full, colour=console.color_system is not None))


@click.command("review")
@db_option
@click.argument("post_id", callback=nfc)
@click.option(
    "--status",
    "-s",
    required=True,
    type=click.Choice(STATUSES),
    help="The decision.",
)
@click.option("--note", "-m", default="", help="A note for the people who fix the post.")
@click.option(
    "--force",
    is_flag=True,
    help="Save even when a near duplicate was decided the other way (approved against "
    "rejected or changes requested).",
)
@click.pass_context
@handles_errors
def review_cmd(ctx: click.Context, post_id: str, status: str, note: str, force: bool) -> None:
    """Save a decision for one post.

    Approving a post whose near duplicate is rejected or has changes requested, or the
    reverse, is refused (exit 1, naming the other post) unless --force."""
    store = open_store(ctx, writable=True)
    if not force:
        _refuse_inconsistent(store, post_id, status, note)
    review = store.set_review(post_id, status, note)
    click.echo(
        f"{clean_name(post_id)}: {review.status} "
        f"(saved {review.decided_at} by {clean_name(review.reviewer)})"
    )


def _derived_pending(exc: Exception) -> bool:
    """Whether ``exc`` is ``storage.catalog.DerivedPendingError``. Asked without importing
    storage.catalog (the search and similarity indexes, ~40 ms of a `review`): what raised
    one has imported it."""
    catalog = sys.modules.get("storage.catalog")
    return catalog is not None and isinstance(exc, catalog.DerivedPendingError)


def _refuse_inconsistent(store: ReviewStore, post_id: str, status: str, note: str) -> None:
    """Exit 1 naming the near duplicates that ``status`` would contradict."""
    from storage import Status, StoreError
    from storage.families import inconsistencies

    try:
        found = inconsistencies(store, post_id, status, note)
    except StoreError as exc:
        if not _derived_pending(exc):
            raise
        click.secho(
            "warning: similar posts are still being computed: near duplicates not checked",
            fg="yellow",
            err=True,
        )
        return
    if not found:
        return
    label = Status(status).label
    for item in found:
        other = f'{clean_name(item.post_id)} "{clean_line(item.title)}" (score {item.score})'
        click.echo(
            f"copydesk: {clean_name(post_id)}: its near duplicate {other} is "
            f"{item.status.label}; {label} would contradict that",
            err=True,
        )
    click.echo("copydesk: nothing saved (--force saves anyway)", err=True)
    sys.exit(1)
