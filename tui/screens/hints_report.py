"""Which hints predict a rejection (``H``, the Views list, the palette).

One row per hint code, the numbers of ``copydesk hints-report`` (``storage.hints_report``,
read through the gateway in a worker): how many posts carry the hint, how they were decided
(approved / rejected / changes requested, and still pending), the rejected and not-approved
rates of the decided ones, the same rates of the posts without the hint, and their ratio
(lift). ``enter`` on a row closes the screen with ``hint:CODE`` as a ``ViewChoice``: the
review screen lists those posts.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from storage import StoreError
from storage.catalog import DerivedPendingError
from storage.hints_report import HintRow, hints_report
from tui.gateway import StoreGateway
from tui.keymap import CLOSE_BINDINGS, HINTS_REPORT_BINDINGS, keys_for
from tui.screens.views import QUERY, ViewChoice
from tui.text import clean_line
from tui.widgets.key_list import ScreenEnterList

__all__ = ["HintsReportScreen", "hint_columns", "percent"]

CODE_WIDTH = 22
# (heading, width) of the number columns, in the order of ``hint_columns``; the counts
# of posts hold up to "1,000,000" (a million-post store).
COLUMNS = (
    ("posts", 9),
    ("approved", 8),
    ("rejected", 8),
    ("changes", 7),
    ("pending", 9),
    ("rej%", 5),
    ("not ok%", 7),
    ("without", 9),
    ("rej%", 5),
    ("not ok%", 7),
    ("lift", 5),
)


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


def hint_columns(row: HintRow) -> tuple[str, ...]:
    """The numbers of one row as shown (the same as ``copydesk hints-report``)."""
    counts = row.carrying.by_status
    lift = "-" if row.rejection_lift is None else f"{row.rejection_lift:.1f}x"
    return (
        f"{row.carrying.posts:,}",
        f"{counts['approved']:,}",
        f"{counts['rejected']:,}",
        f"{counts['changes_requested']:,}",
        f"{counts['pending']:,}",
        percent(row.carrying.rejected_rate),
        percent(row.carrying.not_approved_rate),
        f"{row.others.posts:,}",
        percent(row.others.rejected_rate),
        percent(row.others.not_approved_rate),
        lift,
    )


def heading_text() -> Text:
    text = Text(no_wrap=True, overflow="ellipsis", style="bold #7f848e")
    text.append(f"{'hint':<{CODE_WIDTH}}")
    for index, (name, width) in enumerate(COLUMNS):
        text.append(" │ " if index == 7 else " ")
        text.append(f"{name:>{width}}")
    return text


def row_prompt(row: HintRow) -> Text:
    styles = {2: "#e06c75", 5: "#e06c75", 10: "bold"}
    text = Text(no_wrap=True, overflow="ellipsis")
    code = clean_line(row.code, max_chars=CODE_WIDTH)
    text.append(f"{code:<{CODE_WIDTH}}", style="bold" if row.carrying.posts else "dim")
    for index, (value, (_, width)) in enumerate(zip(hint_columns(row), COLUMNS, strict=True)):
        text.append(" │ " if index == 7 else " ", style="#5c6370")
        style = styles.get(index, "") if row.carrying.posts else "dim"
        text.append(f"{value:>{width}}", style=style)
    return text


class HintsReportScreen(Screen[ViewChoice | None]):
    """``HintsReportScreen(gateway)``; dismisses with a ``hint:CODE`` ``ViewChoice`` or None."""

    BINDINGS: ClassVar = [*CLOSE_BINDINGS, *HINTS_REPORT_BINDINGS]

    DEFAULT_CSS = """
    HintsReportScreen { layout: vertical; }
    HintsReportScreen #hints-header {
        height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    HintsReportScreen #hints-heading { height: 1; padding: 0 2; text-wrap: nowrap; }
    HintsReportScreen #hints-list {
        height: 1fr; border: round $accent; text-wrap: nowrap; text-overflow: ellipsis;
    }
    HintsReportScreen #hints-legend { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, gateway: StoreGateway) -> None:
        super().__init__(id="hints-report")
        self._gateway = gateway
        self.rows: list[HintRow] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static(
            Text("counting the decisions of each hint…", style="italic"), id="hints-header"
        )
        yield Static(heading_text(), id="hints-heading")
        yield ScreenEnterList(Option(Text("counting…", style="dim italic")), id="hints-list")
        yield Static(
            Text(
                "rej%: share of the decided posts with the hint that were rejected; not ok%: "
                "rejected or changes requested; without: the posts without the hint and the "
                "same shares; lift: rej% with / rej% without"
            ),
            id="hints-legend",
        )
        yield Footer()

    def on_mount(self) -> None:
        options = self.query_one("#hints-list", OptionList)
        options.border_title = "Hints report"
        options.focus()
        self._load()

    @work(exclusive=True, group="hints-report")
    async def _load(self) -> None:
        try:
            rows = await self._gateway.call(hints_report)
        except DerivedPendingError:
            self._failed(
                "The hints are still being computed (the import's second phase); "
                "open this report again when it is done."
            )
            return
        except (StoreError, OSError) as error:
            self._failed(f"cannot count the hints: {clean_line(error)}")
            return
        if self.is_attached:
            self._show(rows)

    def _failed(self, message: str) -> None:
        if self.is_attached:
            self.loaded = True
            self.query_one("#hints-header", Static).update(Text(message, style="bold yellow"))
            options = self.query_one("#hints-list", OptionList)
            options.clear_options()

    def _keys(self, binding_id: str) -> str:
        keys = keys_for(binding_id, self.app.keymap_overrides)  # type: ignore[attr-defined]
        return "/".join(self.app.get_key_display(Binding(key, "")) for key in keys)

    def _show(self, rows: list[HintRow]) -> None:
        self.rows = rows
        self.loaded = True
        total = rows[0].carrying.posts + rows[0].others.posts if rows else 0
        carrying = sum(1 for row in rows if row.carrying.posts)
        header = Text(no_wrap=True, overflow="ellipsis")
        header.append(
            f"{len(rows)} hint codes, {carrying} carried by a post · {total:,} posts", style="bold"
        )
        header.append(f"  {self._keys('hints_report_open')} show its posts", style="dim")
        header.append(f"  {self._keys('close')} back", style="dim")
        self.query_one("#hints-header", Static).update(header)
        options = self.query_one("#hints-list", OptionList)
        options.clear_options()
        options.add_options(Option(row_prompt(row)) for row in rows)
        if rows:
            options.highlighted = 0

    @property
    def highlighted_row(self) -> HintRow | None:
        index = self.query_one("#hints-list", OptionList).highlighted
        rows = self.rows
        return rows[index] if index is not None and 0 <= index < len(rows) else None

    @on(OptionList.OptionSelected, "#hints-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open_hint()

    def action_open_hint(self) -> None:
        row = self.highlighted_row
        if row is None:
            self.notify("Still counting." if not self.loaded else "Nothing here.", timeout=3)
            return
        query = f"hint:{row.code}"
        self.dismiss(ViewChoice(QUERY, query, query))

    def action_close(self) -> None:
        self.dismiss(None)
