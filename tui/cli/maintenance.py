"""repair: go on from what a damaged store still holds."""

from __future__ import annotations

import click

from tui.text import clean_name

from .common import db_option, handles_errors, open_store


@click.command("repair")
@db_option
@click.pass_context
@handles_errors
def repair_cmd(ctx: click.Context) -> None:
    """Go on after damage that copydesk refused to work around.

    When files of the store were lost or damaged so that decisions or posts it knows of
    are in none of them, copydesk refuses to write and says so. Restore the files from a
    backup if you can; otherwise `repair` accepts what is left: it restarts the decision
    journal from the decisions still held, and drops posts whose text is unreadable so
    that the next `copydesk import` adds them again.
    """
    store = open_store(ctx, writable=True, repairing=True)
    for line in store.repair():
        click.echo(clean_name(line))
    click.echo(f"{clean_name(store.path)}: repaired")
