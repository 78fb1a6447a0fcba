"""export, import-reviews, conflicts."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click

from storage import EXPORT_FORMATS, Review
from storage.export import export, format_for_path
from storage.merge import KEEP_CHOICES
from tui.text import clean, clean_line, clean_name, json_for_terminal

from .common import db_option, handles_errors, open_store
from .ids import nfc
from .output import print_json
from .views import view_option, view_query


@click.command("export")
@db_option
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default=None,
    help="Output format (default: from the --output suffix, else md).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=None,
    help="File to write (atomically); - or nothing for stdout.",
)
@click.option("--query", "-q", default="", help="Only posts matching this search query.")
@click.option("--all", "include_pending", is_flag=True, help="Include pending posts too.")
@view_option
@click.pass_context
@handles_errors
def export_cmd(
    ctx: click.Context,
    fmt: str | None,
    output: Path | None,
    query: str,
    include_pending: bool,
    view_name: str | None,
) -> None:
    """Export decisions and notes: md, csv, json or jsonl.

    By default the posts with a decision; --all adds pending ones, --query narrows them
    (e.g. status:rejected, "stack:php flag:needs_human_review"). A jsonl export is what
    `copydesk import-reviews` reads back on a colleague's machine.
    """
    to_stdout = output is None or str(output) == "-"
    if fmt is None:
        fmt = "md" if to_stdout else format_for_path(output)  # type: ignore[arg-type]
    store = open_store(ctx)
    buffer = io.StringIO(newline="")
    result = export(
        store,
        fmt,
        None if to_stdout else output,
        query=view_query(store, view_name, query),
        include_pending=include_pending,
        stream=buffer,
    )
    if to_stdout:
        _write_export(buffer.getvalue(), fmt)
    noun = "post" if result.count == 1 else "posts"
    if result.path is not None:
        click.echo(f"wrote {result.count} {noun} ({fmt}) to {clean_name(result.path)}", err=True)
    if result.count == 0 and not include_pending:
        click.echo("no decided posts matched; --all includes pending posts", err=True)


def _write_export(text: str, fmt: str) -> None:
    """An export on stdout: JSON with its hidden characters as \\u escapes (the same data);
    csv and markdown as they are into a pipe or file, sanitised on a terminal."""
    if fmt in ("json", "jsonl"):
        sys.stdout.buffer.write(json_for_terminal(text.encode("utf-8")))
    elif sys.stdout.isatty():
        sys.stdout.write(clean(text))
    else:
        sys.stdout.write(text)
    sys.stdout.flush()


@click.command("import-reviews")
@db_option
# readable=False: the reader says why a file cannot be read (exit 1), not click
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, readable=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="Print the merge report as JSON.")
@click.pass_context
@handles_errors
def import_reviews_cmd(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Merge another reviewer's decisions (their `copydesk export --format jsonl`).

    Decisions on posts we have not decided are added; the same decision is an agreement;
    a different one is a conflict that keeps both (see `copydesk conflicts`). Bad lines
    are named and skipped, the rest merged, and the exit code is 1. Unknown post ids are
    reported, never added.
    """
    store = open_store(ctx, writable=True)
    report = store.merge_reviews(file)
    for bad in report.bad_lines:
        click.echo(clean_name(bad), err=True)
    for unknown in report.unknown:
        click.echo(clean_name(unknown), err=True)
    if as_json:
        data = report.to_dict()
        data["summary"] = report.summary()
        print_json(data)
    else:
        click.echo(report.summary())
        if report.conflicts:
            click.echo("see them with `copydesk conflicts`", err=True)
    if not report.ok:
        sys.exit(1)


def _describe(review: Review | None) -> str:
    if review is None:
        return "(no decision)"
    text = clean_line(review.status, max_chars=40)
    if review.reviewer:
        text += f" by {clean_line(review.reviewer, max_chars=60)}"
    if review.decided_at:
        text += f" at {clean_line(review.decided_at, max_chars=40)}"
    if review.note.strip():
        text += f": {clean_line(review.note.strip(), max_chars=120)}"
    return text


@click.command("conflicts")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option(
    "--resolve",
    "post_id",
    default=None,
    metavar="ID",
    callback=nfc,
    help="Settle the conflict on ID.",
)
@click.option(
    "--keep",
    type=click.Choice(KEEP_CHOICES),
    default=None,
    help="With --resolve: keep our decision or theirs.",
)
@click.option(
    "--reviewer",
    default=None,
    help="With --resolve: whose decision, when several reviewers disagree on one post.",
)
@click.pass_context
@handles_errors
def conflicts_cmd(
    ctx: click.Context,
    as_json: bool,
    post_id: str | None,
    keep: str | None,
    reviewer: str | None,
) -> None:
    """List decisions from merged files that differ from ours, or settle one.

    Settle with `copydesk conflicts --resolve ID --keep ours|theirs`.
    """
    if (post_id is None) != (keep is None):
        raise click.UsageError("--resolve ID and --keep ours|theirs go together")
    if reviewer is not None and post_id is None:
        raise click.UsageError("--reviewer only applies with --resolve")
    store = open_store(ctx, writable=post_id is not None)
    if post_id is not None and keep is not None:
        decision = store.resolve_conflict(post_id, keep, reviewer=reviewer)
        click.echo(f"{clean_name(post_id)}: kept {keep}, now {_describe(decision)}")
        return
    conflicts = store.conflicts()
    if as_json:
        print_json([c.to_dict() for c in conflicts])
        return
    if not conflicts:
        click.echo("no conflicts")
        return
    for conflict in conflicts:
        click.echo(f"{clean_name(conflict.post_id)}  {clean_line(conflict.title)}")
        click.echo(f"  ours:   {_describe(conflict.ours)}")
        click.echo(f"  theirs: {_describe(conflict.theirs)}")
    click.echo(f"{len(conflicts)} conflicts; settle one with --resolve ID --keep ours|theirs")
