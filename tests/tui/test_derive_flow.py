"""A store opened with import phase 2 unfinished (an import stopped after the posts were
stored): the panes say what is still being computed instead of answering from half-built
state, the review screen finishes the work in a child process with its progress on the
status line, and quitting stops that child."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from tui_support import flat, static_text

from seeds.synth import synthesize
from storage import Store
from storage.local import store_imports
from tui import derive_flow
from tui.cli import main
from tui.cli.posts import EXIT_BUSY
from tui.derive_flow import DeriveFlow
from tui.widgets.flags_pane import PENDING_HINTS, FlagsPane
from tui.widgets.post_panes import SIMILAR_PENDING
from tui.widgets.similar_pane import SimilarPane
from tui.widgets.status_bar import StatusBar

MANY_POSTS = 60  # more rows than a 120x40 post list shows


@pytest.fixture
def half_imported(tmp_path: Path, monkeypatch) -> Path:
    """MANY_POSTS posts stored and searchable, their hints and similarity still to do."""
    synthesize(MANY_POSTS, tmp_path / "seeds", seed=11)
    db = tmp_path / "db" / "db.json"
    # committed before their hints and similarity, as a big import's posts are
    monkeypatch.setattr(store_imports, "DERIVE_BEFORE_COMMIT", 0)
    with Store.open(db) as store:
        assert store.import_paths([tmp_path / "seeds"], derive=False).ok
        assert store.derived_pending == MANY_POSTS
    return db


def similar_text(app) -> str:
    pane = app.screen.query_one(SimilarPane)
    return "\n".join(str(pane.get_option_at_index(i).prompt) for i in range(pane.option_count))


async def wait_until(pilot, check, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not shown in time"
        await pilot.pause(0.05)


async def test_panes_say_what_is_still_being_computed(half_imported, make_app, settle, monkeypatch):
    monkeypatch.setattr(DeriveFlow, "start", lambda self: None)  # phase 2 left pending
    with Store.open(half_imported) as store:
        app = make_app(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert app.screen.post_list.row_count > 20  # more rows than the screen shows
            assert similar_text(app) == SIMILAR_PENDING  # not "no similar posts"
            flags = flat(static_text(app.screen.query_one(FlagsPane)))
            assert PENDING_HINTS in flags
            await pilot.press("j")
            await settle(pilot)
            assert similar_text(app) == SIMILAR_PENDING


async def test_the_screen_finishes_phase_two_with_progress_then_shows_similar_posts(
    half_imported, make_app, settle
):
    seen: list[str] = []
    with Store.open(half_imported) as store:
        app = make_app(store)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            bar = screen.query_one(StatusBar)

            def done() -> bool:
                if screen.background_work:
                    seen.append(str(bar.text))
                return store.derived_pending == 0 and not screen.background_work

            await wait_until(pilot, done)
            await settle(pilot)
            assert any("hints & similar" in line and f"/{MANY_POSTS}" in line for line in seen)
            shown = similar_text(app)
            assert shown != SIMILAR_PENDING and "no similar posts" not in shown
            post_id = screen.post_list.highlighted_id
            first = store.similar(post_id, limit=1)[0]
            assert first.title[:20] in shown
            assert PENDING_HINTS not in flat(static_text(screen.query_one(FlagsPane)))
    with Store.open(half_imported) as again:
        assert again.derived_pending == 0  # the child's work is in the store


# A child that stays (it has a child of its own): what quitting must not leave behind
SLOW_CHILD = "import subprocess, time; subprocess.Popen(['sleep', '60']); time.sleep(60)"


async def test_quitting_stops_the_child_and_all_it_started(half_imported, make_app, monkeypatch):
    started: list[int] = []
    real_exec = asyncio.create_subprocess_exec

    async def slow(program, *args, **kwargs):
        assert args[:3] == ("-m", "tui.cli", "finish-import")  # what the screen runs
        process = await real_exec(program, "-c", SLOW_CHILD, **kwargs)
        started.append(process.pid)
        return process

    monkeypatch.setattr(derive_flow.asyncio, "create_subprocess_exec", slow)
    with Store.open(half_imported) as store:
        app = make_app(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: bool(started))
            await pilot.pause(0.3)  # the grandchild is started
            assert app.screen.background_work.startswith("hints & similar")
        group = started[0]  # the child leads a process group of its own
        deadline = time.monotonic() + 5
        while _group_alive(group):
            assert time.monotonic() < deadline, "finish-import or its children outlived the app"
            time.sleep(0.05)
        assert store.derived_pending == MANY_POSTS  # stopped, nothing half-written
    result = CliRunner().invoke(main, ["--db", str(half_imported), "finish-import"])
    assert result.exit_code == 0, result.output
    assert f"hints and similar posts done for {MANY_POSTS} posts" in result.output


def _group_alive(group: int) -> bool:
    try:
        os.waitpid(group, os.WNOHANG)  # reap the child if it is ours to reap
    except ChildProcessError:
        pass
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_finish_import_cli_prints_progress_lines_then_has_nothing_to_do(half_imported):
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(half_imported), "finish-import", "--progress-lines"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[-2] == f"progress {MANY_POSTS} {MANY_POSTS}"
    assert lines[-1].startswith(f"hints and similar posts done for {MANY_POSTS} posts")
    again = runner.invoke(main, ["--db", str(half_imported), "finish-import"])
    assert again.exit_code == 0
    assert "nothing to finish" in again.stdout
    with Store.open(half_imported) as store:
        assert store.derived_pending == 0
        assert store.search_ids("hint:repeated_sentence", None)  # hint: now answers


def test_finish_import_no_wait_exits_busy_while_another_import_runs(half_imported):
    import filelock

    with filelock.FileLock(str(half_imported) + ".import.lock"):
        result = CliRunner().invoke(
            main, ["--db", str(half_imported), "finish-import", "--no-wait"]
        )
    assert result.exit_code == EXIT_BUSY
    assert "another copydesk is computing" in result.stderr
    with Store.open(half_imported) as store:
        assert store.derived_pending == MANY_POSTS


def test_review_cli_saves_and_says_the_near_duplicates_are_not_checked_yet(half_imported):
    # tui/cli/posts.py tells DerivedPendingError from other store errors without importing
    # storage.catalog itself
    with Store.open(half_imported) as store:
        post_id = store.ids()[0]
    result = CliRunner().invoke(
        main, ["--db", str(half_imported), "review", post_id, "--status", "approved"]
    )
    assert result.exit_code == 0, result.output
    assert "near duplicates not checked" in result.stderr
    assert result.stdout.startswith(f"{post_id}: approved")
    with Store.open(half_imported) as store:
        assert store.review(post_id).status == "approved"
