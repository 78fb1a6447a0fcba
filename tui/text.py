"""The one sanitiser: what may reach a terminal of text that came from data or a file name.

Post text, post ids, file names, reviewer names, view names and every message that quotes
them pass through this module before any output, in the TUI and the CLI; widgets build
:class:`rich.text.Text` objects from the result, never markup strings. Three uses:

- :func:`clean`: multi-line text (a body, a note, a meta value). Escape sequences (an OSC
  that sets the title or the clipboard, a CSI cursor move or colour) are removed with their
  payload; other C0/C1 controls become visible symbols; the bidi embedding, override and
  isolate controls (U+202A–U+202E, U+2066–U+2069) are shown as ``\\u202e``-style escapes,
  so they cannot reorder what is shown. Joiners and bidi marks stay: RTL scripts and
  emoji sequences need them.
- :func:`clean_line`: one-line text (a title, a list row): as :func:`clean`, newlines and
  tabs become spaces, and every invisible format character (bidi marks, zero-width space
  and joiners, U+FEFF, tag characters; Unicode category Cf) is shown as an escape too.
- :func:`clean_name`: ids, file names and messages that quote them: nothing is removed,
  every control, format character and lone surrogate (a file name that is not UTF-8) is
  shown as a Python-style escape (``\\x1b``, ``\\x9d``, ``\\u202e``, ``\\udce9``), so that two
  different names never look the same and the reader can find the file.

JSON printed by the CLI goes through :func:`json_for_terminal`, which keeps it the same
JSON (a parser reads the same values) but writes C1 controls, DEL, bidi and zero-width
characters as ``\\uXXXX`` escapes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported when a Text is made: the CLI starts ~30 ms sooner
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

# Bidi embeddings, overrides and isolates: they reorder the text after them (the "Trojan
# Source" trick), so they are never applied, not even in a body.
BIDI_REORDERING = "\u202a-\u202e\u2066-\u2069"
# Every format character (Unicode 15 category Cf: bidi marks and controls, zero-width
# space and joiners, word joiner, U+FEFF, soft hyphen, tag characters...), the line and
# paragraph separators, and lone surrogates (how Python spells the bytes of a file name
# that are not UTF-8). tests/tui/test_text.py checks that this covers every Cf character
# of the running Python.
INVISIBLE = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f\ud800-\udfff"
)
_REORDERING = re.compile(f"[{BIDI_REORDERING}]")
_INVISIBLE = re.compile(f"[{INVISIBLE}]")
_UNSAFE_IN_NAME = re.compile(f"[\x00-\x1f\x7f-\x9f{INVISIBLE}]")


_SHORT_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def escape_char(char: str) -> str:
    """``\\x1b``, ``\\x9d``, ``\\u202e``, ``\\U000e0041``: how a hidden character is shown."""
    code = ord(char)
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _escaped(match: re.Match[str]) -> str:
    return escape_char(match.group())


def _visible_control(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code in _C0_PICTURES:
        return _C0_PICTURES[code]
    return _REPLACEMENT  # C1 controls have no control picture


def _cut(value: object, max_chars: int | None) -> str:
    text = value if isinstance(value, str) else str(value)
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars] + "…"
    return text


def clean(value: object, *, max_chars: int | None = None) -> str:
    """Return ``value`` as a string safe for display, keeping newlines and tabs.

    Escape sequences are removed; other C0/C1 control characters become visible
    symbols (U+2400 control pictures, or U+FFFD for C1); bidi embeddings, overrides and
    isolates become escapes. ``\\r\\n`` becomes ``\\n``. ``max_chars`` cuts long values
    with an ellipsis.
    """
    text = _cut(value, max_chars).replace("\r\n", "\n")
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = _CONTROL_CHARS.sub(_visible_control, text)
    return _REORDERING.sub(_escaped, text)


def clean_line(value: object, *, max_chars: int | None = 500) -> str:
    """Like :func:`clean`, for one-line places: newlines and tabs become spaces, and
    every invisible format character (zero-width, bidi marks, ...) is shown as an escape."""
    text = clean(value, max_chars=max_chars).replace("\n", " ").replace("\t", " ")
    return _INVISIBLE.sub(_escaped, text)


def clean_name(value: object, *, max_chars: int | None = None) -> str:
    """An id, a file name or a message that quotes them, for one line of output: every
    control, format character and lone surrogate is shown as an escape, nothing removed."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    return _UNSAFE_IN_NAME.sub(_escaped, _cut(value, max_chars))


def safe_text(value: object, style: str = "", *, one_line: bool = False) -> Text:
    """A Rich ``Text`` of cleaned post text. Never parsed as markup."""
    from rich.text import Text

    cleaned = clean_line(value) if one_line else clean(value)
    return Text(cleaned, style=style)


# In the UTF-8 bytes of a JSON document, the characters that a terminal could act on or
# that hide or reorder text. orjson already writes C0 controls as \u00XX, but leaves DEL,
# C1 controls (an 8-bit OSC is 0xC2 0x9D) and the Unicode format characters raw. They can
# only occur inside JSON strings, where \uXXXX is the same value to any JSON parser.
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{INVISIBLE}]")


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a surrogate pair, as JSON spells characters beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_for_terminal(data: bytes) -> bytes:
    """The JSON document ``data`` (UTF-8, as orjson writes it) with every character that
    could act on a terminal or hide text written as a ``\\uXXXX`` escape: the same JSON
    values for a parser, nothing raw for a terminal."""
    text = data.decode("utf-8")
    if _JSON_UNSAFE.search(text) is None:
        return data
    return _JSON_UNSAFE.sub(_json_escape, text).encode("utf-8")
