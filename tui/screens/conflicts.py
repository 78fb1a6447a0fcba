"""Conflicts view: another reviewer's decisions that differ from ours, settled one by one.

``copydesk import-reviews`` keeps both sides of a disagreement; here the reviewer reads
ours against theirs and keeps one (``o`` ours, ``t`` theirs). Settling is a small durable
write (``ReviewStore.resolve_conflict``) through the gateway, like a decision.
The screen dismisses with the ids of posts whose decision changed (kept "theirs"), so the
caller can refresh those rows.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from storage import Conflict, Review, Status, StoreError
from storage.merge import same_decision
from tui.gateway import StoreGateway
from tui.keymap import CLOSE_BINDINGS, CONFLICTS_BINDINGS, keys_for
from tui.status_style import status_style
from tui.text import clean, clean_line
from tui.widgets.key_list import KeyList


def _status_label(value: str) -> str:
    status = Status.parse(value)
    return status.label if status is not None else value


def describe_review(review: Review | None) -> Text:
    """Status, who and when, then the note (cleaned, multi-line), as a Rich Text."""
    if review is None:
        return Text("no decision", style="dim italic")
    text = Text(
        clean_line(_status_label(review.status)), style=status_style(review.status, bold=True)
    )
    who = clean_line(review.reviewer, max_chars=80) or "unknown reviewer"
    when = clean_line(review.decided_at, max_chars=40) or "unknown time"
    text.append(f"\nby {who}, {when}", style="dim")
    text.append("\n\n")
    if review.note.strip():
        text.append(clean(review.note, max_chars=4000))
    else:
        text.append("(no note)", style="dim italic")
    return text


class ConflictsScreen(Screen[list[str]]):
    """``ConflictsScreen(gateway)``; dismisses with the ids whose decision changed."""

    BINDINGS: ClassVar = [*CLOSE_BINDINGS, *CONFLICTS_BINDINGS]

    DEFAULT_CSS = """
    ConflictsScreen #conflicts-header { height: auto; padding: 0 1; text-style: bold; }
    ConflictsScreen #conflicts-body { height: 1fr; }
    ConflictsScreen #conflicts-list { width: 40%; height: 1fr; }
    ConflictsScreen #conflict-detail { width: 60%; height: 1fr; padding: 0 1; }
    ConflictsScreen #conflict-title { text-style: bold; margin-bottom: 1; }
    ConflictsScreen .conflict-side {
        height: auto; border: round $secondary; padding: 0 1; margin-bottom: 1;
    }
    ConflictsScreen #conflict-source { color: $text-muted; }
    """

    def __init__(self, gateway: StoreGateway) -> None:
        super().__init__(id="conflicts")
        self._gateway = gateway
        self.conflicts: list[Conflict] = []
        self.loaded = False
        self.changed_ids: list[str] = []

    def compose(self):
        yield Static("", id="conflicts-header")
        with Horizontal(id="conflicts-body"):
            yield KeyList(id="conflicts-list")
            with VerticalScroll(id="conflict-detail"):
                yield Static("", id="conflict-title")
                with Vertical(id="conflict-ours", classes="conflict-side"):
                    yield Static("", id="conflict-ours-text")
                with Vertical(id="conflict-theirs", classes="conflict-side"):
                    yield Static("", id="conflict-theirs-text")
                yield Static("", id="conflict-source")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#conflict-ours").border_title = "Ours (in place)"
        self.query_one("#conflict-theirs").border_title = "Theirs"
        self.reload()
        self.query_one(OptionList).focus()

    # -- data ----------------------------------------------------------------------------

    @work(exclusive=True, group="conflicts")
    async def reload(self, keep_index: int = 0) -> None:
        """Read the conflicts from the store and show them."""
        try:
            self.conflicts = await self._gateway.call(lambda store: store.conflicts())
        except (StoreError, OSError) as error:
            self.query_one("#conflicts-header", Static).update(
                Text(f"Could not read the conflicts: {clean_line(str(error))}")
            )
            return
        self.loaded = True
        self._fill(keep_index)

    def _fill(self, keep_index: int = 0) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(Option(self._option_text(c)) for c in self.conflicts)
        count = len(self.conflicts)
        keys = {
            binding_id: "/".join(
                self.app.get_key_display(Binding(key, ""))
                for key in keys_for(binding_id, self.app.keymap_overrides)
            )
            for binding_id in ("conflict_keep_ours", "conflict_keep_theirs", "close")
        }
        header = f"{count:,} conflict{'s' if count != 1 else ''}"
        if count:
            header += (
                f" · {keys['conflict_keep_ours']} keep ours"
                f" · {keys['conflict_keep_theirs']} keep theirs"
            )
        header += f" · {keys['close']} back"
        self.query_one("#conflicts-header", Static).update(Text(header))
        if count:
            options.highlighted = min(keep_index, count - 1)
        self.show_conflict(options.highlighted if count else None)

    @staticmethod
    def _option_text(conflict: Conflict) -> Text:
        text = Text(clean_line(conflict.title) or clean_line(conflict.post_id))
        ours = _status_label(conflict.ours.status) if conflict.ours is not None else "none"
        who = clean_line(conflict.theirs.reviewer, max_chars=40) or "?"
        theirs = clean_line(_status_label(conflict.theirs.status))
        text.append(f"\n  ours {clean_line(ours)} · {who} {theirs}", style="dim")
        return text

    @property
    def current(self) -> Conflict | None:
        index = self.query_one(OptionList).highlighted
        if index is None or not 0 <= index < len(self.conflicts):
            return None
        return self.conflicts[index]

    def show_conflict(self, index: int | None) -> None:
        title = self.query_one("#conflict-title", Static)
        ours = self.query_one("#conflict-ours-text", Static)
        theirs = self.query_one("#conflict-theirs-text", Static)
        source = self.query_one("#conflict-source", Static)
        if index is None or not 0 <= index < len(self.conflicts):
            title.update(Text("No conflicts: every merged decision agrees with ours."))
            for widget in (ours, theirs, source):
                widget.update("")
            self.query_one("#conflict-ours").display = False
            self.query_one("#conflict-theirs").display = False
            return
        conflict = self.conflicts[index]
        self.query_one("#conflict-ours").display = True
        self.query_one("#conflict-theirs").display = True
        title.update(
            Text(clean_line(conflict.title)).append(f"\n{clean_line(conflict.post_id)}", "dim")
        )
        ours.update(describe_review(conflict.ours))
        theirs.update(describe_review(conflict.theirs))
        source.update(
            Text(f"from {clean_line(conflict.source)}, merged {clean_line(conflict.recorded_at)}")
        )

    @on(OptionList.OptionHighlighted, "#conflicts-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.show_conflict(event.option_index)

    # -- actions -------------------------------------------------------------------------

    async def action_keep(self, side: str) -> None:
        conflict = self.current
        if conflict is None:
            self.notify("No conflict to settle.", severity="warning", markup=False)
            return
        index = self.query_one(OptionList).highlighted or 0
        try:
            decision = await self._gateway.call(
                lambda store: store.resolve_conflict(
                    conflict.post_id, side, reviewer=conflict.theirs.reviewer
                )
            )
        except (StoreError, OSError) as exc:
            self.notify(str(exc), title="Could not settle", severity="error", markup=False)
            self.reload(index)
            return
        self._settled(index, conflict, decision)
        if side == "theirs" and conflict.post_id not in self.changed_ids:
            self.changed_ids.append(conflict.post_id)
        self.notify(
            f"{clean_line(conflict.title, max_chars=60)}: kept {side}",
            title="Conflict settled",
            markup=False,
        )

    def _settled(self, index: int, conflict: Conflict, decision: Review | None) -> None:
        """Update the list without re-reading every conflict (thousands after a big merge)."""
        remaining = []
        for position, other in enumerate(self.conflicts):
            if position == index:
                continue
            if other.post_id == conflict.post_id:
                # the decision in place may have changed; agreeing conflicts are settled
                if decision is not None and same_decision(decision, other.theirs):
                    continue
                other = replace(other, ours=decision)
            remaining.append(other)
        self.conflicts = remaining
        self._fill(index)

    def action_close(self) -> None:
        self.dismiss(list(self.changed_ids))
