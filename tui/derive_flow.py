"""Import phase 2 in the background, for the review screen.

``copydesk import`` makes posts reviewable before it computes their hints and similar
posts; stopped in between (Ctrl-C, a crash), the store opens with that work pending, and
until it is done the Similar pane and ``hint:`` queries say so rather than answer from
half-built state. The screen then runs ``copydesk finish-import`` as a child process:
its own process, so the review loop never shares the interpreter with that CPU work,
and a quit stops it at once (the store is safe to stop at any point; the next open
starts again). Its progress shows on the status line; when it is done the screen reads
the store again. When another copydesk is already at it, the screen waits for that one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import TYPE_CHECKING

from storage import StoreError
from tui.cli.posts import EXIT_BUSY
from tui.workers import run_async

if TYPE_CHECKING:
    from tui.screens.review import ReviewScreen

WAIT_FOR_OTHER_S = 2.0  # how often to look whether another process finished


def progress_label(done: int, total: int) -> str:
    return f"hints & similar {done:,}/{total:,}"


class DeriveFlow:
    """Started once from ``ReviewScreen.on_mount``; ``screen.background_work`` is the
    status line's text for it ("" when nothing runs)."""

    def __init__(self, screen: ReviewScreen) -> None:
        self.screen = screen
        self.process: asyncio.subprocess.Process | None = None

    def start(self) -> None:
        run_async(self.screen, self._run, group="derive", exclusive=True)

    async def _run(self) -> None:
        screen = self.screen
        gateway = screen.gateway
        try:
            pending = await gateway.call(lambda store: store.derived_pending, background=True)
            if not pending:
                return
            location = await gateway.call(lambda store: store.location)
            screen.background_work = progress_label(0, pending)
            code, error = await self._finish(location)
            if code == EXIT_BUSY:
                screen.background_work = "hints & similar: another copydesk is computing them"
                await self._wait_for_other()
            elif code != 0:
                screen.background_work = ""
                screen.notify(
                    f"hints and similar posts were not computed: {error or f'exit {code}'}"
                    " (run `copydesk finish-import`)",
                    severity="error",
                    markup=False,
                    timeout=10,
                )
                return
        except StoreError as exc:
            screen.background_work = ""
            screen.notify(str(exc), severity="error", markup=False)
            return
        finally:
            self.stop()
        screen.background_work = ""
        screen.notify("hints and similar posts are ready", markup=False, timeout=3)
        screen.refresh_from_store()

    async def _finish(self, location: str) -> tuple[int, str]:
        """Run the child to its end: (exit code, its last line on stderr)."""
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tui.cli",
            "finish-import",
            "--db",
            location,
            "--no-wait",
            "--progress-lines",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its pool workers stop with it (killpg)
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        async for raw in self.process.stdout:
            parts = raw.decode("utf-8", "replace").split()
            if len(parts) == 3 and parts[0] == "progress" and parts[1].isdigit():
                self.screen.background_work = progress_label(int(parts[1]), int(parts[2]))
        errors = (await self.process.stderr.read()).decode("utf-8", "replace").splitlines()
        code = await self.process.wait()
        return code, (errors[-1] if errors else "")

    async def _wait_for_other(self) -> None:
        gateway = self.screen.gateway
        while True:
            await asyncio.sleep(WAIT_FOR_OTHER_S)
            await gateway.call(gateway.refresh, background=True)
            if not await gateway.call(lambda store: store.derived_pending, background=True):
                return

    def stop(self) -> None:
        """Stop the child if it runs (the screen closes, the app quits)."""
        process, self.process = self.process, None
        if process is not None and process.returncode is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
