"""Which files an import reads: named paths that cannot be used are per-path errors, and
what a directory walk passes over is listed with its reason (never silently)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from storage import Store, samples_dir
from storage.files import DANGLING, LINKED_DIRECTORY, LOOP, collect, collect_names


def _tree(root: Path) -> None:
    (root / "sub").mkdir()
    (root / "sub" / "a.txt").write_text("a")
    (root / "b.txt").write_text("b")
    os.mkfifo(root / "fifo.txt")
    (root / "null.txt").symlink_to("/dev/null")
    (root / "dangling.txt").symlink_to(root / "nowhere")
    (root / "loop.txt").symlink_to(root / "loop.txt")
    (root / "linked").symlink_to(root / "sub")
    (root / "linked.txt").symlink_to(root / "sub")
    (root / "good-link.txt").symlink_to(root / "b.txt")  # the same file as b.txt: once
    (root / "other.md").write_text("not *.txt")
    os.mkfifo(root / "fifo.md")  # not *.txt: not ours to mention


def test_a_walk_names_everything_it_skips_and_why(tmp_path):
    _tree(tmp_path)
    collected = collect([tmp_path])
    assert collected.names == [str(tmp_path / "b.txt"), str(tmp_path / "sub" / "a.txt")]
    assert collected.errors == []
    assert {Path(s.path).name: s.reason for s in collected.skipped} == {
        "dangling.txt": DANGLING,
        "fifo.txt": "a FIFO (named pipe), not a regular file",
        "linked": LINKED_DIRECTORY,
        "linked.txt": LINKED_DIRECTORY,
        "loop.txt": LOOP,
        "null.txt": "a character device, not a regular file",
    }


def test_named_paths_that_cannot_be_imported_are_errors_with_the_real_reason(tmp_path):
    _tree(tmp_path)
    named = ["fifo.txt", "null.txt", "dangling.txt", "loop.txt", "missing.txt", "b.txt"]
    collected = collect([tmp_path / name for name in named])
    assert collected.names == [str(tmp_path / "b.txt")]
    assert {Path(e.path).name: e.reason for e in collected.errors} == {
        "fifo.txt": "a FIFO (named pipe), not a regular file",
        "null.txt": "a character device, not a regular file",
        "dangling.txt": DANGLING,
        "loop.txt": LOOP,  # a loop is not "no such file"
        "missing.txt": "no such file or directory",
    }


def test_collect_names_hands_a_collected_back_without_a_second_walk(tmp_path):
    _tree(tmp_path)
    collected = collect([tmp_path])
    names, errors = collect_names(collected)
    assert names is collected.names and errors is collected.errors
    assert list(collected) == collected.names  # a plain iterable of names too


def _release(fifo: Path) -> None:
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


def test_a_file_swapped_for_a_fifo_after_the_walk_is_one_error_and_the_rest_import(tmp_path):
    corpus = tmp_path / "in"
    corpus.mkdir()
    samples = sorted(samples_dir().glob("*.txt"))
    for sample in samples:
        (corpus / sample.name).write_bytes(sample.read_bytes())
    collected = collect([corpus])
    last = Path(collected.names[-1])
    last.unlink()
    os.mkfifo(last)  # open() of it would wait for a writer forever
    # A reader that does wait is let go after 20 s (a writer opens and closes the FIFO):
    # the test then fails on the message instead of hanging the suite.
    watchdog = threading.Timer(20, _release, [last])
    watchdog.start()
    try:
        with Store.open(tmp_path / "db.json") as store:
            report = store.import_paths(collected)
    finally:
        watchdog.cancel()
    assert len(report.imported) == len(samples) - 1
    assert [str(e) for e in report.errors] == [f"{last}: a FIFO (named pipe), not a regular file"]
