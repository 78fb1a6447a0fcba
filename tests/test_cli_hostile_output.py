"""No byte from a post or a file name reaches the terminal raw, on every CLI output path.

The hostile post's reference (its id) carries an OSC 52 clipboard write and an OSC 0 title
change (both ST-terminated: ESC \\), an 8-bit OSC (0x9d), a right-to-left override and a
zero-width joiner; so do its title, a file name, a note and a reviewer name. Every command
runs with ``color=True`` (click strips CSI colour codes from what is not a terminal, which
would hide a raw ESC) and everything it prints is checked character by character.
"""

from __future__ import annotations

import io
import json
import re
import sys

import pytest
from click.testing import CliRunner

from storage import Store, samples_dir
from tui.cli import export as export_cli
from tui.cli import main

OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x1b\\"  # writes the clipboard
OSC0 = "\x1b]0;PWNED\x1b\\"  # retitles the terminal
C1_OSC = "\x9d0;C1\x9c"
HOSTILE_REF = f"anp-ref-{OSC52}x{OSC0}y{C1_OSC}z\u202eevil\u200d"
TWIN_REF = f"anp-ref-twin{OSC0}\u2066"
HOSTILE_TITLE = f"title {OSC52} {OSC0}{C1_OSC} \u202eabc\u200b end"
HOSTILE_FILE = "latin\x1b[2J\u202e.txt"
HOSTILE_NOTE = f"ok {OSC52} note\u202e {C1_OSC}"
HOSTILE_REVIEWER = f"mallory{OSC0}\u202e"
HOSTILE_QUERY = f'"x{OSC52} \u202eevil\u200d" status:approved'

# What a terminal acts on or what hides or reorders text: C0 controls but tab, newline and
# carriage return, DEL, C1 controls, and the format characters (bidi, zero-width).
UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


# The colours copydesk itself writes (click.secho of a warning): not from the data.
OWN_COLOURS = re.compile(r"\x1b\[(?:33|0)m")


def assert_terminal_safe(text: str) -> None:
    found = UNSAFE.findall(OWN_COLOURS.sub("", text))
    assert not found, f"raw {sorted(set(found))!r} in output: {text!r}"


def _sample() -> str:
    return (samples_dir() / "000_d88866b715cabc30.txt").read_text(encoding="utf-8")


def _seed(reference: str, title: str) -> str:
    text = _sample()
    first, rest = text.split("\n", 1)
    return f"{title}\n{rest}".replace("anp-ref-019995-4029", reference)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A store with the hostile post, its near-copy (a cluster), a hostile decision and a
    conflicting decision of a hostile colleague; plus the paths the tests need."""
    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "in"
    corpus.mkdir()
    (corpus / "a.txt").write_text(_seed(HOSTILE_REF, HOSTILE_TITLE), encoding="utf-8")
    (corpus / "b.txt").write_text(_seed(TWIN_REF, HOSTILE_TITLE + " twin"), encoding="utf-8")
    db = root / "db.json"
    with Store.open(db) as store:
        report = store.import_paths([corpus])
        assert sorted(report.imported) == sorted([HOSTILE_REF, TWIN_REF])
        store.set_review(HOSTILE_REF, "approved", note=HOSTILE_NOTE, reviewer=HOSTILE_REVIEWER)
    theirs = root / f"theirs{OSC0}.jsonl"
    theirs.write_text(
        json.dumps(
            {
                "id": HOSTILE_REF,
                "status": "rejected",
                "note": HOSTILE_NOTE,
                "reviewer": HOSTILE_REVIEWER,
            }
        )
        + "\n"
        + json.dumps({"id": f"unknown{OSC52}\u202e", "status": "approved"})
        + "\n"
        + json.dumps({"id": HOSTILE_REF, "status": f"bogus{OSC0}\u202e"})
        + "\n",
        encoding="utf-8",
    )
    with Store.open(db) as store:
        assert store.merge_reviews(theirs).conflicts == [HOSTILE_REF]
    return {"root": root, "db": db, "corpus": corpus, "theirs": theirs}


def run(hostile, *args: str, code: int = 0, data_on_stdout: bool = False):
    """Run copydesk; ``data_on_stdout``: an export to a pipe, where csv and markdown are
    the data (their controls already replaced by the writers), not terminal output."""
    result = CliRunner().invoke(main, ["--db", str(hostile["db"]), *args], color=True)
    assert result.exit_code == code, (result.output, result.exception)
    if data_on_stdout:
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", result.stdout)
    else:
        assert_terminal_safe(result.stdout)
    assert_terminal_safe(result.stderr)
    assert "Traceback" not in result.output
    return result


def test_list_shows_the_hostile_id_and_title_escaped(hostile):
    out = run(hostile, "list").stdout
    assert "anp-ref-\\x1b]52;c;ZWNobyBwd25lZA==\\x1b\\x" in out  # the id, visibly
    assert "\\u202eevil\\u200d" in out
    assert "\\u202eabc\\u200b end" in out  # the title: escapes stripped, bidi shown


def test_similar_and_clusters(hostile):
    similar = run(hostile, "similar", HOSTILE_REF).stdout
    assert "anp-ref-twin\\x1b]0;PWNED\\x1b\\\\u2066" in similar
    clusters = run(hostile, "clusters").stdout
    assert "anp-ref-twin\\x1b]0;PWNED\\x1b\\\\u2066" in clusters
    assert "\\u202eevil" in clusters


def test_show_id_line_keeps_no_st_terminated_sequence(hostile):
    out = run(hostile, "show", HOSTILE_REF).stdout
    unwrapped = out.replace("\n", "")  # rich wraps long lines at the console width
    shown_id = (
        "anp-ref-\\x1b]52;c;ZWNobyBwd25lZA==\\x1b\\x\\x1b]0;PWNED\\x1b\\y"
        "\\x9d0;C1\\x9cz\\u202eevil\\u200d"
    )
    assert f"id: {shown_id}   status: approved" in unwrapped
    assert f"reference: {shown_id}" in unwrapped
    assert "note: ok  note\\u202e" in out


def test_conflicts_and_resolve(hostile, tmp_path):
    merged = run(hostile, "import-reviews", str(hostile["theirs"]), code=1)
    assert "unknown\\x1b]52;c;" in merged.stderr  # the unknown id, visibly
    assert "theirs\\x1b]0;PWNED\\x1b\\.jsonl:3: unknown status" in merged.stderr
    listed = run(hostile, "conflicts").stdout
    assert listed.startswith("anp-ref-\\x1b]52;c;")
    assert "mallory" in listed and "\\u202e" in listed
    as_json = run(hostile, "conflicts", "--json").stdout
    assert json.loads(as_json)[0]["theirs"]["reviewer"] == HOSTILE_REVIEWER


def _strings(data):
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


def test_json_outputs_are_faithful_and_escape_c1_del_and_bidi(hostile):
    with Store.open(hostile["db"]) as store:
        store.save_view("hostile query", HOSTILE_QUERY)
    for args, value in (
        (("list", "--json"), HOSTILE_REF),
        (("show", HOSTILE_REF, "--json"), HOSTILE_REF),
        (("similar", HOSTILE_REF, "--json"), TWIN_REF),
        (("clusters", "--json"), HOSTILE_TITLE),
        (("views", "--json"), HOSTILE_QUERY),
        (("conflicts", "--json"), HOSTILE_REVIEWER),
        (("export", "--format", "json"), HOSTILE_NOTE),
        (("export", "--format", "jsonl"), HOSTILE_REF),
    ):
        out = run(hostile, *args).stdout
        assert "\\u202e" in out, args  # bidi written as an escape
        if args[-1] == "jsonl":
            data = [json.loads(line) for line in out.splitlines()]
        else:
            data = json.loads(out)
        assert value in set(_strings(data)), args  # the same value, read back


def test_export_messages_and_stdout(hostile, tmp_path, monkeypatch):
    target = tmp_path / f"out{OSC0}\u202e.csv"
    result = run(hostile, "export", "--output", str(target))
    assert "to " in result.stderr and "out\\x1b]0;PWNED\\x1b\\\\u202e.csv" in result.stderr
    assert target.exists()
    for fmt in ("md", "csv"):  # into a pipe: the data, its controls replaced
        run(hostile, "export", "--format", fmt, data_on_stdout=True)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for fmt in ("csv", "md"):
        terminal = Terminal()
        monkeypatch.setattr(sys, "stdout", terminal)
        export_cli._write_export(f"a{OSC52}b\u202ec\x85\n", fmt)
        monkeypatch.undo()
        assert terminal.getvalue() == "ab\\u202ec\ufffd\n", fmt


def test_import_errors_and_warnings_show_file_names_escaped(hostile, tmp_path):
    corpus = tmp_path / "in"
    corpus.mkdir()
    (corpus / HOSTILE_FILE).write_bytes("r\xe9sum\xe9\n\nbody.\n".encode("latin-1"))
    (corpus / "one.txt").write_text(_seed(HOSTILE_REF, "one"), encoding="utf-8")
    (corpus / "two.txt").write_text(_seed(HOSTILE_REF, "two"), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["--db", str(tmp_path / "db.json"), "import", str(corpus)], color=True
    )
    assert result.exit_code == 1
    assert_terminal_safe(result.output)
    assert "latin\\x1b[2J\\u202e.txt: not UTF-8" in result.stderr
    same = next(line for line in result.stderr.splitlines() if "same id" in line)
    assert "same id anp-ref-\\x1b]52;c;" in same and "\\u202eevil" in same


def test_click_usage_errors_echo_no_raw_argument(hostile):
    for args in (
        ("show", "a", f"b{OSC0}"),  # "Got unexpected extra argument (...)"
        ("show", f"--bogus{OSC52}"),
        ("review", "x", "--status", f"{OSC0}\u202e"),
        (f"no-such{OSC52}",),
        ("import-reviews", f"/nonexistent{OSC0}"),
    ):
        result = run(hostile, *args, code=2)
        assert "Error" in result.stderr


def test_unknown_id_typed_by_the_user(hostile):
    result = run(hostile, "review", f"nope{OSC52}\u202e", "--status", "approved", code=1)
    assert "no post with id" in result.stderr


def test_views_with_a_hostile_saved_query(hostile, tmp_path):
    with Store.open(hostile["db"]) as store:
        store.save_view("hostile query", HOSTILE_QUERY)
    out = run(hostile, "views").stdout
    assert '"x \\u202eevil\\u200d"' in out
