"""The "Near duplicates" view, hosted by a minimal App (no main app)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import OptionList, Static
from tui_support import Host

from storage import Store, samples_dir
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


def test_clusters_screen_snapshot(store, snap_compare):
    store.set_review(SEED_004, "approved", "")

    async def run_before(pilot):
        await _settle(pilot.app, pilot)

    app = Host(lambda gateway: ClustersScreen(gateway), store=store)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
