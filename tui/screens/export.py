"""Export dialog: format, file, scope (current view or all posts), pending or not.

The export runs on the store thread (``storage.export.export``, an atomic file write). An
existing file is replaced only after a confirm. On success the dialog notifies where it
wrote and dismisses with the ``Path``; on failure (bad path, a store file, a bad query) it
shows the error inline and stays open. The file field opens with the cursor at the end of
the path (never selected: one stray key would replace it).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Select, Static

from storage import EXPORT_FORMATS, QueryError, StoreError
from storage.export import (
    FILE_SUFFIXES,
    ExportResult,
    check_output_path,
    export,
    format_for_path,
)
from tui.gateway import StoreGateway
from tui.keymap import EXPORT_BINDINGS
from tui.screens.confirm import ConfirmScreen
from tui.text import clean_line

DEFAULT_EXPORT_PATH = "~/copydesk-review.md"

FORMAT_LABELS = {
    "md": "Markdown report (.md)",
    "csv": "CSV for spreadsheets (.csv)",
    "json": "JSON array (.json)",
    "jsonl": "JSON lines (.jsonl, for import-reviews)",
}


def with_format_suffix(path: str, fmt: str) -> str:
    """Swap a known export suffix for the one of ``fmt``; other names are left alone."""
    for suffix in FILE_SUFFIXES.values():
        if path.lower().endswith(suffix):
            return path[: -len(suffix)] + FILE_SUFFIXES[fmt]
    return path


class ExportScreen(ModalScreen[Path | None]):
    """``ExportScreen(gateway, query=current_query)``; dismisses with the Path written or
    None."""

    BINDINGS: ClassVar = EXPORT_BINDINGS

    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > #export-dialog {
        width: 80%; max-width: 90; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1; overflow-y: auto;
    }
    ExportScreen Label { margin-top: 1; color: $text-muted; }
    ExportScreen #export-scope { width: 100%; }
    ExportScreen #export-pending { margin-top: 1; }
    ExportScreen #export-error { color: $error; height: auto; }
    ExportScreen #export-buttons { height: auto; margin-top: 1; }
    ExportScreen #export-buttons Button { margin-right: 2; }
    ExportScreen #export-help { color: $text-muted; }
    """

    def __init__(
        self,
        gateway: StoreGateway,
        *,
        query: str = "",
        default_path: str | Path = DEFAULT_EXPORT_PATH,
        default_format: str = "md",
    ) -> None:
        super().__init__()
        self._gateway = gateway
        self._query = query.strip()
        self._format = default_format if default_format in EXPORT_FORMATS else "md"
        self._default_path = with_format_suffix(str(default_path), self._format)
        self.result: ExportResult | None = None

    def compose(self):
        view = (
            f"Current view: {clean_line(self._query, max_chars=60)}"
            if self._query
            else ("Current view (no filter: all posts)")
        )
        with Vertical(id="export-dialog"):
            yield Label("Format")
            yield Select(
                [(FORMAT_LABELS[f], f) for f in EXPORT_FORMATS],
                value=self._format,
                allow_blank=False,
                compact=True,
                id="export-format",
            )
            yield Label("File")
            yield Input(
                value=self._default_path, compact=True, select_on_focus=False, id="export-path"
            )
            yield Label("Scope")
            with RadioSet(compact=True, id="export-scope"):
                yield RadioButton(Text(view), value=True, id="scope-view")
                yield RadioButton("All posts", id="scope-all")
            yield Checkbox("Include pending (undecided) posts", compact=True, id="export-pending")
            yield Static("", id="export-error")
            with Horizontal(id="export-buttons"):
                yield Button("Export", variant="primary", id="export-ok")
                yield Button("Cancel", id="export-cancel")
            yield Static(
                Text("ctrl+s or enter in the file field: export · esc: cancel"), id="export-help"
            )

    def on_mount(self) -> None:
        self.query_one("#export-dialog").border_title = "Export review notes"
        path_input = self.query_one("#export-path", Input)
        path_input.focus()
        path_input.cursor_position = len(path_input.value)

    # -- reading the form ----------------------------------------------------------------

    @property
    def chosen_format(self) -> str:
        value = self.query_one("#export-format", Select).value
        return value if isinstance(value, str) else self._format

    @property
    def chosen_path(self) -> str:
        return self.query_one("#export-path", Input).value.strip()

    @property
    def chosen_query(self) -> str:
        pressed = self.query_one("#export-scope", RadioSet).pressed_button
        return "" if pressed is not None and pressed.id == "scope-all" else self._query

    @property
    def include_pending(self) -> bool:
        return self.query_one("#export-pending", Checkbox).value

    @property
    def error_text(self) -> str:
        """What the error line shows now ("" when there is no error)."""
        return str(self.query_one("#export-error", Static).content)

    def show_error(self, message: str) -> None:
        self.query_one("#export-error", Static).update(Text(clean_line(message)))

    # -- events --------------------------------------------------------------------------

    @on(Select.Changed, "#export-format")
    def _format_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            path_input = self.query_one("#export-path", Input)
            path_input.value = with_format_suffix(path_input.value, event.value)

    @on(Input.Changed, "#export-path")
    def _path_changed(self, event: Input.Changed) -> None:
        """A file name ending in a known suffix picks its format (notes.csv -> CSV)."""
        wanted = format_for_path(event.value, default="")
        select = self.query_one("#export-format", Select)
        if wanted in EXPORT_FORMATS and select.value != wanted:
            select.value = wanted

    @on(Input.Submitted, "#export-path")
    def _path_submitted(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#export-ok")
    def _ok_pressed(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#export-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel_export()

    def action_cancel_export(self) -> None:
        self.workers.cancel_group(self, "export")
        self.dismiss(None)

    def action_export(self) -> None:
        path = self.chosen_path
        if not path:
            self.show_error("give a file name to write")
            return
        self.show_error("")
        self._run_export(self.chosen_format, path, self.chosen_query, self.include_pending)

    # -- the work ------------------------------------------------------------------------

    @work(exclusive=True, group="export")
    async def _run_export(self, fmt: str, path: str, query: str, pending: bool) -> None:
        target = Path(path).expanduser()
        try:  # a store file or a missing directory is said before any question
            await self._gateway.call(lambda store: check_output_path(store.location, target))
        except (StoreError, OSError) as exc:
            self.show_error(str(exc))
            return
        if target.is_file():
            question = f"{clean_line(str(target))} exists. Replace it?"
            if not await self.app.push_screen_wait(ConfirmScreen(question)):
                self.show_error("not written: the file exists (choose another name)")
                return
        self.query_one("#export-ok", Button).disabled = True
        try:
            result: ExportResult = await self._gateway.call(
                lambda store: export(store, fmt, target, query=query, include_pending=pending)  # type: ignore[arg-type]
            )
        except (StoreError, QueryError, OSError) as exc:
            self.show_error(str(exc))
            self.query_one("#export-ok", Button).disabled = False
            return
        self.result = result
        noun = "post" if result.count == 1 else "posts"
        self.app.notify(
            f"Exported {result.count} {noun} ({result.format}) to {result.path}",
            title="Export",
            markup=False,
        )
        self.dismiss(result.path)
