"""Which hints predict a rejection (storage/hints_report.py, `copydesk hints-report`)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from storage import PostSummary, Status, Store
from storage.hints import HINT_CODES
from storage.hints_report import hints_report, hints_report_of
from tui.cli import main


def row(status: str, *codes: str) -> PostSummary:
    return PostSummary("id", "ref", "t", "topic", True, status=status, hint_codes=codes)


def test_counts_rates_and_lift_against_the_posts_without_the_hint():
    rows = [
        row("rejected", "a"),
        row("rejected", "a", "b"),
        row("approved", "a"),
        row("changes_requested", "a"),
        row("pending", "a", "a"),  # a code twice counts once
        row("approved"),
        row("approved", "b"),
        row("rejected"),
        row("approved"),
    ]
    a, b = hints_report_of(rows, codes=("a", "b"))
    assert a.code == "a"
    assert a.carrying.by_status == {
        "pending": 1,
        "approved": 1,
        "rejected": 2,
        "changes_requested": 1,
        "disputed": 0,
    }
    assert (a.carrying.posts, a.carrying.decided) == (5, 4)
    assert a.carrying.rejected_rate == pytest.approx(2 / 4)
    assert a.carrying.not_approved_rate == pytest.approx(3 / 4)
    assert (a.others.posts, a.others.decided) == (4, 4)
    assert a.others.rejected_rate == pytest.approx(1 / 4)
    assert a.rejection_lift == pytest.approx(2.0)
    assert (b.carrying.posts, b.carrying.rejected_rate) == (2, pytest.approx(1 / 2))
    assert b.others.rejected_rate == pytest.approx(2 / 6)


def test_rates_are_none_without_decided_posts_and_lift_without_a_base():
    (only,) = hints_report_of([row("pending", "a"), row("rejected")], codes=("a",))
    assert only.carrying.rejected_rate is None and only.rejection_lift is None
    (never,) = hints_report_of([row("rejected", "a"), row("approved")], codes=("a",))
    assert never.others.rejected_rate == 0 and never.rejection_lift is None
    (unused,) = hints_report_of([row("approved")], codes=("zzz",))
    assert unused.carrying.posts == 0 and unused.others.posts == 1
    assert unused.to_dict()["with"] == {
        "posts": 0,
        "pending": 0,
        "approved": 0,
        "rejected": 0,
        "changes_requested": 0,
        "disputed": 0,
        "decided": 0,
        "rejected_rate": None,
        "not_approved_rate": None,
    }


def decide_by_hints(store, corpus) -> None:
    """Reject half the posts with placeholder images and a few others, approve every third
    post, ask for changes on a few, and decide a family inconsistently."""
    with_placeholder = set(store.search_ids("hint:placeholder_image", limit=None))
    for n, post_id in enumerate(store.ids()):
        if post_id in corpus.family:
            continue
        if post_id in with_placeholder and n % 2:
            store.set_review(post_id, "rejected")
        elif n % 3 == 0:
            store.set_review(post_id, "approved")
        elif n % 11 == 0 and post_id not in with_placeholder:
            store.set_review(post_id, "rejected")
        elif n % 7 == 0:
            store.set_review(post_id, "changes_requested")
    keeper, first, _ = corpus.family
    store.set_review(keeper, "approved")
    store.set_review(first, "rejected")


def test_the_report_of_a_store_agrees_with_its_queries(db, corpus):
    """Oracle: the query language's own counts of ``hint:CODE status:S``."""
    with Store.open(db) as store:
        decide_by_hints(store, corpus)
        report = hints_report(store)
        assert [r.code for r in report] == list(HINT_CODES)
        for item in report:
            for status in Status:
                if status is Status.DISPUTED:
                    continue  # not in the local store's query language
                assert item.carrying.by_status[status] == store.count(
                    f"hint:{item.code} status:{status}"
                ), (item.code, status)
                assert item.others.by_status[status] == store.count(
                    f"-hint:{item.code} status:{status}"
                ), (item.code, status)
        by_code = {r.code: r for r in report}
        placeholder = by_code["placeholder_image"]
        assert placeholder.carrying.by_status["rejected"] > 0
        assert placeholder.rejection_lift > 1  # rejected mostly with that hint: it predicts
        assert by_code["inconsistent_duplicate"].carrying.posts == 2


def test_cli_hints_report(db, corpus):
    with Store.open(db) as store:
        decide_by_hints(store, corpus)
        expected = [r.to_dict() for r in hints_report(store)]
    runner = CliRunner()
    result = runner.invoke(main, ["hints-report", "--json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected
    result = runner.invoke(main, ["hints-report", "--db", str(db)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "hint",
        "posts",
        "approved",
        "rejected",
        "changes",
        "pending",
        "rejected",
        "without",
        "lift",
    ]
    table = {line.split()[0]: line.split()[1:] for line in lines[1 : 1 + len(HINT_CODES)]}
    assert list(table) == list(HINT_CODES)
    placeholder = next(r for r in expected if r["code"] == "placeholder_image")
    cells = table["placeholder_image"]
    assert cells[:5] == [
        str(placeholder["with"][k])
        for k in ("posts", "approved", "rejected", "changes_requested", "pending")
    ]
    assert cells[5] == f"{placeholder['with']['rejected_rate']:.0%}"
    assert cells[6] == f"{placeholder['without']['rejected_rate']:.0%}"
    assert cells[7] == f"{placeholder['rejection_lift']:.1f}x"
    assert lines[-1].startswith("rejected: share of the decided posts")
