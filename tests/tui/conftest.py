"""Fixtures for the TUI tests: a real store on the five sample seeds, in a tmp dir."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from textual.app import App
from textual.screen import Screen
from textual.worker import WorkerCancelled, WorkerState
from tui_support import HOSTILE_TITLE

from storage import Store
from tui.app import CopydeskApp, create_app

SAMPLES = Path(__file__).resolve().parents[2] / "seeds" / "samples"

HOSTILE_SEED = (
    HOSTILE_TITLE
    + "\n\n"
    + "this paragraph has [bold]fake bold[/bold] and [link=file:///etc/passwd]a link[/link] "
    + "and \x1b]8;;https://evil.example\x07click\x1b]8;;\x07 with a bell\x07 here.\n\n"
    + "alphanode post meta\n\n"
    + "topic[red]hostile[/red] / markup\n"
    + "referenceanp-ref-999999-0001[/][bold]\n"
    + "flags\n"
    + "  \u2022 ai generated style: 0\n"
    + "  \u2022 has images: 0\n"
    + "  \u2022 image heavy: 0\n"
    + "  \u2022 needs human review: 1\n"
)


@pytest.fixture(autouse=True)
def no_fsync(monkeypatch):
    """fsync costs ~15 ms a call on CI disks; durability is tested in tests/reliability and
    tests/storage/test_jsonstore.py, not through the screens."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


@pytest.fixture(autouse=True)
def _fixed_reviewer(monkeypatch):
    monkeypatch.setenv("COPYDESK_REVIEWER", "test-reviewer")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db.json"


@pytest.fixture
def store(db_path: Path):
    store = Store.open(db_path)
    report = store.import_paths([SAMPLES])
    assert report.ok and len(report.imported) == 5
    yield store
    store.close()


@pytest.fixture
def hostile_store(tmp_path: Path, db_path: Path):
    seeds_dir = tmp_path / "seeds"
    seeds_dir.mkdir()
    (seeds_dir / "900_hostile.txt").write_text(HOSTILE_SEED, encoding="utf-8")
    store = Store.open(db_path)
    assert store.import_paths([seeds_dir]).ok
    yield store
    store.close()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    path = tmp_path / "config"
    path.mkdir()
    return path


@pytest.fixture
def make_app(config_dir: Path):
    def make(store) -> CopydeskApp:
        return create_app(store, config_dir=config_dir)

    return make


@pytest.fixture
def settle():
    return settle_app


def _counts(app, worker) -> bool:
    """A worker settle waits for: not the store poll, and not one of a screen under the
    active one (it may be waiting for that screen to close: a note, a confirm)."""
    if worker.group == "poll":
        return False
    node = worker.node
    screen = node if isinstance(node, Screen) else getattr(node, "screen", None)
    return screen is None or screen is app.screen or isinstance(node, App)


async def wait_for_workers(app) -> None:
    """Wait for every started worker except the store poll; cancelled ones are fine
    (an exclusive worker is cancelled by a newer one)."""
    for worker in list(app.workers):
        if not _counts(app, worker) or worker.state == WorkerState.PENDING:
            continue
        try:
            await worker.wait()
        except WorkerCancelled:
            pass


def _quiet(app) -> bool:
    """No store call queued or running, no post being prepared or rendered."""
    gateway = getattr(app, "gateway", None)
    if gateway is not None and not gateway.idle:
        return False
    for screen in app.screen_stack:
        preparer = getattr(screen, "preparer", None)
        if preparer is not None and not preparer.idle:
            return False
    return not any(view.rendering for view in app.screen.query("LineView"))


async def settle_app(pilot) -> None:
    """Wait until the workers, the store thread and the post preparer have all finished
    and their results are on screen (results can start new work, hence the loop)."""
    app = pilot.app
    for _ in range(400):
        await pilot.pause()
        await wait_for_workers(app)
        await pilot.pause()
        busy = [w for w in app.workers if w.is_running and _counts(app, w)]
        if not busy and _quiet(app):
            await pilot.pause()
            if _quiet(app) and not [w for w in app.workers if w.is_running and _counts(app, w)]:
                return
        await asyncio.sleep(0.005)
    raise AssertionError("the app did not settle")


MANY_POSTS = 60  # more rows than a 120x40 (or 200x50) post list shows


@pytest.fixture(scope="session")
def many_template(tmp_path_factory) -> Path:
    """A store of MANY_POSTS synthesized posts, imported once per test session."""
    from seeds.synth import synthesize

    root = tmp_path_factory.mktemp("many")
    synthesize(MANY_POSTS, root / "seeds", seed=11)
    with Store.open(root / "db" / "db.json") as store:
        assert store.import_paths([root / "seeds"]).ok
    return root / "db"


@pytest.fixture
def many_db(many_template: Path, tmp_path: Path) -> Path:
    """A copy of the many-posts store for one test (decisions write to it)."""
    import shutil

    target = tmp_path / "many"
    target.mkdir()
    shutil.copy2(many_template / "db.json", target / "db.json")
    shutil.copytree(many_template / "db.json.d", target / "db.json.d")
    return target / "db.json"


@pytest.fixture
def many_store(many_db: Path):
    store = Store.open(many_db)
    yield store
    store.close()
