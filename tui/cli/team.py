"""The team desk on PostgreSQL: db init / db config, push, claim, release, claims,
agreement, stats."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson

from .common import db_option, fail, handles_errors, open_store

SETTINGS = ("min_reviews",)


def _dump(payload: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2) + b"\n")


def _db_url(ctx: click.Context) -> str:
    from storage.open import is_database_url, resolve_location

    where = resolve_location(ctx.find_root().ensure_object(dict).get("db"))
    if not is_database_url(where):
        fail("this command needs a team store: --db postgresql://USER@HOST/DBNAME", 2)
    return str(where)


def _team_store(ctx: click.Context):
    _db_url(ctx)
    store = open_store(ctx)
    if store.team is None:  # pragma: no cover - a URL always opens the team store
        fail("this command needs a team store: --db postgresql://USER@HOST/DBNAME", 2)
    return store


def _left(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s"


@click.group("db")
def db_cmd() -> None:
    """The team database: create or migrate its schema, show or change settings."""


@db_cmd.command("init")
@db_option
@click.pass_context
@handles_errors
def db_init_cmd(ctx: click.Context) -> None:
    """Create the copydesk schema in the database, or migrate it to this version."""
    from storage.pg import display_url, init_database

    url = _db_url(ctx)
    before, after = init_database(url)
    if before == after:
        click.echo(f"{display_url(url)}: schema version {after}, up to date")
    else:
        click.echo(f"{display_url(url)}: schema version {before} -> {after}")


@db_cmd.command("config")
@db_option
@click.argument("key", required=False, type=click.Choice(SETTINGS))
@click.argument("value", required=False)
@click.pass_context
@handles_errors
def db_config_cmd(ctx: click.Context, key: str | None, value: str | None) -> None:
    """Show the settings, or set one: `copydesk db config min_reviews 2` (a post leaves
    the needs-review queue once that many different reviewers decided it)."""
    store = _team_store(ctx)
    if key is not None and value is not None:
        try:
            number = int(value)
        except ValueError:
            fail(f"{key} takes a whole number, not {value!r}", 2)
        if number < 1:
            fail(f"{key} must be at least 1", 2)
        store.set_min_reviews(number)
    if key is None or value is None:
        click.echo(f"min_reviews = {store.min_reviews}")
    else:
        click.echo(f"min_reviews = {store.min_reviews} (saved)")


@click.command("push")
@db_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
@handles_errors
def push_cmd(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Move a local store's (FILE.json) posts, decisions and saved views to the server.

    Safe to repeat. A decision that differs from the same reviewer's on the server is a
    conflict: the server's stays, theirs is listed by `copydesk conflicts`.
    """
    from storage import Store
    from storage.pg.push import push

    server = _team_store(ctx)
    with Store.open(file) as local:
        report = push(local, server)
    for unknown in report.decisions.unknown:
        click.echo(str(unknown), err=True)
    if as_json:
        _dump(report.to_dict())
        return
    click.echo(report.summary())
    if report.decisions.conflicts:
        click.echo("see the conflicts with `copydesk conflicts`", err=True)


@click.command("claim")
@db_option
@click.option("--count", "-k", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--lease",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Lease length (default 600).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array ([] when none left).")
@click.pass_context
@handles_errors
def claim_cmd(ctx: click.Context, count: int, lease: float | None, as_json: bool) -> None:
    """Claim the next COUNT needs-review posts for this reviewer, in queue order."""
    from tui.text import clean_line

    store = _team_store(ctx)
    team = store.team
    ids = team.claim_next(count, lease)
    lease_s = team.lease_s if lease is None else lease
    if as_json:
        rows = []
        for post_id in ids:
            summary = store.summary(post_id).to_dict()
            rows.append({**summary, "reviewer": team.reviewer, "lease_seconds": lease_s})
        _dump(rows)
        return
    if not ids:
        click.echo("nothing left to claim")
    for post_id in ids:
        click.echo(f"{post_id:<22} {clean_line(store.summary(post_id).title)}")


@click.command("release")
@db_option
@click.argument("post_ids", nargs=-1, metavar="ID...")
@click.option("--all", "release_all", is_flag=True, help="Every claim of this reviewer.")
@click.pass_context
@handles_errors
def release_cmd(ctx: click.Context, post_ids: tuple[str, ...], release_all: bool) -> None:
    """Give back this reviewer's claims on ID... (or --all)."""
    if not post_ids and not release_all:
        raise click.UsageError("give post ids, or --all")
    store = _team_store(ctx)
    released = store.team.release(None if release_all else post_ids)
    click.echo(f"released {released} claim{'s' if released != 1 else ''}")


@click.command("claims")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
@handles_errors
def claims_cmd(ctx: click.Context, as_json: bool) -> None:
    """Who holds which post, and for how long yet."""
    from tui.text import clean_line

    store = _team_store(ctx)
    claims = store.team.claims()
    if as_json:
        _dump(
            [
                {"id": c.post_id, "reviewer": c.reviewer, "seconds_left": round(c.expires_in_s, 1)}
                for c in claims
            ]
        )
        return
    if not claims:
        click.echo("no claims")
        return
    for claim in claims:
        click.echo(
            f"{claim.post_id:<22} {clean_line(claim.reviewer, max_chars=40):<20} "
            f"{_left(claim.expires_in_s)} left"
        )


@click.command("agreement")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@handles_errors
def agreement_cmd(ctx: click.Context, as_json: bool) -> None:
    """Agreement between reviewers, overall and per pair: posts both decided, percent
    agreement, kappa (Cohen's per pair, Fleiss' overall), Krippendorff's alpha, Gwet's AC1."""
    from storage.agreement import agreement_report
    from tui.text import clean_line

    store = _team_store(ctx)
    report = agreement_report(store.team.ratings(), categories=3)
    if as_json:
        _dump(
            {
                "overall": report["overall"].to_dict(),
                "pairs": [pair.to_dict() for pair in report["pairs"]],
            }
        )
        return

    def show(value: float | None, percent: bool = False) -> str:
        if value is None:
            return "-"
        return f"{100 * value:.1f}%" if percent else f"{value:.3f}"

    click.echo(f"{'reviewers':<40} {'posts':>6} {'agree':>7} {'kappa':>7} {'alpha':>7} {'AC1':>7}")
    rows = [("everyone", report["overall"])] + [
        (" / ".join(clean_line(r, max_chars=18) for r in p.reviewers), p) for p in report["pairs"]
    ]
    for name, result in rows:
        click.echo(
            f"{name:<40} {result.posts:>6} {show(result.percent, True):>7} "
            f"{show(result.kappa):>7} {show(result.alpha):>7} {show(result.ac1):>7}"
        )


@click.command("stats")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@handles_errors
def stats_cmd(ctx: click.Context, as_json: bool) -> None:
    """Decisions per reviewer per day, and the median time from claim to decision."""
    from tui.text import clean_line

    store = _team_store(ctx)
    stats = store.stats()
    if as_json:
        _dump(stats)
        return

    def median(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}s"

    click.echo(f"{'reviewer':<24} {'day':<10} {'decisions':>9} {'median':>7}")
    for row in stats["days"]:
        who = clean_line(row["reviewer"], max_chars=24)
        click.echo(
            f"{who:<24} {row['day']:<10} {row['decisions']:>9} {median(row['median_seconds']):>7}"
        )
    for row in stats["reviewers"]:
        who = clean_line(row["reviewer"], max_chars=24)
        click.echo(
            f"{who:<24} {'all':<10} {row['decisions']:>9} {median(row['median_seconds']):>7}"
        )
