"""How a decision looks in the TUI: one colour per status (its words and mark are
``storage.Status.label`` / ``.mark``)."""

from __future__ import annotations

from storage import Status

STATUS_COLOURS: dict[Status, str] = {
    Status.PENDING: "#abb2bf",
    Status.APPROVED: "#98c379",
    Status.REJECTED: "#e06c75",
    Status.CHANGES_REQUESTED: "#e5c07b",
    Status.DISPUTED: "#c678dd",
}


def status_style(value: str, *, bold: bool = False) -> str:
    """The Rich style of a status value (an unknown one: plain bold)."""
    status = Status.parse(value)
    if status is None:
        return "bold"
    colour = STATUS_COLOURS[status]
    return f"bold {colour}" if bold else colour
