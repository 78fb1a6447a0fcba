"""The family screens of issue 18: changes since review (R), repeated passages (B) and the
hints report (H), on a synthesized store: a post regenerated after its decision, template
boilerplate held by more posts than the list shows, and decisions spread over the hints."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from textual.widgets import OptionList
from tui_support import static_text

import seeds
from seeds.synth import synthesize
from storage import Store
from storage.boilerplate import find_boilerplate
from storage.diff import ADDED, REMOVED, diff_posts
from storage.hints_report import hints_report
from tui.gateway import StoreGateway
from tui.screens import boilerplate as boilerplate_screen
from tui.screens.boilerplate import BoilerplateScreen, ChunkedPosts
from tui.screens.changes import (
    ADDED_STYLE,
    NOT_CHANGED,
    NOT_DECIDED,
    NOT_KEPT,
    REMOVED_STYLE,
    ChangesScreen,
)
from tui.screens.hints_report import HintsReportScreen, hint_columns
from tui.screens.review import ReviewScreen
from tui.screens.views import BOILERPLATE, HINTS_REPORT, ViewsScreen

FAMILY_POSTS = 120
SEED = 5
SIZE = (120, 40)
ROWS_SHOWN = 40  # a 120x40 screen shows fewer post rows than this

APPROACH = "the alphanode approach is to prefer a small verified change over a broad rewrite."
REWORDED = "the alphanode approach is to ship a small change behind a flag."
NEW_STEP = "a step the generator added"
HOSTILE_PARAGRAPH = "the regenerated post has a [bold]new[/bold] paragraph \x1b]0;owned\x07here."
REGENERATION = (
    (APPROACH, REWORDED),
    ("  • capture the current behavior", f"  • {NEW_STEP}\n  • capture the current behavior"),
    ("\n\nfinal notes\n\n", f"\n\nfinal notes\n\n{HOSTILE_PARAGRAPH}\n\n"),
    ("reading time2\n", "reading time3\n"),
)


@pytest.fixture(scope="module")
def family_template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("family-screens")
    synthesize(FAMILY_POSTS, root / "seeds", seed=SEED)
    with Store.open(root / "db" / "db.json") as store:
        assert store.import_paths([root / "seeds"]).ok
    return root


@pytest.fixture
def family(family_template: Path, tmp_path: Path) -> Path:
    """A private copy of the seeds and the store (tests regenerate posts and decide)."""
    shutil.copytree(family_template, tmp_path / "family")
    return tmp_path / "family"


@pytest.fixture
def family_store(family: Path):
    store = Store.open(family / "db" / "db.json")
    yield store
    store.close()


def regenerated(store, family: Path) -> str:
    """Approve the first post, then edit its file as a regenerated post and re-import it:
    it is changed since review (Δ)."""
    path = sorted((family / "seeds").iterdir())[0]
    post_id = seeds.read_file(path).id
    store.set_review(post_id, "approved", note="reviewed the first version")
    text = path.read_text(encoding="utf-8")
    for old, new in REGENERATION:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    report = store.import_paths([family / "seeds"])
    assert report.updated == [post_id] and not report.errors
    assert store.summary(post_id).changed
    return post_id


async def open_post(pilot, screen: ReviewScreen, post_id: str, settle) -> None:
    screen.jump_to(post_id)
    await settle(pilot)
    assert screen.post_list.highlighted_id == post_id


async def pick_view(pilot, settle, kind: str) -> None:
    """Open the Views list and press enter on the row of ``kind``."""
    await pilot.press("v")
    await settle(pilot)
    views = pilot.app.screen
    assert isinstance(views, ViewsScreen)
    index = next(i for i, e in enumerate(views.entries) if e.choice.kind == kind)
    options = views.query_one(OptionList)
    options.highlighted = options.get_option_index(str(index))
    await pilot.press("enter")
    await settle(pilot)


def shown_rows(screen: ReviewScreen, store, query: str) -> None:
    """The review screen applied ``query``: its list is exactly the matching posts."""
    expected = store.search_ids(query, limit=None)
    assert screen.query_text == query and screen.search_box.value == query
    assert sorted(screen.post_list.ids) == sorted(expected)
    assert screen.total == len(expected)


# ---------------------------------------------------------------------------- changes


async def test_changes_screen_shows_the_lines_added_and_removed(
    family_store, family, make_app, settle
):
    store = family_store
    post_id = regenerated(store, family)
    diff = diff_posts(store.reviewed_version(post_id), store.get(post_id))
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        review = app.screen
        await open_post(pilot, review, post_id, settle)
        flags = review.query_one("#flags")
        assert "R shows what changed" in static_text(flags)
        await pilot.press("R")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChangesScreen)
        lines = screen.text.split("\n")
        plain = [line.plain for line in lines]
        assert f"- {APPROACH}" in plain and f"+ {REWORDED}" in plain
        assert f"+ {NEW_STEP}" in plain
        # the post's markup shows as typed, its escape sequence is gone
        assert "+ the regenerated post has a [bold]new[/bold] paragraph here." in plain
        assert not any("\x1b" in line or "\x07" in line for line in plain)
        assert "meta reading_time: 2 -> 3" in plain
        # every line the diff adds or removes, with its mark and colour
        for block in diff.blocks:
            for unit in block.lines:
                if unit.op not in (ADDED, REMOVED):
                    continue
                mark, style = ("+", ADDED_STYLE) if unit.op == ADDED else ("-", REMOVED_STYLE)
                shown = f"{mark} {unit.text}".replace("\x1b]0;owned\x07", "")
                line = lines[plain.index(shown)]
                assert [span.style for span in line.spans] == [style], shown
        header = screen.query_one("#changes-header").render().plain
        assert post_id in header and "changed since it was approved" in header
        await pilot.press("q")
        await settle(pilot)
        assert app.screen is review


def test_changes_beyond_the_line_limit_are_counted_not_shown(family_store, family):
    from tui.screens.changes import changes_renderable, read_changes

    store = family_store
    post_id = regenerated(store, family)
    loaded = read_changes(store, post_id)
    total = sum(len(block.lines) for block in loaded.diff.blocks)
    lines = changes_renderable(loaded, max_lines=2).plain.splitlines()
    marked = [line for line in lines if line[:2] in ("+ ", "- ", "  ")]
    assert len(marked) == 2
    assert (
        lines[-1]
        == f"… {total - 2:,} more lines not shown: `copydesk diff {post_id}` prints them all"
    )


async def test_changes_screen_scrolls_with_the_list_keys(family_store, family, make_app, settle):
    store = family_store
    post_id = regenerated(store, family)
    app = make_app(store)
    async with app.run_test(size=(80, 14)) as pilot:
        await settle(pilot)
        await open_post(pilot, app.screen, post_id, settle)
        await pilot.press("R")
        await settle(pilot)
        scroll = app.screen.query_one("#changes-scroll")
        assert scroll.max_scroll_y > 2  # taller than the screen
        await pilot.press("j", "j")
        await settle(pilot)
        assert scroll.scroll_y == 2
        await pilot.press("G")
        await settle(pilot)
        assert scroll.scroll_y == scroll.max_scroll_y
        await pilot.press("R")  # R again closes, as escape does
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)


async def test_changes_screen_says_when_there_is_nothing_to_compare(
    family_store, family, make_app, settle, tmp_path
):
    store = family_store
    ids = store.ids()
    undecided, unchanged, merged = ids[1], ids[2], ids[3]
    store.set_review(unchanged, "rejected")
    # a colleague's decision made on a text this store never held
    theirs = tmp_path / "theirs.jsonl"
    record = {"id": merged, "status": "approved", "content_sha256": "0" * 64}
    theirs.write_text(json.dumps(record) + "\n", encoding="utf-8")
    store.merge_reviews(str(theirs))
    assert store.summary(merged).changed and store.reviewed_version(merged) is None
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for post_id, message in (
            (undecided, NOT_DECIDED),
            (unchanged, NOT_CHANGED),
            (merged, NOT_KEPT),
        ):
            await open_post(pilot, app.screen, post_id, settle)
            await pilot.press("R")
            await settle(pilot)
            assert isinstance(app.screen, ChangesScreen)
            assert app.screen.text.plain.strip() == f"{post_id}: {message}"
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, ReviewScreen)


# ---------------------------------------------------------------------------- boilerplate


async def test_boilerplate_screen_lists_the_passages_and_enter_applies_the_query(
    family_store, make_app, settle, monkeypatch
):
    monkeypatch.setattr(boilerplate_screen, "CHUNK", 7)  # the pass over many store calls
    store = family_store
    found = find_boilerplate(store.iter_posts())
    assert len(found) > ROWS_SHOWN  # more passages than the list shows
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        review = app.screen
        await pick_view(pilot, settle, BOILERPLATE)
        screen = app.screen
        assert isinstance(screen, BoilerplateScreen)
        assert [(b.kind, b.text, b.posts) for b in screen.items] == [
            (b.kind, b.text, b.posts) for b in found
        ]
        options = screen.query_one(OptionList)
        assert options.option_count == len(found)
        for index in (0, 7, len(found) - 1):
            prompt = options.get_option_at_index(index).prompt.plain
            assert prompt.split()[:2] == [str(found[index].posts), "posts"]
        header = screen.query_one("#boilerplate-header").render().plain
        assert header.startswith(
            f"{len(found)} sentences and paragraphs held by at least 3 of {FAMILY_POSTS} posts"
        )
        await pilot.press("G")
        await settle(pilot)
        assert options.highlighted == len(found) - 1
        text = screen.query_one("#boilerplate-text").render().plain
        assert found[-1].text in " ".join(text.split())
        await pilot.press("g", "j")
        await settle(pilot)
        chosen = found[1]
        assert chosen.posts > ROWS_SHOWN
        assert chosen.text in " ".join(screen.query_one("#boilerplate-text").render().plain.split())
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is review
        shown_rows(review, store, chosen.query)
        assert len(review.post_list.ids) > ROWS_SHOWN


def test_chunked_posts_read_every_post_once_and_stop_when_cancelled(family_store, monkeypatch):
    monkeypatch.setattr(boilerplate_screen, "CHUNK", 7)
    gateway = StoreGateway(family_store)
    try:
        posts = ChunkedPosts(gateway, lambda: False)
        ids = [post["id"] for post in posts]
        assert sorted(ids) == sorted(family_store.ids()) and posts.read == FAMILY_POSTS
        stop = ChunkedPosts(gateway, lambda: stop.read >= 14)
        assert len(list(stop)) == 14
    finally:
        gateway.close()


async def test_boilerplate_from_the_key_and_the_palette(family_store, make_app, settle):
    app = make_app(family_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("B")
        await settle(pilot)
        assert isinstance(app.screen, BoilerplateScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert app.screen.query_text == ""
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*("space" if char == " " else char for char in "repeated passages"))
        await pilot.pause(0.3)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BoilerplateScreen)


# ---------------------------------------------------------------------------- hints report


def decide_by_hints(store) -> None:
    """Reject half the posts with a placeholder image, approve every third, ask for
    changes on a few."""
    with_placeholder = set(store.search_ids("hint:placeholder_image", limit=None))
    assert with_placeholder
    for n, post_id in enumerate(store.ids()):
        if post_id in with_placeholder and n % 2:
            store.set_review(post_id, "rejected")
        elif n % 3 == 0:
            store.set_review(post_id, "approved")
        elif n % 7 == 0:
            store.set_review(post_id, "changes_requested")


async def test_hints_report_shows_the_reports_numbers_and_enter_lists_a_hints_posts(
    family_store, make_app, settle
):
    store = family_store
    decide_by_hints(store)
    report = hints_report(store)
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        review = app.screen
        await pick_view(pilot, settle, HINTS_REPORT)
        screen = app.screen
        assert isinstance(screen, HintsReportScreen)
        assert [r.to_dict() for r in screen.rows] == [r.to_dict() for r in report]
        options = screen.query_one(OptionList)
        assert options.option_count == len(report)
        for index, row in enumerate(report):
            shown = options.get_option_at_index(index).prompt.plain.replace("│", " ").split()
            assert shown == [row.code, *hint_columns(row)], row.code
        placeholder = next(i for i, r in enumerate(report) if r.code == "placeholder_image")
        row = report[placeholder]
        assert row.carrying.by_status["rejected"] > 0
        assert "%" in hint_columns(row)[5]
        for _ in range(placeholder):
            await pilot.press("j")
        await settle(pilot)
        assert screen.highlighted_row == row
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is review
        shown_rows(review, store, "hint:placeholder_image")
        assert review.total == row.carrying.posts


async def test_hints_report_from_its_key(family_store, make_app, settle):
    app = make_app(family_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot)
        assert isinstance(app.screen, HintsReportScreen)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)


# ---------------------------------------------------------------------------- snapshots


@pytest.fixture
def fixed_clock(monkeypatch):
    import storage.local.store_decisions

    monkeypatch.setattr(storage.local.store_decisions, "now_iso", lambda: "2026-01-02T03:04:05Z")


def test_changes_screen_snapshot(family_store, family, fixed_clock, make_app, settle, snap_compare):
    store = family_store
    post_id = regenerated(store, family)

    async def run_before(pilot):
        await settle(pilot)
        await open_post(pilot, pilot.app.screen, post_id, settle)
        await pilot.press("R")
        await settle(pilot)

    assert snap_compare(make_app(store), terminal_size=(100, 30), run_before=run_before)


def test_boilerplate_screen_snapshot(family_store, make_app, settle, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("B")
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)

    assert snap_compare(make_app(family_store), terminal_size=(120, 40), run_before=run_before)


def test_hints_report_snapshot(family_store, make_app, settle, snap_compare):
    decide_by_hints(family_store)

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot)

    assert snap_compare(make_app(family_store), terminal_size=(120, 40), run_before=run_before)


# ---------------------------------------------------------------------------- keys

NEW_IDS = (
    "changes_since_review",
    "boilerplate",
    "hints_report",
    "changes_toggle",
    "boilerplate_open",
    "hints_report_open",
)


def test_the_new_keys_clash_with_no_binding_live_beside_them():
    from tui.keymap import LIVE_TOGETHER, effective_bindings

    bound = effective_bindings({})
    checked = set()
    for groups in LIVE_TOGETHER:
        owners: dict[str, set[str]] = {}
        for item in bound:
            if item.group in groups:
                for key in item.keys:
                    owners.setdefault(key, set()).add(item.binding_id)
        for item in bound:
            if item.group in groups and item.binding_id in NEW_IDS:
                checked.add(item.binding_id)
                for key in item.keys:
                    assert owners[key] == {item.binding_id}, (key, owners[key])
    assert checked == set(NEW_IDS)


async def test_the_new_keys_are_remappable(family_store, config_dir, make_app, settle):
    (config_dir / "keymap.toml").write_text('[keys]\nhints_report = "ctrl+r"\n')
    app = make_app(family_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not app.keymap_problems
        await pilot.press("H")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, HintsReportScreen)
        header = app.screen.query_one("#hints-header").render().plain
        assert "⏎ show its posts" in header
