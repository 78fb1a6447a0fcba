"""The one way from the TUI to the store.

``StoreGateway`` owns the store and the one thread that calls it (the ``ReviewStore``
protocol asks for one caller at a time): screens ``await gateway.call(fn)`` and ``fn(store)``
runs on that thread while the UI stays live. Calls the reviewer waits for run before
background reads (``background=True``: prefetching the posts around the cursor, polling
for other writers), so a decision never queues behind a row of prefetches: at most behind
the one read under way.

It also keeps the last posts read (``PostView``: the post with its similar posts) in an LRU,
so that moving back and forth in the list reads nothing. A cached post follows the
decisions made through ``decide`` / ``save_note`` / ``undo``; ``refresh`` drops them all
when another process changed the store.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import TypeVar

from storage import Review, ReviewStore, SimilarPost, Status, StoredPost, TeamDesk
from storage.catalog import DerivedPendingError
from storage.families import KeepResult
from storage.session import DecisionOutcome, ReviewSession, UndoOutcome
from tui.team import claims_only

__all__ = ["PostView", "StoreGateway"]

T = TypeVar("T")

SIMILAR_LIMIT = 10
# Posts kept read: the prefetch window around the cursor (see PostPreparer) with room for
# moving back; a post is a few KB to a few MB of parsed JSON.
CACHED_POSTS = 64


@dataclass(frozen=True, slots=True)
class PostView:
    """What the panes show of one post, read in one hop: the post and its similar posts."""

    post: StoredPost
    similar: tuple[SimilarPost, ...]
    similar_pending: bool = False  # import phase 2 is still computing similar posts

    @property
    def id(self) -> str:
        return self.post.id

    @property
    def review(self) -> Review | None:
        return self.post.review


class _Job:
    __slots__ = ("fn", "future")

    def __init__(self, fn: Callable[[ReviewStore], object]) -> None:
        self.fn = fn
        self.future: Future[object] = Future()


class StoreGateway:
    """``StoreGateway(store)``; ``close()`` stops its thread (the caller closes the store)."""

    def __init__(self, store: ReviewStore, *, cached_posts: int = CACHED_POSTS) -> None:
        self._store = store
        self.session = ReviewSession(store)
        self._cached_posts = cached_posts
        self._cache: OrderedDict[str, PostView] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._generation = 0  # +1 when the cache is dropped: older reads are not cached
        self._wake = threading.Condition()
        self._foreground: deque[_Job] = deque()
        self._background: deque[_Job] = deque()
        self._busy = False
        self._reading = False  # the call under way is a background read
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="copydesk-store", daemon=True)
        self._thread.start()

    @property
    def team(self) -> TeamDesk | None:
        """The store's team desk (None: one reviewer). Its ``holder``/``skips`` read its
        last refresh without a query, so the UI thread may ask them; anything that talks
        to the server goes through ``call``."""
        return self._store.team

    # -- the store thread -------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._wake:
                while not (self._foreground or self._background or self._closed):
                    self._wake.wait()
                if self._closed and not self._foreground:
                    self._fail_pending(self._background)
                    return
                self._reading = not self._foreground
                job = (self._foreground or self._background).popleft()
                self._busy = True
            if job.future.set_running_or_notify_cancel():
                try:
                    result = job.fn(self._store)
                except BaseException as error:  # noqa: BLE001 - handed to the caller
                    job.future.set_exception(error)
                else:
                    job.future.set_result(result)
            with self._wake:
                self._busy = False
                self._wake.notify_all()

    @staticmethod
    def _fail_pending(jobs: deque[_Job]) -> None:
        while jobs:
            jobs.popleft().future.cancel()

    def submit(self, fn: Callable[[ReviewStore], T], *, background: bool = False) -> Future[T]:
        """Run ``fn(store)`` on the store thread; the future holds its result or error."""
        job = _Job(fn)
        with self._wake:
            if self._closed:
                raise RuntimeError("the store gateway is closed")
            (self._background if background else self._foreground).append(job)
            self._wake.notify_all()
        return job.future  # type: ignore[return-value]

    async def call(self, fn: Callable[[ReviewStore], T], *, background: bool = False) -> T:
        """``fn(store)`` on the store thread, awaited from the UI's event loop."""
        return await asyncio.wrap_future(self.submit(fn, background=background))

    def call_blocking(self, fn: Callable[[ReviewStore], T], *, background: bool = False) -> T:
        """``fn(store)`` on the store thread, waited for from another thread (never from
        the UI thread: it would freeze while a read is under way)."""
        return self.submit(fn, background=background).result()

    @property
    def idle(self) -> bool:
        """Nothing queued or running (for tests and the benchmark)."""
        with self._wake:
            return not (self._busy or self._foreground or self._background)

    def close(self) -> None:
        """Finish the call under way and the queued foreground calls, then stop (on a
        local store, a background read under way with nothing queued is left to end with
        the process)."""
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        # a call waiting for a team server that is gone gives up: quitting never waits
        # for it (the claims end with their lease)
        self._store.stop_waiting()
        with self._wake:
            # a background read under way (a prefetch, a poll, the search index decoded
            # ahead) saves nothing: on a local store quitting does not wait for it (the
            # warm-up of a 1,000,000-post store held it ~3 s). A team store's is waited
            # for: the claims are given back on this store next.
            abandon = (
                self._busy and self._reading and not self._foreground and self._store.team is None
            )
        if self._thread is not threading.current_thread() and not abandon:
            self._thread.join(timeout=30)

    # -- posts ------------------------------------------------------------------------

    def cached(self, post_id: str) -> PostView | None:
        """The post if it was read and nothing made it stale; safe from any thread."""
        with self._cache_lock:
            view = self._cache.get(post_id)
            if view is not None:
                self._cache.move_to_end(post_id)
            return view

    def read_view(self, store: ReviewStore, post_id: str) -> PostView:
        """On the store thread: the post and its similar posts, from the cache if there."""
        view = self.cached(post_id)
        if view is not None:
            return view
        generation = self._generation
        post = store.get(post_id)
        pending = False
        try:
            # score and reasons from the index; the words shared of each pair would cost
            # ~140 ms here, on every key (measured: storage.similarity.body_reason)
            similar = tuple(store.similar(post_id, limit=SIMILAR_LIMIT))
        except DerivedPendingError:
            similar, pending = (), True
        except Exception:  # noqa: BLE001 - similar posts are help, never a reason to fail
            similar = ()
        view = PostView(post, similar, pending)
        with self._cache_lock:
            if generation == self._generation:
                self._cache[post_id] = view
                while len(self._cache) > self._cached_posts:
                    self._cache.popitem(last=False)
        return view

    async def view(self, post_id: str) -> PostView:
        view = self.cached(post_id)
        if view is not None:
            return view
        return await self.call(lambda store: self.read_view(store, post_id))

    def drop_cached(self) -> None:
        with self._cache_lock:
            self._generation += 1
            self._cache.clear()

    def _follow(self, reviews: Mapping[str, Review | None]) -> None:
        """Put new decisions into the cached posts (the store has them already)."""
        with self._cache_lock:
            for post_id, review in reviews.items():
                view = self._cache.get(post_id)
                if view is not None:
                    self._cache[post_id] = replace(view, post=replace(view.post, review=review))

    # -- decisions (through the session, so that undo knows them) ---------------------

    def decide(
        self, store: ReviewStore, post_ids: Sequence[str], status: Status | str
    ) -> DecisionOutcome:
        """On the store thread: one durable write for every post."""
        outcome = self.session.decide(post_ids, status)
        self._follow(outcome.saved)
        return outcome

    def keep(self, store: ReviewStore, keeper: str) -> KeepResult:
        """On the store thread: keep ``keeper`` of its near-copy family (one write; the
        session's undo puts every member back)."""
        result = self.session.keep(keeper)
        self._follow(result.saved)
        return result

    def save_note(self, store: ReviewStore, post_id: str, note: str) -> Review | None:
        review = self.session.save_note(post_id, note)
        if review is not None:
            self._follow({post_id: review})
        return review

    def undo(self, store: ReviewStore) -> UndoOutcome | None:
        outcome = self.session.undo()
        if outcome is not None:
            self._follow(outcome.restored)
        return outcome

    def refresh(self, store: ReviewStore) -> bool:
        """On the store thread: pick up other writers; the cached posts go when they did."""
        changed = store.refresh()
        if changed and not claims_only(store):
            self.drop_cached()  # (claims moving leave every post as it was)
        return changed
