"""similar (clusters: families.py)."""

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
    """Posts most similar to POST_ID, best first, with a score (0-100) and reasons.

    The reasons are the review screen's Similar pane's, word for word: "sentences alike
    N%" (the body measure of the score), "title N%", "same topic". The words the two
    posts share are shown by the compare screen (d), under the name "words shared"."""
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
