"""Saved views: built-ins with live counts, save/replace/delete, validation, persistence,
two handles on one store keeping each other's views."""

from __future__ import annotations

import orjson
import pytest

from storage import (
    BUILTIN_VIEWS,
    QueryError,
    Store,
    StoreError,
    UnknownViewError,
    View,
    ViewError,
    samples_dir,
)

NEEDS_REVIEW = {"anp-ref-003275-2123", "anp-ref-013900-8738", "anp-ref-012395-2485"}
BUILTIN_NAMES = [
    "All posts",
    "Needs review",
    "Approved",
    "Rejected",
    "Changes requested",
    "Changed since review",
    "Inconsistent duplicates",
]


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "db.json") as s:
        s.import_paths([samples_dir()])
        yield s


def test_builtin_views_come_first_and_their_queries_run_on_the_samples(store):
    views = store.views()
    assert [v.name for v in views] == BUILTIN_NAMES
    assert all(v.builtin for v in views)
    assert views == list(BUILTIN_VIEWS)
    counts = {v.name: store.count(v.query) for v in views}
    assert counts == {
        "All posts": 5,
        "Needs review": 3,
        "Approved": 0,
        "Rejected": 0,
        "Changes requested": 0,
        "Changed since review": 0,
        "Inconsistent duplicates": 0,
    }
    assert {r.id for r in store.search(store.view("Needs review").query, limit=None)} == (
        NEEDS_REVIEW
    )


def test_builtin_counts_follow_decisions(store):
    first, second, third = sorted(NEEDS_REVIEW)
    store.set_review(first, "approved")
    store.set_review(second, "rejected")
    store.set_review(third, "changes_requested")
    counts = {v.name: store.count(v.query) for v in store.views()}
    assert counts["Needs review"] == 0
    assert (counts["Approved"], counts["Rejected"], counts["Changes requested"]) == (1, 1, 1)


def test_save_lists_saved_views_by_name_after_the_builtins(store):
    saved = store.save_view("  php posts ", "stack:php")
    assert saved == View("php posts", "stack:php", False)
    store.save_view("Advanced", "difficulty:advanced")
    store.save_view("beginner", "difficulty:beginner")
    names = [v.name for v in store.views()]
    assert names == [*BUILTIN_NAMES, "Advanced", "beginner", "php posts"]
    assert store.view("PHP POSTS") == saved  # lookup ignores case
    assert store.count(saved.query) == len(store.search("stack:php", limit=None)) > 0


def test_saving_a_saved_name_again_replaces_it(store):
    store.save_view("mine", "stack:php")
    store.save_view("MINE", "status:approved")
    saved = [v for v in store.views() if not v.builtin]
    assert saved == [View("MINE", "status:approved", False)]


def test_delete_removes_a_saved_view(store):
    store.save_view("mine", "stack:php")
    store.save_view("other", "status:approved")
    store.delete_view("Mine")
    assert [v.name for v in store.views() if not v.builtin] == ["other"]
    with pytest.raises(UnknownViewError):
        store.view("mine")


@pytest.mark.parametrize("name", ["", "   ", "x" * 61, "tab\there", "new\nline", "bidi\u202e"])
def test_unusable_names_are_refused(store, name):
    with pytest.raises(ViewError):
        store.save_view(name, "stack:php")
    assert all(v.builtin for v in store.views())


def test_a_sixty_character_name_is_fine(store):
    assert store.save_view("x" * 60, "").name == "x" * 60


@pytest.mark.parametrize("query", ["bogus_field:x", '"unclosed', "quality<abc"])
def test_a_query_that_does_not_parse_is_refused(store, query):
    with pytest.raises(QueryError):
        store.save_view("broken", query)
    assert all(v.builtin for v in store.views())


@pytest.mark.parametrize("name", ["Approved", "needs REVIEW", " All posts "])
def test_builtin_views_cannot_be_replaced_or_deleted(store, name):
    with pytest.raises(StoreError, match="built-in view"):
        store.save_view(name, "stack:php")
    with pytest.raises(StoreError, match="built-in view"):
        store.delete_view(name)
    assert store.views() == list(BUILTIN_VIEWS)


def test_unknown_view_names_the_known_ones(store):
    store.save_view("mine", "stack:php")
    with pytest.raises(UnknownViewError) as caught:
        store.view("nope")
    assert isinstance(caught.value, StoreError)
    assert "'nope'" in str(caught.value)
    for name in [*BUILTIN_NAMES, "mine"]:
        assert repr(name) in str(caught.value)
    with pytest.raises(UnknownViewError):
        store.delete_view("nope")


def test_views_persist_in_the_decisions_file_across_open(store, tmp_path):
    store.save_view("php posts", "stack:php")
    store.set_review(sorted(NEEDS_REVIEW)[0], "approved")
    lines = (store.data_dir / "journal.jsonl").read_bytes().splitlines()
    records = [orjson.loads(line.split(b" ", 1)[1]) for line in lines]
    (view_record,) = [r for r in records if "views" in r]  # the decision left them alone
    assert [(r["name"], r["query"]) for r in view_record["views"]] == [("php posts", "stack:php")]
    with Store.open(tmp_path / "db.json") as again:
        assert again.view("php posts") == View("php posts", "stack:php", False)
        assert again.review(sorted(NEEDS_REVIEW)[0]).status == "approved"


def test_two_handles_on_one_store_keep_each_others_views_and_decisions(store, tmp_path):
    with Store.open(tmp_path / "db.json") as other:
        store.save_view("first", "stack:php")
        other.save_view("second", "status:approved")  # other never re-read since it opened
        store.set_review(sorted(NEEDS_REVIEW)[0], "rejected")
        other.save_view("third", "difficulty:advanced")
        other.delete_view("first")
        store.save_view("fourth", "")
        for handle in (store, other):
            handle.refresh()
            assert [v.name for v in handle.views() if not v.builtin] == [
                "fourth",
                "second",
                "third",
            ]
            assert handle.review(sorted(NEEDS_REVIEW)[0]).status == "rejected"
