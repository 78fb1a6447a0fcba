"""Quitting and the store thread (tui/gateway.py ``StoreGateway.close``): the reviewer's
calls are always finished; a background read alone under way on a local store is not
waited for (the search index decoded ahead held quitting a 1,000,000-post store ~3 s)."""

from __future__ import annotations

import threading
import time

from storage import Status, Store
from tui.gateway import StoreGateway


def _blocking_read(started: threading.Event, release: threading.Event):
    def read(store):
        started.set()
        release.wait(10)
        return len(store)

    return read


def test_a_background_read_alone_is_not_waited_for(store):
    gateway = StoreGateway(store)
    started, release = threading.Event(), threading.Event()
    gateway.submit(_blocking_read(started, release), background=True)
    assert started.wait(5)
    began = time.monotonic()
    gateway.close()
    assert time.monotonic() - began < 2
    release.set()


def test_a_decision_queued_behind_a_background_read_is_saved_before_close_returns(db_path, store):
    gateway = StoreGateway(store)
    started, release = threading.Event(), threading.Event()
    gateway.submit(_blocking_read(started, release), background=True)
    assert started.wait(5)
    post_id = store.search_ids("", 1)[0]
    saved = gateway.submit(lambda s: s.set_review(post_id, "rejected", note="queued"))
    threading.Timer(0.5, release.set).start()
    gateway.close()  # waits: the decision is a reviewer's call
    assert saved.done() and saved.result().status == "rejected"
    with Store.open(db_path, writable=False) as again:
        assert again.review(post_id).status == Status.REJECTED
