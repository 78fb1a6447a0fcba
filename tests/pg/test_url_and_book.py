"""No server needed: URL redaction and the effective-decision rules."""

from __future__ import annotations

from storage.models import Review, Status
from storage.pg.decisions import DecisionBook, DecisionRow
from storage.pg.url import display_url, is_postgres_url, redact

SECRET = "s3cr:et@x/y"


def test_display_url_drops_the_password():
    url = "postgresql://alice:hunter2@db.example:5433/desk?sslmode=require"
    assert display_url(url) == "postgresql://alice@db.example:5433/desk?sslmode=require"
    assert "hunter2" not in display_url("postgresql://bob@h/d?password=hunter2")


def test_redact_removes_passwords_of_urls_conninfo_and_literal_secrets():
    text = (
        "failed: postgresql://u:hunter2@h/d and host=h password='a b' user=x"
        f" and password={SECRET} and the server said {SECRET}"
    )
    out = redact(text, SECRET)
    assert "hunter2" not in out and "'a b'" not in out and SECRET not in out
    assert out.count("***") >= 3


def test_is_postgres_url():
    assert is_postgres_url("postgresql://h/d") and is_postgres_url("POSTGRES://h/d")
    assert not is_postgres_url("copydesk.json") and not is_postgres_url(None)


def _row(post: str, who: str, status: str | None, seq: int) -> DecisionRow:
    review = None if status is None else Review(status, "", f"2026-01-01T00:00:{seq:02d}Z", who)
    return DecisionRow(post, who, review, seq)


def test_effective_decision_rules():
    book = DecisionBook(min_reviews=2)
    book.apply([_row("p", "a", "approved", 1)])
    assert "p" not in book.effective  # one of two reviewers
    assert book.decided_by("a") == {"p"} and book.decided_by("b") == set()
    book.apply([_row("p", "b", "approved", 2)])
    assert book.effective["p"].status == "approved" and book.effective["p"].reviewer == "b"
    book.apply([_row("p", "b", "rejected", 3)])
    assert book.effective["p"].status == Status.DISPUTED
    assert book.disputed() == ["p"]
    # a resolution after the decisions settles it; a later decision re-opens it
    book.apply([], [_row("p", "lead", "rejected", 4)])
    assert book.effective["p"].status == "rejected"
    book.apply([_row("p", "a", "changes_requested", 5)])
    assert book.effective["p"].status == Status.DISPUTED
    # an older write arriving late is ignored; a withdrawal removes the decision
    book.apply([_row("p", "a", "approved", 1)])
    assert book.of("p", "a").status == "changes_requested"
    book.apply([_row("p", "a", None, 6), _row("p", "b", None, 7)])
    assert book.of("p", "a") is None and book.effective["p"].status == "rejected"
    assert book.ratings() == {}


def test_pending_with_a_note_does_not_count_and_min_reviews_changes_apply():
    book = DecisionBook(min_reviews=1)
    book.apply([_row("p", "a", "pending", 1), _row("q", "a", "approved", 2)])
    assert "p" not in book.effective and book.effective["q"].status == "approved"
    assert book.set_min_reviews(2) is True
    assert "q" not in book.effective
    assert book.set_min_reviews(2) is False
