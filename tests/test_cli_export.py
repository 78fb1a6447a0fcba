"""`copydesk export`, `import-reviews` and `conflicts`, end to end through click.

Issue 7 "done when": three decisions made with `copydesk review` (a spreadsheet formula,
a multi-line note with quotes and commas, a plain one) export to csv that the csv module
reads back exactly (formula neutralised), to json/jsonl with the three statuses and to
markdown with titles and notes; `--query status:rejected` exports only the rejected one;
merging a colleague's jsonl shows additions, agreements and conflicts.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil

import pytest
from click.testing import CliRunner
from sample_ids import SEED_IDS

from storage import Store, samples_dir
from tui.cli import main

FORMULA_NOTE = '=HYPERLINK("http://x")'
MULTILINE_NOTE = 'intro says "always", which is wrong,\nand "the code", as written, fails'
PLAIN_NOTE = "good to publish"


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


@pytest.fixture
def db(template, tmp_path, monkeypatch):
    monkeypatch.setenv("COPYDESK_REVIEWER", "alice")
    shutil.copy2(template / "db.json", tmp_path / "db.json")
    shutil.copytree(template / "db.json.d", tmp_path / "db.json.d")
    return tmp_path / "db.json"


def run(db, *args: str):
    result = CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)
    return result


@pytest.fixture
def reviewed(db):
    """The three decisions, made the way a reviewer makes them on the command line."""
    for post_id, status, note in (
        (SEED_IDS["001"], "rejected", FORMULA_NOTE),
        (SEED_IDS["003"], "changes_requested", MULTILINE_NOTE),
        (SEED_IDS["000"], "approved", PLAIN_NOTE),
    ):
        result = run(db, "review", post_id, "--status", status, "--note", note)
        assert result.exit_code == 0, result.output
    return db


def _titles(db) -> dict[str, str]:
    with Store.open(db) as store:
        return {post_id: store.summary(post_id).title for post_id in store.ids()}


# ---------------------------------------------------------------------- export


def test_csv_export_reads_back_exactly_with_the_formula_neutralised(reviewed):
    result = run(reviewed, "export", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert [r["id"] for r in rows] == [SEED_IDS["001"], SEED_IDS["003"], SEED_IDS["000"]]
    by_id = {r["id"]: r for r in rows}
    assert by_id[SEED_IDS["001"]]["note"] == "'" + FORMULA_NOTE
    assert by_id[SEED_IDS["003"]]["note"] == MULTILINE_NOTE
    assert by_id[SEED_IDS["000"]]["note"] == PLAIN_NOTE
    assert [by_id[SEED_IDS[k]]["status"] for k in ("001", "003", "000")] == [
        "rejected",
        "changes_requested",
        "approved",
    ]
    titles = _titles(reviewed)
    assert all(r["title"] == titles[r["id"]] for r in rows)
    assert all(r["reviewer"] == "alice" for r in rows)


def test_csv_file_output_reads_back_exactly(reviewed, tmp_path):
    target = tmp_path / "review.csv"
    result = run(reviewed, "export", "--format", "csv", "--output", str(target))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.strip() == f"wrote 3 posts (csv) to {target}"
    with open(target, newline="", encoding="utf-8") as fh:
        notes = {r["id"]: r["note"] for r in csv.DictReader(fh)}
    assert notes == {
        SEED_IDS["001"]: "'" + FORMULA_NOTE,
        SEED_IDS["003"]: MULTILINE_NOTE,
        SEED_IDS["000"]: PLAIN_NOTE,
    }


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_and_jsonl_hold_the_three_decisions(reviewed, fmt):
    result = run(reviewed, "export", "--format", fmt)
    assert result.exit_code == 0
    if fmt == "json":
        rows = json.loads(result.stdout)
    else:
        rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["id"]: (r["status"], r["note"]) for r in rows} == {
        SEED_IDS["001"]: ("rejected", FORMULA_NOTE),
        SEED_IDS["003"]: ("changes_requested", MULTILINE_NOTE),
        SEED_IDS["000"]: ("approved", PLAIN_NOTE),
    }
    assert set(rows[0]) == {
        "id",
        "reference",
        "title",
        "topic",
        "status",
        "note",
        "decided_at",
        "reviewer",
        "hints",
        "needs_human_review",
    }
    assert all(isinstance(r["hints"], list) for r in rows)
    assert {r["id"]: r["needs_human_review"] for r in rows} == {
        SEED_IDS["001"]: True,
        SEED_IDS["003"]: True,
        SEED_IDS["000"]: False,
    }


def test_markdown_has_status_groups_titles_and_notes(reviewed):
    result = run(reviewed, "export", "--format", "md")
    assert result.exit_code == 0
    text = result.stdout
    assert "## Rejected (1)" in text
    assert "## Changes requested (1)" in text
    assert "## Approved (1)" in text
    assert text.index("## Rejected") < text.index("## Changes") < text.index("## Approved")
    titles = _titles(reviewed)
    for key in ("001", "003", "000"):
        # titles hold no markdown characters except ":" which needs no escape
        assert f"### {titles[SEED_IDS[key]]}" in text
    assert '> \\=HYPERLINK("http://x")' in text
    assert '> intro says "always", which is wrong,\\\n> and "the code", as written, fails' in text
    assert f"> {PLAIN_NOTE}" in text


def test_query_exports_only_the_rejected_one(reviewed):
    result = run(reviewed, "export", "--format", "jsonl", "--query", "status:rejected")
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["id"], r["status"]) for r in rows] == [(SEED_IDS["001"], "rejected")]


def test_all_adds_pending_posts(reviewed):
    result = run(reviewed, "export", "--format", "json", "--all")
    rows = json.loads(result.stdout)
    assert sorted(r["id"] for r in rows) == sorted(SEED_IDS.values())
    assert sorted(r["status"] for r in rows).count("pending") == 2


def test_format_comes_from_the_output_suffix(reviewed, tmp_path):
    target = tmp_path / "notes.jsonl"
    assert run(reviewed, "export", "-o", str(target)).exit_code == 0
    assert len([json.loads(line) for line in target.read_text().splitlines()]) == 3


def test_unknown_format_exits_2_with_the_allowed_values(reviewed):
    result = run(reviewed, "export", "--format", "xml")
    assert result.exit_code == 2
    for name in ("md", "csv", "json", "jsonl"):
        assert name in result.stderr
    assert "xml" in result.stderr


def test_bad_query_exits_2_naming_the_term(reviewed):
    result = run(reviewed, "export", "--query", "bogus_field:x")
    assert result.exit_code == 2
    assert "bogus_field" in result.stderr
    assert "Traceback" not in result.output


def test_export_refuses_to_overwrite_the_store(reviewed):
    before = reviewed.read_bytes()
    reviews_file = reviewed.with_name("db.json.d") / "journal.jsonl"
    reviews_before = reviews_file.read_bytes()
    for target in (reviewed, reviews_file, reviewed.with_name("db.json.bak")):
        result = run(reviewed, "export", "--format", "json", "--output", str(target))
        assert result.exit_code == 1
        assert "refusing to write over a file of the copydesk store" in result.stderr
    assert reviewed.read_bytes() == before
    assert reviews_file.read_bytes() == reviews_before


def test_empty_export_says_how_to_include_pending(db):
    result = run(db, "export", "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout.strip() == ",".join(  # every field quoted, the header too
        f'"{name}"'
        for name in [
            "id",
            "reference",
            "title",
            "topic",
            "status",
            "note",
            "decided_at",
            "reviewer",
            "hints",
            "needs_human_review",
        ]
    )
    assert "--all" in result.stderr


# ---------------------------------------------------------------------- merge


@pytest.fixture
def colleague_jsonl(template, tmp_path, monkeypatch):
    """Bob reviewed a copy of the same posts and exported jsonl."""
    bob_db = tmp_path / "bob" / "db.json"
    bob_db.parent.mkdir()
    shutil.copy2(template / "db.json", bob_db)
    shutil.copytree(template / "db.json.d", bob_db.with_name("db.json.d"))
    monkeypatch.setenv("COPYDESK_REVIEWER", "bob")
    for post_id, status, note in (
        (SEED_IDS["001"], "rejected", FORMULA_NOTE),  # agrees
        (SEED_IDS["000"], "rejected", "the php sample is outdated"),  # conflicts
        (SEED_IDS["002"], "approved", "ok"),  # new to us
    ):
        assert run(bob_db, "review", post_id, "--status", status, "--note", note).exit_code == 0
    path = tmp_path / "bob.jsonl"
    assert run(bob_db, "export", "--format", "jsonl", "--output", str(path)).exit_code == 0
    monkeypatch.setenv("COPYDESK_REVIEWER", "alice")
    return path


def test_merge_shows_additions_agreements_and_conflicts(reviewed, colleague_jsonl):
    result = run(reviewed, "import-reviews", str(colleague_jsonl))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "1 added, 1 agreed, 1 conflicts, 0 unknown ids, 0 bad lines"

    listed = json.loads(run(reviewed, "conflicts", "--json").stdout)
    assert len(listed) == 1
    (conflict,) = listed
    assert conflict["id"] == SEED_IDS["000"]
    assert conflict["title"] == _titles(reviewed)[SEED_IDS["000"]]
    assert (conflict["ours"]["status"], conflict["ours"]["note"]) == ("approved", PLAIN_NOTE)
    assert conflict["ours"]["reviewer"] == "alice"
    assert (conflict["theirs"]["status"], conflict["theirs"]["reviewer"]) == ("rejected", "bob")
    assert conflict["theirs"]["note"] == "the php sample is outdated"

    text = run(reviewed, "conflicts").stdout
    assert f"{SEED_IDS['000']}  {conflict['title']}" in text
    assert f"ours:   approved by alice at {conflict['ours']['decided_at']}: {PLAIN_NOTE}" in text
    assert "theirs: rejected by bob" in text and "the php sample is outdated" in text

    # the added decision is bob's, and our three are as we left them
    rows = {
        r["id"]: r
        for r in map(json.loads, run(reviewed, "export", "--format", "jsonl").stdout.splitlines())
    }
    assert (rows[SEED_IDS["002"]]["status"], rows[SEED_IDS["002"]]["reviewer"]) == (
        "approved",
        "bob",
    )
    assert rows[SEED_IDS["000"]]["status"] == "approved"
    assert rows[SEED_IDS["000"]]["reviewer"] == "alice"


def test_settling_a_conflict_from_the_cli(reviewed, colleague_jsonl):
    run(reviewed, "import-reviews", str(colleague_jsonl))
    result = run(reviewed, "conflicts", "--resolve", SEED_IDS["000"], "--keep", "theirs")
    assert result.exit_code == 0, result.stderr
    assert "kept theirs, now rejected by bob" in result.stdout
    assert run(reviewed, "conflicts").stdout.strip() == "no conflicts"
    assert json.loads(run(reviewed, "conflicts", "--json").stdout) == []
    shown = json.loads(run(reviewed, "show", SEED_IDS["000"], "--json").stdout)
    assert shown["review"]["status"] == "rejected"
    again = run(reviewed, "conflicts", "--resolve", SEED_IDS["000"], "--keep", "ours")
    assert again.exit_code == 1
    assert "no open conflict" in again.stderr


def test_resolve_and_keep_go_together(reviewed):
    result = run(reviewed, "conflicts", "--keep", "ours")
    assert result.exit_code == 2
    result = run(reviewed, "conflicts", "--resolve", SEED_IDS["000"], "--keep", "mine")
    assert result.exit_code == 2
    assert "ours" in result.stderr and "theirs" in result.stderr


def test_bad_line_is_named_and_skipped_with_exit_1(reviewed, colleague_jsonl, tmp_path):
    lines = colleague_jsonl.read_text().splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_text(
        "\n".join(
            [
                lines[0],
                '{"id": "x", "status": "approved"',  # cut off
                json.dumps({"id": SEED_IDS["004"], "status": "maybe"}),
                json.dumps({"id": "anp-ref-999999-0000", "status": "approved"}),
                *lines[1:],
            ]
        )
        + "\n"
    )
    result = run(reviewed, "import-reviews", str(broken))
    assert result.exit_code == 1
    assert result.stdout.strip() == "1 added, 1 agreed, 1 conflicts, 1 unknown ids, 2 bad lines"
    err = result.stderr.splitlines()
    assert any(line.startswith(f"{broken}:2: not JSON") for line in err)
    assert (
        f"{broken}:3: unknown status 'maybe'; allowed: pending, approved, rejected, "
        "changes_requested" in err
    )
    assert f"{broken}:4: unknown post id 'anp-ref-999999-0000' (not merged)" in err
    listed = json.loads(run(reviewed, "export", "--format", "json", "--all").stdout)
    assert "anp-ref-999999-0000" not in {r["id"] for r in listed}
    assert {r["id"]: r["status"] for r in listed}[SEED_IDS["004"]] == "pending"


def test_import_reviews_missing_file_is_a_usage_error(reviewed, tmp_path):
    result = run(reviewed, "import-reviews", str(tmp_path / "missing.jsonl"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_import_reviews_json_report(reviewed, colleague_jsonl):
    result = run(reviewed, "import-reviews", "--json", str(colleague_jsonl))
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["added"] == [SEED_IDS["002"]]
    assert report["agreed"] == [SEED_IDS["001"]]
    assert report["conflicts"] == [SEED_IDS["000"]]
    assert report["unknown_ids"] == [] and report["bad_lines"] == []
    assert report["summary"] == "1 added, 1 agreed, 1 conflicts, 0 unknown ids, 0 bad lines"
