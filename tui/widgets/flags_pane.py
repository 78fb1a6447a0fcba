"""Review flags, the current decision and note, and review hints (right, middle pane)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from rich.console import Group
from rich.text import Text

from storage import Review, Status
from tui.status_style import status_style
from tui.text import clean, clean_line
from tui.widgets.rendered_view import RenderedView

FLAG_NAMES = ("ai_generated_style", "has_images", "image_heavy", "needs_human_review")


# Import phase 2 has not reached the post: its own hints are shown, not those it shares.
PENDING_HINTS = "near-duplicate hints are still being computed"
SHOWN_HINTS = 50  # hints listed; more are counted
SHOWN_OTHER_FLAGS = 20  # flags beyond the four known ones, listed; more are counted

SEVERITY_STYLES = {
    "error": ("✖", "#e06c75"),
    "warning": ("▲", "#e5c07b"),
    "info": ("●", "#61afef"),
}


def flags_renderable(
    flags: Mapping[str, Any] | None,
    review: Review | None,
    hints: Sequence[Any] | None,
    *,
    changed: bool = False,
    hints_pending: bool = False,
    changes_key: str = "",
) -> Group:
    lines: list[Text] = []
    flags = flags if isinstance(flags, Mapping) else {}
    for name in FLAG_NAMES:
        value = flags.get(name)
        label = name.replace("_", " ")
        if value is None:
            lines.append(Text.assemble(("? ", "dim"), (label, "dim"), (" (missing)", "dim")))
        elif value:
            style = "bold #e06c75" if name == "needs_human_review" else "#e5c07b"
            lines.append(Text.assemble(("● ", style), (label, style)))
        else:
            lines.append(Text.assemble(("○ ", "#5c6370"), (label, "#5c6370")))
    # Flags the four known names do not cover (a newer generator) still show.
    others = [name for name in flags if name not in FLAG_NAMES]
    for name in others[:SHOWN_OTHER_FLAGS]:
        mark = "●" if flags[name] else "○"
        lines.append(Text(f"{mark} {clean_line(name, max_chars=80)}", style="dim"))
    if len(others) > SHOWN_OTHER_FLAGS:
        lines.append(Text(f"… {len(others) - SHOWN_OTHER_FLAGS:,} more flags", style="dim"))

    status = review.status if review is not None else "pending"
    known = Status.parse(status)
    label = known.label if known is not None else clean_line(status)
    style = status_style(status, bold=known is not Status.PENDING)
    decision = Text.assemble(("decision ", "#7f848e"), (label, style))
    if review is not None and review.reviewer and status != "pending":
        decision.append(f" by {clean_line(review.reviewer, max_chars=40)}", style="#7f848e")
    lines.append(Text(""))
    lines.append(decision)
    if changed and status != "pending":
        lines.append(
            Text("Δ changed since review: the post was re-imported with other text", "bold #e5c07b")
        )
        if changes_key:
            lines.append(Text(f"  {changes_key} shows what changed", "#7f848e"))
    note = review.note if review is not None else ""
    if note:
        lines.append(Text.assemble(("note ", "#7f848e"), clean(note, max_chars=4_000)))

    if hints or hints_pending:
        lines.append(Text(""))
        lines.append(Text(f"hints ({len(hints or ())})", style="#7f848e"))
    if hints_pending:
        lines.append(Text(PENDING_HINTS, style="dim italic"))
    if hints:
        for hint in hints[:SHOWN_HINTS]:
            severity = str(_field(hint, "severity") or "info")
            mark, colour = SEVERITY_STYLES.get(severity, ("●", "#abb2bf"))
            code = clean_line(_field(hint, "code") or "?")
            line = Text.assemble((f"{mark} ", colour), (code, colour))
            message = _field(hint, "message")
            if message:
                line.append(": ")
                line.append(clean_line(message, max_chars=300))
            lines.append(line)
        if len(hints) > SHOWN_HINTS:
            lines.append(Text(f"… {len(hints) - SHOWN_HINTS:,} more hints", style="dim"))
    return Group(*lines)


def _field(item: object, name: str) -> object:
    """A hint's field; a hint that is not a mapping (a damaged record) has none."""
    return item.get(name) if isinstance(item, Mapping) else None


class FlagsPane(RenderedView):
    """The four flags, the decision with its note, and hints by severity."""

    MORE_HINT: ClassVar[bool] = True

    def show_flags(
        self,
        flags: Mapping[str, Any] | None,
        review: Review | None,
        hints: Sequence[Any] | None,
        *,
        changed: bool = False,
        hints_pending: bool = False,
        changes_key: str = "",
    ) -> None:
        self.show(
            flags_renderable(
                flags,
                review,
                hints,
                changed=changed,
                hints_pending=hints_pending,
                changes_key=changes_key,
            )
        )

    def show_text(self, text: Text) -> None:
        """A short line instead of flags: loading, no post."""
        self.show(text)
