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


def read_reviews_file(db: Path) -> dict[str, dict]:
    """Decisions as stored on disk, by post id (parsed without the store's code): the base
    ``reviews.json``, then ``reviews-recent.json`` over it when it was saved on a base
    generation no older than the base's (see storage/reviews.py)."""
    directory = db.with_name(db.name + ".d")
    base = orjson.loads((directory / "reviews.json").read_bytes())
    decisions = {doc["id"]: doc for doc in base.get("reviews", {}).values()}
    recent_path = directory / "reviews-recent.json"
    if not recent_path.exists():
        return decisions
    recent = orjson.loads(recent_path.read_bytes())
    base_generation = _generation(base, "generation")
    if _generation(recent, "base_generation") < base_generation:
        return decisions  # already folded into the base by a compaction
    for key in sorted(recent.get("reviews", {}), key=int):
        doc = recent["reviews"][key]
        if doc.get("removed"):
            decisions.pop(doc["id"], None)
        else:
            decisions[doc["id"]] = doc
    return decisions


def _generation(data: dict, name: str) -> int:
    state = data.get("state") or {}
    return max((int(doc.get(name, 0)) for doc in state.values()), default=0)


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
    """Run the real ``copydesk`` entry point in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", "from tui.cli import main; main(prog_name='copydesk')", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
