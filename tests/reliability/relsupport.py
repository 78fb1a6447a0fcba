"""Helpers shared by the reliability tests: store copies, child processes, kill -9.

Children are real Python processes (``storm_child.py``) started in their own session, so
that ``os.killpg`` also reaches the import's process-pool workers.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CHILD = HERE / "storm_child.py"


def child_env(home: Path) -> dict[str, str]:
    """An environment with no user store or config leaking in."""
    env = dict(os.environ)
    env.pop("COPYDESK_DB", None)
    home.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    env["COPYDESK_CONFIG_DIR"] = str(home / "config")
    env["COPYDESK_REVIEWER"] = "storm"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["NO_COLOR"] = "1"
    return env


def copy_store(db: Path, target_dir: Path) -> Path:
    """Copy the store ``db`` (manifest, its .bak and ``db.d``) into ``target_dir``."""
    target_dir.mkdir(parents=True, exist_ok=True)
    new_db = target_dir / db.name
    for suffix in ("", ".bak"):
        source = db.with_name(db.name + suffix)
        if source.exists():
            shutil.copy2(source, new_db.with_name(new_db.name + suffix))
    shutil.copytree(db.with_name(db.name + ".d"), new_db.with_name(new_db.name + ".d"))
    return new_db


def listing(root: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file and directory under ``root``: (size, mtime_ns, bytes) by relative path,
    to compare before and after a command that must write nothing."""
    out: dict[str, tuple[int, int, bytes]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        data = path.read_bytes() if path.is_file() else b"<dir>"
        out[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns, data)
    return out


def changed_names(before: dict, after: dict) -> list[str]:
    """The paths added, removed or changed between two ``listing`` results."""
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )


def journal_decisions(db: Path) -> dict[str, dict]:
    """Decisions as the journal on disk holds them, parsed without the store's code: each
    line is ``<crc32 hex> <json>``; lines whose checksum fails are skipped, the two copies
    are merged by ``seq``, and the records are replayed over the checkpoint they follow
    (``decisions.json``; its ``seq`` says which records it already holds)."""
    directory = db.with_name(db.name + ".d")
    records: dict[int, dict] = {}
    for name in ("journal.jsonl", "journal-mirror.jsonl"):
        path = directory / name
        if not path.exists():
            continue
        for line in path.read_bytes().split(b"\n"):
            crc, _, payload = line.partition(b" ")
            if len(crc) == 8 and payload and int(crc, 16) == zlib.crc32(payload):
                record = orjson.loads(payload)
                records.setdefault(record["seq"], record)
    decisions: dict[str, dict] = {}
    seq = 0
    checkpoint = directory / "decisions.json"
    if checkpoint.exists():
        data = orjson.loads(checkpoint.read_bytes())
        seq = data["checkpoint"]["1"]["seq"]
        decisions = {
            doc["id"]: {k: v for k, v in doc.items() if k != "id"}
            for doc in data["decisions"].values()
        }
    numbers = sorted(n for n in records if n > seq)
    assert numbers == list(range(seq + 1, seq + 1 + len(numbers))), "a gap in the journal"
    for number in numbers:
        record = records[number]
        if record["op"] == "snapshot":
            decisions = {}
        for post_id, review in record.get("decisions", {}).items():
            if review is None:
                decisions.pop(post_id, None)
            else:
                decisions[post_id] = review
    return decisions


class Child:
    """A ``storm_child.py`` process whose stdout lines are collected by a thread."""

    def __init__(self, args: list[str], env: dict[str, str], stderr_path: Path) -> None:
        self._stderr = open(stderr_path, "wb")  # noqa: SIM115 - closed in wait()/kill()
        self.stderr_path = stderr_path
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), *args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            start_new_session=True,  # its own process group: killpg reaches pool workers
        )
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            with self._cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, prefix: str, timeout: float = 60.0) -> bool:
        """Wait until a line starting with ``prefix`` arrives; False if the child ended first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if any(line.startswith(prefix) for line in self.lines):
                    return True
                if not self._reader.is_alive() and self.proc.poll() is not None:
                    return False
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"child never printed {prefix!r}: {self.lines[-5:]}")
                self._cond.wait(min(left, 0.05))

    def kill(self) -> None:
        """SIGKILL the child's whole process group and wait until every member is gone."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # pool workers are reaped by init, not by us
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.01)
        else:  # pragma: no cover - would mean an unkillable orphan
            raise AssertionError(f"process group {self.proc.pid} still alive after SIGKILL")
        self._finish()

    def wait(self, timeout: float = 120.0) -> int:
        code = self.proc.wait(timeout=timeout)
        self._finish()
        return code

    def _finish(self) -> None:
        self._reader.join(timeout=30)
        self._stderr.close()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def acks(self) -> list[list[str]]:
        """The ``ack ...`` lines, split into words (without the ``ack``)."""
        return [line.split(" ")[1:] for line in self.lines if line.startswith("ack ")]


def run_cli(args: list[str], env: dict[str, str], timeout: float = 120.0):
    """Run the real program, ``python -m tui.cli ARGS``, in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
