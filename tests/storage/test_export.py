"""Export rows and writers: scope, csv safety and round trip, json/jsonl, markdown, files."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from sample_ids import SEED_IDS

from storage import QueryError, Store, samples_dir
from storage.export import (
    FIELDS,
    ExportError,
    export,
    export_rows,
    md_blockquote,
    md_code,
    md_inline,
    neutralise_cell,
    render,
    write_csv,
    write_json,
    write_jsonl,
    write_markdown,
)

FORMULA_NOTE = '=HYPERLINK("http://x")'
MULTILINE_NOTE = (
    'the intro says "always", which is wrong,\nand the code block, "as is", fails\r\nthird line'
)


@pytest.fixture(autouse=True)
def no_fsync(monkeypatch):
    """fsync costs ~15 ms a call on CI disks and durability is tested in test_jsonstore."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The five samples imported once; each test gets a copy of the store files."""
    directory = tmp_path_factory.mktemp("template")
    with Store.open(directory / "db.json") as s:
        s.import_paths([samples_dir()])
    return directory


@pytest.fixture
def store(template, tmp_path, monkeypatch):
    monkeypatch.setenv("COPYDESK_REVIEWER", "alice")
    shutil.copy2(template / "db.json", tmp_path / "db.json")
    shutil.copytree(template / "db.json.d", tmp_path / "db.json.d")
    with Store.open(tmp_path / "db.json") as s:
        yield s


@pytest.fixture
def decided(store):
    store.set_review(SEED_IDS["001"], "rejected", FORMULA_NOTE)
    store.set_review(SEED_IDS["003"], "changes_requested", MULTILINE_NOTE)
    store.set_review(SEED_IDS["000"], "approved", "fine as it is")
    return store


# ---------------------------------------------------------------------- rows


def test_default_scope_is_the_decided_posts_in_reference_order(decided):
    rows = export_rows(decided)
    assert [r["id"] for r in rows] == [SEED_IDS["001"], SEED_IDS["003"], SEED_IDS["000"]]
    assert all(tuple(r) == FIELDS for r in rows)
    by_id = {r["id"]: r for r in rows}
    rejected = by_id[SEED_IDS["001"]]
    assert rejected["status"] == "rejected"
    assert rejected["note"] == FORMULA_NOTE  # the raw note: neutralising is the csv writer's job
    assert rejected["reviewer"] == "alice"
    assert rejected["decided_at"] == decided.review(SEED_IDS["001"]).decided_at
    assert rejected["decided_at"].endswith("Z")
    assert rejected["title"].startswith("building a safer workflow for handling background jobs")
    assert rejected["reference"] == SEED_IDS["001"]
    assert rejected["topic"] == "handling background jobs / php"
    assert rejected["needs_human_review"] is True
    assert by_id[SEED_IDS["000"]]["needs_human_review"] is False
    for row in rows:
        assert row["hints"] == list(decided.summary(row["id"]).hint_codes)


def test_include_pending_adds_the_undecided_posts(decided):
    rows = export_rows(decided, include_pending=True)
    assert sorted(r["id"] for r in rows) == sorted(SEED_IDS.values())
    pending = [r for r in rows if r["status"] == "pending"]
    assert {r["id"] for r in pending} == {SEED_IDS["002"], SEED_IDS["004"]}
    assert all(r["note"] == r["reviewer"] == r["decided_at"] == "" for r in pending)


def test_no_decisions_exports_nothing_by_default(store):
    assert export_rows(store) == []


def test_query_narrows_the_scope(decided):
    rows = export_rows(decided, query="status:rejected")
    assert [r["id"] for r in rows] == [SEED_IDS["001"]]
    # stack:php is 000 and 001; 000 approved, 001 rejected; pending ones only with the flag
    assert {r["id"] for r in export_rows(decided, query="stack:php")} == {
        SEED_IDS["000"],
        SEED_IDS["001"],
    }
    assert {
        r["id"] for r in export_rows(decided, query="flag:needs_human_review", include_pending=True)
    } == {
        SEED_IDS["001"],
        SEED_IDS["003"],
        SEED_IDS["004"],
    }


def test_bad_query_is_a_query_error(decided):
    with pytest.raises(QueryError, match="bogus_field"):
        export_rows(decided, query="bogus_field:x")


# ---------------------------------------------------------------------- csv


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        # a part after a separator some reader splits on (; in European locales, tab)
        ("ok;=cmd|' /C calc'!A0", "ok;'=cmd|' /C calc'!A0"),
        ("a, -1", "a, '-1"),
        ("x\t@SUM(A1)", "x\t'@SUM(A1)"),
        ("one\n+1", "one\n'+1"),
        ('say "=1"', 'say "\'=1"'),
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ("e-mail; a@b", "e-mail; a@b"),
    ],
)
def test_neutralise_cell(cell, expected):
    assert neutralise_cell(cell) == expected


def test_csv_quotes_every_field_and_replaces_controls():
    row = dict.fromkeys(FIELDS, "x")
    row.update(hints=[], needs_human_review=True, note="a\x1b]0;t\x07b\x9dc\td\ne")
    buffer = io.StringIO(newline="")
    write_csv([row], buffer)
    line = buffer.getvalue().split("\r\n")[1]
    assert line.startswith(
        '"x","x","x","x","x","a\ufffd]0;t\ufffdb\ufffdc\td\ne","x","x","","true"'
    )


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_round_trips_notes_exactly_and_neutralises_formulas(decided):
    buffer = io.StringIO(newline="")
    write_csv(export_rows(decided), buffer)
    text = buffer.getvalue()
    assert text.startswith(",".join(f'"{name}"' for name in FIELDS) + "\r\n")
    rows = {r["id"]: r for r in _csv_rows(text)}
    assert list(next(iter(rows.values()))) == list(FIELDS)
    assert rows[SEED_IDS["001"]]["note"] == "'" + FORMULA_NOTE
    assert rows[SEED_IDS["003"]]["note"] == MULTILINE_NOTE
    assert rows[SEED_IDS["000"]]["note"] == "fine as it is"
    assert rows[SEED_IDS["001"]]["status"] == "rejected"
    assert rows[SEED_IDS["001"]]["needs_human_review"] == "true"
    assert rows[SEED_IDS["000"]]["needs_human_review"] == "false"


def test_csv_neutralises_every_column_and_joins_hints():
    row = {
        "id": "-id",
        "reference": "@ref",
        "title": "=cmd|' /C calc'!A0",
        "topic": "+topic",
        "status": "approved",
        "note": "\tindented",
        "decided_at": "2024-01-01T00:00:00Z",
        "reviewer": "=bob",
        "hints": ["thin_content", "near_duplicate"],
        "needs_human_review": False,
    }
    buffer = io.StringIO(newline="")
    write_csv([row], buffer)
    (read,) = _csv_rows(buffer.getvalue())
    for name in ("id", "reference", "title", "topic", "note", "reviewer"):
        assert read[name] == "'" + row[name]
    assert read["hints"] == "thin_content;near_duplicate"
    assert read["decided_at"] == "2024-01-01T00:00:00Z"


# ---------------------------------------------------------------------- json, jsonl


def test_json_is_one_array_of_the_rows(decided):
    rows = export_rows(decided)
    buffer = io.StringIO()
    write_json(rows, buffer)
    assert json.loads(buffer.getvalue()) == rows
    assert [r["status"] for r in json.loads(buffer.getvalue())] == [
        "rejected",
        "changes_requested",
        "approved",
    ]


def test_jsonl_is_one_object_per_line_even_with_newlines_in_notes(decided):
    decided.set_review(SEED_IDS["002"], "approved", "line\u2028separator\nand\x1b[31mesc")
    rows = export_rows(decided)
    buffer = io.StringIO()
    write_jsonl(rows, buffer)
    lines = buffer.getvalue().split("\n")
    assert lines[-1] == ""
    assert [json.loads(line) for line in lines[:-1]] == rows


# ---------------------------------------------------------------------- markdown


def _md_tokens(text: str):
    return MarkdownIt("commonmark").parse(text)


def _headings(tokens) -> list[tuple[str, str]]:
    out = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            out.append((token.tag, _inline_text(tokens[index + 1])))
    return out


def _inline_text(token) -> str:
    return "".join(
        child.content if child.type in ("text", "code_inline") else "\n"
        for child in token.children
        if child.type in ("text", "code_inline", "hardbreak", "softbreak")
    )


def test_markdown_report_grouped_by_status_with_titles_and_notes(decided):
    buffer = io.StringIO()
    write_markdown(export_rows(decided), buffer, generated_at="2024-05-01T10:00:00Z")
    tokens = _md_tokens(buffer.getvalue())
    headings = _headings(tokens)
    titles = {decided.summary(i).title for i in (SEED_IDS["001"], SEED_IDS["003"], SEED_IDS["000"])}
    assert headings[0] == ("h1", "copydesk review notes")
    h2 = [text for tag, text in headings if tag == "h2"]
    assert h2 == ["Rejected (1)", "Changes requested (1)", "Approved (1)"]
    h3 = [text for tag, text in headings if tag == "h3"]
    assert len(h3) == 3
    # the heading source escapes markdown characters; the rendered text is the title
    rendered = MarkdownIt("commonmark").render(buffer.getvalue())
    for title in titles:
        assert f"<h3>{title}</h3>" in rendered
    quotes = [
        _inline_text(tokens[i + 2]) for i, t in enumerate(tokens) if t.type == "blockquote_open"
    ]
    assert quotes == [
        FORMULA_NOTE,
        MULTILINE_NOTE.replace("\r\n", "\n"),
        "fine as it is",
    ]
    text = buffer.getvalue()
    assert f"- Reference: `{SEED_IDS['001']}`" in text
    assert "- Needs human review: yes" in text


HOSTILE_TITLE = "# fake heading ## [link](http://evil) <script>x</script> *bold* `code` |a|b| #"
HOSTILE_NOTE = "\n".join(
    [
        "# not a heading",
        "> not a nested quote",
        "- not a list item",
        "1. not a numbered item",
        "    not indented code",
        "```",
        "not a fence",
        "---",
        "===",
        "[ref]: http://evil",
        "<!-- not a comment -->",
        "&copy; stays literal",
        "tab\there and \x1b]0;title\x07 escape",
    ]
)


def test_markdown_keeps_hostile_titles_and_notes_literal():
    row = {
        "id": "x-1",
        "reference": "ref`with`ticks",
        "title": HOSTILE_TITLE,
        "topic": "_topic_",
        "status": "rejected",
        "note": HOSTILE_NOTE,
        "decided_at": "2024-05-01T10:00:00Z",
        "reviewer": "<b>bob</b>",
        "hints": ["a`b"],
        "needs_human_review": True,
    }
    buffer = io.StringIO()
    write_markdown([row], buffer, generated_at="2024-05-01T10:00:00Z")
    text = buffer.getvalue()
    tokens = _md_tokens(text)
    assert [t.type for t in tokens if t.type.endswith("_open")] == [
        "heading_open",  # h1
        "paragraph_open",  # scope line
        "heading_open",  # Rejected (1)
        "heading_open",  # the post
        "bullet_list_open",
        *["list_item_open", "paragraph_open"] * 6,
        "blockquote_open",
        "paragraph_open",
    ]
    assert _headings(tokens)[2] == ("h3", HOSTILE_TITLE)
    kinds = {child.type for t in tokens if t.children for child in t.children}
    assert kinds <= {"text", "code_inline", "hardbreak", "softbreak"}  # no links, html, em
    quote = next(t for t in tokens if t.type == "inline" and "not a heading" in t.content)
    lines = _inline_text(quote).split("\n")
    expected = [line.strip() for line in HOSTILE_NOTE.split("\n")]
    expected[-1] = "tab here and \ufffd]0;title\ufffd escape"  # no raw control characters
    assert lines == expected
    assert "\x1b" not in text and "\x07" not in text
    reference = next(t for t in tokens if t.type == "inline" and "Reference" in t.content)
    assert [c.content for c in reference.children if c.type == "code_inline"] == ["ref`with`ticks"]


def test_md_helpers():
    assert md_inline("a\nb\tc") == "a b c"
    assert md_inline("1. first") == "1\\. first"
    assert md_code("x`y") == "``x`y``"
    assert md_code("`edge") == "`` `edge ``"
    assert md_blockquote("one\n\ntwo\nthree") == ["> one", ">", "> two\\", "> three"]


# ---------------------------------------------------------------------- files


def test_export_writes_a_file_and_reports_the_count(decided, tmp_path):
    target = tmp_path / "out" / "review.csv"
    target.parent.mkdir()
    result = export(decided, "csv", target)
    assert result.path == target.resolve() and result.count == 3 and result.format == "csv"
    with open(target, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["note"] for r in rows} == {"'" + FORMULA_NOTE, MULTILINE_NOTE, "fine as it is"}
    # an export is not a store file: no .bak generation beside it, no temp files left
    export(decided, "csv", target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["review.csv"]


def test_export_to_a_stream(decided):
    buffer = io.StringIO()
    result = export(decided, "jsonl", None, stream=buffer)
    assert result.path is None and result.count == 3
    assert len(buffer.getvalue().splitlines()) == 3
    buffer = io.StringIO()
    export(decided, "json", "-", stream=buffer)
    assert len(json.loads(buffer.getvalue())) == 3


def test_file_output_is_atomic(decided, tmp_path, monkeypatch):
    target = tmp_path / "review.md"
    target.write_text("the previous report\n")
    renames = []
    real_replace = os.replace

    def spy_replace(src, dst):
        renames.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy_replace)
    export(decided, "md", target)
    # written to a temp file in the same directory, then renamed over the target
    assert [(src.parent, dst) for src, dst in renames] == [(tmp_path, target.resolve())]
    assert renames[0][0].name.endswith(".tmp")
    assert target.read_text().startswith("# copydesk review notes")

    target.write_text("the previous report\n")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(ExportError, match="cannot write"):
        export(decided, "md", target)
    monkeypatch.undo()
    assert target.read_text() == "the previous report\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    "name",
    [
        "db.json",
        "db.json.bak",
        "db.json.lock",
        "db.json.d/reviews.json",
        "db.json.d/reviews.json.bak",
        "db.json.d/posts-00.json",
        "db.json.d/new-file.md",
        "db.json.d",
    ],
)
def test_export_refuses_to_write_over_the_store(decided, tmp_path, name):
    target = tmp_path / name
    before = target.read_bytes() if target.is_file() else None
    with pytest.raises(ExportError, match="refusing to write over a file of the copydesk store"):
        export(decided, "json", target)
    if before is not None:
        assert target.read_bytes() == before


def test_export_refuses_a_symlink_or_hard_link_to_the_store(decided, tmp_path):
    db = tmp_path / "db.json"
    before = db.read_bytes()
    (tmp_path / "link.json").symlink_to(db)
    os.link(db, tmp_path / "hard.json")
    for name in ("link.json", "hard.json"):
        with pytest.raises(ExportError, match="refusing"):
            export(decided, "json", tmp_path / name)
    assert db.read_bytes() == before


def test_export_path_errors(decided, tmp_path):
    with pytest.raises(ExportError, match="is a directory"):
        export(decided, "md", tmp_path)
    with pytest.raises(ExportError, match="no such directory"):
        export(decided, "md", tmp_path / "missing" / "out.md")
    with pytest.raises(ExportError, match="allowed: md, csv, json, jsonl"):
        export(decided, "xml", tmp_path / "out.xml")
    with pytest.raises(ExportError, match="allowed"):
        render("xml", [])
