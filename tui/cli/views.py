"""views, views save, views delete; ``--view NAME`` for list and export."""

from __future__ import annotations

import click

from storage import Store, ViewError
from storage.views import combine
from tui.text import clean_line

from .common import db_option, fail, handles_errors, open_store
from .output import print_json


def view_query(store: Store, view_name: str | None, query: str) -> str:
    """The query of ``--view NAME`` ANDed with ``--query``; an unknown view exits 2."""
    if view_name is None:
        return query
    try:
        view = store.view(view_name)
    except ViewError as exc:
        fail(str(exc), 2)
    return combine(view.query, query)


def view_option(func):
    return click.option(
        "--view",
        "view_name",
        default=None,
        metavar="NAME",
        help="Only posts of this view (see `copydesk views`); ANDed with --query.",
    )(func)


@click.group("views", invoke_without_command=True)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
@handles_errors
def views_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the views (built-in and saved) with how many posts each shows.

    A view is a named search query; `copydesk list --view NAME` and `copydesk export
    --view NAME` use it. Save one with `copydesk views save NAME QUERY`.
    """
    if ctx.invoked_subcommand is not None:
        return
    store = open_store(ctx)
    rows = [{**view.to_dict(), "count": store.count(view.query)} for view in store.views()]
    if as_json:
        payload = [{k: row[k] for k in ("name", "query", "count", "builtin")} for row in rows]
        print_json(payload)
        return
    width = max(len("view"), *(len(clean_line(r["name"])) for r in rows))
    click.echo(f"{'view':<{width}}  {'posts':>6}  query")
    for row in rows:
        kind = "" if row["builtin"] else "  (saved)"
        query = clean_line(row["query"]) or "(everything)"
        click.echo(f"{clean_line(row['name']):<{width}}  {row['count']:>6}  {query}{kind}")


@views_cmd.command("save")
@db_option
@click.argument("name")
@click.argument("query")
@click.pass_context
@handles_errors
def save_cmd(ctx: click.Context, name: str, query: str) -> None:
    """Save QUERY as the view NAME (replacing a saved view of that name)."""
    store = open_store(ctx, writable=True)
    try:
        view = store.save_view(name, query)
    except ViewError as exc:
        fail(str(exc), 2)
    click.echo(f"saved view {clean_line(view.name)!r}: {store.count(view.query)} posts")


@views_cmd.command("delete")
@db_option
@click.argument("name")
@click.pass_context
@handles_errors
def delete_cmd(ctx: click.Context, name: str) -> None:
    """Delete the saved view NAME (built-in views stay)."""
    store = open_store(ctx, writable=True)
    try:
        view = store.view(name)
        store.delete_view(view.name)
    except ViewError as exc:
        fail(str(exc), 2)
    click.echo(f"deleted view {clean_line(view.name)!r}")
