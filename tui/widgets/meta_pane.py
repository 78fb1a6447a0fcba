"""Every meta field of the current post, structured (right, top pane)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.strip import Strip

from tui.text import clean, clean_line
from tui.widgets.line_view import LineView

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
# What the pane shows at once: a post with 100,000 meta fields (or a list of as many items)
# shows the first ones and says how many more there are; ``L`` shows them all (in a worker).
SHOWN_FIELDS = 200
SHOWN_ITEMS = 200

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


def value_renderable(name: str, value: Any, max_items: int | None = SHOWN_ITEMS) -> RenderableType:
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
        return _mapping_lines(value, max_items=max_items)
    if isinstance(value, list):
        limit = len(value) if max_items is None else max_items
        shown, more = value[:limit], len(value) - limit
        if shown and all(isinstance(item, Mapping) for item in shown):
            items: list[RenderableType] = [_mapping_item(name, item, max_items) for item in shown]
            if more > 0:
                items.append(_more(more, "item"))
            return Group(*items)
        lines = Text()
        for index, item in enumerate(shown):
            if index:
                lines.append("\n")
            lines.append("• ", style="#56b6c2")
            lines.append_text(scalar(item))
        if more > 0:
            lines.append("\n")
            lines.append_text(_more(more, "item"))
        return lines
    return scalar(value)


def _more(count: int, noun: str) -> Text:
    return Text(f"… {count:,} more {noun}{'s' if count != 1 else ''}", style="dim italic")


def _mapping_item(
    name: str, item: Mapping[str, Any], max_items: int | None = SHOWN_ITEMS
) -> RenderableType:
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
    return _mapping_lines(item, bullet=True, max_items=max_items)


def _mapping_lines(
    value: Mapping[str, Any], *, bullet: bool = False, max_items: int | None = SHOWN_ITEMS
) -> Text:
    """``key: value`` lines; nested values are shown flat (they are rare and small)."""
    lines = Text()
    for index, (key, item) in enumerate(value.items()):
        if index == max_items:
            lines.append("\n")
            lines.append_text(_more(len(value) - max_items, "field"))
            break
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


def meta_renderable(
    meta: Mapping[str, Any], *, max_fields: int | None = SHOWN_FIELDS
) -> RenderableType:
    """The meta box as a grid of ``name value`` rows: the first ``max_fields`` fields
    (None: all), then a line saying how many more there are."""
    if not meta:
        return Text("no meta box in this post", style="dim italic")
    grid = _grid()
    names = [name for name in FIELD_ORDER if name in meta and name not in HIDDEN_FIELDS]
    known = set(FIELD_ORDER)
    names += [name for name in meta if name not in known]
    more = 0
    max_items = None if max_fields is None else SHOWN_ITEMS
    if max_fields is not None and len(names) > max_fields:
        names, more = names[:max_fields], len(names) - max_fields
    for name in names:
        value = meta[name]
        if name == "score" and isinstance(value, Mapping):
            # one row per score, so the bars get the whole value column
            for key, item in value.items():
                grid.add_row(field_label(key), score_bar(item))
            continue
        grid.add_row(field_label(name), value_renderable(name, value, max_items))
    if more:
        grid.add_row("", _more(more, "field"))
    return grid


def meta_is_bounded(meta: Mapping[str, Any]) -> bool:
    """True when ``meta_renderable`` shows all of ``meta`` (no field or item left out)."""
    if len(meta) > SHOWN_FIELDS:
        return False
    return all(
        not isinstance(value, (list, Mapping)) or len(value) <= SHOWN_ITEMS
        for value in meta.values()
    )


class MetaPane(LineView):
    """Scrollable meta box, rendered in a worker (or handed lines rendered ahead)."""

    MORE_HINT: ClassVar[bool] = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, placeholder="no post selected")

    def show_meta(self, meta: Mapping[str, Any] | None, *, every_field: bool = False) -> None:
        """Render the meta box in a worker; ``every_field`` lifts the field limit."""
        self._show_content((dict(meta or {}), every_field))

    @property
    def cut(self) -> bool:
        """The meta box shown leaves fields or items out (``show_meta(every_field=True)``
        shows them)."""
        content = self._content
        if content is None:
            return False
        meta, every_field = content
        return not every_field and not meta_is_bounded(meta)

    def _render(self, generation: int, width: int, content: Any) -> None:
        meta, every_field = content
        renderable = meta_renderable(meta, max_fields=None if every_field else SHOWN_FIELDS)
        lines: list[Strip] = []
        for strips in self._render_strips([renderable], width):
            lines.extend(strips)
        self._deliver(generation, self._finish, lines)

    def _finish(self, lines: list[Strip]) -> None:
        self.rendering = False
        self._set_lines(lines)
        self.scroll_to(0, 0, animate=False, immediate=True)
