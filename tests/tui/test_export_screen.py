"""The export dialog and the conflicts view, each hosted by a minimal App (no main app)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from sample_ids import SEED_IDS
from textual.app import App
from textual.widgets import Checkbox, Input, OptionList, RadioSet, Select, Static
from tui_support import Host

from storage import Store, samples_dir
from storage.export import export
from tui.screens.conflicts import ConflictsScreen
from tui.screens.export import ExportScreen, with_format_suffix


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    directory = tmp_path_factory.mktemp("template")
    with Store.open(directory / "db.json") as s:
        s.import_paths([samples_dir()])
    return directory


def _copy(template, directory: Path) -> Path:
    directory.mkdir(exist_ok=True)
    shutil.copy2(template / "db.json", directory / "db.json")
    shutil.copytree(template / "db.json.d", directory / "db.json.d")
    return directory / "db.json"


@pytest.fixture
def store(template, tmp_path, monkeypatch):
    monkeypatch.setenv("COPYDESK_REVIEWER", "alice")
    with Store.open(_copy(template, tmp_path / "alice")) as s:
        s.set_review(SEED_IDS["001"], "rejected", "=1+1 is not a fact")
        s.set_review(SEED_IDS["000"], "approved", "fine")
        yield s


async def _settle(app: App, pilot) -> None:
    from conftest import settle_app

    await settle_app(pilot)


# ---------------------------------------------------------------------- export dialog


def test_format_suffix_swap():
    assert with_format_suffix("~/copydesk-review.md", "csv") == "~/copydesk-review.csv"
    assert with_format_suffix("/tmp/x.jsonl", "json") == "/tmp/x.json"
    assert with_format_suffix("/tmp/report.txt", "csv") == "/tmp/report.txt"


async def test_export_dialog_writes_the_current_view_and_dismisses_with_the_path(store, tmp_path):
    app = Host(lambda gateway: ExportScreen(gateway, query="status:rejected"), store=store)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        path_input = screen.query_one("#export-path", Input)
        assert path_input.value == "~/copydesk-review.md"
        assert path_input.has_focus
        screen.query_one("#export-format", Select).value = "csv"
        await pilot.pause()
        assert path_input.value == "~/copydesk-review.csv"  # the suffix follows the format
        target = tmp_path / "out.csv"
        path_input.value = str(target)
        await pilot.press("enter")
        await _settle(app, pilot)
        assert app.results == [target.resolve()]
        assert not isinstance(app.screen, ExportScreen)
    with open(target, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["id"], r["status"], r["note"]) for r in rows] == [
        (SEED_IDS["001"], "rejected", "'=1+1 is not a fact")
    ]


async def test_export_dialog_all_posts_and_pending(store, tmp_path):
    target = tmp_path / "all.json"
    app = Host(
        lambda gateway: ExportScreen(gateway, query="status:rejected", default_path=target),
        store=store,
    )
    async with app.run_test(size=(100, 40)) as pilot:
        screen = app.screen
        screen.query_one("#export-format", Select).value = "json"
        await pilot.pause()
        assert screen.chosen_path == str(target)
        screen.query_one("#scope-all").value = True  # the "All posts" radio button
        screen.query_one("#export-pending", Checkbox).value = True
        await pilot.pause()
        assert screen.query_one("#export-scope", RadioSet).pressed_button.id == "scope-all"
        assert screen.chosen_query == ""
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert app.results == [target.resolve()]
    rows = json.loads(target.read_text())
    assert sorted(r["id"] for r in rows) == sorted(SEED_IDS.values())


async def test_export_dialog_shows_errors_inline_and_stays_open(store, tmp_path):
    app = Host(lambda gateway: ExportScreen(gateway), store=store)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = app.screen
        path_input = screen.query_one("#export-path", Input)
        store_bytes = store.path.read_bytes()
        path_input.value = str(store.path)
        await pilot.press("enter")
        await _settle(app, pilot)
        assert app.screen is screen
        assert app.results == []
        assert "refusing to write over a file of the copydesk store" in screen.error_text
        assert store.path.read_bytes() == store_bytes
        # an unusable directory, then a good path: the error goes, the export happens
        path_input.value = str(tmp_path / "missing" / "x.md")
        await pilot.press("enter")
        await _settle(app, pilot)
        assert "no such directory" in screen.error_text
        path_input.value = str(tmp_path / "ok.md")
        await pilot.press("enter")
        await _settle(app, pilot)
        assert app.results == [(tmp_path / "ok.md").resolve()]
    assert "## Approved (1)" in (tmp_path / "ok.md").read_text()


async def test_export_dialog_bad_view_query_is_shown_inline(store, tmp_path):
    app = Host(
        lambda gateway: ExportScreen(
            gateway, query="bogus_field:x", default_path=tmp_path / "x.md"
        ),
        store=store,
    )
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("enter")
        await _settle(app, pilot)
        assert "bogus_field" in app.screen.error_text
        assert not (tmp_path / "x.md").exists()


async def test_export_dialog_escape_cancels(store, tmp_path):
    app = Host(
        lambda gateway: ExportScreen(gateway, default_path=tmp_path / "never.md"), store=store
    )
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]
    assert not (tmp_path / "never.md").exists()


# ---------------------------------------------------------------------- conflicts view


@pytest.fixture
def with_conflicts(store, template, tmp_path, monkeypatch):
    """Bob disagrees on 001 and 000; both become conflicts in alice's store."""
    monkeypatch.setenv("COPYDESK_REVIEWER", "bob")
    with Store.open(_copy(template, tmp_path / "bob")) as bob:
        bob.set_review(SEED_IDS["001"], "approved", "[bold]not markup[/bold]\nsecond line")
        bob.set_review(SEED_IDS["000"], "changes_requested", "update the php version")
        export(bob, "jsonl", tmp_path / "bob.jsonl")
    monkeypatch.setenv("COPYDESK_REVIEWER", "alice")
    assert (
        store.merge_reviews(tmp_path / "bob.jsonl")
        .summary()
        .startswith("0 added, 0 agreed, 2 conflicts")
    )
    return store


def _static_text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


async def test_conflicts_view_shows_ours_and_theirs_and_settles_them(with_conflicts):
    store = with_conflicts
    app = Host(lambda gateway: ConflictsScreen(gateway), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        options = screen.query_one(OptionList)
        assert options.option_count == 2
        # reference order: 001 (anp-ref-003275) before 000 (anp-ref-019995)
        assert [c.post_id for c in screen.conflicts] == [SEED_IDS["001"], SEED_IDS["000"]]
        assert _static_text(screen, "#conflicts-header").startswith("2 conflicts")
        title = store.summary(SEED_IDS["001"]).title
        assert _static_text(screen, "#conflict-title").startswith(title)
        ours = _static_text(screen, "#conflict-ours-text")
        theirs = _static_text(screen, "#conflict-theirs-text")
        assert ours.startswith("rejected\nby alice")
        assert "=1+1 is not a fact" in ours
        assert theirs.startswith("approved\nby bob")
        assert "[bold]not markup[/bold]\nsecond line" in theirs  # literal, not Rich markup

        await pilot.press("down")
        assert _static_text(screen, "#conflict-title").startswith(
            store.summary(SEED_IDS["000"]).title
        )
        assert "update the php version" in _static_text(screen, "#conflict-theirs-text")
        await pilot.press("up")

        await pilot.press("t")  # keep bob's approval of 001
        await _settle(app, pilot)
        assert store.review(SEED_IDS["001"]).status == "approved"
        assert store.review(SEED_IDS["001"]).reviewer == "bob"
        assert [c.post_id for c in screen.conflicts] == [SEED_IDS["000"]]
        assert options.option_count == 1

        await pilot.press("o")  # keep our approval of 000
        await _settle(app, pilot)
        assert store.review(SEED_IDS["000"]).status == "approved"
        assert store.review(SEED_IDS["000"]).reviewer == "alice"
        assert screen.conflicts == []
        assert _static_text(screen, "#conflict-title").startswith("No conflicts")
        assert store.conflicts() == []

        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [[SEED_IDS["001"]]]


async def test_conflicts_view_with_nothing_to_settle(store):
    app = Host(lambda gateway: ConflictsScreen(gateway), store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        assert _static_text(screen, "#conflicts-header").startswith("0 conflicts")
        await pilot.press("t")
        await _settle(app, pilot)
        assert store.review(SEED_IDS["001"]).status == "rejected"
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [[]]


async def test_keeping_theirs_settles_an_agreeing_conflict_from_another_reviewer(store, tmp_path):
    for name in ("bob", "carol"):
        path = tmp_path / f"{name}.jsonl"
        line = {"id": SEED_IDS["001"], "status": "approved", "note": "ok", "reviewer": name}
        path.write_text(json.dumps(line) + "\n")
        store.merge_reviews(path)
    app = Host(lambda gateway: ConflictsScreen(gateway), store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        assert [c.theirs.reviewer for c in screen.conflicts] == ["bob", "carol"]
        await pilot.press("t")
        await _settle(app, pilot)
        # carol's decision now agrees with the one in place: nothing left to settle
        assert screen.conflicts == []
        assert store.conflicts() == []
        assert store.review(SEED_IDS["001"]).reviewer == "bob"
