"""Post ids typed on the command line."""

from __future__ import annotations

import unicodedata

import click


def nfc(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """A click callback: the id in NFC, as the reader stores ids (``café`` typed on a
    keyboard or pasted in NFD finds the post)."""
    return None if value is None else unicodedata.normalize("NFC", value)
