"""The "Near duplicates" view, hosted by a minimal App (no main app)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import OptionList, Static
from tui_support import (
    FAMILY_COPIES,
    Host,
    build_family_store,
    copy_store_files,
    flat,
    static_text,
)

from storage import Store, samples_dir
from storage.families import duplicate_note
from storage.similarity import NEAR_DUPLICATE_THRESHOLD
from tui.screens.clusters import ClustersResult, ClustersScreen, status_summary
from tui.screens.confirm import ConfirmScreen

DATA = Path(__file__).resolve().parents[1] / "data" / "similar"
SEED_004 = "anp-ref-012395-2485"
COPY_004 = "anp-ref-012396-7001"  # tests/data/similar/004_near_copy.txt
OTHER_SEEDS = ["anp-ref-019995-4029", "anp-ref-003275-2123", "anp-ref-000357-8833"]

HOSTILE_TITLE = (
    "[bold red]not bold[/bold red] [link=file:///etc/passwd]x[/link]\x1b]0;PWNED\x07 end"
)
HOSTILE_SEED = (
    HOSTILE_TITLE
    + "\n\n"
    + "this paragraph says the same thing in both copies, word for word, so they cluster.\n\n"
    + "alphanode post meta\n\n"
    + "topicmarkup / hostile\n"
    + "reference{ref}\n"
)


def _template(directory: Path, paths: list[Path]) -> Path:
    with Store.open(directory / "db.json") as s:
        assert s.import_paths(paths).ok
    return directory


@pytest.fixture(scope="module")
def with_copy_template(tmp_path_factory):
    return _template(
        tmp_path_factory.mktemp("with-copy"), [samples_dir(), DATA / "004_near_copy.txt"]
    )


@pytest.fixture(scope="module")
def seeds_template(tmp_path_factory):
    return _template(tmp_path_factory.mktemp("seeds"), [samples_dir()])


def _open_copy(template: Path, directory: Path) -> Store:
    directory.mkdir()
    shutil.copy2(template / "db.json", directory / "db.json")
    shutil.copytree(template / "db.json.d", directory / "db.json.d")
    return Store.open(directory / "db.json")


@pytest.fixture
def store(with_copy_template, tmp_path, monkeypatch):
    monkeypatch.setenv("COPYDESK_REVIEWER", "alice")
    with _open_copy(with_copy_template, tmp_path / "db") as s:
        s.set_review(COPY_004, "changes_requested", "[b]same body[/b] as 004")
        yield s


@pytest.fixture
def seeds_store(seeds_template, tmp_path):
    with _open_copy(seeds_template, tmp_path / "db") as s:
        yield s


@pytest.fixture
def hostile_store(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, ref in (("900.txt", "anp-ref-999999-0001"), ("901.txt", "anp-ref-999999-0002")):
        (seeds / name).write_text(HOSTILE_SEED.format(ref=ref), encoding="utf-8")
    with Store.open(tmp_path / "db.json") as s:
        assert s.import_paths([seeds]).ok
        yield s


async def _settle(app: App, pilot) -> None:
    from conftest import settle_app

    await settle_app(pilot)


def _static(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


def _prompts(screen, selector: str) -> list[str]:
    options = screen.query_one(selector, OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def test_status_summary():
    assert status_summary(["pending", "approved", "pending"]) == "2 pending · 1 approved"
    assert status_summary(["rejected", "changes_requested"]) == "1 changes requested · 1 rejected"


async def test_the_near_copy_forms_one_cluster_with_both_posts(store):
    assert store.clusters() == [[SEED_004, COPY_004]]
    app = Host(lambda gateway: ClustersScreen(gateway), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ClustersScreen)
        assert _static(screen, "#clusters-header").startswith("1 near-duplicate cluster · 2 posts")
        [cluster] = _prompts(screen, "#cluster-list")
        assert cluster.startswith("2 posts  " + store.summary(SEED_004).title)
        assert cluster.endswith("1 pending · 1 changes requested")
        first, second = _prompts(screen, "#cluster-members")
        assert first.startswith(f"· {SEED_004} ")
        assert first.endswith(store.summary(SEED_004).title)
        score = next(s.score for s in store.similar(SEED_004) if s.id == COPY_004)
        assert score >= NEAR_DUPLICATE_THRESHOLD
        assert second == f"✎ {COPY_004}  {score} {store.summary(COPY_004).title}"


async def test_approve_all_after_confirm_keeps_notes_and_updates_rows(store):
    store.set_review(SEED_004, "rejected", "keep this note")
    app = Host(lambda gateway: ClustersScreen(gateway), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        cluster_list = screen.query_one("#cluster-list", OptionList)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "Mark 2 posts of this cluster as approved?" in _static(
            app.screen, "#confirm-question"
        )
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is screen
        assert store.review(SEED_004).status == "approved"
        assert store.review(SEED_004).note == "keep this note"
        assert store.review(COPY_004).status == "approved"
        assert store.review(COPY_004).note == "[b]same body[/b] as 004"
        # the rows changed in place: same option list, same options count, new text
        assert screen.query_one("#cluster-list", OptionList) is cluster_list
        assert _prompts(screen, "#cluster-list")[0].endswith("2 approved")
        assert [p[0] for p in _prompts(screen, "#cluster-members")] == ["✓", "✓"]
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [ClustersResult(None, [SEED_004, COPY_004])]


@pytest.mark.parametrize("answer", ["n", "escape"])
async def test_declining_the_confirm_changes_nothing(store, answer):
    app = Host(lambda gateway: ClustersScreen(gateway), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press(answer)
        await pilot.pause()
        assert app.screen is screen
        assert store.review(SEED_004) is None
        assert store.review(COPY_004).status == "changes_requested"
        assert _prompts(screen, "#cluster-list")[0].endswith("1 pending · 1 changes requested")
        await pilot.press("q")
        await pilot.pause()
    assert app.results == [ClustersResult(None, [])]


async def test_enter_moves_to_the_posts_then_opens_the_highlighted_post(store):
    app = Host(lambda gateway: ClustersScreen(gateway), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        assert screen.query_one("#cluster-list").has_focus
        await pilot.press("enter")  # on the cluster list: focus goes to its posts
        await pilot.pause()
        assert screen.query_one("#cluster-members").has_focus
        assert app.results == []
        await pilot.press("down", "enter")
        await pilot.pause()
    assert app.results == [ClustersResult(COPY_004, [])]


async def test_tab_switches_lists_and_a_click_opens_a_post(store):
    app = Host(lambda gateway: ClustersScreen(gateway), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        await pilot.press("tab")
        assert screen.query_one("#cluster-members").has_focus
        await pilot.press("tab")
        assert screen.query_one("#cluster-list").has_focus
        await pilot.press("c")
        await pilot.press("y")
        await pilot.pause()
        assert store.review(SEED_004).status == "changes_requested"
        await pilot.click("#cluster-members", offset=(4, 1))  # row 0 is the border
        await pilot.pause()
    assert app.results == [ClustersResult(SEED_004, [SEED_004, COPY_004])]


async def test_no_cluster_among_the_five_seeds_shows_the_empty_state(seeds_store):
    assert seeds_store.clusters() == []
    app = Host(lambda gateway: ClustersScreen(gateway), store=seeds_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        assert _static(screen, "#clusters-header").startswith("0 near-duplicate clusters · 0 posts")
        empty = screen.query_one("#clusters-empty", Static)
        assert empty.display
        assert str(empty.content) == (
            "No near duplicates: no two posts score above the threshold "
            f"({NEAR_DUPLICATE_THRESHOLD} of 100)."
        )
        await pilot.press("a")  # nothing to decide: no confirm, no write
        await pilot.pause()
        assert app.screen is screen
        assert seeds_store.reviews() == {}
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [ClustersResult(None, [])]


async def test_hostile_titles_show_literally(hostile_store):
    app = Host(lambda gateway: ClustersScreen(gateway), store=hostile_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        shown = "[bold red]not bold[/bold red] [link=file:///etc/passwd]x[/link] end"
        [cluster] = _prompts(screen, "#cluster-list")
        assert cluster.startswith(f"2 posts  {shown}\n")
        members = _prompts(screen, "#cluster-members")
        assert len(members) == 2
        assert all(m.endswith(shown) for m in members)
        assert not any("\x1b" in m or "\x07" in m for m in [cluster, *members])


async def test_only_the_largest_clusters_are_listed_with_a_note(store, tmp_path):
    seeds = tmp_path / "more"
    seeds.mkdir()
    shutil.copy(DATA / "004_near_copy.txt", seeds)
    for name in ("900.txt", "901.txt"):
        ref = f"anp-ref-999999-000{name[2]}"
        (seeds / name).write_text(HOSTILE_SEED.format(ref=ref), encoding="utf-8")
    assert store.import_paths([seeds]).ok
    assert len(store.clusters()) == 2
    app = Host(lambda gateway: ClustersScreen(gateway, max_clusters=1), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        header = _static(screen, "#clusters-header")
        assert header.startswith("2 near-duplicate clusters · 4 posts (showing the 1 largest)")
        assert screen.query_one("#cluster-list", OptionList).option_count == 1


# -- a family of FAMILY_COPIES + 1 near copies in a synthesized corpus (issue 18) ---------


@pytest.fixture(scope="module")
def family_template(tmp_path_factory):
    return build_family_store(tmp_path_factory.mktemp("family"))


@pytest.fixture
def family(family_template, tmp_path, monkeypatch):
    """(store, the family's ids sorted as the screen lists them)."""
    monkeypatch.setenv("COPYDESK_REVIEWER", "alice")
    db, _source, _copies = family_template
    with Store.open(copy_store_files(db, tmp_path / "family")) as s:
        [members] = [c for c in s.clusters() if len(c) == FAMILY_COPIES + 1]
        yield s, members


async def _open_family(app, pilot) -> ClustersScreen:
    """Settle, check the family is the first cluster, and focus its posts."""
    await _settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, ClustersScreen)
    assert len(screen.clusters[0].members) == FAMILY_COPIES + 1
    await pilot.press("tab")
    assert screen.member_list.has_focus
    await _settle(app, pilot)
    return screen


def _marks(screen) -> list[str]:
    return [prompt[0] for prompt in _prompts(screen, "#cluster-members")]


async def test_the_family_has_more_posts_than_its_list_shows(family):
    store, members = family
    app = Host(lambda gateway: ClustersScreen(gateway), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_family(app, pilot)
        member_list = screen.member_list
        assert member_list.option_count == len(members) > member_list.size.height
        for _ in range(len(members) - 1):
            await pilot.press("j")
        await _settle(app, pilot)
        assert member_list.highlighted == len(members) - 1
        assert member_list.scroll_offset.y > 0  # the last row scrolled into view
        await pilot.press("k")  # k moves up here too (K keeps)
        await _settle(app, pilot)
        assert member_list.highlighted == len(members) - 2
        assert app.screen is screen and store.reviews() == {}


async def test_keep_after_confirm_then_u_restores_every_review_exactly(family):
    store, members = family
    store.set_review(members[3], "changes_requested", "fix the intro")
    store.set_review(members[5], "approved", "")
    store.set_review(members[7], "rejected", "line one\n" + duplicate_note(members[9]))
    before = {post_id: store.review(post_id) for post_id in members}
    app = Host(lambda gateway: ClustersScreen(gateway), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_family(app, pilot)
        order = [m.id for m in screen.clusters[0].members]
        marks_before = _marks(screen)
        steps = 15  # below the rows the list shows at first
        for _ in range(steps):
            await pilot.press("down")
        keeper = order[steps]
        await _settle(app, pilot)
        await pilot.press("K")
        await _settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        question = _static(app.screen, "#confirm-question")
        title = store.summary(keeper).title
        assert question.startswith(f'Keep {keeper} "{title}"?')
        assert f"the {FAMILY_COPIES} other posts of its cluster are rejected as" in question
        assert "u undoes it" in question
        await pilot.press("y")
        await _settle(app, pilot)
        assert app.screen is screen
        # the store: the keeper approved, every other member rejected naming it
        assert store.review(keeper).status == "approved"
        for post_id in members:
            if post_id == keeper:
                continue
            review = store.review(post_id)
            assert review.status == "rejected"
            assert review.note.split("\n")[-1] == duplicate_note(keeper)
        assert store.review(members[3]).note == "fix the intro\n" + duplicate_note(keeper)
        assert store.review(members[7]).note == "line one\n" + duplicate_note(keeper)
        # the rows in place, the header says what happened and how to undo it
        assert _marks(screen) == ["✓" if i == keeper else "✗" for i in order]
        assert _prompts(screen, "#cluster-list")[0].endswith(
            f"1 approved · {FAMILY_COPIES} rejected"
        )
        assert screen.flash == (
            f"Kept {keeper} (approved); {FAMILY_COPIES} posts rejected as its duplicates. "
            "u undoes it."
        )
        assert screen.member_list.highlighted == steps
        await pilot.press("u")
        await _settle(app, pilot)
        assert {post_id: store.review(post_id) for post_id in members} == before
        assert _marks(screen) == marks_before
        assert screen.flash == f"Undid keeping {keeper}: {len(members)} posts back as they were"
        await pilot.press("escape")
        await _settle(app, pilot)
    [result] = app.results
    assert result.open_id is None and sorted(result.changed_ids) == sorted(members)


@pytest.mark.parametrize("answer", ["n", "escape"])
async def test_declining_the_keep_changes_nothing(family, answer):
    store, members = family
    app = Host(lambda gateway: ClustersScreen(gateway), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_family(app, pilot)
        await pilot.press("K")
        await _settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press(answer)
        await _settle(app, pilot)
        assert app.screen is screen
        assert store.reviews() == {}
        assert set(_marks(screen)) == {"·"}
        await pilot.press("q")
        await _settle(app, pilot)
    assert app.results == [ClustersResult(None, [])]


async def test_k_on_the_cluster_list_only_moves_up(family):
    """K keeps only from the post list; the cluster list keeps its list keys."""
    store, _members = family
    app = Host(lambda gateway: ClustersScreen(gateway), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        assert screen.cluster_list.has_focus
        await pilot.press("K")
        await _settle(app, pilot)
        assert app.screen is screen and store.reviews() == {}


async def test_a_x_c_on_the_post_list_decide_only_the_highlighted_post(family):
    store, members = family
    app = Host(lambda gateway: ClustersScreen(gateway), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_family(app, pilot)
        order = [m.id for m in screen.clusters[0].members]
        footer_keys = {b.binding.id for b in screen.active_bindings.values() if b.binding.show}
        assert {"cluster_post_approve", "clusters_keep", "cluster_undo"} <= footer_keys
        assert "cluster_approve" not in footer_keys  # a is one post's here
        await pilot.press("down", "down")
        await pilot.press("a")
        await _settle(app, pilot)
        assert store.reviews().keys() == {order[2]}
        assert store.review(order[2]).status == "approved"
        assert _marks(screen)[2] == "✓" and _marks(screen).count("·") == FAMILY_COPIES
        assert screen.member_list.highlighted == 3  # on to the next pending post
        assert screen.flash == f"{order[2]}: approved"
        await pilot.press("u")  # undoes that one decision
        await _settle(app, pilot)
        assert store.reviews() == {}
        await pilot.press("c")  # order[3], nothing decided: no question
        await _settle(app, pilot)
        assert app.screen is screen
        assert store.review(order[3]).status == "changes_requested"
        assert store.reviews().keys() == {order[3]}
        await pilot.press("escape")
        await _settle(app, pilot)
    [result] = app.results
    assert result.changed_ids == [order[2], order[3]]


async def test_deciding_one_post_against_a_decided_near_copy_asks_first(family):
    store, members = family
    store.set_review(members[1], "rejected", "thin")
    app = Host(lambda gateway: ClustersScreen(gateway), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_family(app, pilot)
        order = [m.id for m in screen.clusters[0].members]
        target = next(i for i, post_id in enumerate(order) if post_id != members[1])
        screen.member_list.highlighted = target
        await _settle(app, pilot)
        await pilot.press("a")
        await _settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        question = _static(app.screen, "#confirm-question")
        assert question.startswith(f"Mark {order[target]} as approved anyway?")
        other_title = store.summary(members[1]).title
        assert f'Its near duplicate {members[1]} "{other_title}"' in question
        assert "is rejected." in question
        await pilot.press("n")
        await _settle(app, pilot)
        assert store.reviews().keys() == {members[1]}
        assert screen.flash == f"Nothing saved: {order[target]} is as it was"
        await pilot.press("a")
        await _settle(app, pilot)
        await pilot.press("y")
        await _settle(app, pilot)
        assert store.review(order[target]).status == "approved"
        assert store.review(members[1]).status == "rejected"


async def test_the_preview_shows_the_highlighted_post(family):
    store, members = family
    app = Host(lambda gateway: ClustersScreen(gateway), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_family(app, pilot)
        order = [m.id for m in screen.clusters[0].members]
        first = store.get(order[0])
        paragraph = next(b["text"] for b in first.body if b["type"] == "paragraph")
        shown = flat(static_text(screen.preview))
        assert shown.startswith(flat(first.title))
        assert flat(paragraph)[:60] in shown
        for _ in range(12):
            await pilot.press("j")
        await _settle(app, pilot)
        assert screen.preview_id == order[12]
        assert flat(static_text(screen.preview)).startswith(flat(store.summary(order[12]).title))
        await pilot.press("tab")  # the cluster list: next cluster
        await pilot.press("j")
        await _settle(app, pilot)
        second = screen.clusters[1].members[0]
        assert screen.preview_id == second.id
        assert flat(static_text(screen.preview)).startswith(flat(second.title))


async def test_the_preview_shows_a_hostile_body_literally(hostile_store):
    app = Host(lambda gateway: ClustersScreen(gateway), store=hostile_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        shown = static_text(app.screen.preview)
        assert "[bold red]not bold[/bold red]" in shown
        assert "\x1b" not in shown and "\x07" not in shown
        assert "this paragraph says the same thing in both copies" in shown


def test_clusters_screen_snapshot(family, snap_compare):
    """The family's posts (more than the list shows), the third highlighted and previewed."""
    store, members = family
    store.set_review(members[1], "approved", "")

    async def run_before(pilot):
        await _open_family(pilot.app, pilot)
        await pilot.press("down", "down")
        await _settle(pilot.app, pilot)

    app = Host(lambda gateway: ClustersScreen(gateway), store=store)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


async def test_keep_and_undo_keys_are_remappable(family):
    store, _members = family
    app = Host(lambda gateway: ClustersScreen(gateway), store=store)
    remap = {"clusters_keep": "f5", "cluster_undo": "z"}
    app.keymap_overrides = remap
    app.set_keymap(remap)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_family(app, pilot)
        header = _static(screen, "#clusters-header")
        assert "f5 keep one" in header and "z undo" in header
        await pilot.press("u")  # no longer undo: nothing happens, nothing said
        await pilot.press("K")
        await _settle(app, pilot)
        assert app.screen is screen and screen.flash == ""
        await pilot.press("z")
        await _settle(app, pilot)
        assert screen.flash == "Nothing to undo"
        await pilot.press("f5")
        await _settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert _static(app.screen, "#confirm-question").endswith("z undoes it.")
        await pilot.press("y")
        await _settle(app, pilot)
        assert screen.flash.endswith("z undoes it.")
        assert len(store.reviews()) == FAMILY_COPIES + 1
        await pilot.press("z")
        await _settle(app, pilot)
        assert store.reviews() == {}
