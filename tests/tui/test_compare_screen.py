"""The side-by-side comparison screen, hosted by a minimal App (no main app)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.content import Content
from textual.widgets import Footer, Static
from tui_support import HOSTILE_TITLE, Host

from storage import Store
from storage.compare import shared_words_text
from storage.figures import percent
from tui.screens.compare import CompareScreen
from tui.text import clean_line
from tui.widgets.compare_pane import MAX_RENDER_CHARS, SHARED_STYLE, ComparePane

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "seeds" / "samples"
NEAR_COPY = ROOT / "tests" / "data" / "similar" / "004_near_copy.txt"

ORIGINAL_REF = "anp-ref-012395-2485"  # seed 004
COPY_REF = "anp-ref-012396-7001"  # its near copy
OTHER_REF = "anp-ref-019995-4029"  # seed 000


@pytest.fixture(scope="module")
def posts(tmp_path_factory):
    """StoredPost by reference, from a real store of the samples and the near copy."""
    directory = tmp_path_factory.mktemp("compare")
    with Store.open(directory / "db.json") as store:
        report = store.import_paths([SAMPLES, NEAR_COPY])
        assert report.ok and len(report.imported) == 6
        return {row.reference: store.get(row.id) for row in store.search("", limit=None)}


def _host(posts, left=ORIGINAL_REF, right=COPY_REF, **kwargs) -> Host:
    kwargs.setdefault("score", 96)
    kwargs.setdefault("reasons", ["sentences alike 100%", "title 81%", "same topic"])
    return Host(lambda: CompareScreen(posts[left], posts[right], **kwargs))


def _header(screen: CompareScreen) -> str:
    return str(screen.query_one("#compare-header", Static).render())


def _plain(markup: str | None) -> str:
    """A border (sub)title as shown (the getter returns it as markup)."""
    return Content.from_markup(markup or "").plain


def _shared_cells(pane: ComparePane) -> str:
    """The text of every rendered segment drawn in the shared style."""
    return "".join(
        segment.text
        for strip in pane.lines
        for segment in strip
        if segment.style is not None and segment.style.bgcolor == SHARED_STYLE.bgcolor
    )


async def test_header_and_highlighted_panes(posts, settle):
    app = _host(posts)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        header = _header(screen)
        assert ORIGINAL_REF in header and COPY_REF in header
        assert "score 96" in header and "same topic" in header
        left, right = screen.comparison.left, screen.comparison.right
        assert shared_words_text(screen.comparison) in header
        assert f"words shared: {percent(left.fraction)} of left · " in header
        assert f"{percent(right.fraction)} of right" in header
        assert f"{screen.comparison.passages} shared passages" in header
        assert left.fraction > 0.9

        left_pane = screen.query_one("#compare-left", ComparePane)
        right_pane = screen.query_one("#compare-right", ComparePane)
        assert ORIGINAL_REF in _plain(left_pane.border_title)
        assert COPY_REF in _plain(right_pane.border_title)
        assert left_pane.text.startswith(posts[ORIGINAL_REF].title[:30])
        # shared body text is drawn highlighted, the changed titles and the copy's
        # image caption are not
        assert "large content sites need" in _shared_cells(left_pane)
        assert "large content sites need" in _shared_cells(right_pane)
        assert "building a safer" not in _shared_cells(left_pane)
        assert "a safer way to handle" not in _shared_cells(right_pane)
        assert "visual reference 1" in right_pane.text
        assert "visual reference 1" not in _shared_cells(right_pane)
        assert len(left_pane.passage_lines) == left.passages
        assert left_pane.passage_lines == sorted(left_pane.passage_lines)
        assert len(app.screen.query(Footer)) == 1


async def test_template_sharing_posts_highlight_only_template_text(posts, settle):
    app = _host(posts, left=OTHER_REF, right="anp-ref-013900-8738", score=70, reasons=[])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        left_pane = app.screen.query_one("#compare-left", ComparePane)
        shared = _shared_cells(left_pane)
        assert "treat staging as a rehearsal" in shared
        assert "large content sites" in left_pane.text
        assert "large content sites" not in shared
        assert "words shared: " in _header(app.screen)


async def test_n_and_p_scroll_the_focused_pane(posts, settle):
    app = _host(posts)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        pane = app.screen.query_one("#compare-left", ComparePane)
        assert pane.has_focus and pane.scroll_y == 0
        assert pane.max_scroll_y > 0 and pane.passage_lines[-1] > pane.size.height
        positions = []
        for _ in range(6):
            await pilot.press("n")
            await pilot.pause()
            positions.append(pane.scroll_y)
        assert positions[-1] > 0
        assert positions == sorted(positions)
        assert pane.current == 5
        assert f"shared 6/{len(pane.passage_lines)}" in _plain(pane.border_subtitle)
        # the passage scrolled to is at the top of the view (one line of context)
        if pane.scroll_y < pane.max_scroll_y:
            assert pane.scroll_y == pane.passage_lines[5] - 1
        before = pane.scroll_y
        await pilot.press("p")
        await pilot.pause()
        assert pane.current == 4 and pane.scroll_y <= before
        await pilot.press("N")
        await pilot.pause()
        assert pane.current == 3
        # the matching passage came into view on the other side too
        right = app.screen.query_one("#compare-right", ComparePane)
        assert right.current is not None
        assert right.passage_texts[right.current] == pane.passage_texts[3]
        top, height = right.scroll_y, right.scrollable_content_region.height
        line = right.passage_lines[right.current]
        assert top <= line < top + height


async def test_n_past_the_last_passage_notifies(posts, settle):
    app = _host(posts)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.screen.query_one("#compare-left", ComparePane)
        for _ in range(len(pane.passage_lines)):
            await pilot.press("n")
        await pilot.pause()
        assert pane.current == len(pane.passage_lines) - 1
        await pilot.press("n")
        await pilot.pause()
        assert pane.current == len(pane.passage_lines) - 1
        assert any("no shared passage below" in n.message for n in app._notifications)


async def test_tab_switches_side_and_escape_closes(posts, settle):
    app = _host(posts)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        left = app.screen.query_one("#compare-left", ComparePane)
        right = app.screen.query_one("#compare-right", ComparePane)
        assert left.has_focus
        await pilot.press("tab")
        assert right.has_focus
        await pilot.press("n", "n")
        await pilot.pause()
        assert right.current == 1  # the left side follows with its matching passage
        assert left.passage_texts[left.current] == right.passage_texts[1]
        await pilot.press("tab")
        assert left.has_focus
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CompareScreen)
        assert app.results == [None]


@pytest.mark.parametrize("key", ["q", "d"])
async def test_q_and_d_close(posts, key, settle):
    app = _host(posts)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await pilot.pause()
        assert app.results == [None]


async def test_comparing_is_shown_until_the_worker_is_done(posts, monkeypatch, settle):
    import threading

    import tui.screens.compare as compare_module

    release = threading.Event()
    real = compare_module.compare_stored

    def slow(left, right):
        release.wait(10)
        return real(left, right)

    monkeypatch.setattr(compare_module, "compare_stored", slow)
    app = _host(posts)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert "comparing…" in _header(screen)
        assert screen.query_one("#compare-left", ComparePane).text == "comparing…"  # no lines yet
        await pilot.press("n")  # a key while comparing does not fail
        await pilot.pause()
        release.set()
        await settle(pilot)
        assert "comparing…" not in _header(screen)
        assert shared_words_text(screen.comparison) in _header(screen)


async def test_hostile_title_shows_literally(posts, settle):
    left = replace(posts[ORIGINAL_REF], title=HOSTILE_TITLE, reference="ref[/]x[bold]y")
    right = replace(posts[COPY_REF], title=HOSTILE_TITLE)
    app = Host(lambda: CompareScreen(left, right, reasons=["[red]r[/red]"]))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.screen.query_one("#compare-left", ComparePane)
        expected = clean_line(HOSTILE_TITLE, max_chars=None)
        assert "[bold red]x[/bold red]" in expected and "\x1b" not in expected
        shown = "".join(pane.text.split())  # wrapping drops spaces at line ends
        assert shown.startswith("".join(expected.split()))
        assert "\x1b" not in pane.text and "PWNED" not in pane.text
        # same titles on both sides: the whole (cleaned) title is shared
        assert "[link=file:///etc/passwd]x[/link]" in _shared_cells(pane)
        assert _plain(pane.border_title).startswith("ref[/]x[bold]y")
        assert "ref[/]x[bold]y" in _header(app.screen)
        assert "[red]r[/red]" in _header(app.screen)


async def test_a_big_body_is_truncated(posts, settle):
    base = posts[ORIGINAL_REF]
    big = replace(base, body=base.body * 150)  # ~330,000 characters
    app = Host(lambda: CompareScreen(big, posts[COPY_REF]))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.screen.query_one("#compare-left", ComparePane)
        assert "(truncated" in pane.text
        rendered = sum(len(line) for line in pane.text.split("\n"))
        assert rendered < MAX_RENDER_CHARS * 1.3
        assert "truncated" in _plain(pane.border_subtitle)
        # the percentages cover the whole post
        assert app.screen.comparison.left.passages > len(pane.passage_lines)
        await pilot.press("n")
        await pilot.pause()
        assert pane.current == 0


async def test_empty_posts(posts, settle):
    left = replace(posts[ORIGINAL_REF], title="", body=[])
    right = replace(posts[COPY_REF], title="", body=[])
    app = Host(lambda: CompareScreen(left, right))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        header = _header(app.screen)
        assert "words shared: 0% of left · 0% of right" in header
        assert "0 shared passages" in header
        pane = app.screen.query_one("#compare-left", ComparePane)
        assert "nothing shared" in _plain(pane.border_subtitle)
        await pilot.press("n")
        await pilot.pause()
        assert any("nothing shared" in n.message for n in app._notifications)


def test_snapshot_compare_120x40(posts, settle, snap_compare):
    async def run_before(pilot):
        await settle(pilot)

    assert snap_compare(_host(posts), terminal_size=(120, 40), run_before=run_before)
