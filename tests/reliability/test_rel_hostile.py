"""Hostile files: a 10 MB document, 100k lines, one 1 MB line, NUL bytes, a 5,000-character
title, deep indentation, Rich markup and escape sequences, and files that are no text at
all. The import finishes without a crash, every readable file becomes a post, and every
other file is one clear per-file error. (Timings: ``python tests/reliability/hostile.py``.)"""

from __future__ import annotations

import json

from click.testing import CliRunner
from hostile import ESCAPES, MARKUP, write_hostile

import seeds
from storage import Store
from tui.cli import main

READABLE = [
    "big_10mb.txt",
    "deep_indent.txt",
    "lines_100k.txt",
    "markup_escapes.txt",
    "one_line_1mb.txt",
    "title_5000.txt",
]


def test_hostile_files_import_without_a_crash_and_bad_ones_are_clear_errors(tmp_path):
    paths = write_hostile(tmp_path / "hostile")
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        # the directory (where a FIFO and a folder named *.txt are skipped) and the FIFO
        # named on its own: opening it to read would block forever
        report = store.import_paths([tmp_path / "hostile", paths["fifo.txt"]])
        errors = {e.path.rsplit("/", 1)[-1]: e.reason for e in report.errors}
        assert errors.keys() == {
            "nul_bytes.txt",
            "not_utf8.txt",
            "utf16.txt",
            "only_blank.txt",
            "fifo.txt",
        }
        assert errors["nul_bytes.txt"] == seeds.reader.BINARY
        assert errors["not_utf8.txt"].startswith("not UTF-8 text (invalid byte 0xe9")
        assert errors["utf16.txt"].startswith("UTF-16 text")
        assert errors["only_blank.txt"] == seeds.reader.EMPTY
        assert errors["fifo.txt"] == "a FIFO (named pipe), not a regular file"
        assert all(str(e) == f"{e.path}: {e.reason}" for e in report.errors)

        ids = {p.name: seeds.read_file(p).id for n, p in paths.items() if n in READABLE}
        assert sorted(report.imported) == sorted(ids.values())
        assert len(store) == len(READABLE)

        big = store.get(ids["big_10mb.txt"])
        assert len(json.dumps(big.body, ensure_ascii=False)) > 10_000_000  # all of it stored
        assert big.meta["reference"] == "anp-ref-900001-0001"
        lines = store.get(ids["lines_100k.txt"])
        assert sum(len(b.get("items", [])) for b in lines.body) == 100_000
        assert len(store.get(ids["title_5000.txt"]).title) == 5000
        deep = store.get(ids["deep_indent.txt"])
        assert "level 999 = value(999);" in json.dumps(deep.body)
        hostile = store.get(ids["markup_escapes.txt"])
        assert MARKUP in hostile.title  # kept as data, exactly
        # queries over them work
        assert store.count("") == len(READABLE)
        found = [r.id for r in store.search('"nested 999"', limit=None)]  # a body phrase
        assert found == [ids["deep_indent.txt"]]
        assert ids["title_5000.txt"] in [r.id for r in store.search("very long", limit=None)]

    runner = CliRunner()
    listed = runner.invoke(main, ["--db", str(db), "list"])
    assert listed.exit_code == 0 and "\x1b" not in listed.stdout and "\x07" not in listed.stdout
    shown = runner.invoke(main, ["--db", str(db), "show", ids["markup_escapes.txt"]])
    assert shown.exit_code == 0, shown.output
    assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout
    assert "[bold red]loud[/bold red]" in shown.stdout  # markup shown literally, not applied
    as_json = runner.invoke(main, ["--db", str(db), "show", ids["markup_escapes.txt"], "--json"])
    assert ESCAPES.split(" ")[0] in json.loads(as_json.stdout)["title"]  # JSON keeps the data
