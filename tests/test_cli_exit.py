"""The console script ends its process with the command's exit code and its output
flushed, without freeing what the command held object by object (``tui.cli.run``)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from storage import samples_dir

REPO = Path(__file__).resolve().parents[1]

# an atexit handler stands for the interpreter's teardown: os._exit skips both
WITH_TEARDOWN_MARK = (
    "import atexit, sys; atexit.register(lambda: print('torn down', file=sys.stderr)); "
    "sys.argv = ['copydesk', *sys.argv[1:]]; from tui.cli import run; run()"
)


def _copydesk(*args: str, db: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, COPYDESK_DB=str(db), COPYDESK_REVIEWER="tester")
    return subprocess.run(
        [sys.executable, "-c", WITH_TEARDOWN_MARK, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        input=stdin,
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("exit") / "db.json"
    done = _copydesk("import", str(samples_dir()), db=db)
    assert done.returncode == 0, done.stderr
    return db


def test_a_command_ends_with_its_output_and_without_teardown(db):
    listed = _copydesk("list", db=db)
    assert listed.returncode == 0
    assert len(listed.stdout.splitlines()) >= 5  # every line written out before the end
    assert "torn down" not in listed.stderr


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["show", "no-such-post"], 1, "no post with id 'no-such-post'"),
        (["--no-such-option"], 2, "No such option"),
        (["list", "--query", "nosuchfield:1"], 2, "bad query"),
        (["--version"], 0, ""),
    ],
)
def test_the_exit_code_and_message_are_the_commands(db, args, code, said):
    done = _copydesk(*args, db=db)
    assert done.returncode == code
    assert said in done.stderr
    assert "torn down" not in done.stderr and "Traceback" not in done.stderr


def test_a_decision_made_is_on_disk_after_the_quick_end(db):
    post = _copydesk("list", db=db).stdout.split()[1]
    done = _copydesk("review", post, "--status", "rejected", "--note", "quick end", db=db)
    assert done.returncode == 0, done.stderr
    shown = _copydesk("show", post, db=db)
    assert "rejected" in shown.stdout and "quick end" in shown.stdout


def test_output_cut_short_by_the_reader_is_no_error(db):
    done = subprocess.run(
        f"{shlex.quote(sys.executable)} -c {shlex.quote(WITH_TEARDOWN_MARK)} list | head -n 1",
        shell=True,
        cwd=REPO,
        capture_output=True,
        text=True,
        env=dict(os.environ, COPYDESK_DB=str(db)),
        timeout=120,
    )
    assert len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and "Exception" not in done.stderr
