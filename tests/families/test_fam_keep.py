"""Keep one post of a near-copy family, reject the rest; the consistency rule and the
``inconsistent_duplicate`` hint (storage/families.py, storage/catalog.py)."""

from __future__ import annotations

import pytest

from storage import Review, Status, Store, UnknownPostError
from storage.families import (
    NotInClusterError,
    decided_differently,
    duplicate_note,
    inconsistencies,
    is_duplicate_rejection,
    keep,
    near_duplicates,
    plan_keep,
    side,
    undo_keep,
)
from storage.similarity import NEAR_DUPLICATE_THRESHOLD


class CountingStore:
    """A store that counts its decision writes (the ReviewStore protocol, delegated)."""

    def __init__(self, store):
        self._store = store
        self.writes: list[int] = []

    def set_reviews(self, requests):
        self.writes.append(len(requests))
        return self._store.set_reviews(requests)

    def restore_reviews(self, previous):
        self.writes.append(len(previous))
        return self._store.restore_reviews(previous)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_the_corpus_clusters_are_its_planted_near_copies(db, corpus):
    with Store.open(db, writable=False) as store:
        clusters = store.clusters()
        assert corpus.family in clusters
        for source, copy in corpus.planted:
            assert any(source in c and copy in c for c in clusters), (source, copy)
        planted = {frozenset(pair) for pair in corpus.planted}
        for cluster in clusters:
            if cluster != corpus.family:
                assert frozenset(cluster) in planted  # nothing but planted copies clusters


def test_keep_approves_the_keeper_and_rejects_the_others_in_one_write(db, corpus):
    keeper = corpus.family[1]
    with Store.open(db) as store:
        counting = CountingStore(store)
        result = keep(counting, keeper)
        assert counting.writes == [3]
        assert result.keeper == keeper and set(result.rejected) == set(corpus.others(keeper))
        assert result.previous == {post_id: None for post_id in corpus.family}
    with Store.open(db, writable=False) as store:  # durable
        assert store.status_of(keeper) is Status.APPROVED
        assert store.review(keeper).note == ""
        for other in corpus.others(keeper):
            review = store.review(other)
            assert review.status == Status.REJECTED
            assert review.note == f"rejected as a near duplicate of {keeper}, which was kept"
            assert is_duplicate_rejection(review)
        outside = [p for p in store.ids() if p not in corpus.family]
        assert all(store.review(p) is None for p in outside)


def test_keep_keeps_the_notes_written_before(db, corpus):
    keeper, first, second = corpus.family
    with Store.open(db) as store:
        store.set_review(keeper, "changes_requested", note="intro is too long")
        store.set_review(first, "pending", note="title has a typo\n")
        result = keep(store, keeper)
        assert store.review(keeper).status == Status.APPROVED
        assert store.review(keeper).note == "intro is too long"
        assert store.review(first).note == f"title has a typo\n{duplicate_note(keeper)}"
        assert store.review(second).note == duplicate_note(keeper)
        assert result.previous[keeper].note == "intro is too long"


def test_a_second_keep_replaces_the_line_of_the_first_and_keeps_the_rest(db, corpus):
    first_keeper, second_keeper, other = corpus.family
    with Store.open(db) as store:
        store.set_review(second_keeper, "pending", note="checked the code block")
        keep(store, first_keeper)
        keep(store, second_keeper)
        assert store.review(second_keeper).status == Status.APPROVED
        assert store.review(second_keeper).note == "checked the code block"
        assert store.review(first_keeper).note == duplicate_note(second_keeper)
        assert store.review(other).note == duplicate_note(second_keeper)
        assert store.review(first_keeper).status == Status.REJECTED


def test_undo_puts_every_member_back_in_one_write(db, corpus):
    keeper, first, second = corpus.family
    with Store.open(db) as store:
        store.set_review(first, "approved", note="fine")
        before = {post_id: store.review(post_id) for post_id in corpus.family}
        counting = CountingStore(store)
        result = keep(counting, keeper)
        undo_keep(counting, result)
        assert counting.writes == [3, 3]
        assert {post_id: store.review(post_id) for post_id in corpus.family} == before
    with Store.open(db, writable=False) as store:
        assert store.review(first) == before[first] and store.review(second) is None
        assert store.review(keeper) is None


def test_plan_keep_writes_nothing(db, corpus):
    with Store.open(db) as store:
        plan = plan_keep(store, corpus.family[0])
        assert [r.post_id for r in plan.requests] == corpus.family
        assert store.reviews() == {}


def test_keep_of_a_post_without_near_duplicates_or_unknown_is_an_error(db, corpus):
    with Store.open(db) as store:
        clustered = {p for c in store.clusters() for p in c}
        loner = next(p for p in store.ids() if p not in clustered)
        with pytest.raises(NotInClusterError, match="no near duplicates"):
            keep(store, loner)
        with pytest.raises(UnknownPostError):
            keep(store, "anp-ref-nope")
        assert store.reviews() == {}


# ---------------------------------------------------------------------------- the rule


def review(status: str, note: str = "") -> Review:
    return Review(status=status, note=note)


@pytest.mark.parametrize(
    ("a", "b", "differ"),
    [
        (review("approved"), review("rejected"), True),
        (review("approved"), review("changes_requested"), True),
        (review("rejected"), review("approved"), True),
        (review("rejected"), review("changes_requested"), False),
        (review("approved"), review("approved"), False),
        (review("rejected"), review("rejected"), False),
        (review("approved"), None, False),
        (review("approved"), review("pending"), False),
        (review("approved"), review("disputed"), False),
        (review("approved"), review("rejected", duplicate_note("anp-x")), False),
        (review("approved"), review("rejected", f"bad intro\n{duplicate_note('x')}"), False),
        # the line must be keep's own line, not a sentence mentioning it
        (review("approved"), review("rejected", f"not {duplicate_note('x')}"), True),
    ],
)
def test_which_decisions_contradict(a, b, differ):
    assert decided_differently(a, b) is differ
    assert decided_differently(b, a) is differ


def test_sides():
    assert side(review("approved")) == "approved"
    assert side(review("changes_requested")) == side(review("rejected")) == "not approved"
    assert side(None) is side(review("pending")) is None


# ---------------------------------------------------------------------------- the guard


def test_inconsistencies_name_the_near_duplicate_decided_otherwise(db, corpus):
    source, copy = corpus.planted[0]
    with Store.open(db) as store:
        assert inconsistencies(store, source, "approved") == []  # nothing decided yet
        store.set_review(copy, "rejected")
        (found,) = inconsistencies(store, source, "approved")
        assert found.post_id == copy and found.status is Status.REJECTED
        assert found.score >= NEAR_DUPLICATE_THRESHOLD
        assert found.title == store.summary(copy).title
        assert found.describe().startswith(f'{copy} "{found.title}" (score ')
        assert found.describe().endswith(") is rejected")
        assert inconsistencies(store, source, "rejected") == []
        assert inconsistencies(store, source, "changes_requested") == []
        assert inconsistencies(store, source, "pending") == []
        store.set_review(copy, "changes_requested")
        (found,) = inconsistencies(store, source, "approved")
        assert found.status is Status.CHANGES_REQUESTED
        store.set_review(copy, "approved")
        assert [f.post_id for f in inconsistencies(store, source, "rejected")] == [copy]
        assert [f.post_id for f in inconsistencies(store, source, "changes_requested")] == [copy]


def test_the_guard_names_every_member_decided_otherwise_best_first(db, corpus):
    keeper, first, second = corpus.family
    with Store.open(db) as store:
        store.set_review(first, "rejected")
        store.set_review(second, "changes_requested")
        found = inconsistencies(store, keeper, "approved")
        assert {f.post_id for f in found} == {first, second}
        assert [f.score for f in found] == sorted((f.score for f in found), reverse=True)
        assert {f.post_id: f.score for f in found} == near_duplicates(store, keeper)


def test_a_post_rejected_as_a_duplicate_holds_nothing_against_approvals(db, corpus):
    keeper, first, second = corpus.family
    with Store.open(db) as store:
        keep(store, keeper)
        assert inconsistencies(store, keeper, "approved") == []
        assert inconsistencies(store, first, "approved") == []  # approving a copy too
        # ... but a rejection for its text contradicts the keeper's approval
        assert [f.post_id for f in inconsistencies(store, first, "rejected", note="")] == [keeper]
        # the rejected copy keeps its note when the note is not given: still a duplicate
        assert inconsistencies(store, first, "rejected") == []


def test_posts_without_near_duplicates_are_never_inconsistent(db, corpus):
    with Store.open(db) as store:
        clustered = {p for c in store.clusters() for p in c}
        loners = [p for p in store.ids() if p not in clustered][:3]
        store.set_review(loners[0], "rejected")
        assert inconsistencies(store, loners[1], "approved") == []
        assert near_duplicates(store, loners[1]) == {}


# ---------------------------------------------------------------------------- the hint


def inconsistent(store) -> set[str]:
    return {row.id for row in store.search("hint:inconsistent_duplicate", limit=None)}


def test_the_hint_and_the_view_find_the_posts_decided_otherwise(db, corpus):
    keeper, first, second = corpus.family
    (source, copy), *_ = corpus.planted
    with Store.open(db) as store:
        assert inconsistent(store) == set()
        store.set_review(keeper, "approved")
        store.set_review(first, "rejected")
        store.set_review(source, "changes_requested")
        store.set_review(copy, "rejected")  # decided alike: not inconsistent
        assert inconsistent(store) == {keeper, first}  # second is pending: no side
        assert "inconsistent_duplicate" in store.summary(keeper).hint_codes
        assert "inconsistent_duplicate" not in store.summary(second).hint_codes
        assert "near_duplicate" in store.summary(second).hint_codes
        assert store.count(store.view("Inconsistent duplicates").query) == 2
        assert store.count("-hint:inconsistent_duplicate") == len(store) - 2
        store.set_review(second, "changes_requested")
        assert inconsistent(store) == {keeper, first, second}
    with Store.open(db, writable=False) as store:  # from the decisions as stored
        assert inconsistent(store) == {keeper, first, second}


def test_keep_settles_an_inconsistent_family(db, corpus):
    keeper, first, second = corpus.family
    with Store.open(db) as store:
        store.set_review(keeper, "approved")
        store.set_review(first, "rejected", note="weak intro")
        assert inconsistent(store) == {keeper, first}
        keep(store, keeper)
        assert inconsistent(store) == set()
        assert store.review(first).note == f"weak intro\n{duplicate_note(keeper)}"


def test_cluster_pairs_know_a_pair_listed_by_one_post_only():
    """A post's similar list holds its 12 best: in a big family a pair can be listed one
    way only; both posts still know it."""
    from storage import SimilarPost
    from storage.families import cluster_pairs

    lists = {
        "a": [SimilarPost("b", "b", "", 95, []), SimilarPost("c", "c", "", 90, [])],
        "b": [SimilarPost("a", "a", "", 95, [])],  # c is not in b's list ...
        "c": [
            SimilarPost("a", "a", "", 90, []),
            SimilarPost("b", "b", "", 88, []),
        ],  # ... but b is in c's
    }

    class Lists:
        def similar(self, post_id, limit=10):
            return lists[post_id][:limit]

    assert cluster_pairs(Lists(), ["a", "b", "c"]) == {
        "a": {"b": 95, "c": 90},
        "b": {"a": 95, "c": 88},
        "c": {"a": 90, "b": 88},
    }
