"""What every ``ReviewStore`` does, run on both backends (see conftest.py)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import orjson
import pytest
from sample_ids import SEED_IDS

from storage import (
    DecisionRequest,
    InvalidStatusError,
    QueryError,
    ReviewStore,
    Status,
    UnknownPostError,
    ViewError,
    samples_dir,
)
from storage.export import export_rows

REVIEWER = "contract-reviewer"  # set by conftest.py

QUEUE_ORDER = [SEED_IDS[n] for n in ("001", "004", "003", "002", "000")]
DATA = Path(__file__).resolve().parents[1] / "data"
HOSTILE_NOTE = "'); DROP TABLE decisions; -- \x1b[31m[bold]x[/bold] $1 %s %(x)s \\ \u202e"


@pytest.fixture
def filled(store):
    report = store.import_samples()
    assert sorted(report.imported) == sorted(SEED_IDS.values()) and not report.errors
    return store


def wait_for(check, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the other handle never saw the change"
        time.sleep(0.02)


def test_implements_the_protocol(store):
    assert isinstance(store, ReviewStore)
    assert store.read_only is False
    assert store.location


def test_iter_posts_gives_every_post_once_with_its_text(filled):
    records = list(filled.iter_posts())
    assert sorted(r["id"] for r in records) == sorted(SEED_IDS.values())
    for record in records:
        post = filled.get(record["id"])
        assert (record["title"], record["body"], record["meta"]) == (
            post.title,
            post.body,
            post.meta,
        )


def test_import_reports_each_post_and_is_idempotent(store, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(samples_dir(), corpus)
    first = store.import_paths([str(corpus)])
    assert (len(first.imported), first.updated, first.unchanged) == (5, [], [])
    assert len(store) == 5 and SEED_IDS["001"] in store and "nope" not in store
    again = store.import_paths([str(corpus)])
    assert (again.imported, again.updated, len(again.unchanged)) == ([], [], 5)
    target = corpus / "000_d88866b715cabc30.txt"
    target.write_text(target.read_text().replace("maintenance guide", "upkeep guide", 1))
    third = store.import_paths([str(corpus)])
    assert third.updated == [SEED_IDS["000"]] and len(third.unchanged) == 4
    assert store.get(SEED_IDS["000"]).title.endswith("upkeep guide")
    assert store.search("upkeep", limit=3)[0].id == SEED_IDS["000"]


def test_bad_files_are_named_and_the_rest_import(store, tmp_path):
    corpus = tmp_path / "mixed"
    shutil.copytree(samples_dir(), corpus)
    shutil.copy(DATA / "empty.txt", corpus / "empty.txt")
    shutil.copy(DATA / "binary.bin", corpus / "binary.txt")
    shutil.copy(DATA / "latin1.txt", corpus / "latin1.txt")
    report = store.import_paths([str(corpus), str(tmp_path / "missing.txt")])
    assert len(report.imported) == 5
    reasons = {Path(e.path).name: e.reason for e in report.errors}
    assert set(reasons) == {"empty.txt", "binary.txt", "latin1.txt", "missing.txt"}
    assert "no such file" in reasons["missing.txt"]


def test_get_returns_the_whole_post_and_unknown_ids_raise(filled):
    post = filled.get(SEED_IDS["001"])
    assert (
        post.title
        == "building a safer workflow for handling background jobs with php: step by step"
    )
    assert post.meta["stack"] == ["php", "backend", "php"]
    assert post.meta["flags"]["needs_human_review"] == 1
    assert post.source["path"].endswith("001_f5d76b64dc71a99a.txt")
    assert [b["type"] for b in post.body].count("image") == 2
    assert post.review is None
    assert {h["code"] for h in post.hints} >= set(filled.summary(SEED_IDS["001"]).hint_codes) - {
        "near_duplicate"
    }
    with pytest.raises(UnknownPostError):
        filled.get("anp-ref-nope")
    with pytest.raises(UnknownPostError):
        filled.summary("anp-ref-nope")


def test_queue_order_and_search(filled):
    assert [r.id for r in filled.search("", limit=None)] == QUEUE_ORDER
    filled.set_review(SEED_IDS["001"], "approved")
    ids = [r.id for r in filled.search("", limit=None)]
    assert ids == [SEED_IDS[n] for n in ("004", "003", "002", "001", "000")]
    assert filled.search_ids("", limit=2) == ids[:2]
    assert filled.search_ids("status:approved", limit=None) == [SEED_IDS["001"]]
    assert filled.count("status:approved") == 1
    assert filled.count("-status:approved") == 4
    assert filled.count("flag:needs_human_review") == 3
    assert "background" in filled.search("backgrund", limit=1)[0].title  # fuzzy
    with pytest.raises(QueryError):
        filled.search("nosuchfield:x")


def test_quoted_phrase_searches_bodies(filled):
    post = filled.get(SEED_IDS["002"])
    text = next(b["text"] for b in post.body if b["type"] == "paragraph")
    phrase = " ".join(text.split()[3:7])
    found = filled.search_ids(f'"{phrase}"', limit=None)
    assert SEED_IDS["002"] in found
    assert filled.count('"no such phrase anywhere zq"') == 0


def test_decisions_save_read_and_undo(filled):
    review = filled.set_review(SEED_IDS["004"], "rejected", note=HOSTILE_NOTE)
    assert (review.status, review.note, review.reviewer) == ("rejected", HOSTILE_NOTE, REVIEWER)
    assert review.decided_at.endswith("Z") and len(review.content_sha256) == 64
    assert filled.review(SEED_IDS["004"]) == review
    assert filled.status_of(SEED_IDS["004"]) == Status.REJECTED
    assert filled.reviews()[SEED_IDS["004"]].note == HOSTILE_NOTE
    assert filled.get(SEED_IDS["004"]).review == review
    assert filled.progress() == (1, 3)
    filled.restore_reviews({SEED_IDS["004"]: None})
    assert filled.review(SEED_IDS["004"]) is None
    assert filled.status_of(SEED_IDS["004"]) == Status.PENDING
    assert filled.progress() == (0, 3)


def test_bulk_decisions_keep_notes_when_asked(filled):
    filled.set_review(SEED_IDS["001"], "changes_requested", note="fix the intro")
    saved = filled.set_reviews(
        [
            DecisionRequest(SEED_IDS["001"], Status.APPROVED, None),
            DecisionRequest(SEED_IDS["003"], Status.APPROVED, "fine"),
        ]
    )
    assert saved[SEED_IDS["001"]].note == "fix the intro"
    assert saved[SEED_IDS["003"]].note == "fine"
    assert filled.count("status:approved") == 2
    before = {SEED_IDS["001"]: filled.review(SEED_IDS["001"]), SEED_IDS["003"]: None}
    filled.set_reviews([DecisionRequest(SEED_IDS["001"], Status.REJECTED, "no")])
    filled.restore_reviews(before)
    assert filled.review(SEED_IDS["001"]).status == "approved"
    assert filled.review(SEED_IDS["003"]) is None


def test_bad_status_and_unknown_post_are_refused(filled):
    with pytest.raises(InvalidStatusError):
        filled.set_review(SEED_IDS["001"], "maybe")
    with pytest.raises(InvalidStatusError):
        filled.set_review(SEED_IDS["001"], "disputed")  # derived, never chosen
    with pytest.raises(UnknownPostError):
        filled.set_review("anp-ref-nope", "approved")
    assert filled.reviews() == {}


def test_views_save_list_and_delete(filled):
    view = filled.save_view("php queue", "stack:php status:pending")
    assert view.name == "php queue" and not view.builtin
    names = [v.name for v in filled.views()]
    assert "php queue" in names and names.index("php queue") > 0
    assert filled.view("PHP QUEUE").query == "stack:php status:pending"
    assert filled.count(view.query) == filled.count("stack:php status:pending")
    filled.save_view("php queue", "stack:php")
    assert filled.view("php queue").query == "stack:php"
    with pytest.raises(QueryError):
        filled.save_view("broken", "nosuchfield:x")
    with pytest.raises(ViewError):
        filled.save_view("Needs review", "x")
    filled.delete_view("php queue")
    assert "php queue" not in [v.name for v in filled.views()]


def test_similar_and_clusters(store):
    report = store.import_paths([str(DATA / "similar")])
    assert not report.errors
    ids = store.ids()
    similar = store.similar(ids[0], limit=5)
    assert all(s.id in store and 0 <= s.score <= 100 for s in similar)
    for cluster in store.clusters():
        assert cluster == sorted(cluster) and len(cluster) > 1
    with pytest.raises(UnknownPostError):
        store.similar("anp-ref-nope")


def test_merge_of_decisions_on_undecided_posts(filled, tmp_path):
    lines = [
        {"id": SEED_IDS["001"], "status": "approved", "note": "ok", "reviewer": "colleague"},
        {"id": "anp-ref-unknown-1", "status": "approved"},
        {"id": SEED_IDS["003"], "status": "pending"},
    ]
    path = tmp_path / "theirs.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n{broken\n")
    report = filled.merge_reviews(str(path))
    assert report.added == [SEED_IDS["001"]]
    assert [u.post_id for u in report.unknown] == ["anp-ref-unknown-1"]
    assert report.undecided == [SEED_IDS["003"]]
    assert len(report.bad_lines) == 1
    assert filled.status_of(SEED_IDS["001"]) == Status.APPROVED
    again = filled.merge_reviews(str(path))
    assert again.added == [] and again.agreed == [SEED_IDS["001"]]


def test_export_rows(filled):
    filled.set_review(SEED_IDS["003"], "rejected", note="=cmd|' /C calc'!A0")
    rows = export_rows(filled)
    assert [r["id"] for r in rows] == [SEED_IDS["003"]]
    assert rows[0]["note"] == "=cmd|' /C calc'!A0" and rows[0]["reviewer"] == REVIEWER
    assert len(export_rows(filled, include_pending=True)) == 5


def test_another_handle_sees_decisions_after_refresh(backend, filled):
    other = backend.open()
    assert other.status_of(SEED_IDS["001"]) == Status.PENDING
    filled.set_review(SEED_IDS["001"], "approved")

    def seen() -> bool:
        other.refresh()
        return other.status_of(SEED_IDS["001"]) == Status.APPROVED

    wait_for(seen)
    assert other.refresh() is False  # nothing new since


def test_derived_state_is_complete_after_an_import(filled):
    assert filled.derived_pending == 0
    assert filled.finish_derived(wait=False) is True  # nothing to do, nothing refused


def test_hostile_reviewer_name_is_stored_as_given(backend, filled, monkeypatch):
    name = "o'brien\"; DELETE FROM decisions; -- \x1b]0;x\x07 [red]"
    monkeypatch.setenv("COPYDESK_REVIEWER", name)
    other = backend.open(reviewer=name)
    review = other.set_review(SEED_IDS["003"], "approved")
    assert review.reviewer == name
    again = backend.open(reviewer=name)
    assert again.review(SEED_IDS["003"]).reviewer == name
    assert again.count("status:approved") == 1


def test_hostile_titles_and_ids_are_data(store, tmp_path):
    text = (DATA / "hostile_markup.txt").read_text(encoding="utf-8")
    hostile_id = "anp-ref-x'); DROP TABLE posts; --\"\\%s"
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    (tmp_path / "b.txt").write_text(
        text.replace("anp-ref-000005-0005", hostile_id).replace(" title\n", " blue title\n", 1),
        encoding="utf-8",
    )
    report = store.import_paths([str(tmp_path / "a.txt"), str(tmp_path / "b.txt")])
    assert not report.errors and hostile_id in report.imported
    post = store.get(hostile_id)
    assert post.title == "[bold red]not markup[/bold red] \x1b[31mred\x1b[0m blue title"
    assert store.summary(hostile_id).title == post.title
    store.set_review(hostile_id, "rejected", note=HOSTILE_NOTE)
    assert store.search_ids("status:rejected", None) == [hostile_id]
    assert len(store) == 2
