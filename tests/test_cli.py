"""The copydesk CLI: import/list/show/review, --db placement, exit codes, clear errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from storage import Store, samples_dir
from tui.cli import COMMANDS, main

NEEDS_REVIEW = {"anp-ref-003275-2123", "anp-ref-013900-8738", "anp-ref-012395-2485"}


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def db(tmp_path, runner):
    path = tmp_path / "db.json"
    result = runner.invoke(main, ["import", str(samples_dir()), "--db", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_import_reports_a_summary_and_is_idempotent(runner, tmp_path):
    db = tmp_path / "db.json"
    first = runner.invoke(main, ["--db", str(db), "import", str(samples_dir())])
    assert first.exit_code == 0
    assert "5 imported, 0 updated, 0 unchanged, 0 failed" in first.output
    again = runner.invoke(main, ["--db", str(db), "import", str(samples_dir())])
    assert "0 imported, 0 updated, 5 unchanged, 0 failed" in again.output
    with Store.open(db) as store:
        assert len(store) == 5


def test_import_names_each_bad_file_and_exits_1_with_good_files_imported(runner, tmp_path):
    corpus = tmp_path / "in"
    shutil.copytree(samples_dir(), corpus)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "blob.txt").write_bytes(bytes(range(256)) * 4)
    (corpus / "latin.txt").write_bytes("r\xe9sum\xe9\n\nbody.\n".encode("latin-1"))
    db = tmp_path / "db.json"
    result = runner.invoke(main, ["import", str(corpus), "--db", str(db)])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if not line.startswith("warning")]
    assert sorted(line.split(": ", 1)[0].rsplit("/", 1)[1] for line in errors) == [
        "blob.txt",
        "empty.txt",
        "latin.txt",
    ]
    assert "Traceback" not in result.output
    assert "5 imported" in result.stdout
    with Store.open(db) as store:
        assert len(store) == 5


def test_list_json_in_queue_order(runner, db):
    result = runner.invoke(main, ["list", "--json", "--db", str(db)])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [set(r) for r in rows] == [
        {"id", "reference", "title", "topic", "needs_human_review", "status"}
    ] * 5
    assert {r["id"] for r in rows[:3]} == NEEDS_REVIEW
    assert all(r["needs_human_review"] is True for r in rows[:3])
    assert all(r["status"] == "pending" for r in rows)


def test_review_then_list_and_show_reflect_the_decision(runner, db):
    result = runner.invoke(
        main,
        [
            "--db",
            str(db),
            "review",
            "anp-ref-013900-8738",
            "--status",
            "rejected",
            "--note",
            "stale review date",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(runner.invoke(main, ["--db", str(db), "list", "--json"]).stdout)
    assert {r["id"]: r["status"] for r in rows}["anp-ref-013900-8738"] == "rejected"
    shown = json.loads(
        runner.invoke(main, ["show", "anp-ref-013900-8738", "--json", "--db", str(db)]).stdout
    )
    assert set(shown) == {
        "id",
        "reference",
        "title",
        "body",
        "meta",
        "listed_similar",
        "warnings",
        "source",
        "review",
        "hints",
    }
    assert shown["review"]["status"] == "rejected"
    assert shown["review"]["note"] == "stale review date"
    assert shown["meta"]["score"]["quality"] == 89
    assert shown["source"]["path"].endswith("003_282ed83ab9c5fbdd.txt")
    assert isinstance(shown["hints"], list)


def test_show_renders_readably_and_literally(runner, tmp_path):
    doc = tmp_path / "hostile.txt"
    doc.write_text(
        "[bold red]x[/bold red] and [link=file:///etc/passwd]click[/link]\n\n"
        "body with \x1b]0;pwned\x07 an OSC title and [/] a closing tag.\n",
        encoding="utf-8",
    )
    db = tmp_path / "db.json"
    imported = runner.invoke(main, ["--db", str(db), "import", str(doc)])
    post_id = json.loads(runner.invoke(main, ["--db", str(db), "list", "--json"]).stdout)[0]["id"]
    assert imported.exit_code == 0
    result = runner.invoke(main, ["--db", str(db), "show", post_id])
    assert result.exit_code == 0
    assert "[bold red]x[/bold red] and [link=file:///etc/passwd]click[/link]" in result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "[/] a closing tag." in result.stdout


def test_unknown_status_exits_2_with_allowed_values(runner, db):
    result = runner.invoke(
        main, ["--db", str(db), "review", "anp-ref-013900-8738", "--status", "meh"]
    )
    assert result.exit_code == 2
    for status in ("pending", "approved", "rejected", "changes_requested"):
        assert status in result.output


def test_unknown_id_exits_1_with_a_clear_message(runner, db):
    result = runner.invoke(
        main, ["--db", str(db), "review", "anp-ref-nope", "--status", "approved"]
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == "copydesk: no post with id 'anp-ref-nope' in the store"
    shown = runner.invoke(main, ["--db", str(db), "show", "anp-ref-nope"])
    assert shown.exit_code == 1 and "anp-ref-nope" in shown.stderr


def test_db_from_environment(runner, db, monkeypatch):
    monkeypatch.setenv("COPYDESK_DB", str(db))
    rows = json.loads(runner.invoke(main, ["list", "--json"]).stdout)
    assert len(rows) == 5


def test_every_command_has_help(runner):
    for command in ("import", "list", "show", "review", "similar", "clusters", "synth", "export"):
        result = runner.invoke(main, [command, "--help"])
        assert result.exit_code == 0
        assert "Usage: " in result.output
        assert ("--db" in result.output) == (command != "synth")


def test_console_script_is_installed(tmp_path):
    # the real entry point, as a user runs it
    exe = shutil.which("copydesk") or [sys.executable, "-m", "tui.cli"]
    cmd = [exe] if isinstance(exe, str) else exe
    out = subprocess.run(
        [*cmd, "--db", str(tmp_path / "db.json"), "import", str(samples_dir())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    out = subprocess.run(
        [*cmd, "--db", str(tmp_path / "db.json"), "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and len(json.loads(out.stdout)) == 5


@pytest.mark.parametrize("how", ["console script", "python -m"])
def test_an_import_large_enough_for_worker_processes_runs_from_each_entry_point(tmp_path, how):
    # the workers start from multiprocessing's forkserver, which runs the entry point's
    # script as __mp_main__ in each of them: the command must still run once
    from seeds.synth import synthesize
    from storage.analysis import PARALLEL_THRESHOLD

    synthesize(PARALLEL_THRESHOLD, tmp_path / "seeds", seed=5)
    exe = shutil.which("copydesk")
    if how == "console script" and exe is None:
        pytest.skip("the copydesk console script is not on PATH")
    cmd = [exe] if how == "console script" else [sys.executable, "-m", "tui.cli"]
    out = subprocess.run(
        [*cmd, "--db", str(tmp_path / "db.json"), "import", str(tmp_path / "seeds")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("imported") == 1, out.stdout  # the command ran once
    with Store.open(tmp_path / "db.json") as store:
        assert len(store) == PARALLEL_THRESHOLD
        assert store.derived_pending == 0


def test_a_read_only_command_on_a_mistyped_path_is_an_error_and_creates_nothing(runner, tmp_path):
    db = tmp_path / "none" / "none.json"
    result = runner.invoke(main, ["--db", str(db), "list"])
    assert result.exit_code == 1
    assert "no copydesk store here" in result.stderr
    assert not (tmp_path / "none").exists()


def test_every_command_module_s_commands_are_in_the_lazy_table():
    # commands load lazily (tui/cli/__init__.py COMMANDS): one defined in a module of the
    # package but missing from the table would silently not exist
    import importlib
    import pkgutil

    import click

    import tui.cli
    from tui.cli import COMMANDS

    defined = {}
    for info in pkgutil.iter_modules(tui.cli.__path__):
        if info.name == "__main__":
            continue
        module = importlib.import_module(f"tui.cli.{info.name}")
        commands = {
            attribute: value
            for attribute, value in vars(module).items()
            if isinstance(value, click.Command) and value is not main
        }
        inner = {  # `views save`, `db init`: subcommands of a group of the table
            id(sub)
            for group in commands.values()
            if isinstance(group, click.Group)
            for sub in group.commands.values()
        }
        for attribute, command in commands.items():
            if id(command) not in inner:
                defined[command.name] = f"{info.name}:{attribute}"
    assert defined == COMMANDS
    ctx = click.Context(main)
    assert main.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        assert main.get_command(ctx, name).name == name
    assert main.get_command(ctx, "no-such-command") is None


def test_help_lists_every_command_with_its_summary(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    listed = result.output.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed] == sorted(COMMANDS)
    assert any(line.split()[0] == "show" and "Show one post" in line for line in listed)


def test_show_highlights_code_only_for_a_console_that_shows_styles(runner, db):
    # tui/cli/render.py render_post(colour=...): the same characters either way
    post_id = "anp-ref-012395-2485"  # a post with an sql block
    plain = runner.invoke(main, ["--db", str(db), "show", post_id])
    styled = CliRunner(env={"FORCE_COLOR": "1"}).invoke(main, ["--db", str(db), "show", post_id])
    assert plain.exit_code == styled.exit_code == 0
    assert "\x1b" not in plain.output and "\x1b[" in styled.output
    assert re.sub(r"\x1b\[[0-9;]*m", "", styled.output) == plain.output
    code = [line for line in styled.output.splitlines() if "CREATE" in line]
    assert len(code) == 1 and re.search(r"\x1b\[[0-9;]*mCREATE", code[0])  # highlighted

    from rich.console import Console

    from tui.cli.render import render_post

    def shown(colour: bool) -> str:
        console = Console(force_terminal=True, width=100, record=True)
        with Store.open(db, writable=False) as store:
            console.print(render_post(store.get(post_id), colour=colour))
        return console.export_text(styles=True)

    assert shown(True) != shown(False)  # colour=False: no lexer, the code plain
    assert re.sub(r"\x1b\[[0-9;]*m", "", shown(True)) == re.sub(r"\x1b\[[0-9;]*m", "", shown(False))


def test_the_app_in_a_terminal_saves_a_decision_and_quits_at_once(tmp_path):
    # In a terminal copydesk ends with os._exit once the app is gone (freeing a big
    # catalog object by object took seconds): the decision shown must be on disk, and the
    # process must end with 0 and leave the terminal as it found it
    import fcntl
    import os
    import pty
    import select
    import struct
    import termios
    import time

    db = tmp_path / "db.json"
    with Store.open(db) as store:
        assert store.import_samples().ok
        first = store.search_ids("", 1)[0]
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "HOME": str(tmp_path / "home")}
    child = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--db", str(db)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        close_fds=True,
        start_new_session=True,
    )
    os.close(follower)
    screen = b""

    def read_until(done, seconds: float) -> None:
        """Read what the app draws (a terminal nobody reads blocks it) until ``done()``."""
        nonlocal screen
        deadline = time.monotonic() + seconds
        while not done():
            assert time.monotonic() < deadline, screen[-2000:]
            ready, _, _ = select.select([leader], [], [], 0.05)
            if ready:
                try:
                    screen += os.read(leader, 65536)
                except OSError:  # the app is gone and the terminal with it
                    return

    try:
        read_until(lambda: b"needing review" in screen, 60)
        started = time.monotonic()
        read_until(lambda: time.monotonic() - started > 1.0, 5)  # the first post shown
        os.write(leader, b"a")

        def saved() -> bool:
            with Store.open(db, writable=False) as store:
                return store.review(first) is not None

        read_until(saved, 30)
        os.write(leader, b"q")
        read_until(lambda: child.poll() is not None, 30)
        assert child.wait(timeout=5) == 0
        assert b"\x1b[?1049l" in screen  # the app left the alternate screen first
    finally:
        if child.poll() is None:
            child.kill()
        os.close(leader)
    with Store.open(db, writable=False) as store:
        assert store.review(first).status == "approved"


def test_a_warning_while_a_progress_bar_draws_goes_above_it_on_a_line_of_its_own():
    """On a terminal `copydesk import` draws a progress bar on stderr; a warning then (a
    catalog rebuilt, say) goes through the bar's console, whole and literal, instead of
    landing in the middle of the bar's line."""
    import io

    from rich.console import Console
    from rich.progress import Progress

    from tui.cli.common import live_console, warn

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=60, color_system=None)
    with Progress(console=console, transient=True) as bar, live_console(console):
        bar.add_task("importing", total=10)
        warn("/tmp/[bold]x[/bold].json: building the catalog of 100,000 posts\x1b[2J")
    text = out.getvalue()
    line = next(line for line in text.splitlines() if "warning:" in line)
    assert "warning: /tmp/[bold]x[/bold].json: building the catalog" in line  # not markup
    assert "\x1b[2J" not in text  # the post's escape, shown as text
    # the bar's line is cleared first (carriage return, erase line): not after the bar
    assert re.sub(r"^(\r|\x1b\[2K)+", "", line).startswith("warning:")
