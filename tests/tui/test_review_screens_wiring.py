"""The review screen opens the other screens: export (e), conflicts (C), views (v),
save view (ctrl+s), near duplicates (D), compare (d), and shows "changed since review"."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_review_screen import FIRST, SECOND
from tui_support import flat, static_text

from storage import Store, samples_dir
from storage.compare import compare_stored, shared_words_text
from tui.cli import main
from tui.screens.clusters import ClustersScreen
from tui.screens.compare import CompareScreen
from tui.screens.conflicts import ConflictsScreen
from tui.screens.export import ExportScreen
from tui.screens.name_prompt import NamePromptScreen
from tui.screens.views import ViewsScreen
from tui.widgets.flags_pane import FlagsPane
from tui.widgets.post_list import PostList
from tui.widgets.search_box import SearchBox
from tui.widgets.similar_pane import SimilarPane

SIZE = (120, 40)


async def type_query(pilot, text: str) -> None:
    await pilot.press("slash")
    for char in text:
        await pilot.press(char if char != " " else "space")


async def test_e_opens_the_export_dialog_on_the_current_query(store, make_app, settle, tmp_path):
    store.set_review(FIRST, "rejected", note="=HYPERLINK(1)")
    store.set_review(SECOND, "approved")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_query(pilot, "status:rejected")
        await settle(pilot)
        await pilot.press("enter")  # back to the list
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        assert app.screen.chosen_query == "status:rejected"
        target = tmp_path / "notes.jsonl"
        path_input = app.screen.query_one("#export-path")
        path_input.value = str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, ExportScreen)
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [(r["id"], r["status"], r["note"]) for r in rows] == [
        (FIRST, "rejected", "=HYPERLINK(1)")
    ]


async def test_shift_c_opens_conflicts_and_keeping_theirs_updates_the_list(
    store, make_app, settle, tmp_path
):
    store.set_review(FIRST, "approved", note="fine")
    theirs = tmp_path / "colleague.jsonl"
    theirs.write_text(
        json.dumps({"id": FIRST, "status": "rejected", "note": "no", "reviewer": "bob"}) + "\n"
    )
    assert store.merge_reviews(theirs).conflicts
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("C")
        await settle(pilot)
        assert isinstance(app.screen, ConflictsScreen)
        assert len(app.screen.conflicts) == 1
        await pilot.press("t")  # keep theirs
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        post_list = app.screen.query_one(PostList)
        row = post_list.rows[post_list.index_of(FIRST)]
        assert post_list.status_of(row) == "rejected"
    assert store.review(FIRST).status == "rejected"


async def test_flags_pane_says_changed_since_review(tmp_path, make_app, settle):
    seeds_dir = tmp_path / "seeds"
    shutil.copytree(samples_dir(), seeds_dir)
    with Store.open(tmp_path / "db.json") as store:
        store.import_paths([seeds_dir])
        store.set_review(FIRST, "approved")
        seed = next(seeds_dir.glob("001_*.txt"))
        seed.write_text(seed.read_text().replace("step by step", "step by step, revised", 1))
        report = store.import_paths([seeds_dir])
        assert report.updated == [FIRST]
        app = make_app(store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("g")  # the approved post is no longer first in the queue
            await settle(pilot)
            screen = app.screen
            screen.jump_to(FIRST)
            await settle(pilot)
            flags = flat(static_text(screen.query_one(FlagsPane)))
            assert "decision approved" in flags
            assert "changed since review" in flags
            lines = [screen.query_one(PostList).render_line(y).text for y in range(8)]
            assert any("Δ" in line for line in lines)


async def test_flags_pane_quiet_when_unchanged(store, make_app, settle):
    store.set_review(FIRST, "approved")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.jump_to(FIRST)
        await settle(pilot)
        flags = flat(static_text(app.screen.query_one(FlagsPane)))
        assert "decision approved" in flags and "changed since review" not in flags


def _views_lines(screen) -> list[str]:
    options = screen.query_one("#views-list")
    return [options.get_option_at_index(i).prompt.plain for i in range(options.option_count)]


async def test_v_lists_views_with_counts_and_enter_applies_one(store, make_app, settle):
    store.set_review(SECOND, "approved")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ViewsScreen)
        text = "\n".join(_views_lines(app.screen))
        assert "Needs review 2 posts" in flat(text)  # 3 flagged, one of them approved
        assert "Approved 1 post" in flat(text)
        assert "Near duplicates 0 clusters" in flat(text)
        assert "Conflicts 0 open" in flat(text)
        # move to "Approved" and open it
        names = [entry.choice.name for entry in app.screen.entries]
        target = names.index("Approved")
        options = app.screen.query_one("#views-list")
        options.highlighted = options.get_option_index(str(target))
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert [row.id for row in screen.query_one(PostList).rows] == [SECOND]
        assert screen.query_one(SearchBox).value == "status:approved"
        status = screen.query_one("#status").text.plain
        assert "view Approved" in status and "1 match" in status


async def test_ctrl_s_saves_the_query_as_a_view(store, make_app, settle, db_path):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_query(pilot, "stack:php")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, NamePromptScreen)
        for char in "php posts":
            await pilot.press(char if char != " " else "space")
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, NamePromptScreen)
        assert "view php posts" in app.screen.query_one("#status").text.plain
    with Store.open(db_path) as other:
        saved = {view.name: view.query for view in other.views() if not view.builtin}
    assert saved == {"php posts": "stack:php"}


async def test_saving_a_view_under_a_builtin_name_shows_the_error(store, make_app, settle):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_query(pilot, "stack:php")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        for char in "Approved":
            await pilot.press(char)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, NamePromptScreen)
        assert "built-in" in app.screen.error_text.lower()
        await pilot.press("escape")
        await settle(pilot)
    assert not [view for view in store.views() if not view.builtin]


async def test_ctrl_s_without_a_query_explains(store, make_app, settle):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, NamePromptScreen)
        assert any("first" in str(n.message) for n in app._notifications)


async def test_palette_lists_views(store, make_app, settle):
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        for char in "needs review":
            await pilot.press(char if char != " " else "space")
        await pilot.pause(0.3)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert screen.query_one(SearchBox).value == "flag:needs_human_review status:pending"
        assert len(screen.query_one(PostList).rows) == 3


def test_views_count_every_builtin_on_the_samples(store):
    from tui.screens.views import count_views

    counts = {entry.choice.name: entry.count for entry in count_views(store)}
    assert counts["All posts"] == 5
    assert counts["Needs review"] == 3
    assert counts["Approved"] == counts["Rejected"] == 0
    assert counts["Near duplicates"] == 0


NEAR_COPY = "anp-ref-012396-7001"  # tests/data/similar/004_near_copy.txt, a near copy of SECOND


@pytest.fixture
def near_copy_store(tmp_path):
    seeds_dir = tmp_path / "seeds"
    shutil.copytree(samples_dir(), seeds_dir)
    data = Path(__file__).resolve().parents[1] / "data" / "similar" / "004_near_copy.txt"
    shutil.copy(data, seeds_dir)
    with Store.open(tmp_path / "near.json") as store:
        assert store.import_paths([seeds_dir]).ok
        yield store


async def test_shift_d_decides_a_cluster_and_u_undoes_it(near_copy_store, make_app, settle):
    store = near_copy_store
    store.set_review(SECOND, "pending", note="check the images")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, ClustersScreen)
        await pilot.press("x", "y")  # reject the whole cluster, confirmed
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        screen = app.screen
        post_list = screen.query_one(PostList)
        for post_id in (SECOND, NEAR_COPY):
            assert store.review(post_id).status == "rejected"
            assert post_list.status_of(post_list.rows[post_list.index_of(post_id)]) == "rejected"
        assert store.review(SECOND).note == "check the images"
        assert "reviewed 2 of 4 needing review" in screen.query_one("#status").text.plain
        await pilot.press("u")
        await settle(pilot)
        assert store.review(NEAR_COPY) is None
        assert store.review(SECOND).status == "pending"
        assert store.review(SECOND).note == "check the images"


async def test_enter_on_a_cluster_post_opens_it(near_copy_store, make_app, settle):
    app = make_app(near_copy_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        await pilot.press("enter", "down", "enter")  # into the posts, second post, open
        await settle(pilot)
        assert not isinstance(app.screen, ClustersScreen)
        assert app.screen.query_one(PostList).highlighted_id == NEAR_COPY


async def test_d_compares_with_the_highlighted_similar_post(near_copy_store, make_app, settle):
    app = make_app(near_copy_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.jump_to(SECOND)
        await settle(pilot)
        similar = app.screen.query_one(SimilarPane)
        assert similar.get_option_at_index(0).id == NEAR_COPY  # the near copy ranks first
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, CompareScreen)
        header = app.screen.query_one("#compare-header")
        text = str(header.render())
        assert SECOND in text and NEAR_COPY in text and "words shared: " in text
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, CompareScreen)


async def test_one_pair_shows_the_same_figures_in_similar_compare_and_cli(
    near_copy_store, make_app, settle
):
    """Bug 12: the Similar pane said "body 100% shared" where the compare screen said "97%
    of left · 95% of right". The score's body measure is named for what it is (sentences
    alike), the words shared are the compare screen's, and each reads the same wherever
    the pair is shown."""
    store = near_copy_store
    item = next(s for s in store.similar(SECOND) if s.id == NEAR_COPY)
    reasons = ", ".join(item.reasons)
    assert reasons == "sentences alike 100%, title 81%, same topic"
    words = shared_words_text(compare_stored(store.get(SECOND), store.get(NEAR_COPY)))
    assert words == "words shared: 97% of left · 95% of right"

    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.jump_to(SECOND)
        await settle(pilot)
        similar = app.screen.query_one(SimilarPane)
        row = similar.get_option_at_index(0)
        assert row.id == NEAR_COPY
        shown = flat(str(row.prompt))
        assert f"{item.score} " in shown and reasons in shown
        assert "shared" not in shown  # nothing there claims to be the words shared
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, CompareScreen)
        header = str(app.screen.query_one("#compare-header").render())
        assert words in header and f"score {item.score}: {reasons}" in header
        # "words shared" and "N shared passages": no other figure says shared
        assert header.count("shared") == 2

    result = CliRunner().invoke(main, ["--db", str(store.path), "similar", SECOND])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if NEAR_COPY in line)
    assert line.startswith(f"{item.score:>3}  ") and line.endswith(f"({reasons})")


async def test_d_without_similar_posts_explains(tmp_path, make_app, settle):
    seeds_dir = tmp_path / "one"
    seeds_dir.mkdir()
    shutil.copy(next(samples_dir().glob("001_*.txt")), seeds_dir)
    with Store.open(tmp_path / "one.json") as store:
        store.import_paths([seeds_dir])
        app = make_app(store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("d")
            await settle(pilot)
            assert not isinstance(app.screen, CompareScreen)
            assert any("No similar post" in str(n.message) for n in app._notifications)


async def test_keys_typed_fast_after_slash_go_into_the_search_box(store, make_app, settle):
    """A burst of keys (fast typing, a paste) queued before "/" is handled: every one lands in
    the box, none runs a review key ("/stack:php" holds an "a" = approve and a "c")."""
    from textual import events

    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for char in "/stack:php":
            key = {"/": "slash", ":": "colon"}.get(char, char)
            app.post_message(events.Key(key, char))  # all queued at once, like a terminal burst
        await settle(pilot)
        screen = app.screen
        assert screen.query_one(SearchBox).value == "stack:php"
        assert store.reviews() == {}
        rows = [row.id for row in screen.query_one(PostList).rows]
        assert rows == [FIRST, "anp-ref-019995-4029"]  # the two php posts


async def test_status_bar_shows_the_help_and_quit_keys(store, make_app, settle, config_dir):
    (config_dir / "keymap.toml").write_text('[keys]\nhelp = "f1"\n')
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        hint = app.screen.query_one("#status").keys_hint
        assert "f1 help" in hint and "q quit" in hint
