"""Only regular files are read, never more than a limit: a FIFO, a device or a huge file is
one clear reason, at once (the FIFO cases run in a child process: a hang fails by timeout)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

import seeds
from seeds.regular_file import MAX_SEED_BYTES, UnreadableFile, read_regular_file

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "seeds" / "samples" / "000_d88866b715cabc30.txt"


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))


def _in_child(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a child with 2 GiB of address space and a minute: a reader that
    waits on a FIFO or reads /dev/zero forever fails the test, not the machine."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
    )


def _read_file_in_child(path: Path) -> str:
    done = _in_child(
        "import seeds\n"
        f"try:\n    seeds.read_file({str(path)!r})\n"
        "except seeds.ParseError as err:\n    print(err.reason)\n"
    )
    return done.stdout.strip() or done.stderr.strip().splitlines()[-1]


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "post.txt"
    os.mkfifo(fifo)
    assert _read_file_in_child(fifo) == "a FIFO (named pipe), not a regular file"


@pytest.mark.parametrize(
    ("device", "kind"), [("/dev/zero", "a character device"), ("/dev/null", "a character device")]
)
def test_devices_are_refused_by_what_was_opened(device, kind, tmp_path):
    link = tmp_path / "looks-fine.txt"
    link.symlink_to(device)  # the name says .txt; fstat of the open file says otherwise
    assert _read_file_in_child(link) == f"{kind}, not a regular file"


def test_a_directory_and_a_link_loop_and_a_missing_file(tmp_path):
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    cases = {
        tmp_path: "a directory, not a regular file",
        loop: "symbolic link loop (too many levels of symbolic links)",
        tmp_path / "missing.txt": "cannot read: No such file or directory",
    }
    for path, reason in cases.items():
        with pytest.raises(UnreadableFile) as caught:
            read_regular_file(path, 1000)
        assert caught.value.reason == reason
        assert str(caught.value) == f"{path}: {reason}"


def test_a_file_over_the_limit_is_refused_naming_the_limit(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(SAMPLE.read_bytes() * 3)
    size = big.stat().st_size
    with pytest.raises(seeds.ParseError) as caught:
        seeds.read_file(big, max_bytes=10_000)
    assert caught.value.reason == (
        f"larger than the 10,000 bytes limit for a seed document ({size:,} bytes)"
    )
    assert seeds.read_file(big, max_bytes=size).title  # at the limit: read
    assert MAX_SEED_BYTES == 64 * 1024 * 1024


def test_a_file_that_reports_no_size_is_read_up_to_the_limit():
    status = Path("/proc/self/status")  # a regular file of st_size 0
    assert status.stat().st_size == 0
    assert b"Name:" in read_regular_file(status, 1_000_000)
    with pytest.raises(UnreadableFile, match="larger than the 10 bytes limit for a file"):
        read_regular_file(status, 10)


def test_regular_files_read_exactly(tmp_path):
    for size in (1, 4095, 4096, 1024 * 1024 + 3):
        path = tmp_path / f"f{size}"
        data = os.urandom(size)
        path.write_bytes(data)
        assert read_regular_file(path, size) == data
    assert read_regular_file(SAMPLE, MAX_SEED_BYTES) == SAMPLE.read_bytes()
