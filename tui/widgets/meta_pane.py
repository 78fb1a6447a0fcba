"""Every meta field of the current post, structured (right, top pane)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tui.text import clean, clean_line
from tui.widgets.rendered_view import RenderedView

# Known fields in reading order (what a reviewer checks first fits the first screen);
# anything else follows under its own name.
FIELD_ORDER = [
    "topic",
    "reference",
    "stack",
    "score",
    "difficulty",
    "reading_time",
    "view_count",
    "code_language",
    "tools",
    "revision",
    "hash",
    "summary",
    "ai_brief",
    "ai_outline",
    "checklist",
    "entities",
    "image_sources",
    "payload",
    "notes",
    "flags",
]
CHIP_FIELDS = {"stack", "tools"}
HIDDEN_FIELDS = {"flags"}  # shown in the review flags pane
VALUE_CHARS = 4_000  # a pathological meta value is cut, the pane stays small

KEY_STYLE = "#7f848e"
CHIP_STYLE = "#1e222a on #61afef"


def field_label(name: str) -> str:
    return clean_line(name).replace("_", " ")


def chips(items: list[Any]) -> Text:
    text = Text()
    for index, item in enumerate(items):
        if index:
            text.append(" ")
        # No padding spaces inside a chip: Rich wraps at spaces and would split it.
        text.append(clean_line(item, max_chars=80), style=CHIP_STYLE)
    return text


def score_bar(value: Any, width: int = 8) -> Text:
    if not isinstance(value, int) or isinstance(value, bool):
        return Text(clean_line(value))
    clamped = max(0, min(100, value))
    filled = round(clamped * width / 100)
    colour = "#98c379" if clamped >= 80 else "#e5c07b" if clamped >= 60 else "#e06c75"
    return Text.assemble(
        ("█" * filled, colour), ("░" * (width - filled), "#3e4451"), (f" {value:>3}", "bold")
    )


def scalar(value: Any) -> Text:
    if isinstance(value, bool):
        return Text(str(value).lower())
    if isinstance(value, int):
        return Text(f"{value:,}")
    return Text(clean(value, max_chars=VALUE_CHARS))


def _grid() -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style=KEY_STYLE, no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
    return table


def value_renderable(name: str, value: Any) -> RenderableType:
    if name in CHIP_FIELDS and isinstance(value, list):
        return chips(value)
    if name == "score" and isinstance(value, Mapping):
        lines = Text()
        width = max((len(field_label(key)) for key in value), default=0)
        for index, (key, item) in enumerate(value.items()):
            if index:
                lines.append("\n")
            lines.append(f"{field_label(key):<{width}} ", style=KEY_STYLE)
            lines.append_text(score_bar(item))
        return lines
    if name == "reading_time" and isinstance(value, int):
        return Text(f"{value} min")
    if isinstance(value, Mapping):
        return _mapping_lines(value)
    if isinstance(value, list):
        if value and all(isinstance(item, Mapping) for item in value):
            return Group(*(_mapping_item(name, item) for item in value))
        lines = Text()
        for index, item in enumerate(value):
            if index:
                lines.append("\n")
            lines.append("• ", style="#56b6c2")
            lines.append_text(scalar(item))
        return lines
    return scalar(value)


def _mapping_item(name: str, item: Mapping[str, Any]) -> RenderableType:
    if name == "entities" and set(item) <= {"name", "type"}:
        return Text.assemble(
            ("• ", "#56b6c2"),
            clean_line(item.get("name", "")),
            (f" ({clean_line(item.get('type', '?'))})", "dim"),
        )
    if name == "image_sources":
        text = Text.assemble(("• ", "#56b6c2"), (clean_line(item.get("source", "?")), "#98c379"))
        if item.get("url"):
            text.append("\n  ")
            text.append(clean_line(item["url"], max_chars=500), style="#61afef")
        return text
    return _mapping_lines(item, bullet=True)


def _mapping_lines(value: Mapping[str, Any], *, bullet: bool = False) -> Text:
    """``key: value`` lines; nested values are shown flat (they are rare and small)."""
    lines = Text()
    for index, (key, item) in enumerate(value.items()):
        if index:
            lines.append("\n")
        if bullet:
            lines.append("• " if index == 0 else "  ", style="#56b6c2")
        lines.append(f"{field_label(key)}: ", style=KEY_STYLE)
        if isinstance(item, (Mapping, list)):
            lines.append(clean_line(item, max_chars=VALUE_CHARS))
        else:
            lines.append_text(scalar(item))
    return lines


def meta_renderable(meta: Mapping[str, Any]) -> RenderableType:
    if not meta:
        return Text("no meta box in this post", style="dim italic")
    grid = _grid()
    names = [name for name in FIELD_ORDER if name in meta]
    names += [name for name in meta if name not in FIELD_ORDER]
    for name in names:
        if name in HIDDEN_FIELDS:
            continue
        value = meta[name]
        if name == "score" and isinstance(value, Mapping):
            # one row per score, so the bars get the whole value column
            for key, item in value.items():
                grid.add_row(field_label(key), score_bar(item))
            continue
        grid.add_row(field_label(name), value_renderable(name, value))
    return grid


class MetaPane(RenderedView):
    """Scrollable meta box."""

    def on_mount(self) -> None:
        self.show(Text("no post selected", style="dim italic"))

    def show_meta(self, meta: Mapping[str, Any] | None) -> None:
        self.show(meta_renderable(meta or {}))

    def clear(self) -> None:
        self.show(Text(""))
