"""The screens the review screen opens, and what it does with what they close with.

Every key that opens one is the action ``open('NAME')`` (tui/keymap.py), and a views-list
or palette pick of a built-in screen opens it by the same name, so each screen is wired
here once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from storage import StoreError
from tui.screens.boilerplate import BoilerplateScreen
from tui.screens.changes import ChangesScreen
from tui.screens.clusters import ClustersResult, ClustersScreen
from tui.screens.compare import CompareScreen
from tui.screens.conflicts import ConflictsScreen
from tui.screens.export import ExportScreen
from tui.screens.hints_report import HintsReportScreen
from tui.screens.views import ViewsScreen
from tui.workers import run_async

if TYPE_CHECKING:
    from tui.screens.review import ReviewScreen


class SubScreens:
    def __init__(self, screen: ReviewScreen) -> None:
        self.screen = screen
        self._openers: dict[str, Callable[[], None]] = {
            "views": self.views,
            "export": self.export,
            "conflicts": self.conflicts,
            "changes_since_review": self.changes_since_review,
            "boilerplate": self.boilerplate,
            "hints_report": self.hints_report,
            "near_duplicates": self.near_duplicates,
            "compare": self.compare,
        }

    def open(self, name: str) -> None:
        self._openers[name]()

    def views(self) -> None:
        screen = self.screen
        views = ViewsScreen(screen.gateway, screen.query_text)
        screen.app.push_screen(views, screen.open_view_choice)

    def export(self) -> None:
        screen = self.screen
        screen.app.push_screen(ExportScreen(screen.gateway, query=screen.query_text))

    def conflicts(self) -> None:
        screen = self.screen

        def closed(changed: list[str] | None) -> None:
            if changed:
                screen.store_changed()

        screen.app.push_screen(ConflictsScreen(screen.gateway), closed)

    def changes_since_review(self) -> None:
        """What changed in the highlighted post since its decision (the screen says when
        there is nothing to compare)."""
        screen = self.screen
        post_id = screen.post_list.highlighted_id
        if post_id is None:
            screen.notify("No post here.", markup=False, timeout=3)
            return
        screen.app.push_screen(ChangesScreen(screen.gateway, post_id))

    def boilerplate(self) -> None:
        """Repeated passages; a pick lists its posts, as a view does."""
        screen = self.screen
        screen.app.push_screen(BoilerplateScreen(screen.gateway), screen.open_view_choice)

    def hints_report(self) -> None:
        """The hints report; a pick lists the posts of that hint, as a view does."""
        screen = self.screen
        screen.app.push_screen(HintsReportScreen(screen.gateway), screen.open_view_choice)

    def near_duplicates(self) -> None:
        run_async(self.screen, self._near_duplicates, group="clusters")

    async def _near_duplicates(self) -> None:
        screen = self.screen
        result: ClustersResult | None = await screen.app.push_screen_wait(
            ClustersScreen(screen.gateway)
        )
        if result is None:
            return
        if result.changed_ids:
            screen.store_changed()
        if result.open_id:
            screen.jump_to(result.open_id)

    def compare(self) -> None:
        run_async(self.screen, self._compare, group="compare", exclusive=True)

    async def _compare(self) -> None:
        screen = self.screen
        panes = screen.panes
        view = panes.view
        if view is None or not panes.loaded:
            screen.notify("Wait for the post to load, then press d again.", markup=False)
            return
        item = panes.similar.highlighted_item
        if item is None:
            screen.notify("No similar post to compare with.", markup=False, timeout=3)
            return
        try:
            other = await screen.gateway.view(item.id)
        except (StoreError, OSError) as error:
            screen.notify(f"cannot load {item.id}: {error}", severity="error", markup=False)
            return
        compare = CompareScreen(view.post, other.post, score=item.score, reasons=list(item.reasons))
        screen.app.push_screen(compare)
