"""Merging another reviewer's jsonl: additions, agreements, conflicts, bad lines, settling."""

from __future__ import annotations

import io
import json
import os
import shutil

import orjson
import pytest
from sample_ids import SEED_IDS

from storage import Review, Store, StoreError, samples_dir
from storage.export import export
from storage.merge import parse_review_lines, plan_merge, same_decision


@pytest.fixture(autouse=True)
def no_fsync(monkeypatch):
    """fsync costs ~15 ms a call on CI disks and durability is tested in test_jsonstore."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    directory = tmp_path_factory.mktemp("template")
    with Store.open(directory / "db.json") as s:
        s.import_paths([samples_dir()])
    return directory


def _copy_store(template, target_dir):
    target_dir.mkdir(exist_ok=True)
    shutil.copy2(template / "db.json", target_dir / "db.json")
    shutil.copytree(template / "db.json.d", target_dir / "db.json.d")
    return target_dir / "db.json"


@pytest.fixture
def ours(template, tmp_path, monkeypatch):
    """Alice's store: 000 approved, 001 rejected, 003 changes requested."""
    monkeypatch.setenv("COPYDESK_REVIEWER", "alice")
    with Store.open(_copy_store(template, tmp_path / "alice")) as s:
        s.set_review(SEED_IDS["000"], "approved", "fine")
        s.set_review(SEED_IDS["001"], "rejected", "duplicate of 000")
        s.set_review(SEED_IDS["003"], "changes_requested", "fix the intro")
        yield s


@pytest.fixture
def colleague_file(template, tmp_path, monkeypatch):
    """Bob's jsonl export: agrees on 000, differs on 001 and 003 (note), decided 002 and 004."""
    monkeypatch.setenv("COPYDESK_REVIEWER", "bob")
    with Store.open(_copy_store(template, tmp_path / "bob")) as s:
        s.set_review(SEED_IDS["000"], "approved", "fine\n")  # same after trimming blank space
        s.set_review(SEED_IDS["001"], "approved", "looks fine to me")
        s.set_review(SEED_IDS["003"], "changes_requested", "fix the conclusion")
        s.set_review(SEED_IDS["002"], "rejected", "broken images")
        s.set_review(SEED_IDS["004"], "approved", "")
        bob_reviews = s.reviews()
        path = tmp_path / "bob.jsonl"
        export(s, "jsonl", path)
    monkeypatch.setenv("COPYDESK_REVIEWER", "alice")
    return path, bob_reviews


# ---------------------------------------------------------------------- parsing


def _parse(*lines: str):
    return parse_review_lines([line.encode() for line in lines], "f.jsonl")


def test_parse_names_each_bad_line_and_keeps_the_good_ones():
    decisions, bad = _parse(
        '{"id": "a", "status": "approved", "note": "ok", "reviewer": "bob",'
        ' "decided_at": "2024-05-01T10:00:00Z"}',
        "not json",
        "",
        '["a list"]',
        '{"status": "approved"}',
        '{"id": "b"}',
        '{"id": "c", "status": "maybe"}',
        '{"id": "d", "status": "approved", "note": 5}',
        '{"id": "e", "status": "approved", "decided_at": "yesterday"}',
        '{"id": "a", "status": "rejected"}',
        '{"id": 7, "status": "approved"}',
        '{"id": "f", "status": "rejected", "note": null}',
    )
    assert [(d.line, d.post_id, d.review.status) for d in decisions] == [
        (1, "a", "approved"),
        (12, "f", "rejected"),
    ]
    assert decisions[0].review == Review("approved", "ok", "2024-05-01T10:00:00Z", "bob", "")
    assert str(bad[0]).startswith("f.jsonl:2: not JSON (")  # the parser's own words follow
    assert [str(b) for b in bad[1:]] == [
        "f.jsonl:4: expected a JSON object, got list",
        "f.jsonl:5: missing id",
        "f.jsonl:6: missing status for 'b'",
        "f.jsonl:7: unknown status 'maybe'; allowed: pending, approved, rejected, "
        "changes_requested",
        "f.jsonl:8: note must be a string, not int",
        "f.jsonl:9: decided_at 'yesterday' is not an ISO 8601 time",
        "f.jsonl:10: duplicate id 'a' (first on line 1); this line skipped",
        "f.jsonl:11: id must be a string, not int",
    ]


def test_parse_handles_bom_crlf_and_bad_utf8():
    decisions, bad = parse_review_lines(
        [b'\xef\xbb\xbf{"id": "a", "status": "approved"}\r', b'{"id": "\xff", "status": "x"}'],
        "f.jsonl",
    )
    assert [d.post_id for d in decisions] == ["a"]
    assert [str(b) for b in bad] == ["f.jsonl:2: not UTF-8 (byte 0xff)"]


def test_same_decision_compares_status_and_note():
    assert same_decision(Review("approved", "ok\r\n"), Review("approved", " ok"))
    assert not same_decision(Review("approved", "ok"), Review("rejected", "ok"))
    assert not same_decision(Review("approved", "ok"), Review("approved", "not ok"))


def test_plan_merge_counts_each_case():
    ours = {"a": Review("approved", "x"), "b": Review("rejected", "y"), "p": Review("pending")}
    theirs, _ = _parse(
        '{"id": "a", "status": "approved", "note": "x", "reviewer": "bob"}',
        '{"id": "b", "status": "approved", "note": "y", "reviewer": "bob"}',
        '{"id": "c", "status": "rejected", "reviewer": "bob"}',
        '{"id": "p", "status": "approved", "reviewer": "bob"}',
        '{"id": "q", "status": "pending", "reviewer": "bob"}',
        '{"id": "zzz", "status": "approved", "reviewer": "bob"}',
    )
    plan = plan_merge(
        ours, {"a", "b", "c", "p", "q"}, theirs, [], source="f.jsonl", recorded_at="T"
    )
    report = plan.report
    assert (report.added, report.agreed, report.conflicts) == (["c", "p"], ["a"], ["b"])
    assert [(u.line, u.post_id) for u in report.unknown] == [(6, "zzz")]
    assert report.undecided == ["q"]
    assert set(plan.decisions) == {"c", "p"}
    assert [r["post_id"] for r in plan.conflict_records] == ["b"]
    assert report.summary() == (
        "2 added, 1 agreed, 1 conflicts, 1 unknown ids, 0 bad lines, 1 pending skipped"
    )


# ---------------------------------------------------------------------- the store


def test_merge_adds_agrees_and_keeps_both_sides_of_a_conflict(ours, colleague_file):
    path, bob = colleague_file
    before = ours.reviews()
    report = ours.merge_reviews(path)
    assert report.summary() == "2 added, 1 agreed, 2 conflicts, 0 unknown ids, 0 bad lines"
    assert sorted(report.added) == sorted([SEED_IDS["002"], SEED_IDS["004"]])
    assert report.agreed == [SEED_IDS["000"]]
    assert sorted(report.conflicts) == sorted([SEED_IDS["001"], SEED_IDS["003"]])
    assert report.ok
    # additions keep their reviewer and time; nothing of ours changed
    added = ours.review(SEED_IDS["002"])
    assert (added.status, added.note, added.reviewer) == ("rejected", "broken images", "bob")
    assert added.decided_at == bob[SEED_IDS["002"]].decided_at
    for post_id, review in before.items():
        assert ours.review(post_id) == review
    # the conflicts: ours in place, theirs kept
    conflicts = {c.post_id: c for c in ours.conflicts()}
    assert set(conflicts) == {SEED_IDS["001"], SEED_IDS["003"]}
    rejected = conflicts[SEED_IDS["001"]]
    assert rejected.ours == before[SEED_IDS["001"]]
    assert (rejected.theirs.status, rejected.theirs.note, rejected.theirs.reviewer) == (
        "approved",
        "looks fine to me",
        "bob",
    )
    assert rejected.title == ours.summary(SEED_IDS["001"]).title
    assert rejected.source == str(path)
    assert conflicts[SEED_IDS["003"]].theirs.note == "fix the conclusion"


def journal_records(data_dir) -> list[dict]:
    """The records of journal.jsonl (``<crc32> <json>`` lines), the header aside."""
    lines = (data_dir / "journal.jsonl").read_bytes().splitlines()
    return [orjson.loads(line.split(b" ", 1)[1]) for line in lines][1:]


def test_conflicts_live_in_the_decision_journal_and_survive_reopening(ours, colleague_file):
    path, _ = colleague_file
    posts_before = {p.name: p.read_bytes() for p in (ours.data_dir / "posts").iterdir()}
    ours.merge_reviews(path)
    merge = journal_records(ours.data_dir)[-1]  # one record: additions and conflicts
    assert merge["why"] == "merge"
    assert {r["post_id"] for r in merge["conflicts"]} == {SEED_IDS["001"], SEED_IDS["003"]}
    assert set(merge["decisions"]) == {SEED_IDS["002"], SEED_IDS["004"]}
    assert {p.name: p.read_bytes() for p in (ours.data_dir / "posts").iterdir()} == posts_before
    with Store.open(ours.path) as again:
        assert {c.post_id for c in again.conflicts()} == {SEED_IDS["001"], SEED_IDS["003"]}
        assert again.review(SEED_IDS["004"]).reviewer == "bob"


def test_merging_the_same_file_twice_changes_nothing_more(ours, colleague_file):
    path, _ = colleague_file
    ours.merge_reviews(path)
    reviews = ours.reviews()
    report = ours.merge_reviews(path)
    assert report.summary() == "0 added, 3 agreed, 2 conflicts, 0 unknown ids, 0 bad lines"
    assert ours.reviews() == reviews
    assert len(ours.conflicts()) == 2  # replaced, not duplicated


def test_unknown_ids_are_reported_not_invented(ours, tmp_path):
    path = tmp_path / "other.jsonl"
    path.write_text(
        '{"id": "anp-ref-999999-0000", "status": "approved", "reviewer": "bob"}\n'
        f'{{"id": "{SEED_IDS["002"]}", "status": "rejected", "reviewer": "bob"}}\n'
    )
    report = ours.merge_reviews(path)
    assert [(u.line, u.post_id) for u in report.unknown] == [(1, "anp-ref-999999-0000")]
    assert str(report.unknown[0]) == (
        f"{path}:1: unknown post id 'anp-ref-999999-0000' (not merged)"
    )
    assert "anp-ref-999999-0000" not in ours.reviews()
    assert "anp-ref-999999-0000" not in ours
    assert ours.review(SEED_IDS["002"]).status == "rejected"
    assert report.ok  # unknown ids alone are not a failure


def test_bad_lines_are_skipped_and_the_rest_merged(ours, tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text(
        f'{{"id": "{SEED_IDS["002"]}", "status": "approved", "reviewer": "bob"}}\n'
        "{truncated\n"
        f'{{"id": "{SEED_IDS["004"]}", "status": "later"}}\n'
    )
    report = ours.merge_reviews(path)
    assert not report.ok
    assert [str(b) for b in report.bad_lines][1] == (
        f"{path}:3: unknown status 'later'; allowed: pending, approved, rejected, changes_requested"
    )
    assert str(report.bad_lines[0]).startswith(f"{path}:2: not JSON")
    assert ours.review(SEED_IDS["002"]).status == "approved"
    assert ours.review(SEED_IDS["004"]) is None


def test_unreadable_file_is_a_store_error(ours, tmp_path):
    with pytest.raises(StoreError, match="cannot read"):
        ours.merge_reviews(tmp_path / "missing.jsonl")


def test_a_decision_after_a_merge_is_saved_alongside(ours, colleague_file):
    # the merge writes many documents at once; TinyDB's cached next id must not clash
    path, _ = colleague_file
    ours.merge_reviews(path)
    ours.set_review(SEED_IDS["004"], "rejected", "changed my mind")
    ours.set_review(SEED_IDS["002"], "approved", "")
    reviews = ours.reviews()
    assert len(reviews) == 5
    assert reviews[SEED_IDS["004"]].reviewer == "alice"
    assert reviews[SEED_IDS["000"]].note == "fine"
    saved: dict[str, dict] = {}
    for record in journal_records(ours.data_dir):
        saved.update(record["decisions"])
    assert sorted(saved) == sorted(SEED_IDS.values())
    assert saved[SEED_IDS["004"]]["note"] == "changed my mind"


def test_resolve_keeping_ours_drops_theirs(ours, colleague_file):
    path, _ = colleague_file
    ours.merge_reviews(path)
    before = ours.review(SEED_IDS["001"])
    assert ours.resolve_conflict(SEED_IDS["001"], "ours") == before
    assert ours.review(SEED_IDS["001"]) == before
    assert [c.post_id for c in ours.conflicts()] == [SEED_IDS["003"]]
    with pytest.raises(StoreError, match="no open conflict"):
        ours.resolve_conflict(SEED_IDS["001"], "ours")


def test_resolve_keeping_theirs_puts_their_decision_in_place(ours, colleague_file):
    path, bob = colleague_file
    ours.merge_reviews(path)
    kept = ours.resolve_conflict(SEED_IDS["003"], "theirs")
    assert kept == ours.review(SEED_IDS["003"])
    assert (kept.status, kept.note, kept.reviewer) == (
        "changes_requested",
        "fix the conclusion",
        "bob",
    )
    assert kept.decided_at == bob[SEED_IDS["003"]].decided_at
    assert [c.post_id for c in ours.conflicts()] == [SEED_IDS["001"]]


def test_resolve_rejects_bad_arguments(ours, colleague_file):
    path, _ = colleague_file
    ours.merge_reviews(path)
    with pytest.raises(StoreError, match="keep must be one of ours, theirs"):
        ours.resolve_conflict(SEED_IDS["001"], "both")
    with pytest.raises(StoreError, match="no post"):
        ours.resolve_conflict("nope", "ours")


def test_agreeing_later_closes_the_conflict(ours, colleague_file):
    path, _ = colleague_file
    ours.merge_reviews(path)
    ours.set_review(SEED_IDS["001"], "approved", "looks fine to me")
    assert [c.post_id for c in ours.conflicts()] == [SEED_IDS["003"]]


def test_two_reviewers_disagreeing_on_one_post(ours, tmp_path):
    for name, status in (("bob", "approved"), ("carol", "changes_requested")):
        path = tmp_path / f"{name}.jsonl"
        path.write_text(
            json.dumps({"id": SEED_IDS["001"], "status": status, "reviewer": name}) + "\n"
        )
        assert ours.merge_reviews(path).conflicts == [SEED_IDS["001"]]
    assert [c.theirs.reviewer for c in ours.conflicts()] == ["bob", "carol"]
    with pytest.raises(StoreError, match="2 open conflicts"):
        ours.resolve_conflict(SEED_IDS["001"], "theirs")
    ours.resolve_conflict(SEED_IDS["001"], "theirs", reviewer="carol")
    assert ours.review(SEED_IDS["001"]).status == "changes_requested"
    remaining = ours.conflicts()
    assert [(c.theirs.reviewer, c.ours.status) for c in remaining] == [("bob", "changes_requested")]


def test_their_export_made_with_all_skips_pending(ours, template, tmp_path, monkeypatch):
    monkeypatch.setenv("COPYDESK_REVIEWER", "bob")
    with Store.open(_copy_store(template, tmp_path / "bob2")) as bob:
        bob.set_review(SEED_IDS["002"], "approved", "")
        buffer = io.StringIO()
        export(bob, "jsonl", None, include_pending=True, stream=buffer)
    path = tmp_path / "all.jsonl"
    path.write_text(buffer.getvalue())
    report = ours.merge_reviews(path)
    assert report.added == [SEED_IDS["002"]]
    assert sorted(report.undecided) == sorted(
        [SEED_IDS["000"], SEED_IDS["001"], SEED_IDS["003"], SEED_IDS["004"]]
    )
    assert ours.review(SEED_IDS["004"]) is None


def test_in_memory_decisions_match_the_file_after_merge_and_settling(ours, colleague_file):
    path, _ = colleague_file
    ours.merge_reviews(path)
    ours.resolve_conflict(SEED_IDS["003"], "theirs")
    ours.resolve_conflict(SEED_IDS["001"], "ours")
    with Store.open(ours.path) as fresh:
        assert fresh.reviews() == ours.reviews()
        assert fresh.conflicts() == ours.conflicts() == []
