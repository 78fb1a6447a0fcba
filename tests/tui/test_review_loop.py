"""The review loop on a store with more posts than the screen holds (issue 13's bugs).

Every test here runs on MANY_POSTS synthesized posts: with five posts nothing scrolls, and
several of these bugs only show once the list is longer than the screen.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import MANY_POSTS
from tui_support import flat, static_text

from storage import Status, Store
from storage.export import export
from tui.screens.confirm import ConfirmScreen
from tui.screens.conflicts import ConflictsScreen
from tui.screens.export import ExportScreen
from tui.screens.help import HelpScreen
from tui.screens.views import ViewsScreen, count_views
from tui.widgets.flags_pane import FlagsPane
from tui.widgets.meta_pane import MetaPane
from tui.widgets.post_list import PostList
from tui.widgets.similar_pane import SimilarPane

SIZE = (120, 40)


def screen_rows(post_list: PostList) -> int:
    return post_list.rows_per_page


def panes_agree(screen) -> bool:
    """Every pane is about the post under the list cursor."""
    panes = screen.panes
    post_id = screen.post_list.highlighted_id
    if not (panes.shown_id == post_id and panes.loaded):
        return False
    view = panes.view
    reference = view.post.reference
    return reference in flat(static_text(screen.query_one(MetaPane))) and flat(
        view.post.title
    ).split(":")[0] in flat(panes.body.text)


async def test_the_store_has_more_posts_than_the_list_shows(many_store, make_app, settle):
    app = make_app(many_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        post_list = app.screen.post_list
        assert post_list.row_count == MANY_POSTS > 2 * screen_rows(post_list)


async def test_a_new_search_starts_at_its_first_result_unless_it_holds_the_post_read(
    many_store, make_app, settle
):
    """After moving down the list, a query that leaves out the post being read starts at
    its first result (it kept the old row number: 4/3,502 on a 100,000-post store), and a
    query that holds that post keeps it under the cursor."""
    app = make_app(many_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen, post_list = app.screen, app.screen.post_list
        for _ in range(screen_rows(post_list) + 3):
            await pilot.press("j")
        await settle(pilot)
        reading = many_store.get(post_list.highlighted_id)
        other_stack = next(
            s
            for pid in many_store.ids()
            for s in many_store.get(pid).meta.get("stack", [])
            if s not in reading.meta.get("stack", [])
        )
        screen.search_box.input.value = f"stack:{other_stack}"  # one change, as a paste is
        await settle(pilot)
        expected = many_store.search_ids(f"stack:{other_stack}", None)
        assert reading.id not in expected and len(expected) > 1
        assert post_list.cursor == 0 and post_list.highlighted_id == expected[0]
        assert panes_agree(screen)

        post_list.move_to(1)  # read another result, then narrow to its own stack
        await settle(pilot)
        now_reading = many_store.get(post_list.highlighted_id)
        holding = [s for s in now_reading.meta["stack"] if s != other_stack][0]
        screen.search_box.input.value = f"stack:{other_stack} stack:{holding}"
        await settle(pilot)
        assert post_list.highlighted_id == now_reading.id  # the post being read stays
        assert panes_agree(screen)


@pytest.mark.parametrize("key", ["down", "j"])
async def test_down_moves_the_selection_past_the_screen_and_the_body_follows(
    many_store, make_app, settle, key
):
    """Bug 1: down scrolled the list (the ScrollView's binding) without moving the cursor."""
    app = make_app(many_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        post_list = screen.post_list
        start = post_list.cursor
        steps = screen_rows(post_list) + 5
        for _ in range(steps):
            await pilot.press(key)
        await settle(pilot)
        assert post_list.cursor == start + steps
        assert post_list.scroll_offset.y > 0  # the cursor row is in view
        assert panes_agree(screen)
        await pilot.press("up" if key == "down" else "k")
        await settle(pilot)
        assert post_list.cursor == start + steps - 1 and panes_agree(screen)


async def test_page_keys_and_home_end_move_the_selection(many_store, make_app, settle):
    app = make_app(many_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        post_list = screen.post_list
        await pilot.press("home")
        await settle(pilot)
        assert post_list.cursor == 0
        page = screen_rows(post_list) - 1
        await pilot.press("pagedown")
        await settle(pilot)
        assert post_list.cursor == page and panes_agree(screen)
        await pilot.press("pagedown", "pageup")
        await settle(pilot)
        assert post_list.cursor == page
        await pilot.press("end")
        await settle(pilot)
        assert post_list.cursor == MANY_POSTS - 1 and panes_agree(screen)
        await pilot.press("j")  # the next j does not jump back
        await settle(pilot)
        assert post_list.cursor == MANY_POSTS - 1


async def test_j_in_the_body_moves_the_list_and_down_scrolls_the_body(many_store, make_app, settle):
    app = make_app(many_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("enter")  # read the post: the body has focus
        await settle(pilot)
        assert screen.panes.body.has_focus
        cursor = screen.post_list.cursor
        await pilot.press("j")
        await settle(pilot)
        assert screen.post_list.cursor == cursor + 1 and panes_agree(screen)


async def test_views_list_moves_with_j_and_k(many_store, make_app, settle):
    """Bug 2: j/k did not move in the Views list."""
    for number in range(30):
        many_store.save_view(f"view {number:02}", f"reading_time>{number}")
    app = make_app(many_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        views = app.screen
        assert isinstance(views, ViewsScreen)
        options = views.query_one("#views-list")
        assert options.option_count > options.scrollable_content_region.height
        start = options.highlighted
        for _ in range(36):
            await pilot.press("j")
        await pilot.press("k")
        await settle(pilot)
        assert options.highlighted > start + 30  # separators are skipped
        assert options.scroll_offset.y > 0


@pytest.fixture
def conflicts_store(many_db, tmp_path, monkeypatch):
    """40 posts we approved and bob rejected: 40 conflicts."""
    bob_dir = tmp_path / "bob"
    shutil.copytree(many_db.parent, bob_dir)
    monkeypatch.setenv("COPYDESK_REVIEWER", "bob")
    with Store.open(bob_dir / many_db.name) as bob:
        ids = bob.ids()[:40]
        for post_id in ids:
            bob.set_review(post_id, "rejected", "too thin")
        export(bob, "jsonl", tmp_path / "bob.jsonl")
    monkeypatch.setenv("COPYDESK_REVIEWER", "alice")
    store = Store.open(many_db)
    for post_id in ids:
        store.set_review(post_id, "approved")
    assert "40 conflicts" in store.merge_reviews(tmp_path / "bob.jsonl").summary()
    yield store
    store.close()


async def test_conflicts_list_moves_with_j_and_q_closes_it(conflicts_store, make_app, settle):
    """Bug 2 (j/k) and bug 3 (q quit the app from the Conflicts screen)."""
    app = make_app(conflicts_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("C")
        await settle(pilot)
        conflicts = app.screen
        assert isinstance(conflicts, ConflictsScreen)
        options = conflicts.query_one("#conflicts-list")
        assert len(conflicts.conflicts) == 40
        for _ in range(25):
            await pilot.press("j")
        assert options.highlighted == 25
        await pilot.press("k")
        assert options.highlighted == 24
        await pilot.press("q")
        await settle(pilot)
        assert app.is_running
        assert app.screen.id == "review"


@pytest.mark.parametrize("opener", ["question_mark", "v", "C", "D"])
async def test_q_closes_every_sub_screen(conflicts_store, make_app, settle, opener):
    app = make_app(conflicts_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(opener)
        await settle(pilot)
        assert app.screen.id != "review"
        await pilot.press("q")
        await settle(pilot)
        assert app.is_running and app.screen.id == "review"


async def test_deciding_in_needs_review_keeps_list_count_and_export_in_agreement(
    many_store, make_app, settle, tmp_path
):
    """Bug 4: after deciding in Needs review, the list still showed the decided posts,
    "2 match" stayed, and exporting the current view wrote 0 posts."""
    app = make_app(many_store)
    needing = many_store.count("flag:needs_human_review status:pending")
    assert needing > 20
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        entries = count_views(many_store)
        screen.open_view_choice(next(e.choice for e in entries if e.choice.name == "Needs review"))
        await settle(pilot)
        assert screen.total == needing and screen.post_list.row_count == needing
        decided = [screen.post_list.highlighted_id]
        await pilot.press("a")
        await settle(pilot)
        decided.append(screen.post_list.highlighted_id)
        await pilot.press("x")
        await settle(pilot)
        assert screen.total == needing - 2 == screen.post_list.row_count
        assert not set(decided) & set(screen.post_list.ids)
        assert f"{needing - 2:,} matches" in screen.query_one("#status").text.plain
        assert panes_agree(screen)
        target = tmp_path / "view.json"
        await pilot.press("e")
        await settle(pilot)
        export_screen = app.screen
        assert isinstance(export_screen, ExportScreen)
        export_screen.query_one("#export-path").value = str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert export_screen.result is not None
    assert export_screen.result.count == 0  # pending posts are left out by default
    assert sorted(many_store.search_ids(screen.query_text, limit=None)) == sorted(
        screen.post_list.ids
    )


async def test_undo_in_needs_review_brings_the_post_back(many_store, make_app, settle):
    app = make_app(many_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.search_box.set_quietly("flag:needs_human_review status:pending")
        screen.load_rows("flag:needs_human_review status:pending", first_pending=True)
        await settle(pilot)
        first = screen.post_list.highlighted_id
        total = screen.total
        await pilot.press("a")
        await settle(pilot)
        assert first not in screen.post_list.ids and screen.total == total - 1
        await pilot.press("u")
        await settle(pilot)
        assert screen.post_list.highlighted_id == first and screen.total == total
        assert many_store.review(first) is None and panes_agree(screen)


async def test_export_asks_before_replacing_and_a_stray_key_does_not_replace_the_path(
    many_store, make_app, settle, tmp_path
):
    """Bug 5: export overwrote a file without asking; the selected path was replaced by
    one stray key."""
    target = tmp_path / "notes.md"
    target.write_text("my own notes\n")
    app = make_app(many_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        path_input = app.screen.query_one("#export-path")
        before = path_input.value
        await pilot.press("e")  # a second e, as in the bug
        assert path_input.value == before + "e"
        path_input.value = str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        assert "exists" in app.screen.error_text
        assert target.read_text() == "my own notes\n"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.id == "review"
    assert target.read_text() != "my own notes\n"


async def test_zero_results_empty_every_pane(many_store, make_app, settle):
    """Bug 6: with zero results the panes kept the previous post or showed
    '? ai generated style (missing)'."""
    app = make_app(many_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash", *"zzzzqqqq")
        await settle(pilot)
        assert screen.post_list.row_count == 0 and screen.total == 0
        assert screen.panes.shown_id is None
        assert "no posts match" in screen.panes.body.text
        assert static_text(screen.query_one(MetaPane)).strip() == "no post"
        flags = static_text(screen.query_one(FlagsPane))
        assert "missing" not in flags and flags.strip() == "no post"
        similar = screen.query_one(SimilarPane)
        assert similar.highlighted_item is None
        assert "0 matches" in screen.query_one("#status").text.plain


@pytest.mark.parametrize(
    ("count", "words"), [(1, "1 match"), (2, "2 matches"), (3000, "3,000 matches")]
)
def test_match_counts_are_plural(count, words):
    from storage import QueueProgress
    from tui.widgets.status_bar import status_text

    counts, _ = status_text(QueueProgress(1, 2), "stack:php", count, 1, 0)
    assert words in counts.plain
    assert f"1/{count:,}" in counts.plain


async def test_the_header_cuts_the_filter_before_the_count(many_store, make_app, settle):
    app = make_app(many_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash", *"reading_time>1 reading_time<100 -stack:cobol")
        await settle(pilot)
        line = screen.query_one("#status").render_line(0).text
        assert f"{screen.total:,} matches" in line
        assert "reviewed" in line and "? help" in line


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40), (200, 50)])
async def test_the_body_is_never_the_narrowest_pane(many_store, make_app, settle, size):
    """Bug 8: at 100x30 the body was 25 columns while the meta pane kept 38; at 200 the
    list stayed 30 wide."""
    app = make_app(many_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = app.screen
        body = screen.panes.body.size.width
        listed = screen.query_one("#left").size.width
        assert body >= listed
        meta = screen.query_one(MetaPane)
        if meta.display and screen.query_one("#side").display:
            assert body >= meta.size.width
        if size[0] == 200:
            assert listed >= 50
            line = screen.post_list.render_line(0).text
            assert len(line.rstrip()) > 40  # titles are readable, not cut at ~22


async def test_help_at_80x24_keeps_room_for_the_descriptions(many_store, make_app, settle):
    app = make_app(many_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        text = static_text(help_screen.query_one("#help-table"))
        assert "Move to the last row" in flat(text)  # not squeezed to 3 characters


async def test_another_process_deciding_keeps_the_reviewers_place(
    many_db, many_store, make_app, settle
):
    """Bug 13: when another process decided a post, the cursor jumped off the post being
    read and the list and body disagreed."""
    app = make_app(many_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        for _ in range(screen_rows(screen.post_list) + 3):
            await pilot.press("j")
        await settle(pilot)
        reading = screen.post_list.highlighted_id
        cursor = screen.post_list.cursor
        others = [i for i in screen.post_list.ids[:cursor] if i != reading][:5]
        with Store.open(many_db) as other:
            for post_id in others:
                other.set_review(post_id, "approved")
            other.set_review(reading, "rejected", "seen elsewhere")
        screen._poll()
        await settle(pilot)
        assert screen.post_list.highlighted_id == reading
        assert panes_agree(screen)
        assert "seen elsewhere" in flat(static_text(screen.query_one(FlagsPane)))
        assert screen.post_list.status_of_id(reading) is Status.REJECTED


async def test_position_and_note_marker_and_untag_all(many_store, make_app, settle):
    app = make_app(many_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        for _ in range(4):
            await pilot.press("j")
        await settle(pilot)
        status = screen.query_one("#status").text.plain
        assert f"5/{MANY_POSTS}" in status
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"a note")
        await pilot.press("ctrl+s")
        await settle(pilot)
        post_list = screen.post_list
        row_line = post_list.render_line(post_list.cursor * 2 - post_list.scroll_offset.y).text
        assert "✍" in row_line
        await pilot.press("space", "space", "space")
        await settle(pilot)
        assert len(post_list.tagged_ids) == 3
        await pilot.press("U")
        await settle(pilot)
        assert post_list.tagged_ids == [] and screen.tagged == 0


async def test_back_and_forward_after_a_similar_jump(many_store, make_app, settle):
    app = make_app(many_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        start = screen.post_list.highlighted_id
        similar = screen.panes.similar
        assert similar.highlighted_item is not None
        target = similar.highlighted_item.id
        screen.jump_to(target)
        await settle(pilot)
        assert screen.post_list.highlighted_id == target and panes_agree(screen)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert screen.post_list.highlighted_id == start and panes_agree(screen)
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert screen.post_list.highlighted_id == target


async def test_a_prepared_post_shows_in_every_pane_at_once(many_store, make_app, settle):
    """The posts around the cursor are prepared ahead: a j changes every pane in the same
    handler, never the body of one post beside the meta box of another."""
    app = make_app(many_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        next_id = screen.post_list.ids[screen.post_list.cursor + 1]
        assert screen.preparer.prepared(next_id) is not None
        await pilot.press("j")
        await pilot.pause()
        assert screen.panes.shown_id == next_id and screen.panes.loaded
        assert panes_agree(screen)


async def test_the_list_says_which_key_loads_every_row(many_store, make_app, settle, config_dir):
    """The list's "… N more" line names the key of list_last as the keymap has it."""
    (config_dir / "keymap.toml").write_text('[keys]\nlist_last = "E"\n')
    app = make_app(many_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        post_list = app.screen.post_list
        rows = list(post_list.rows)
        post_list.set_rows(rows[:5], MANY_POSTS)  # five rows shown of sixty
        more = post_list.render_line(10).text
        assert f"{MANY_POSTS - 5} more (E loads all)" in more
        await settle(pilot)
        await pilot.press("E")  # and that key does load every row, then goes to the last
        await settle(pilot)
        assert post_list.row_count == MANY_POSTS and post_list.cursor == MANY_POSTS - 1


async def test_the_search_index_is_decoded_after_the_first_screen_ahead_of_a_search(
    many_db, make_app, settle
):
    # the first screen needs the rows only; the search index (0.4 s at 100,000 posts) is
    # decoded once it is drawn, so that "/" does not wait for it
    import time

    store = Store.open(many_db)
    try:
        app = make_app(store)
        async with app.run_test(size=SIZE) as pilot:
            post_list = app.screen.post_list
            while post_list.row_count == 0:
                await pilot.pause(0.01)
            assert store._catalog()._search_index is None  # rows shown without it
            deadline = time.monotonic() + 10
            while store._catalog()._search_index is None:
                assert time.monotonic() < deadline, "the search index was never decoded"
                await pilot.pause(0.05)
            await settle(pilot)
            await pilot.press("slash", *"kubernetes", "enter")
            await settle(pilot)
            assert post_list.ids == store.search_ids("kubernetes", None)[: post_list.row_count]
    finally:
        store.close()
