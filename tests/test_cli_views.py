"""`copydesk views` (list, save, delete) and `--view NAME` for `list` and `export`."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from storage import Store, samples_dir
from tui.cli import main

NEEDS_REVIEW = {"anp-ref-003275-2123", "anp-ref-013900-8738", "anp-ref-012395-2485"}
PHP_POST = "anp-ref-003275-2123"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def db(tmp_path, runner):
    path = tmp_path / "db.json"
    result = runner.invoke(main, ["--db", str(path), "import", str(samples_dir())])
    assert result.exit_code == 0, result.output
    return path


def run(runner, db, *args):
    return runner.invoke(main, ["--db", str(db), *args])


def listed_views(runner, db) -> list[dict]:
    result = run(runner, db, "views", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_views_json_lists_the_builtins_with_live_counts(runner, db):
    views = listed_views(runner, db)
    assert [(v["name"], v["count"], v["builtin"]) for v in views] == [
        ("All posts", 5, True),
        ("Needs review", 3, True),
        ("Approved", 0, True),
        ("Rejected", 0, True),
        ("Changes requested", 0, True),
        ("Changed since review", 0, True),
        ("Inconsistent duplicates", 0, True),
    ]
    assert views[1]["query"] == "flag:needs_human_review status:pending"
    assert set(views[0]) == {"name", "query", "count", "builtin"}

    assert run(runner, db, "review", PHP_POST, "-s", "approved").exit_code == 0
    counts = {v["name"]: v["count"] for v in listed_views(runner, db)}
    assert (counts["Needs review"], counts["Approved"]) == (2, 1)


def test_views_table_by_default(runner, db):
    result = run(runner, db, "views")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["view", "posts", "query"]
    assert lines[2].split() == ["Needs", "review", "3", "flag:needs_human_review", "status:pending"]
    assert "(everything)" in lines[1]


def test_save_then_list_then_delete(runner, db):
    result = run(runner, db, "views", "save", "php posts", "stack:php")
    assert result.exit_code == 0, result.output
    with Store.open(db) as store:
        php_count = store.count("stack:php")
    assert f"{php_count} posts" in result.stdout
    views = listed_views(runner, db)
    assert views[-1] == {
        "name": "php posts",
        "query": "stack:php",
        "count": php_count,
        "builtin": False,
    }
    table = run(runner, db, "views").stdout
    assert "php posts" in table and "(saved)" in table

    result = run(runner, db, "views", "delete", "PHP Posts")
    assert result.exit_code == 0, result.output
    assert "deleted view 'php posts'" in result.stdout
    assert [v["name"] for v in listed_views(runner, db) if not v["builtin"]] == []


def test_db_option_before_or_after_the_command_name(runner, db):
    result = runner.invoke(main, ["views", "save", "mine", "status:approved", "--db", str(db)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["views", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[-1]["name"] == "mine"
    result = runner.invoke(main, ["views", "delete", "--db", str(db), "mine"])
    assert result.exit_code == 0, result.output


def test_bad_query_exits_2_with_the_query_error(runner, db):
    result = run(runner, db, "views", "save", "broken", "bogus_field:x")
    assert result.exit_code == 2
    assert "bad query" in result.stderr and "bogus_field" in result.stderr
    assert "Traceback" not in result.output
    assert all(v["builtin"] for v in listed_views(runner, db))


def test_builtin_names_are_protected_and_unknown_names_exit_2(runner, db):
    result = run(runner, db, "views", "save", "approved", "stack:php")
    assert result.exit_code == 2
    assert "built-in view" in result.stderr
    result = run(runner, db, "views", "delete", "Needs review")
    assert result.exit_code == 2
    assert "built-in view" in result.stderr
    result = run(runner, db, "views", "delete", "nope")
    assert result.exit_code == 2
    assert "no view named 'nope'" in result.stderr
    assert "Traceback" not in result.output


def test_list_view_uses_the_views_query(runner, db):
    result = run(runner, db, "list", "--view", "needs review", "--json")
    assert result.exit_code == 0, result.output
    assert {r["id"] for r in json.loads(result.stdout)} == NEEDS_REVIEW

    assert run(runner, db, "views", "save", "php", "stack:php").exit_code == 0
    result = run(runner, db, "list", "--view", "php", "--json")
    assert {r["id"] for r in json.loads(result.stdout)} == {PHP_POST, "anp-ref-019995-4029"}
    # --query narrows the view (ANDed)
    result = run(runner, db, "list", "--view", "php", "-q", "flag:needs_human_review", "--json")
    assert [r["id"] for r in json.loads(result.stdout)] == [PHP_POST]
    result = run(runner, db, "list", "--view", "PHP")  # the human listing, name in any case
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2


def test_list_with_an_unknown_view_exits_2_naming_the_views(runner, db):
    result = run(runner, db, "list", "--view", "nope")
    assert result.exit_code == 2
    assert "no view named 'nope'" in result.stderr
    assert "'Needs review'" in result.stderr and "'Changed since review'" in result.stderr
    assert "Traceback" not in result.output


def test_list_view_with_a_bad_query_exits_2(runner, db):
    result = run(runner, db, "list", "--view", "approved", "--query", "bogus_field:x")
    assert result.exit_code == 2
    assert "bogus_field" in result.stderr


def test_export_view_exports_the_views_posts(runner, db):
    assert run(runner, db, "review", PHP_POST, "-s", "rejected", "-m", "no").exit_code == 0
    other = sorted(NEEDS_REVIEW - {PHP_POST})[0]
    assert run(runner, db, "review", other, "-s", "approved").exit_code == 0
    result = run(runner, db, "export", "--view", "Rejected", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["id"], r["status"]) for r in rows] == [(PHP_POST, "rejected")]

    result = run(runner, db, "export", "--view", "Needs review", "--all", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    exported = {json.loads(line)["id"] for line in result.stdout.splitlines()}
    assert exported == NEEDS_REVIEW - {PHP_POST, other}

    result = run(runner, db, "export", "--view", "nope")
    assert result.exit_code == 2
    assert "no view named 'nope'" in result.stderr
