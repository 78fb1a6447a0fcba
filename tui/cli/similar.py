"""similar, clusters."""

from __future__ import annotations

import click

from tui.text import clean_line, clean_name

from .common import db_option, handles_errors, open_store
from .ids import nfc
from .output import print_json


@click.command("similar")
@db_option
@click.argument("post_id", callback=nfc)
@click.option("--limit", "-n", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
@handles_errors
def similar_cmd(ctx: click.Context, post_id: str, limit: int, as_json: bool) -> None:
    """Posts most similar to POST_ID, best first, with a score (0-100) and reasons."""
    store = open_store(ctx)
    found = store.similar(post_id, limit=limit)
    if as_json:
        print_json([s.to_dict() for s in found])
        return
    for item in found:
        reasons = clean_line(", ".join(item.reasons))
        click.echo(
            f"{item.score:>3}  {clean_name(item.id):<22} {clean_line(item.title)}  ({reasons})"
        )


@click.command("clusters")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of clusters.")
@click.pass_context
@handles_errors
def clusters_cmd(ctx: click.Context, as_json: bool) -> None:
    """Near-duplicate clusters: groups of posts above the near-duplicate threshold."""
    store = open_store(ctx)
    clusters = store.clusters()
    if as_json:
        out = [
            [{"id": pid, "title": store.summary(pid).title} for pid in cluster]
            for cluster in clusters
        ]
        print_json(out)
        return
    if not clusters:
        click.echo("no near-duplicate clusters")
    for number, cluster in enumerate(clusters, 1):
        click.echo(f"cluster {number} ({len(cluster)} posts)")
        for pid in cluster:
            click.echo(f"  {clean_name(pid):<22} {clean_line(store.summary(pid).title)}")


def register(group: click.Group) -> None:
    group.add_command(similar_cmd)
    group.add_command(clusters_cmd)
