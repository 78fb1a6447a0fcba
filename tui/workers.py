"""Run an async function as a Textual worker, typed.

A coroutine *function* is passed, not a coroutine: an exclusive worker cancelled before it
starts would leave its coroutine never awaited (a RuntimeWarning). Textual types the
function as returning ``Coroutine[None, None, T]``, which a bound ``async def`` method is
not taken for by mypy; typed as ``Coroutine[Any, Any, None]`` here, every caller checks.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from textual.dom import DOMNode
from textual.worker import Worker


def run_async(
    node: DOMNode,
    work: Callable[[], Coroutine[Any, Any, None]],
    *,
    group: str,
    exclusive: bool = False,
) -> Worker[None]:
    return node.run_worker(work, group=group, exclusive=exclusive)
