"""Helpers of the family tests (tests/families)."""

from __future__ import annotations

from pathlib import Path


def regenerate(path: Path, *edits: tuple[str, str]) -> None:
    """Edit a post's file as a regenerated post would be (each ``(old, new)`` once)."""
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
