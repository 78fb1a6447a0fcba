"""Issue 14's fault matrix: every file of a store holding 300 decisions (made through the
API: notes, undos, a bulk decision, a merge with conflicts, a resolved conflict, saved
views; see faultstore.py) x {truncated, garbage, valid JSON of the wrong shape, deleted,
deleted with its ``.bak``}.

Each case asserts, through the API and through the CLI, one of:

- KEPT: every decision (status, note, reviewer, time), the open conflicts and the saved
  views are there, every post reads, and a warning names the damaged store file;
- POSTS_NAMED (a post segment): the same, except that each post whose text is gone is
  named, with the seed file to import again, when it is asked for;
- REFUSED: opening raises ``DecisionsLostError``/``StoreCorruptError`` naming what is
  missing, and every CLI command exits 1 with that one line.

Never a traceback, never a silent loss; read-only commands (``list``, ``show``,
``similar``, ``clusters``, ``views``, ``export``, ``conflicts``) write nothing anywhere in
the store, even when they work around the damage; a writing command afterwards keeps all
300 decisions (or is refused the same way).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import faultstore
import orjson
import pytest
from click.testing import CliRunner
from faultstore import as_json, snapshot
from relsupport import changed_names, copy_store, listing, run_cli

from storage import Store, StoreCorruptError, StoreError
from storage.local.decisions import DecisionsLostError
from storage.local.journal import decode
from tui.cli import main

KEPT, POSTS_NAMED, REFUSED = "kept", "posts named", "refused"
GARBAGE = b"\x00\xff\xfe garbage \x1b[31m{{{"


# ---------------------------------------------------------------------- the damage


def truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def garbage(path: Path) -> None:
    path.write_bytes(GARBAGE)


def reviews_x(path: Path) -> None:
    path.write_bytes(b'{"reviews":"x"}')


def empty_object(path: Path) -> None:
    path.write_bytes(b"{}")


def deleted(path: Path) -> None:
    path.unlink()


def deleted_with_bak(path: Path) -> None:
    path.unlink()
    path.with_name(path.name + ".bak").unlink()


def deleted_with_mirror(path: Path) -> None:
    path.unlink()
    path.with_name("journal-mirror.jsonl").unlink()


def _edit_json(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        data = orjson.loads(path.read_bytes())
        change(data)
        path.write_bytes(orjson.dumps(data))

    damage.__name__ = change.__name__
    return damage


def _first(table: dict) -> dict:
    return table[next(iter(table))]


def manifest_format_string(data):
    data["copydesk"]["1"]["format"] = "2"


def shelf_generation_string(data):
    data["shelf"]["1"]["generation"] = str(data["shelf"]["1"]["generation"])


def shelf_doc_id_not_a_number(data):
    # the rows of format 2 (storage/local/shelf.py Locations): the first doc id becomes
    # "x1"; the row's crc32 no longer matches
    rows = data["locations"]["rows"]
    post_id, doc_id, rest = rows.split("\t", 2)
    data["locations"]["rows"] = f"{post_id}\tx{doc_id}\t{rest}"


def segment_doc_id_not_a_number(data):
    key = next(iter(data["posts"]))
    data["posts"]["x" + key] = data["posts"].pop(key)


def hints_not_a_list(data):
    key = next(iter(data["hints"]))
    data["hints"][key] = 5


def checkpoint_seq_string(data):
    data["checkpoint"]["1"]["seq"] = str(data["checkpoint"]["1"]["seq"])


def checkpoint_status_approvxd(data):
    _first(data["decisions"])["status"] = "approvxd"


def near_dups_not_a_list(data):
    data[next(iter(data))] = 5


def _edit_journal(change: Callable[[dict], None]) -> Callable[[Path], None]:
    """Every record after the header changed, with a valid checksum again: only the
    record's shape can tell it is not one copydesk wrote."""

    def damage(path: Path) -> None:
        out = []
        for line in path.read_bytes().splitlines():
            record = decode(line)
            if record["seq"] > 0:
                change(record)
            payload = orjson.dumps(record)
            out.append(b"%08x %s\n" % (zlib.crc32(payload), payload))
        path.write_bytes(b"".join(out))

    damage.__name__ = change.__name__
    return damage


def journal_status_approvxd(record):
    for review in record.get("decisions", {}).values():
        if review is not None:
            review["status"] = "approvxd"


def journal_seq_string(record):
    record["seq"] = str(record["seq"])


def index_body_garbage(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"\n") + 1] + GARBAGE)


FILES = {
    "FILE": "db.json",
    "FILE.bak": "db.json.bak",
    "shelf.json": "db.json.d/shelf.json",
    "shelf.json.bak": "db.json.d/shelf.json.bak",
    "segment": "db.json.d/posts/000002.json",
    "hints": "db.json.d/posts/000002.hints.json",
    "decisions.json": "db.json.d/decisions.json",
    "decisions.json.bak": "db.json.d/decisions.json.bak",
    "journal.jsonl": "db.json.d/journal.jsonl",
    "journal-mirror.jsonl": "db.json.d/journal-mirror.jsonl",
    "index-G.cdx": "db.json.d/index-{G}.cdx",
    "search-G.cdx": "db.json.d/search-{G}.cdx",
    "near-dups-G.json": "db.json.d/near-dups-{G}.json",
}
COMMON = [truncated, garbage, reviews_x, empty_object, deleted]
WRONG_SHAPE = {
    "FILE": [_edit_json(manifest_format_string)],
    "FILE.bak": [_edit_json(manifest_format_string)],
    "shelf.json": [_edit_json(shelf_generation_string), _edit_json(shelf_doc_id_not_a_number)],
    "shelf.json.bak": [_edit_json(shelf_generation_string)],
    "segment": [_edit_json(segment_doc_id_not_a_number)],
    "hints": [_edit_json(hints_not_a_list)],
    "decisions.json": [_edit_json(checkpoint_seq_string), _edit_json(checkpoint_status_approvxd)],
    "decisions.json.bak": [_edit_json(checkpoint_status_approvxd)],
    "journal.jsonl": [_edit_journal(journal_status_approvxd), _edit_journal(journal_seq_string)],
    "journal-mirror.jsonl": [_edit_journal(journal_status_approvxd)],
    "index-G.cdx": [index_body_garbage],
    "search-G.cdx": [index_body_garbage],
    "near-dups-G.json": [_edit_json(near_dups_not_a_list)],
}
WITH_BACKUP = {
    "FILE": deleted_with_bak,
    "shelf.json": deleted_with_bak,
    "decisions.json": deleted_with_bak,
    "journal.jsonl": deleted_with_mirror,
}
# Files whose damage is named in a warning when it is worked around (a .bak is only read
# when needed; derived files have their own tests in test_rel_derived.py).
# A segment's posts are named by each read of them (see _check_store); losing both
# decisions.json and its .bak loses nothing (the journal holds every record) and is quiet.
NAMED_WHEN_DAMAGED = {
    "FILE",
    "shelf.json",
    "decisions.json",
    "journal.jsonl",
    "journal-mirror.jsonl",
}


def _must_name(file_key: str, damage: Callable) -> bool:
    return file_key in NAMED_WHEN_DAMAGED and (file_key, damage) != (
        "decisions.json",
        deleted_with_bak,
    )


@dataclass(frozen=True)
class Outcome:
    kind: str
    says: str = ""  # what the refusal (or the warning) must say


def _outcome(file_key: str, damage: Callable) -> Outcome:
    if damage is deleted_with_mirror:
        return Outcome(REFUSED, "both journal copies (journal.jsonl, journal-mirror.jsonl)")
    if (file_key, damage) == ("shelf.json", deleted_with_bak):  # segments remain: repair
        return Outcome(REFUSED, "shelf.json: missing (and its .bak), but")
    if file_key == "segment":
        return Outcome(POSTS_NAMED)
    return Outcome(KEPT)


def _cases():
    for file_key in FILES:
        damages = [*COMMON, *WRONG_SHAPE[file_key]]
        if file_key in WITH_BACKUP:
            damages.append(WITH_BACKUP[file_key])
        for damage in damages:
            yield pytest.param(
                file_key, damage, _outcome(file_key, damage), id=f"{file_key}-{damage.__name__}"
            )


CASES = list(_cases())


# ---------------------------------------------------------------------- fixtures


@pytest.fixture
def case(fault_store, tmp_path, request):
    """A private copy of the fault store, the named file damaged."""
    file_key, damage = (
        request.node.callspec.params["file_key"],
        request.node.callspec.params["damage"],
    )
    db = copy_store(fault_store["db"], tmp_path / "store")
    target = db.parent / FILES[file_key].format(G=fault_store["generation"])
    assert target.exists(), target
    damage(target)
    return {**fault_store, "db": db, "root": db.parent, "target": target}


def _expected_exports(expected: dict) -> dict[str, dict]:
    keys = ("status", "note", "decided_at", "reviewer")
    return {pid: {k: review[k] for k in keys} for pid, review in expected["decisions"].items()}


# ---------------------------------------------------------------------- through the API


def _open(db: Path, *, writable: bool) -> tuple[Store | None, StoreError | None, list[str]]:
    warnings: list[str] = []
    try:
        return Store.open(db, writable=writable, warn=warnings.append), None, warnings
    except (DecisionsLostError, StoreCorruptError) as exc:
        return None, exc, warnings


def _check_store(store: Store, case: dict, outcome: Outcome) -> None:
    assert as_json(snapshot(store)) == case["expected"]
    assert len(store) == len(case["posts"]) and set(store.ids()) == set(case["posts"])
    unreadable = {}
    for post_id in store.ids():
        try:
            assert store.get(post_id).title == store.summary(post_id).title
        except StoreCorruptError as exc:
            unreadable[post_id] = str(exc)
    if outcome.kind == KEPT:
        assert unreadable == {}
        assert store.search_ids(faultstore.SEARCHED, limit=None) == case["found"]
        return
    # POSTS_NAMED: only posts of the damaged segment, each named with its seed file
    assert unreadable and set(unreadable) <= set(case["segment_two"])
    for post_id, message in unreadable.items():
        assert post_id in message and case["posts"][post_id] in message
        assert "copydesk repair" in message


@pytest.mark.parametrize("file_key, damage, outcome", CASES)
def test_api_keeps_every_decision_or_refuses_naming_what_is_missing(
    case, file_key, damage, outcome
):
    db, root = case["db"], case["root"]
    before = listing(root)
    for writable in (False, True):
        store, refused, warnings = _open(db, writable=writable)
        if outcome.kind == REFUSED:
            assert store is None and outcome.says in str(refused), refused
            assert "copydesk repair" in str(refused) or "backup" in str(refused)
            assert [
                n for n in changed_names(before, listing(root)) if not n.endswith(".lock")
            ] == []
            continue
        assert refused is None, refused
        _check_store(store, case, outcome)
        if _must_name(file_key, damage):
            name = f"{case['target']}:" if file_key == "FILE" else case["target"].name
            assert any(name in w for w in warnings), warnings
        assert all(str(root) in w for w in warnings), warnings
        if not writable:  # read-only: nothing written anywhere, even when recovering
            assert changed_names(before, listing(root)) == []
        store.close()
    if outcome.kind == REFUSED:
        return
    # writable: a new decision after the damage, then everything is there for good
    with Store.open(db) as store:
        post_id = case["spare"]
        store.set_review(post_id, "approved", "after the damage")
    with Store.open(db, warn=(quiet := []).append) as store:
        expected = case["expected"]["decisions"] | {post_id: store.review(post_id).to_dict()}
        assert as_json(snapshot(store))["decisions"] == expected
        assert store.review(post_id).note == "after the damage"
        if outcome.kind == KEPT:
            store.search("")
            assert store.search_ids(faultstore.SEARCHED, limit=None) == case["found"]
            assert quiet == []  # recovered for good: the next open says nothing


# ---------------------------------------------------------------------- through the CLI


def _cli(*args: str, progress: bool = False):
    """Run a command in-process; stderr holds warnings and errors only (an import also
    says what it computes: ``progress``)."""
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    for line in result.stderr.splitlines():
        assert progress or line.startswith(("warning: ", "copydesk: ")), line
    return result


def _read_only_commands(case: dict) -> dict[str, list[str]]:
    decided, named = case["decided_in_segment_one"], case["segment_two"][0]
    return {
        "list": ["list", "--json"],
        "show": ["show", decided, "--json"],
        "show-segment-two": ["show", named, "--json"],
        "similar": ["similar", decided, "--json"],
        "clusters": ["clusters", "--json"],
        "views": ["views", "--json"],
        "export": ["export", "--format", "jsonl", "--all"],
        "conflicts": ["conflicts", "--json"],
    }


def _exported(stdout: str) -> dict[str, dict]:
    rows = [json.loads(line) for line in stdout.splitlines()]
    keys = ("status", "note", "decided_at", "reviewer")
    return {row["id"]: {k: row[k] for k in keys} for row in rows if row["status"] != "pending"}


def _check_cli_outputs(case: dict, outcome: Outcome, name: str, result) -> None:
    expected = case["expected"]
    if name == "show-segment-two" and outcome.kind == POSTS_NAMED:
        assert result.exit_code == 1 and result.stdout == ""
        (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("copydesk: ")]
        post_id = case["segment_two"][0]
        assert post_id in line and case["posts"][post_id] in line
        return
    assert result.exit_code == 0, result.stderr
    if name == "list":
        rows = json.loads(result.stdout)
        assert {row["id"] for row in rows} == set(case["posts"])
        statuses = {pid: d["status"] for pid, d in expected["decisions"].items()}
        assert {row["id"]: row["status"] for row in rows if row["status"] != "pending"} == statuses
    elif name == "show":
        shown = json.loads(result.stdout)
        assert shown["review"]["note"] == expected["decisions"][shown["id"]]["note"]
    elif name == "views":
        saved = [(v["name"], v["query"]) for v in json.loads(result.stdout) if not v["builtin"]]
        assert saved == [tuple(v) for v in expected["views"]]
    elif name == "export":
        assert _exported(result.stdout) == _expected_exports(expected)
    elif name == "conflicts":
        found = sorted((c["id"], c["theirs"]["status"]) for c in json.loads(result.stdout))
        assert found == sorted((c[0], c[1]["status"]) for c in expected["conflicts"])


# Damage whose cases also run the real program (``python -m tui.cli``): one of each kind
# per file; every case runs the same click commands in-process (CliRunner).
REAL_PROCESS = {
    "garbage",
    "deleted_with_bak",
    "deleted_with_mirror",
    "checkpoint_status_approvxd",
    "journal_status_approvxd",
    "segment_doc_id_not_a_number",
}


@pytest.mark.parametrize("file_key, damage, outcome", CASES)
def test_cli_keeps_every_decision_or_refuses_and_read_only_commands_write_nothing(
    case, file_key, damage, outcome, env
):
    db, root = str(case["db"]), case["root"]
    before = listing(root)
    for name, args in _read_only_commands(case).items():
        result = _cli("--db", db, *args)
        if outcome.kind == REFUSED:
            assert result.exit_code == 1 and result.stdout == "", name
            (line,) = result.stderr.splitlines()
            assert line.startswith("copydesk: ") and outcome.says in line, line
        else:
            _check_cli_outputs(case, outcome, name, result)
    assert changed_names(before, listing(root)) == []  # not a byte, not even a lock file
    if damage.__name__ in REAL_PROCESS:  # the real program, in its own interpreter
        real = run_cli(["--db", db, "export", "--format", "jsonl", "--all"], env)
        assert "Traceback" not in real.stderr
        if outcome.kind == REFUSED:
            assert real.returncode == 1 and real.stdout == ""
            (line,) = real.stderr.splitlines()
            assert outcome.says in line
        else:
            assert real.returncode == 0, real.stderr
            assert _exported(real.stdout) == _expected_exports(case["expected"])
        assert changed_names(before, listing(root)) == []
    # a writing command: saves next to all 300, or is refused the same way
    wrote = _cli("--db", db, "review", case["spare"], "-s", "rejected", "-m", "via the cli")
    if outcome.kind == REFUSED:
        assert wrote.exit_code == 1
        (line,) = wrote.stderr.splitlines()
        assert outcome.says in line and "copydesk repair" in line
        assert [n for n in changed_names(before, listing(root)) if not n.endswith(".lock")] == []
        return
    assert wrote.exit_code == 0, wrote.stderr
    exported = _exported(_cli("--db", db, "export", "--format", "jsonl").stdout)
    assert exported.pop(case["spare"])["note"] == "via the cli"
    assert exported == _expected_exports(case["expected"])


# ---------------------------------------------------------------------- repair + re-import


@pytest.mark.parametrize(
    "damage",
    [truncated, garbage, deleted, _edit_json(segment_doc_id_not_a_number)],
    ids=lambda d: d.__name__,
)
def test_repair_then_reimport_brings_back_the_posts_of_a_damaged_segment(
    fault_store, tmp_path, damage, env
):
    db = copy_store(fault_store["db"], tmp_path / "store")
    damage(db.with_name(db.name + ".d") / "posts" / "000002.json")
    with Store.open(db, writable=False) as store:
        lost = [pid for pid, _, record in store._shelf.live_records() if record is None]
    assert lost and set(lost) <= set(fault_store["segment_two"])
    real = damage is garbage  # one of them through the real program
    run = (lambda *a: run_cli(list(a), env)) if real else partial(_cli, progress=True)
    repaired = run("--db", str(db), "repair")
    assert (repaired.returncode if real else repaired.exit_code) == 0, repaired.stderr
    assert f"{len(lost)} posts with damaged text dropped; import their files again" in (
        repaired.stdout
    )
    imported = run("--db", str(db), "import", str(fault_store["corpus"]))
    assert (imported.returncode if real else imported.exit_code) == 0, imported.stderr
    assert f"{len(lost)} imported" in imported.stdout
    with Store.open(db, warn=(warnings := []).append) as store:
        assert as_json(snapshot(store)) == fault_store["expected"]
        for post_id in fault_store["posts"]:
            assert store.get(post_id).source["path"] == fault_store["posts"][post_id]
        for post_id in lost:
            assert store.get(post_id).review == store.review(post_id)
    assert warnings == []
