"""How a fraction is shown to a reviewer: one rounding for every figure on screen and in
the CLI (the Similar pane's reasons, the compare header, ``copydesk similar``)."""

from __future__ import annotations

__all__ = ["percent"]


def percent(fraction: float) -> str:
    """``0.97`` -> ``"97%"``: rounded to a whole percent, except that only all of it is
    ``100%`` (0.996 -> ``99%``) and only none of it is ``0%`` (0.004 -> ``<1%``), so a
    figure never claims a copy or nothing in common when that is not so."""
    value = round(fraction * 100)
    if value >= 100 and fraction < 1.0:
        return "99%"
    if value <= 0 and fraction > 0.0:
        return "<1%"
    return f"{value}%"
