"""Snapshot tests (pytest-textual-snapshot): the screens as a reviewer sees them.

Every snapshot is of a tmp store (the five sample seeds, or one hostile seed);
nothing in them depends on the clock. After a deliberate change to the look,
inspect the report and update with `pytest tests/tui --snapshot-update`.
"""

from __future__ import annotations

from textual.widgets import Input, TextArea


def _no_blink(app) -> None:
    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    for widget in app.screen.query(TextArea):
        widget.cursor_blink = False


def test_main_screen_120x40(store, make_app, settle, snap_compare):
    async def run_before(pilot):
        await settle(pilot)

    assert snap_compare(make_app(store), terminal_size=(120, 40), run_before=run_before)


def test_main_screen_80x24(store, make_app, settle, snap_compare):
    async def run_before(pilot):
        await settle(pilot)

    assert snap_compare(make_app(store), terminal_size=(80, 24), run_before=run_before)


def test_main_screen_80x24_side_panes(store, make_app, settle, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)

    assert snap_compare(make_app(store), terminal_size=(80, 24), run_before=run_before)


def test_help_screen(store, make_app, settle, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(make_app(store), terminal_size=(120, 40), run_before=run_before)


def test_note_modal(store, make_app, settle, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        _no_blink(pilot.app)
        await pilot.press(*"placeholder images; [bold]keep[/bold] literal")
        await settle(pilot)

    assert snap_compare(make_app(store), terminal_size=(120, 40), run_before=run_before)


def test_hostile_markup_post(hostile_store, make_app, settle, snap_compare):
    async def run_before(pilot):
        await settle(pilot)

    assert snap_compare(make_app(hostile_store), terminal_size=(120, 40), run_before=run_before)


def test_search_with_query_error(store, make_app, settle, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("slash")
        _no_blink(pilot.app)
        pilot.app.screen.query_one(Input).value = "stack:php bogus_field:x"
        await settle(pilot)

    assert snap_compare(make_app(store), terminal_size=(120, 40), run_before=run_before)


def test_bulk_confirm_modal(store, make_app, settle, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("space", "space", "c")
        await settle(pilot)

    assert snap_compare(make_app(store), terminal_size=(80, 24), run_before=run_before)


def test_views_list(store, make_app, settle, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        store.save_view("php posts", "stack:php")
        await pilot.press("v")
        await settle(pilot)

    assert snap_compare(make_app(store), terminal_size=(120, 40), run_before=run_before)


def test_export_dialog(store, make_app, settle, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        _no_blink(pilot.app)
        pilot.app.screen.query_one("#export-path", Input).value = "/tmp/notes.csv"
        await settle(pilot)

    assert snap_compare(make_app(store), terminal_size=(120, 40), run_before=run_before)
