"""ReviewSession: decide, note, undo and next pending, on a real store (the five samples)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage import Review, Status, Store
from storage.session import ReviewSession, StepKind, advance_after, next_pending, plural

SAMPLES = Path(__file__).resolve().parents[2] / "seeds" / "samples"
FIRST, SECOND = "anp-ref-003275-2123", "anp-ref-012395-2485"


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    monkeypatch.setenv("COPYDESK_REVIEWER", "sess")
    store = Store.open(tmp_path / "db.json")
    assert store.import_paths([SAMPLES]).ok
    yield store
    store.close()


class CountingStore:
    """The real store, counting the durable writes the session asks for."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.writes: list[str] = []

    def __getattr__(self, name):
        attr = getattr(self._store, name)
        if name in {"set_review", "set_reviews", "restore_review", "restore_reviews"}:

            def counted(*args, **kwargs):
                self.writes.append(name)
                return attr(*args, **kwargs)

            return counted
        return attr


def test_decide_keeps_the_note_and_undo_puts_back_the_previous_review(store):
    store.set_review(FIRST, "rejected", note="images missing")
    before = store.review(FIRST)
    session = ReviewSession(store)
    outcome = session.decide([FIRST], Status.APPROVED)
    assert outcome.post_ids == [FIRST] and outcome.message == "1 post approved"
    review = store.review(FIRST)
    assert review.status == "approved" and review.note == "images missing"
    undone = session.undo()
    assert undone is not None and undone.kind is StepKind.DECISION
    assert undone.message == "Undid approved on 1 post"
    assert store.review(FIRST) == before
    assert session.undo() is None


def test_a_bulk_decision_is_one_write_and_its_undo_one_more(store):
    counting = CountingStore(store)
    session = ReviewSession(counting)
    ids = store.ids()
    store.set_review(ids[1], "pending", note="check the code")
    outcome = session.decide(ids, "changes_requested")
    assert counting.writes == ["set_reviews"]
    assert sorted(outcome.saved) == sorted(ids)
    assert {store.review(i).status for i in ids} == {"changes_requested"}
    assert store.review(ids[1]).note == "check the code"
    session.undo()
    assert counting.writes == ["set_reviews", "restore_reviews"]
    assert [store.review(i) for i in ids if i != ids[1]] == [None] * (len(ids) - 1)
    assert store.review(ids[1]).status == "pending"
    assert store.review(ids[1]).note == "check the code"


def test_a_note_keeps_the_decision_and_its_undo_says_note(store):
    session = ReviewSession(store)
    session.decide([FIRST], Status.REJECTED)
    assert session.save_note(FIRST, "duplicate of 12395") is not None
    review = store.review(FIRST)
    assert review.status == "rejected" and review.note == "duplicate of 12395"
    assert session.save_note(FIRST, "duplicate of 12395") is None  # unchanged: no write
    undone = session.undo()
    assert undone.kind is StepKind.NOTE and "note" in undone.message
    assert "decision" not in undone.message and "rejected" not in undone.message
    review = store.review(FIRST)
    assert review.status == "rejected" and review.note == ""
    assert session.undo().message == "Undid rejected on 1 post"
    assert store.review(FIRST) is None


def test_a_note_on_an_undecided_post_leaves_it_pending(store):
    session = ReviewSession(store)
    session.save_note(SECOND, "ask the author")
    assert store.review(SECOND).status == "pending"
    assert store.status_of(SECOND) is Status.PENDING
    session.undo()
    assert store.review(SECOND) is None


def test_next_pending_wraps_and_skips_decided():
    statuses = {"a": Status.APPROVED, "b": Status.PENDING, "c": Status.REJECTED}
    order = ["a", "b", "c"]
    assert next_pending(order, 0, statuses.__getitem__) == 1
    assert next_pending(order, 1, statuses.__getitem__) == 1  # itself, last
    assert next_pending(order, 2, statuses.__getitem__) == 1  # wraps
    statuses["b"] = Status.APPROVED
    assert next_pending(order, 0, statuses.__getitem__) is None


def test_advance_after_stays_on_a_pending_post_a_bulk_decision_left():
    statuses = {"a": Status.PENDING, "b": Status.APPROVED, "c": Status.PENDING}
    order = ["a", "b", "c"]
    assert advance_after(order, 0, ["b"], statuses.__getitem__) == 0
    statuses["a"] = Status.APPROVED
    assert advance_after(order, 0, ["a"], statuses.__getitem__) == 2
    assert advance_after([], 0, [], statuses.__getitem__) is None


def test_undo_limit_drops_the_oldest_steps(store):
    session = ReviewSession(store, undo_limit=2)
    for status in ("approved", "rejected", "changes_requested"):
        session.decide([FIRST], status)
    assert session.undo() and session.undo()
    assert session.undo() is None
    assert store.review(FIRST).status == "approved"


def test_plural():
    assert [plural(n, "post") for n in (0, 1, 2, 3000)] == [
        "0 posts",
        "1 post",
        "2 posts",
        "3,000 posts",
    ]


def test_review_type_is_the_store_type(store):
    session = ReviewSession(store)
    outcome = session.decide([FIRST], "approved")
    assert isinstance(outcome.saved[FIRST], Review)


NEAR_COPY = Path(__file__).resolve().parents[1] / "data" / "similar" / "004_near_copy.txt"
COPY = "anp-ref-012396-7001"  # a near copy of SECOND


def test_a_keep_is_one_step_undone_in_one_write_over_older_steps(store):
    assert store.import_paths([NEAR_COPY]).ok
    store.set_review(COPY, "changes_requested", "fix the intro")
    before = store.reviews()
    counting = CountingStore(store)
    session = ReviewSession(counting)  # type: ignore[arg-type]
    session.decide([FIRST], Status.REJECTED)
    result = session.keep(COPY)
    assert result.keeper == COPY and result.rejected == (SECOND,)
    assert store.review(COPY).status == "approved" and store.review(COPY).note == "fix the intro"
    assert store.review(SECOND).status == "rejected"
    undone = session.undo()  # the keep, not the older decision
    assert undone is not None and undone.kind is StepKind.KEEP and undone.keeper == COPY
    assert undone.message == f"Undid keeping {COPY}: 2 posts back as they were"
    assert store.review(COPY) == before[COPY] and store.review(SECOND) is None
    assert store.review(FIRST).status == "rejected"
    assert counting.writes == ["set_reviews", "set_reviews", "restore_reviews"]
    session.undo()
    assert store.reviews() == before
