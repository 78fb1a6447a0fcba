"""Pilot tests of the review screen on a real store with the five sample seeds."""

from __future__ import annotations

import pytest
from tui_support import flat, plain, static_text

from storage import Store
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen
from tui.screens.note import NoteScreen
from tui.widgets.flags_pane import FlagsPane
from tui.widgets.meta_pane import MetaPane
from tui.widgets.post_list import PostList
from tui.widgets.search_box import SearchBox
from tui.widgets.similar_pane import SimilarPane

SIZE = (120, 40)
FIRST, SECOND, THIRD = "anp-ref-003275-2123", "anp-ref-012395-2485", "anp-ref-013900-8738"
NOT_FLAGGED = ("anp-ref-000357-8833", "anp-ref-019995-4029")


def list_lines(app) -> list[str]:
    post_list = app.screen.query_one(PostList)
    height = post_list.scrollable_content_region.height
    return [post_list.render_line(y).text for y in range(height)]


def reopen(db_path) -> Store:
    return Store.open(db_path)


async def test_first_screen_shows_first_needs_review_post(store, make_app, settle):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        post_list = screen.query_one(PostList)
        assert post_list.highlighted_id == FIRST
        assert [row.id for row in post_list.rows][:3] == [FIRST, SECOND, THIRD]
        body = flat(screen.panes.body.text)
        assert "building a safer workflow for handling background jobs with php" in body
        assert "security and maintenance notes" in body  # a heading
        assert "• capture the current behavior" in body  # a list
        assert "https://loremflickr.com/1200/630" in body and "lock=3275" in body  # image URL
        assert "final class health_check {" in body  # code
        meta = flat(static_text(screen.query_one(MetaPane)))
        assert "anp-ref-003275-2123" in meta and "composer" in meta and "quality" in meta
        assert "75" in meta
        flags = static_text(screen.query_one(FlagsPane))
        assert "needs human review" in flags and "decision pending" in flags
        similar = screen.query_one(SimilarPane)
        assert similar.option_count >= 1
        similar_ids = [similar.get_option_at_index(i).id for i in range(similar.option_count)]
        assert FIRST not in similar_ids and set(similar_ids) <= {SECOND, THIRD, *NOT_FLAGGED}
        status = screen.query_one("#status").text.plain
        assert "reviewed 0 of 3 needing review" in status


@pytest.mark.parametrize(
    ("key", "status"),
    [("a", "approved"), ("x", "rejected"), ("c", "changes_requested")],
)
async def test_decision_key_saves_and_moves_to_next_pending(
    store, make_app, db_path, key, status, settle
):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        post_list = app.screen.query_one(PostList)
        assert post_list.highlighted_id == SECOND
        assert post_list.status_of(post_list.rows[0]) == status
        assert "reviewed 1 of 3" in app.screen.query_one("#status").text.plain
    # persisted on disk, not only in this process
    other = reopen(db_path)
    try:
        assert other.review(FIRST).status == status
        assert other.review(SECOND) is None
    finally:
        other.close()


async def test_decision_keeps_the_existing_note(store, make_app, settle):
    store.set_review(FIRST, "pending", note="look at the images")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
    review = store.review(FIRST)
    assert review.status == "rejected" and review.note == "look at the images"


async def test_undo_restores_the_previous_decision(store, make_app, settle):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("x")  # second post rejected
        await settle(pilot)
        assert store.review(SECOND).status == "rejected"
        await pilot.press("u")
        await settle(pilot)
        assert store.review(SECOND) is None
        assert store.review(FIRST).status == "approved"
        post_list = app.screen.query_one(PostList)
        assert post_list.highlighted_id == SECOND
        assert post_list.status_of(post_list.rows[1]) == "pending"
        await pilot.press("u")
        await settle(pilot)
        assert store.review(FIRST) is None
        assert post_list.highlighted_id == FIRST


async def test_note_modal_saves_with_ctrl_s_and_cancels_with_escape(store, make_app, settle):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NoteScreen)
        await pilot.press(*"needs a real image")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, NoteScreen)
        review = store.review(FIRST)
        assert review.note == "needs a real image" and review.status == "pending"
        assert "needs a real image" in flat(static_text(app.screen.query_one(FlagsPane)))

        await pilot.press("n")
        await pilot.pause()
        assert app.screen.text_area.text == "needs a real image"
        await pilot.press(*" and more")
        await pilot.press("escape")  # typed text is not thrown away by one key
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep editing
        await settle(pilot)
        assert isinstance(app.screen, NoteScreen)
        assert app.screen.text_area.text == "needs a real image and more"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")  # discard
        await settle(pilot)
        assert not isinstance(app.screen, NoteScreen)
        assert store.review(FIRST).note == "needs a real image"

        await pilot.press("n")  # unchanged text: escape closes at once
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, (NoteScreen, ConfirmScreen))

        await pilot.press("u")  # a note edit is undoable like a decision, and says so
        await settle(pilot)
        assert store.review(FIRST) is None
        flash = app.screen.flash
        assert flash.startswith("Undid the note") and "decision" not in flash
        assert "Undid the note" in app.screen.query_one("#status").text.plain


async def test_tag_then_bulk_decision_after_confirm(store, make_app, db_path, settle):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("space", "space")  # tags FIRST and SECOND, cursor on THIRD
        await settle(pilot)
        post_list = app.screen.query_one(PostList)
        assert post_list.tagged_ids == [FIRST, SECOND]
        assert "2 tagged" in app.screen.query_one("#status").text.plain

        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # cancel: nothing changes
        await settle(pilot)
        assert store.review(FIRST) is None and post_list.tagged_ids == [FIRST, SECOND]

        await pilot.press("x")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert post_list.tagged_ids == []
        assert post_list.highlighted_id == THIRD
        await pilot.press("u")  # the whole bulk decision is one undo step
        await settle(pilot)
        assert store.review(FIRST) is None and store.review(SECOND) is None
        await pilot.press("u", "space", "space", "a", "enter")
        await settle(pilot)
    other = reopen(db_path)
    try:
        assert other.review(FIRST).status == "approved"
        assert other.review(SECOND).status == "approved"
        assert other.review(THIRD) is None
    finally:
        other.close()


async def test_reopening_resumes_at_the_first_pending_post(store, make_app, db_path, settle):
    # All three flagged posts and the first other post are decided: the queue now
    # starts with decided posts, and the app must skip them.
    for post_id in (FIRST, SECOND, THIRD):
        store.set_review(post_id, "approved")
    store.set_review(NOT_FLAGGED[0], "rejected")
    store.close()
    reopened = reopen(db_path)
    try:
        app = make_app(reopened)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            post_list = app.screen.query_one(PostList)
            assert post_list.rows[0].status != "pending"
            assert post_list.highlighted_id == NOT_FLAGGED[1]
            assert "reviewed 3 of 3" in app.screen.query_one("#status").text.plain
    finally:
        reopened.close()


async def test_reopen_after_a_decision_in_the_app(store, make_app, db_path, settle):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a", "q")
    store.close()
    reopened = reopen(db_path)
    try:
        app = make_app(reopened)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.screen.query_one(PostList).highlighted_id == SECOND
    finally:
        reopened.close()


async def test_search_box_filters_the_list_and_escape_clears(store, make_app, settle):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        search = app.screen.query_one(SearchBox)
        assert search.input.has_focus
        await pilot.press(*"stack:php")
        await settle(pilot)
        post_list = app.screen.query_one(PostList)
        assert sorted(row.id for row in post_list.rows) == [FIRST, NOT_FLAGGED[1]]
        assert "filter stack:php" in app.screen.query_one("#status").text.plain

        await pilot.press("enter")
        await pilot.pause()
        assert post_list.has_focus

        await pilot.press("slash", "escape")
        await settle(pilot)
        assert search.value == ""
        assert len(post_list.rows) == 5


async def test_bad_query_shows_the_error_and_keeps_the_last_results(store, make_app, settle):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"stack:php")
        await settle(pilot)
        # pasted at once: one query, which is malformed
        search = app.screen.query_one(SearchBox)
        search.input.value = "stack:php bogus_field:x"
        await settle(pilot)
        search = app.screen.query_one(SearchBox)
        assert search.has_class("-error")
        error = search.error_text
        assert "bogus_field" in error
        post_list = app.screen.query_one(PostList)
        assert sorted(row.id for row in post_list.rows) == [FIRST, NOT_FLAGGED[1]]
        await pilot.press("escape")
        await settle(pilot)
        assert not search.has_class("-error")


async def test_navigation_keys(store, make_app, settle):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        post_list = app.screen.query_one(PostList)
        await pilot.press("j", "j")
        assert post_list.highlighted_id == THIRD
        await pilot.press("k")
        assert post_list.highlighted_id == SECOND
        await pilot.press("G")
        assert post_list.highlighted_id == NOT_FLAGGED[1]
        await pilot.press("g")
        assert post_list.highlighted_id == FIRST
        await pilot.press("down")
        await settle(pilot)
        assert post_list.highlighted_id == SECOND
        assert "postgresql indexing" in flat(app.screen.panes.body.text)

        await pilot.press("tab")
        assert app.screen.panes.body.has_focus
        await pilot.press("tab")
        assert app.screen.query_one(MetaPane).has_focus
        await pilot.press("shift+tab", "shift+tab")
        assert post_list.has_focus


async def test_similar_pane_enter_jumps_to_that_post(store, make_app, settle):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        similar = app.screen.query_one(SimilarPane)
        assert similar.has_focus
        await pilot.press("down")
        target = similar.get_option_at_index(similar.highlighted).id
        await pilot.press("enter")
        await settle(pilot)
        post_list = app.screen.query_one(PostList)
        assert post_list.highlighted_id == target
        assert post_list.has_focus


async def test_similar_jump_clears_a_filter_that_hides_the_post(store, make_app, settle):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"stack:php", "enter")
        await settle(pilot)
        await pilot.press("s")
        similar = app.screen.query_one(SimilarPane)
        php_posts = {FIRST, NOT_FLAGGED[1]}
        ids = [similar.get_option_at_index(i).id for i in range(similar.option_count)]
        hidden = next(i for i, post_id in enumerate(ids) if post_id not in php_posts)
        await pilot.press(*["down"] * hidden, "enter")
        await settle(pilot)
        post_list = app.screen.query_one(PostList)
        assert post_list.highlighted_id == ids[hidden]
        assert len(post_list.rows) == 5
        assert app.screen.query_one(SearchBox).value == ""


async def test_help_screen_lists_every_binding(store, make_app, settle):
    from tui.keymap import effective_bindings

    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = plain(app.screen.table, width=160)
        for bound in effective_bindings({}):
            assert bound.binding_id in text
            assert bound.description in text
        assert "Approve" in text and "ctrl+s" in text.lower().replace("^s", "ctrl+s")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_keymap_file_remaps_keys(store, make_app, config_dir, settle):
    (config_dir / "keymap.toml").write_text('[keys]\napprove = "y"\nhelp = "f1"\n')
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")  # no longer bound
        await settle(pilot)
        assert store.review(FIRST) is None
        await pilot.press("y")
        await settle(pilot)
        assert store.review(FIRST).status == "approved"
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = plain(app.screen.table, width=160)
        approve_line = next(line for line in text.splitlines() if "approve" in line)
        assert approve_line.split()[0] == "y"


async def test_invalid_keymap_is_a_notification_not_a_crash(store, make_app, config_dir, settle):
    (config_dir / "keymap.toml").write_text("[keys\nthis is not toml")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert any("not valid TOML" in n.message for n in app._notifications)
        await pilot.press("a")
        await settle(pilot)
        assert store.review(FIRST).status == "approved"


async def test_command_palette_runs_an_action(store, make_app, settle):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Reject")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert store.review(FIRST).status == "rejected"


async def test_hostile_markup_post_renders_literally(hostile_store, make_app, settle):
    app = make_app(hostile_store)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        body = flat(app.screen.panes.body.text)
        title_literal = (
            "fixing [/] closing tags [link=file:///etc/passwd]x[/link] [bold red]x[/bold red] red"
        )
        assert title_literal in body
        assert "[bold]fake bold[/bold] and [link=file:///etc/passwd]a link[/link]" in body
        assert "click with a bell\u2407 here." in body  # OSC 8 hyperlink gone, BEL visible
        assert "PWNED" not in body and "evil.example" not in body
        rows = "\n".join(list_lines(app))
        assert "fixing [/] closing tags" in rows
        meta = flat(static_text(app.screen.query_one(MetaPane)))
        assert "[red]hostile[/red] / markup" in meta
        assert "anp-ref-999999-0001[/][bold]" in meta
        # the getter gives the title back as markup: escaped brackets, never a tag
        from textual.content import Content

        title = Content.from_markup(app.screen.panes.body.border_title)
        assert title.plain == "anp-ref-999999-0001[/][bold]"
        # nothing that reaches the terminal carries an escape character
        for strip in app.screen.panes.body._lines:
            assert "\x1b" not in strip.text and "\x07" not in strip.text
        assert all("\x1b" not in line for line in list_lines(app))
        # links were not created from markup
        assert all(
            segment.style is None or segment.style.link is None
            for strip in app.screen.panes.body._lines
            for segment in strip
        )


async def test_narrow_terminal_toggles_side_panes(store, make_app, settle):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.has_class("-narrow")
        assert screen.panes.body.display and not screen.query_one("#side").display
        await pilot.press("s")
        await pilot.pause()
        assert screen.query_one("#side").display and not screen.panes.body.display
        assert screen.query_one(SimilarPane).has_focus
        await pilot.press("m")
        await pilot.pause()
        assert screen.panes.body.display and not screen.query_one("#side").display


async def test_list_loads_a_capped_window_and_grows_on_demand(store, make_app, settle, monkeypatch):
    from tui.screens.review import ReviewScreen

    monkeypatch.setattr(ReviewScreen, "list_window", 2)
    limits: list[int | None] = []
    real_search = store.search

    def spy_search(query="", limit=50):
        limits.append(limit)
        return real_search(query, limit=limit)

    monkeypatch.setattr(store, "search", spy_search)
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        post_list = app.screen.query_one(PostList)
        # never everything at once: a window of 2, then (near its end) a bigger one
        assert limits[:2] == [2, 8]
        assert post_list.total == 5 and post_list.row_count == 5
        assert post_list.highlighted_id == FIRST


async def test_last_key_loads_every_row(store, make_app, settle, monkeypatch):
    from tui.screens.review import ReviewScreen

    monkeypatch.setattr(ReviewScreen, "list_window", 2)
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        post_list = app.screen.query_one(PostList)
        await pilot.press("G")
        await settle(pilot)
        assert post_list.row_count == 5
        assert post_list.highlighted_id == NOT_FLAGGED[1]


async def test_list_rows_show_the_topic_tail_and_reference_under_the_title(store, make_app, settle):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lines = list_lines(app)
        # generated titles share long prefixes: the second line tells the posts apart
        assert lines[0].lstrip(" ·").startswith("building a safer")
        assert lines[1].strip() == "php · anp-ref-003275-2123"
        assert lines[3].strip().startswith("postgresql indexing · anp-")
        await pilot.press("j")
        await settle(pilot)
        assert app.screen.query_one(PostList).highlighted_id == SECOND
        # a click on either line of the third row selects it
        post_list = app.screen.query_one(PostList)
        await pilot.click(PostList, offset=(5, 5))
        await settle(pilot)
        assert post_list.highlighted_id == THIRD
