"""clusters, keep, diff, boilerplate, hints-report: near-copy families and templates."""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson

from tui.text import clean_line, clean_name

from .common import db_option, handles_errors, open_store
from .ids import nfc
from .output import print_json


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


@click.command("clusters")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of clusters.")
@click.pass_context
@handles_errors
def clusters_cmd(ctx: click.Context, as_json: bool) -> None:
    """Near-duplicate clusters: groups of posts above the near-duplicate threshold, each
    post with its decision and its near duplicates' scores. `copydesk keep ID` decides
    a cluster at once."""
    from storage.families import cluster_pairs

    store = open_store(ctx)
    clusters = []
    for number, cluster in enumerate(store.clusters(), 1):
        pairs = cluster_pairs(store, cluster)
        posts = [
            {
                "id": post_id,
                "title": store.summary(post_id).title,
                "status": str(store.status_of(post_id)),
                "near_duplicates": [{"id": o, "score": s} for o, s in pairs[post_id].items()],
            }
            for post_id in cluster
        ]
        clusters.append({"cluster": number, "size": len(cluster), "posts": posts})
    if as_json:
        print_json(clusters)
        return
    from storage import Status

    if not clusters:
        click.echo("no near-duplicate clusters")
    for cluster in clusters:
        click.echo(f"cluster {cluster['cluster']} ({cluster['size']} posts)")
        for post in cluster["posts"]:
            mark = Status(post["status"]).mark
            click.echo(f"  {mark} {clean_name(post['id']):<22} {clean_line(post['title'])}")
            near = ", ".join(f"{clean_name(n['id'])} {n['score']}" for n in post["near_duplicates"])
            click.echo(f"      near: {near}")


@click.command("keep")
@db_option
@click.argument("post_id", callback=nfc)
@click.pass_context
@handles_errors
def keep_cmd(ctx: click.Context, post_id: str) -> None:
    """Keep POST_ID: approve it and reject the other posts of its near-duplicate cluster
    as duplicates of it, in one write. Their notes are kept; a line naming the kept post
    is added to each rejected post's note. Exits 1 when POST_ID is in no cluster."""
    from storage.families import keep

    store = open_store(ctx, writable=True)
    result = keep(store, post_id)
    keeper = result.saved[result.keeper]
    click.echo(
        f"{clean_name(result.keeper)}: approved, kept (saved {keeper.decided_at} by "
        f"{clean_name(keeper.reviewer)})"
    )
    for other in result.rejected:
        click.echo(f"{clean_name(other)}: rejected as a duplicate of {clean_name(result.keeper)}")


@click.command("diff")
@db_option
@click.argument("post_id", callback=nfc)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
@handles_errors
def diff_cmd(ctx: click.Context, post_id: str, as_json: bool) -> None:
    """What changed in POST_ID since its decision: the text it was decided on against the
    current text, block by block (- removed, + added). Exits 1 when the reviewed text is
    not kept (decided before copydesk kept versions)."""
    from storage.diff import diff_posts

    from .common import fail

    store = open_store(ctx)
    post = store.get(post_id)
    review = post.review
    if review is None or not post.changed:
        state = "not decided yet" if review is None else "not changed since its decision"
        if as_json:
            print_json({"id": post_id, "changed": False, "diff": None})
        else:
            click.echo(f"{clean_name(post_id)}: {state}")
        return
    reviewed = store.reviewed_version(post_id)
    if reviewed is None:
        fail(  # fail() makes the id safe to show
            f"{post_id}: changed since its decision, but the text it was decided on is not "
            "kept in this store (decided before copydesk kept earlier versions, or on "
            "another reviewer's copy)"
        )
        return
    diff = diff_posts(reviewed, post)
    if as_json:
        print_json(
            {"id": post_id, "changed": True, "review": review.to_dict(), "diff": diff.to_dict()}
        )
        return
    _print_diff(post_id, review, diff, color=sys.stdout.isatty())


def _print_diff(post_id: str, review: Any, diff: Any, *, color: bool) -> None:
    from storage import Status
    from storage.diff import ADDED, REMOVED

    def style(text: str, **kwargs: Any) -> str:
        return click.style(text, **kwargs) if color else text

    marks = {ADDED: ("+", "green"), REMOVED: ("-", "red")}

    def line(op: str, text: str) -> None:
        mark, fg = marks.get(op, (" ", None))
        out = f"  {mark} {clean_line(text, max_chars=None)}"
        click.echo(style(out, fg=fg) if fg else style(out, dim=True), color=color)

    status = Status(review.status).label
    click.echo(
        style(
            f"{clean_name(post_id)}: changed since it was {status} "
            f"({review.decided_at} by {clean_name(review.reviewer)})",
            bold=True,
        ),
        color=color,
    )
    if diff.title is not None:
        click.echo("title", color=color)
        line(REMOVED, diff.title.old)
        line(ADDED, diff.title.new)
    for change in diff.meta:
        old = "(none)" if change.old is None else orjson.dumps(change.old).decode()
        new = "(none)" if change.new is None else orjson.dumps(change.new).decode()
        click.echo(
            f"meta {clean_name(change.name)}: {clean_line(old)} -> {clean_line(new)}", color=color
        )
    for block in diff.blocks:
        if block.new_index is None:
            where = f"reviewed block {block.old_index + 1}"
        else:
            where = f"block {block.new_index + 1}"
        click.echo(
            style(f"{where} ({clean_line(block.type)}) {block.change}", fg="cyan"), color=color
        )
        for unit in block.lines:
            line(unit.op, unit.text)
    click.echo(f"{diff.unchanged_blocks} blocks unchanged", color=color)


@click.command("boilerplate")
@db_option
@click.option(
    "--min-posts",
    type=click.IntRange(min=2),
    default=3,
    show_default=True,
    help="Report text that at least this many posts hold.",
)
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="At most this many findings, most posts first.",
)
@click.option("--all", "show_all", is_flag=True, help="Every finding (no --limit).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
@handles_errors
def boilerplate_cmd(
    ctx: click.Context, min_posts: int, limit: int, show_all: bool, as_json: bool
) -> None:
    """Sentences and paragraphs repeated across many posts: a template's boilerplate, to
    fix once in the generator. Each comes with the query that lists its posts
    (`copydesk list -q QUERY`, or `/` in the app)."""
    from storage.boilerplate import find_boilerplate

    store = open_store(ctx)
    read = 0

    def posts() -> Any:
        nonlocal read
        for post in store.iter_posts():
            read += 1
            yield post

    found = find_boilerplate(posts(), min_posts=min_posts)
    shown = found if show_all else found[:limit]
    if as_json:
        print_json([item.to_dict() for item in shown])
        return

    more = "" if len(shown) == len(found) else f"; the {len(shown)} held by most posts shown"
    click.echo(
        f"{len(found)} sentences and paragraphs held by at least {min_posts} of {read} posts{more}"
    )
    if shown:
        click.echo(f"{'posts':>6}  {'kind':<9}  query")
    for item in shown:
        click.echo(f"{item.posts:>6}  {item.kind:<9}  {clean_line(item.query, max_chars=None)}")


@click.command("hints-report")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
@handles_errors
def hints_report_cmd(ctx: click.Context, as_json: bool) -> None:
    """Which review hints predict a rejection: per hint code, how many posts carry it,
    how they were decided, and the rejection rate of decided posts with and without it."""
    from storage.hints_report import hints_report

    store = open_store(ctx)
    rows = hints_report(store)
    if as_json:
        print_json([row.to_dict() for row in rows])
        return
    width = max(len("hint"), *(len(row.code) for row in rows))
    click.echo(
        f"{'hint':<{width}}  {'posts':>6}  {'approved':>8}  {'rejected':>8}  {'changes':>7}  "
        f"{'pending':>7}  {'rejected':>8}  {'without':>7}  {'lift':>5}"
    )
    for row in rows:
        counts = row.carrying.by_status
        lift = "-" if row.rejection_lift is None else f"{row.rejection_lift:.1f}x"
        click.echo(
            f"{row.code:<{width}}  {row.carrying.posts:>6}  {counts['approved']:>8}  "
            f"{counts['rejected']:>8}  {counts['changes_requested']:>7}  "
            f"{counts['pending']:>7}  {_percent(row.carrying.rejected_rate):>8}  "
            f"{_percent(row.others.rejected_rate):>7}  {lift:>5}"
        )
    click.echo(
        "rejected: share of the decided posts carrying the hint that were rejected; "
        "without: the same share among the decided posts without it; lift: their ratio"
    )
