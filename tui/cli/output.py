"""What the CLI prints that is not a line of text: JSON, made safe for a terminal."""

from __future__ import annotations

import sys
from typing import Any

import orjson

from tui.text import json_for_terminal


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout. orjson escapes C0 controls; C1 controls, DEL,
    bidi and zero-width characters are written as ``\\uXXXX`` too: the same values for a
    JSON parser, nothing raw for a terminal."""
    out = orjson.dumps(data, option=orjson.OPT_INDENT_2)
    sys.stdout.buffer.write(json_for_terminal(out) + b"\n")
    sys.stdout.flush()
