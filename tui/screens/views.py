"""The views list (``v``): built-in and saved views with live counts, near duplicates, conflicts,
and the two reports of a template's family: repeated passages and the hints report.

A view is a named query of the search grammar (``storage.views``). The list counts each view
in a worker (a count at 100,000 posts takes milliseconds, but there may be many views) and
dismisses with the reviewer's ``ViewChoice``; the review screen applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from storage import QueryError, ReviewStore, StoreError
from tui.gateway import StoreGateway
from tui.keymap import CLOSE_BINDINGS, VIEWS_BINDINGS
from tui.screens.confirm import ConfirmScreen
from tui.text import clean_line
from tui.widgets.key_list import KeyList

QUERY, NEAR_DUPLICATES, CONFLICTS = "query", "near_duplicates", "conflicts"
BOILERPLATE, HINTS_REPORT = "boilerplate", "hints_report"
# The two reports (screens of their own, not counted here: each reads every post).
REPORTS = {
    BOILERPLATE: "sentences and paragraphs many posts repeat (a template's boilerplate)",
    HINTS_REPORT: "how the posts with each hint were decided",
}


@dataclass(frozen=True)
class ViewChoice:
    """What the reviewer picked: a query view, or one of the lists of their own."""

    kind: str  # QUERY | NEAR_DUPLICATES | CONFLICTS | BOILERPLATE | HINTS_REPORT
    name: str
    query: str = ""


@dataclass(frozen=True)
class ViewEntry:
    choice: ViewChoice
    count: int | None  # None: could not be counted (a saved query the grammar now refuses)
    # or, with ``unit`` "", a report that is not counted here (it reads every post)
    builtin: bool
    unit: str = "posts"

    @property
    def unit_label(self) -> str:
        """``posts`` -> ``post`` when the count is one."""
        return self.unit[:-1] if self.count == 1 and self.unit.endswith("s") else self.unit


def count_views(store: ReviewStore) -> list[ViewEntry]:
    """Every view with its count, then the near-duplicate clusters and the open conflicts."""
    entries: list[ViewEntry] = []
    for view in store.views():
        try:
            count: int | None = store.count(view.query)
        except (QueryError, StoreError):  # a saved view that no longer parses is still listed
            count = None
        entries.append(ViewEntry(ViewChoice(QUERY, view.name, view.query), count, view.builtin))
    entries.append(
        ViewEntry(
            ViewChoice(NEAR_DUPLICATES, "Near duplicates"), len(store.clusters()), True, "clusters"
        )
    )
    entries.append(
        ViewEntry(ViewChoice(CONFLICTS, "Conflicts"), len(store.conflicts()), True, "open")
    )
    entries.append(ViewEntry(ViewChoice(BOILERPLATE, "Repeated passages"), None, True, ""))
    entries.append(ViewEntry(ViewChoice(HINTS_REPORT, "Hints report"), None, True, ""))
    return entries


def entry_count(entry: ViewEntry) -> str:
    """``"1,204 posts"``, ``"? posts"`` (not countable), ``""`` (a report, not counted)."""
    if not entry.unit:
        return ""
    count = "?" if entry.count is None else f"{entry.count:,}"
    return f"{count} {entry.unit_label}"


def entry_prompt(entry: ViewEntry, current_query: str) -> Text:
    choice = entry.choice
    count = "" if not entry.unit else "?" if entry.count is None else f"{entry.count:,}"
    text = Text(no_wrap=True, overflow="ellipsis")
    active = choice.kind == QUERY and choice.query.strip() == current_query.strip()
    text.append("▸ " if active else "  ", style="bold #61afef")
    text.append(f"{clean_line(choice.name, max_chars=60):<24}", style="bold" if active else "")
    text.append(f"{count:>8} {entry.unit_label:<8}", style="#e5c07b")
    if choice.kind == QUERY:
        text.append("  ")
        text.append(clean_line(choice.query, max_chars=80) or "(every post)", style="#7f848e")
    elif choice.kind in REPORTS:
        text.append("  ")
        text.append(REPORTS[choice.kind], style="#7f848e")
    return text


class ViewsScreen(ModalScreen[ViewChoice | None]):
    """``ViewsScreen(gateway, current_query)``; dismisses with a ``ViewChoice`` or None."""

    BINDINGS: ClassVar = [*CLOSE_BINDINGS, *VIEWS_BINDINGS]

    DEFAULT_CSS = """
    ViewsScreen { align: center middle; }
    ViewsScreen > #views-dialog {
        width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    ViewsScreen #views-list {
        height: auto; max-height: 30; border: none; text-wrap: nowrap; text-overflow: ellipsis;
    }
    ViewsScreen #views-help { color: $text-muted; }
    """

    def __init__(self, gateway: StoreGateway, current_query: str = "") -> None:
        super().__init__()
        self._gateway = gateway
        self._current_query = current_query
        self.entries: list[ViewEntry] = []

    def compose(self):
        with Vertical(id="views-dialog"):
            yield KeyList(Option(Text("counting…", style="dim italic")), id="views-list")
            yield Static(
                Text(
                    "enter show · del delete a saved view · esc/q close · "
                    "ctrl+s in the review screen saves the query as a view"
                ),
                id="views-help",
            )

    def on_mount(self) -> None:
        self.query_one("#views-dialog").border_title = "Views"
        self.query_one(OptionList).focus()
        self.load_entries()

    @work(exclusive=True, group="views")
    async def load_entries(self, keep_index: int | None = None) -> None:
        try:
            entries = await self._gateway.call(count_views)
        except (StoreError, OSError) as error:  # shown, never fatal
            self.notify(f"cannot list views: {error}", severity="error", markup=False)
            return
        self._show_entries(entries, keep_index)

    def _show_entries(self, entries: list[ViewEntry], keep_index: int | None) -> None:
        self.entries = entries
        options = self.query_one(OptionList)
        options.clear_options()
        saved_started = False
        for index, entry in enumerate(entries):
            if not entry.builtin and not saved_started:
                saved_started = True
                options.add_option(None)  # a separator before the saved views
            if entry.choice.kind == NEAR_DUPLICATES:
                options.add_option(None)
            options.add_option(Option(entry_prompt(entry, self._current_query), id=str(index)))
        if keep_index is not None:
            options.highlighted = min(keep_index, options.option_count - 1)
        else:
            active = next(
                (
                    i
                    for i, e in enumerate(entries)
                    if e.choice.kind == QUERY and e.choice.query.strip() == self._current_query
                ),
                0,
            )
            options.highlighted = options.get_option_index(str(active))

    @property
    def highlighted_entry(self) -> ViewEntry | None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return None
        option = options.get_option_at_index(options.highlighted)
        if option.id is None:
            return None
        return self.entries[int(option.id)]

    @on(OptionList.OptionSelected, "#views-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open_view()

    def action_open_view(self) -> None:
        entry = self.highlighted_entry
        if entry is not None:
            self.dismiss(entry.choice)

    def action_delete_view(self) -> None:
        entry = self.highlighted_entry
        if entry is None:
            return
        if entry.builtin:
            self.notify("Built-in views cannot be deleted.", severity="warning", markup=False)
            return
        name = entry.choice.name
        index = self.query_one(OptionList).highlighted

        async def confirmed(ok: bool | None) -> None:
            if not ok:
                return
            try:
                await self._gateway.call(lambda store: store.delete_view(name))
            except (StoreError, OSError, ValueError) as error:  # e.g. deleted elsewhere
                self.notify(str(error), severity="error", markup=False)
            else:
                self.notify(f"Deleted view {clean_line(name)!r}", markup=False, timeout=3)
            self.load_entries(keep_index=index)

        self.app.push_screen(
            ConfirmScreen(f"Delete the saved view {clean_line(name)!r}?"), confirmed
        )

    def action_close(self) -> None:
        self.dismiss(None)
