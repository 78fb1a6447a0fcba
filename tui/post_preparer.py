"""Posts read and rendered ahead of the reviewer, so that a cursor move only swaps lines.

At 100,000 posts a cold ``store.get`` costs 10-200 ms (it parses a shard) and rendering a
post's body and meta box 15-45 ms; a screen repaint of the bare Textual floor app costs
~60 ms. Doing both after each key made ``j`` settle in ~425 ms. So ``PostPreparer`` keeps
the posts around the cursor read (through the gateway) and rendered at the panes' widths
(``PreparedPost``), in a thread of its own: when the cursor lands on a prepared post the
screen shows it in the same frame.

Holding ``j`` must not queue work: ``want(ids)`` replaces the wish list, the cursor's post
is prepared at once, its neighbours only once the keys have paused for
``NEIGHBOURS_AFTER_S`` (a shard parse holds the GIL and would delay the repaint of the key
just pressed).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from textual.strip import Strip

from tui.gateway import PostView, StoreGateway
from tui.widgets.line_view import RenderStopped, render_strips
from tui.widgets.meta_pane import meta_renderable
from tui.widgets.post_body import BodyContent, body_content

__all__ = ["PostPreparer", "PreparedPost", "prepare_post"]

PREPARED_POSTS = 32
NEIGHBOURS_AFTER_S = 0.15


@dataclass(frozen=True, slots=True)
class PreparedPost:
    """A post's body and meta box rendered at given widths."""

    post_id: str
    body_width: int
    meta_width: int
    body: BodyContent
    body_lines: list[Strip]
    meta: Any  # MetaPane content: (meta dict, every_field)
    meta_lines: list[Strip]

    def fits(self, body_width: int, meta_width: int) -> bool:
        return self.body_width == body_width and self.meta_width == meta_width


def _lines(renderables: Any, width: int, stop: Callable[[], bool]) -> list[Strip]:
    lines: list[Strip] = []
    for strips in render_strips(renderables, width, stop):
        lines.extend(strips)
    return lines


def prepare_post(
    view: PostView,
    body_width: int,
    meta_width: int,
    *,
    more_key: str = "L",
    stop: Callable[[], bool] = lambda: False,
) -> PreparedPost:
    """Render ``view``'s body prefix and meta box, as the panes would (any thread)."""
    post = view.post
    meta = post.meta or {}
    language = meta.get("code_language")
    body = body_content(
        post.title,
        post.body or [],
        language if isinstance(language, str) else None,
        more_key=more_key,
    )
    meta_content = (dict(meta), False)
    return PreparedPost(
        post_id=post.id,
        body_width=body_width,
        meta_width=meta_width,
        body=body,
        body_lines=_lines(body.renderables(), body_width, stop),
        meta=meta_content,
        meta_lines=_lines([meta_renderable(meta)], meta_width, stop),
    )


class PostPreparer:
    """``PostPreparer(gateway, on_ready)``: ``on_ready(post_id)`` is called (from the
    preparer's thread) when the post the cursor is on has been prepared."""

    def __init__(
        self,
        gateway: StoreGateway,
        on_ready: Callable[[str], None],
        *,
        on_error: Callable[[str, Exception], None] | None = None,
        capacity: int = PREPARED_POSTS,
    ) -> None:
        self._gateway = gateway
        self._on_ready = on_ready
        self._on_error = on_error
        self._capacity = capacity
        self._prepared: OrderedDict[str, PreparedPost] = OrderedDict()
        self._wake = threading.Condition()
        self._wanted: list[str] = []
        self._wanted_at = 0.0
        self._widths = (0, 0)
        self._more_key = "L"
        self._generation = 0
        self._busy = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="copydesk-prepare", daemon=True)
        self._thread.start()

    # -- from the UI thread -----------------------------------------------------------

    def configure(self, body_width: int, meta_width: int, more_key: str) -> None:
        with self._wake:
            self._widths = (body_width, meta_width)
            self._more_key = more_key
            self._wake.notify_all()

    def want(self, post_ids: Sequence[str]) -> None:
        """Prepare these posts, the first (the cursor's) now, the others when keys pause."""
        with self._wake:
            self._wanted = list(dict.fromkeys(post_ids))
            self._wanted_at = time.monotonic()
            self._wake.notify_all()

    def prepared(self, post_id: str) -> PreparedPost | None:
        """The post rendered at the current widths, if it is."""
        with self._wake:
            item = self._prepared.get(post_id)
            if item is None or not item.fits(*self._widths):
                return None
            self._prepared.move_to_end(post_id)
            return item

    def drop(self) -> None:
        """Forget every prepared post (the store changed under them)."""
        with self._wake:
            self._generation += 1
            self._prepared.clear()
            self._wake.notify_all()

    @property
    def idle(self) -> bool:
        with self._wake:
            return not self._busy and self._next_job(time.monotonic()) is None

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        self._thread.join(timeout=10)

    # -- the preparer's thread --------------------------------------------------------

    def _next_job(self, now: float) -> tuple[str, float] | None:
        """(post id, seconds to wait first) of the next post to prepare, else None.
        Called with the lock held."""
        widths = self._widths
        if not widths[0] or not widths[1]:
            return None
        for position, post_id in enumerate(self._wanted):
            item = self._prepared.get(post_id)
            if item is None or not item.fits(*widths):
                wait = 0.0 if position == 0 else self._wanted_at + NEIGHBOURS_AFTER_S - now
                return post_id, max(0.0, wait)
        return None

    def _run(self) -> None:
        while True:
            with self._wake:
                while True:
                    if self._closed:
                        return
                    job = self._next_job(time.monotonic())
                    if job is not None and job[1] <= 0:
                        break
                    self._wake.wait(None if job is None else job[1])
                post_id = job[0]
                widths, more_key, generation = self._widths, self._more_key, self._generation
                wanted_first = self._wanted[0] if self._wanted else None
                self._busy = True
            try:
                self._prepare(post_id, widths, more_key, generation, post_id == wanted_first)
            finally:
                with self._wake:
                    self._busy = False

    def _stale(self, post_id: str, generation: int) -> bool:
        """A newer wish no longer wants ``post_id`` (the reviewer moved on), or the
        prepared posts were dropped."""
        return generation != self._generation or post_id not in self._wanted

    def _prepare(
        self,
        post_id: str,
        widths: tuple[int, int],
        more_key: str,
        generation: int,
        is_cursor: bool,
    ) -> None:
        try:
            view = self._gateway.call_blocking(
                lambda store: self._gateway.read_view(store, post_id), background=not is_cursor
            )
            item = prepare_post(
                view, *widths, more_key=more_key, stop=lambda: self._stale(post_id, generation)
            )
        except RenderStopped:
            return
        except Exception as error:  # noqa: BLE001 - the cursor's post says so; others wait
            with self._wake:
                if post_id in self._wanted:
                    self._wanted.remove(post_id)  # not again until it is wanted anew
            if is_cursor and self._on_error is not None:
                self._on_error(post_id, error)
            return
        with self._wake:
            if generation != self._generation:
                return
            self._prepared[post_id] = item
            while len(self._prepared) > self._capacity:
                self._prepared.popitem(last=False)
            ready = bool(self._wanted) and self._wanted[0] == post_id
        if ready:
            self._on_ready(post_id)
