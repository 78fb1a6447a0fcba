"""Make post text safe to show in a terminal.

Post text is data. Everything that came out of a seed document passes through
:func:`clean` (or :func:`clean_line` for one-line places such as list rows and
titles) before it reaches a widget, and widgets build :class:`rich.text.Text`
objects from the result, never markup strings. That keeps Rich markup such as
``[bold red]`` literal, and keeps terminal escape sequences (an OSC title change,
a CSI cursor move) from ever reaching the terminal.
"""

from __future__ import annotations

import re

from rich.text import Text

# ESC-introduced sequences, in 7-bit and 8-bit (C1) form:
#   CSI  ESC [ / 0x9b  params... final byte
#   OSC  ESC ] / 0x9d  ... terminated by BEL or ST (ESC \ or 0x9c)
#   DCS/SOS/PM/APC  ESC P / X / ^ / _  (0x90 0x98 0x9e 0x9f) ... ST
#   anything else ESC + one intermediate/final byte (ESC c, ESC 7, ESC ( B ...)
# An unterminated string sequence (OSC, DCS, ...) is cut up to the end of its line.
_ESCAPE_SEQUENCE = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?                         # CSI
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c|(?=\n)|\Z)  # OSC, DCS...
    | \x1b[ -/]*[0-~]?                                          # other ESC sequences
    """,
    re.VERBOSE | re.DOTALL,
)

# Code points that are not escape sequences but must not reach the terminal raw.
_C0_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)}  # U+2400 block
_C0_PICTURES[0x7F] = "\u2421"  # DEL -> ␡
_REPLACEMENT = "\ufffd"
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible_control(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code in _C0_PICTURES:
        return _C0_PICTURES[code]
    return _REPLACEMENT  # C1 controls have no control picture


def clean(value: object, *, max_chars: int | None = None) -> str:
    """Return ``value`` as a string safe for display, keeping newlines and tabs.

    Escape sequences are removed; other C0/C1 control characters become visible
    symbols (U+2400 control pictures, or U+FFFD for C1). ``\\r\\n`` becomes ``\\n``.
    ``max_chars`` cuts long values with an ellipsis.
    """
    text = value if isinstance(value, str) else str(value)
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars] + "…"
    text = text.replace("\r\n", "\n")
    text = _ESCAPE_SEQUENCE.sub("", text)
    return _CONTROL_CHARS.sub(_visible_control, text)


def clean_line(value: object, *, max_chars: int | None = 500) -> str:
    """Like :func:`clean`, for one-line places: newlines and tabs become spaces."""
    text = clean(value, max_chars=max_chars)
    return text.replace("\n", " ").replace("\t", " ")


def safe_text(value: object, style: str = "", *, one_line: bool = False) -> Text:
    """A Rich ``Text`` of cleaned post text. Never parsed as markup."""
    cleaned = clean_line(value) if one_line else clean(value)
    return Text(cleaned, style=style)
