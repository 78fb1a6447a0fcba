"""The decisions of a local store: the mirrored, checksummed journal plus the checkpoint
(storage/local/journal.py, decisions.py). A save appends one record to both journal
copies and writes nothing else; a checkpoint every ``CHECKPOINT_EVERY`` records; a copy
damaged, torn, missing or of the wrong shape is worked around from the other; what the
files say existed but no file holds is ``DecisionsLostError``, never a silent loss."""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import orjson
import pytest

import storage.local.decisions as decisions_module
from storage import Review, StoreError
from storage.errors import StoreCorruptError
from storage.local.decisions import CHECKPOINT_NAME, DecisionLog, DecisionsLostError
from storage.local.journal import MIRROR_NAME, PRIMARY_NAME, decode, encode

STORE_ID = "a" * 32


def decision(status: str = "approved", note: str = "") -> Review:
    return Review(status, note, "2026-01-01T00:00:00Z", "tester", "")


def new_log(directory: Path, warnings: list[str] | None = None) -> DecisionLog:
    directory.mkdir(parents=True, exist_ok=True)
    log = DecisionLog(directory, STORE_ID, writable=True, warn=_collect(warnings))
    log.create()
    return log


def opened(directory: Path, warnings: list[str] | None = None, *, writable=True) -> DecisionLog:
    log = DecisionLog(directory, STORE_ID, writable=writable, warn=_collect(warnings))
    log.load()
    return log


def _collect(warnings: list[str] | None):
    return warnings.append if warnings is not None else None


def state_of(log: DecisionLog) -> dict[str, tuple[str, str]]:
    return {pid: (r.status, r.note) for pid, r in log.state.decisions.items()}


def journal_lines(directory: Path, name: str = PRIMARY_NAME) -> list[bytes]:
    return (directory / name).read_bytes().splitlines()


def write_lines(directory: Path, name: str, lines: list[bytes]) -> None:
    (directory / name).write_bytes(b"".join(line + b"\n" for line in lines))


def reencoded(line: bytes, change) -> bytes:
    """``line`` with its record changed by ``change`` and a valid checksum again (a hand
    edit, or another program writing the file): only validation can tell."""
    record = decode(line)
    change(record)
    return encode(record)[:-1]


@pytest.fixture
def every(monkeypatch):
    def set_every(n: int) -> None:
        monkeypatch.setattr(decisions_module, "CHECKPOINT_EVERY", n)

    return set_every


def test_a_save_appends_one_record_to_both_copies_and_writes_nothing_else(tmp_path):
    log = new_log(tmp_path)
    log.write({f"post-{n}": decision(note="x" * 40) for n in range(2000)}, why="merge")
    sizes = [(tmp_path / name).stat().st_size for name in (PRIMARY_NAME, MIRROR_NAME)]
    others = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir() if "journal" not in p.name}
    appended = []
    for n in range(10):
        log.refresh()  # as under the store's lock
        before = (tmp_path / PRIMARY_NAME).stat().st_size
        log.write({f"post-{n}": decision("rejected", f"again {n}")}, why="decide")
        appended.append((tmp_path / PRIMARY_NAME).stat().st_size - before)
    # the same few hundred bytes per decision, whatever the log holds before
    assert max(appended) < 400 and max(appended) - min(appended) < 8
    assert (tmp_path / PRIMARY_NAME).read_bytes() == (tmp_path / MIRROR_NAME).read_bytes()
    assert (tmp_path / PRIMARY_NAME).stat().st_size == sizes[0] + sum(appended)
    assert not (tmp_path / CHECKPOINT_NAME).exists()
    assert {
        p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir() if "journal" not in p.name
    } == (others)
    again = opened(tmp_path)
    assert len(again.state.decisions) == 2000
    assert state_of(again)["post-3"] == ("rejected", "again 3")
    assert state_of(again)["post-10"] == ("approved", "x" * 40)
    # each line: 8 hex digits of CRC-32, a space, the record
    for line in journal_lines(tmp_path):
        crc, payload = line.split(b" ", 1)
        assert int(crc, 16) == zlib.crc32(payload)
    assert [decode(line)["seq"] for line in journal_lines(tmp_path)] == list(range(12))


def test_a_checkpoint_every_n_records_and_opening_replays_only_what_follows(
    tmp_path, every, monkeypatch
):
    every(5)
    log = new_log(tmp_path)
    for n in range(12):
        log.write({f"post-{n % 7}": decision(note=f"step {n}")}, why="decide")
    checkpoint = orjson.loads((tmp_path / CHECKPOINT_NAME).read_bytes())
    previous = orjson.loads((tmp_path / (CHECKPOINT_NAME + ".bak")).read_bytes())
    assert checkpoint["checkpoint"]["1"]["seq"] == 10 and previous["checkpoint"]["1"]["seq"] == 5
    assert checkpoint["checkpoint"]["1"]["count"] == 7 == len(checkpoint["decisions"])

    import storage.local.journal as journal_module

    starts: list[int] = []
    real_read_copy = journal_module.read_copy

    def spy(path, start=0):
        starts.append(start)
        return real_read_copy(path, start)

    monkeypatch.setattr(journal_module, "read_copy", spy)
    again = opened(tmp_path)
    offset = checkpoint["checkpoint"]["1"]["offsets"][0]
    assert starts == [offset, offset] and offset > 0
    assert state_of(again) == state_of(log)
    assert again.state.seq == 12


def test_many_operations_from_two_handles_match_a_model(tmp_path, every):
    """Decisions, removals, bulk writes, views and conflicts from two handles taking turns
    (each re-reads as under the lock), checkpoints every 7 records."""
    every(7)
    first = new_log(tmp_path)
    handles = [first, opened(tmp_path)]
    model: dict[str, tuple[str, str]] = {}
    views: list[dict] = []
    conflicts: list[dict] = []
    rng = random.Random(7)
    for step in range(300):
        log = handles[rng.randrange(2)]
        log.refresh()
        roll = rng.random()
        if roll < 0.05:
            batch = {
                f"post-{rng.randrange(40)}": decision("approved", f"batch {step}")
                for _ in range(rng.randrange(1, 12))
            }
            conflicts = [{"post_id": "x", "theirs": decision("rejected", str(step)).to_dict()}]
            log.write(batch, why="merge", conflicts=conflicts)
            model.update({p: ("approved", r.note) for p, r in batch.items()})
        elif roll < 0.1:
            views = [{"name": f"view {step}", "query": "stack:php"}]
            log.write({}, why="view", views=views)
        else:
            post_id = f"post-{rng.randrange(40)}"
            if rng.random() < 0.2:
                log.write({post_id: None}, why="undo")
                model.pop(post_id, None)
            else:
                status = rng.choice(["approved", "rejected", "changes_requested"])
                log.write({post_id: decision(status, f"step {step}")}, why="decide")
                model[post_id] = (status, f"step {step}")
        for other in handles:
            other.refresh()
            assert state_of(other) == model, step
            assert (other.state.views, other.state.conflicts) == (views, conflicts), step
    fresh = opened(tmp_path)
    assert state_of(fresh) == model and fresh.state.views == views
    assert fresh.state.seq == 300


def test_a_crash_while_writing_the_checkpoint_loses_nothing(tmp_path, every, monkeypatch):
    every(4)
    log = new_log(tmp_path)
    for n in range(3):
        log.write({f"post-{n}": decision(note=str(n))}, why="decide")

    class Crash(BaseException):
        pass

    def crash(*args, **kwargs):
        raise Crash

    monkeypatch.setattr(decisions_module, "write_json", crash)
    with pytest.raises(Crash):  # the 4th record is appended, then the checkpoint dies
        log.write({"post-3": decision(note="3")}, why="decide")
    monkeypatch.undo()
    again = opened(tmp_path)
    assert state_of(again) == {f"post-{n}": ("approved", str(n)) for n in range(4)}


def test_a_torn_last_line_was_never_acknowledged_and_is_cut_by_the_next_append(tmp_path):
    log = new_log(tmp_path)
    log.write({"a": decision(note="kept")}, why="decide")
    torn = encode({"seq": 2, "op": "put", "decisions": {"b": decision().to_dict()}})
    with open(tmp_path / PRIMARY_NAME, "ab") as handle:
        handle.write(torn[: len(torn) // 2])  # killed mid-append, before the mirror
    again = opened(tmp_path, writable=False)
    assert state_of(again) == {"a": ("approved", "kept")}
    writer = opened(tmp_path)
    writer.write({"c": decision(note="next")}, why="decide")
    assert (tmp_path / PRIMARY_NAME).read_bytes() == (tmp_path / MIRROR_NAME).read_bytes()
    assert state_of(opened(tmp_path)) == {"a": ("approved", "kept"), "c": ("approved", "next")}


@pytest.mark.parametrize("name", [PRIMARY_NAME, MIRROR_NAME])
def test_a_line_damaged_in_one_copy_is_taken_from_the_other_and_repaired(tmp_path, name):
    log = new_log(tmp_path)
    for n in range(5):
        log.write({f"post-{n}": decision(note=str(n))}, why="decide")
    lines = journal_lines(tmp_path, name)
    lines[3] = lines[3][:20] + b"X" + lines[3][21:]  # a flipped byte: the CRC tells
    write_lines(tmp_path, name, lines)
    warnings: list[str] = []
    again = opened(tmp_path, warnings)
    assert state_of(again) == state_of(log)
    assert any(f"{name}: damaged record at byte" in w for w in warnings)
    assert (tmp_path / PRIMARY_NAME).read_bytes() == (tmp_path / MIRROR_NAME).read_bytes()


@pytest.mark.parametrize("line", [1, -1])  # a record in the middle, and the newest one
@pytest.mark.parametrize("name", [PRIMARY_NAME, MIRROR_NAME])
def test_a_record_of_the_wrong_shape_in_one_copy_is_taken_from_the_other(tmp_path, name, line):
    log = new_log(tmp_path)
    for n in range(5):
        log.write({f"post-{n}": decision(note=str(n))}, why="decide")
    lines = journal_lines(tmp_path, name)

    def unknown_status(record):
        for review in record["decisions"].values():
            review["status"] = "approvxd"

    lines[line] = reencoded(lines[line], unknown_status)
    write_lines(tmp_path, name, lines)
    for writable in (False, True):
        warnings: list[str] = []
        again = opened(tmp_path, warnings, writable=writable)
        assert state_of(again) == state_of(log), writable
        assert any(name in w and "bad decision" in w for w in warnings), warnings
    assert (tmp_path / PRIMARY_NAME).read_bytes() == (tmp_path / MIRROR_NAME).read_bytes()
    assert b"approvxd" not in (tmp_path / name).read_bytes()


@pytest.mark.parametrize("line", [2, -1])
def test_a_record_of_the_wrong_shape_in_both_copies_is_refused_naming_it(tmp_path, line):
    log = new_log(tmp_path)
    for n in range(5):
        log.write({f"post-{n}": decision(note=str(n))}, why="decide")
    for name in (PRIMARY_NAME, MIRROR_NAME):
        lines = journal_lines(tmp_path, name)
        lines[line] = reencoded(lines[line], lambda r: r.update(decisions="x"))
        write_lines(tmp_path, name, lines)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    seq = decode(journal_lines(tmp_path)[line])["seq"]
    again = opened(tmp_path)
    assert again.lost is not None and f"record {seq}" in again.lost
    with pytest.raises(DecisionsLostError, match=f"record {seq}"):
        again.write({"post-9": decision()}, why="decide")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_journal_copy_of_another_store_is_not_mixed_in(tmp_path):
    log = new_log(tmp_path)
    for n in range(3):
        log.write({f"post-{n}": decision(note=str(n))}, why="decide")
    other = tmp_path / "other"
    foreign = DecisionLog(other, "b" * 32, writable=True)
    other.mkdir()
    foreign.create()
    for n in range(6):
        foreign.write({f"theirs-{n}": decision("rejected")}, why="decide")
    (tmp_path / MIRROR_NAME).write_bytes((other / MIRROR_NAME).read_bytes())
    warnings: list[str] = []
    again = opened(tmp_path, warnings)
    assert state_of(again) == state_of(log)
    assert any(MIRROR_NAME in w and "another store" in w for w in warnings), warnings
    (tmp_path / PRIMARY_NAME).write_bytes((other / PRIMARY_NAME).read_bytes())
    (tmp_path / MIRROR_NAME).write_bytes((other / MIRROR_NAME).read_bytes())
    with pytest.raises(StoreCorruptError, match="another store"):
        opened(tmp_path)


@pytest.mark.parametrize(
    "offsets", [["x", None], [1.5, 2], "x", [-1, 3], [10**12, 10**12], [True, False]]
)
def test_a_checkpoint_with_bad_journal_offsets_never_loses_or_crashes(tmp_path, every, offsets):
    every(3)
    log = new_log(tmp_path)
    for n in range(7):
        log.write({f"post-{n}": decision(note=str(n))}, why="decide")
    path = tmp_path / CHECKPOINT_NAME
    data = orjson.loads(path.read_bytes())
    data["checkpoint"]["1"]["offsets"] = offsets
    path.write_bytes(orjson.dumps(data))
    for writable in (False, True):
        again = opened(tmp_path, writable=writable)
        assert state_of(again) == state_of(log) and again.lost is None


@pytest.mark.parametrize(
    "table, records",
    [
        ("views", {"1": {"name": 5, "query": "x"}}),
        ("views", {"1": {"name": "v", "query": ["x"]}}),
        ("conflicts", {"1": {"post_id": 5, "theirs": {"status": "approved"}}}),
        ("conflicts", {"1": {"post_id": "p", "theirs": "x"}}),
        ("conflicts", {"1": {"post_id": "p", "theirs": {"status": "approvxd"}}}),
    ],
)
def test_a_checkpoint_with_malformed_views_or_conflicts_is_damaged(tmp_path, every, table, records):
    every(3)
    log = new_log(tmp_path)
    views = [{"name": "mine", "query": "stack:php"}]
    conflicts = [{"post_id": "post-1", "theirs": decision("rejected").to_dict()}]
    log.write({"post-1": decision()}, why="merge", conflicts=conflicts, views=views)
    log.write({"post-2": decision()}, why="decide")
    log.write({"post-3": decision()}, why="decide")  # checkpoint 3 (its .bak: none)
    log.write({"post-4": decision()}, why="decide")
    path = tmp_path / CHECKPOINT_NAME
    data = orjson.loads(path.read_bytes())
    data[table] = records
    path.write_bytes(orjson.dumps(data))
    warnings: list[str] = []
    again = opened(tmp_path, warnings)
    assert (again.state.views, again.state.conflicts) == (views, conflicts)
    assert state_of(again) == state_of(log)
    assert any(
        CHECKPOINT_NAME in w and "rebuilding the decisions from the journal" in w for w in warnings
    )


@pytest.mark.parametrize(
    "field, value",
    [("views", [{"name": 5}]), ("conflicts", [{"post_id": "p", "theirs": {"status": "x"}}])],
)
def test_a_journal_record_with_malformed_views_or_conflicts_is_taken_from_the_other_copy(
    tmp_path, field, value
):
    log = new_log(tmp_path)
    log.write({}, why="view", views=[{"name": "mine", "query": ""}])
    log.write({}, why="merge", conflicts=[{"post_id": "p", "theirs": decision().to_dict()}])
    lines = journal_lines(tmp_path)
    lines[1 if field == "views" else 2] = reencoded(
        lines[1 if field == "views" else 2], lambda r: r.update({field: value})
    )
    write_lines(tmp_path, PRIMARY_NAME, lines)
    again = opened(tmp_path)
    assert (again.state.views, again.state.conflicts) == (log.state.views, log.state.conflicts)


def test_a_gap_in_the_journal_numbers_is_decisions_lost(tmp_path):
    log = new_log(tmp_path)
    for n in range(6):
        log.write({f"post-{n}": decision()}, why="decide")
    for name in (PRIMARY_NAME, MIRROR_NAME):
        lines = journal_lines(tmp_path, name)
        write_lines(tmp_path, name, lines[:3] + lines[4:])
    again = opened(tmp_path)
    assert again.lost == "journal record 3 is in no journal copy"


def test_a_checkpoint_newer_than_both_journal_copies_is_decisions_lost(tmp_path, every):
    every(4)
    log = new_log(tmp_path)
    for n in range(6):
        log.write({f"post-{n}": decision()}, why="decide")
    for name in (PRIMARY_NAME, MIRROR_NAME):
        write_lines(tmp_path, name, journal_lines(tmp_path, name)[:3])  # header + 2 records
    again = opened(tmp_path)
    assert again.lost is not None
    assert "decisions.json holds decisions up to record 4" in again.lost
    assert "journal copies end at record 2" in again.lost
    assert len(again.state.decisions) == 4  # what is left is still shown


def test_a_journal_that_does_not_start_at_record_1_is_decisions_lost(tmp_path):
    log = new_log(tmp_path)
    for n in range(6):
        log.write({f"post-{n}": decision()}, why="decide")
    (tmp_path / CHECKPOINT_NAME).unlink(missing_ok=True)
    for name in (PRIMARY_NAME, MIRROR_NAME):
        lines = journal_lines(tmp_path, name)
        write_lines(tmp_path, name, lines[:1] + lines[3:])
    assert opened(tmp_path).lost == "journal records 1-2 are in no journal copy"


def test_losing_both_journal_copies_is_decisions_lost_even_with_a_checkpoint(tmp_path, every):
    every(2)
    log = new_log(tmp_path)
    for n in range(3):
        log.write({f"post-{n}": decision()}, why="decide")
    (tmp_path / PRIMARY_NAME).unlink()
    (tmp_path / MIRROR_NAME).unlink()
    again = opened(tmp_path)
    assert again.lost is not None and "both journal copies" in again.lost
    with pytest.raises(DecisionsLostError, match="copydesk repair"):
        again.write({"x": decision()}, why="decide")
    assert not (tmp_path / PRIMARY_NAME).exists()


def test_a_record_copydesk_would_refuse_to_read_is_never_written(tmp_path):
    log = new_log(tmp_path)
    before = (tmp_path / PRIMARY_NAME).read_bytes()
    with pytest.raises(ValueError, match="bad conflict"):
        log.write({}, why="merge", conflicts=[{"post_id": "x", "step": 1}])
    with pytest.raises(ValueError, match="bad view"):
        log.write({}, why="view", views=[{"name": None}])
    assert (tmp_path / PRIMARY_NAME).read_bytes() == before
    log.write({"a": decision()}, why="decide")
    assert state_of(opened(tmp_path)) == {"a": ("approved", "")}


def test_create_never_starts_over_an_existing_journal(tmp_path):
    log = new_log(tmp_path)
    log.write({"a": decision()}, why="decide")
    before = (tmp_path / PRIMARY_NAME).read_bytes()
    for name in (PRIMARY_NAME, MIRROR_NAME):
        survivor = tmp_path / name
        other = tmp_path / (MIRROR_NAME if name == PRIMARY_NAME else PRIMARY_NAME)
        saved = other.read_bytes()
        other.unlink()
        with pytest.raises(StoreError, match="journal"):
            DecisionLog(tmp_path, STORE_ID, writable=True).create()
        assert survivor.read_bytes() == before
        other.write_bytes(saved)


def test_a_read_only_log_repairs_nothing_and_writes_nothing(tmp_path, every):
    every(3)
    log = new_log(tmp_path)
    for n in range(5):
        log.write({f"post-{n}": decision()}, why="decide")
    (tmp_path / MIRROR_NAME).unlink()
    (tmp_path / CHECKPOINT_NAME).write_bytes(b"garbage")
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    warnings: list[str] = []
    again = opened(tmp_path, warnings, writable=False)
    assert state_of(again) == state_of(log)
    assert warnings and all("repaired" not in w for w in warnings)
    with pytest.raises(StoreError, match="read-only"):
        again.write({"x": decision()}, why="decide")
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()} == before


def test_refresh_sees_another_handles_appends_and_a_rewritten_journal(tmp_path):
    first = new_log(tmp_path)
    second = opened(tmp_path)
    first.write({"a": decision(note="one")}, why="decide")
    assert second.refresh() is True and state_of(second) == {"a": ("approved", "one")}
    assert second.refresh() is False
    # a repair elsewhere rewrites both copies shorter (a damaged line dropped): start over
    first.write({"b": decision(note="two")}, why="decide")
    lines = journal_lines(tmp_path)
    write_lines(tmp_path, MIRROR_NAME, lines[:-1] + [lines[-1][:-3] + b"XYZ"])
    third = opened(tmp_path)  # repairs the mirror from the primary
    assert state_of(third) == {"a": ("approved", "one"), "b": ("approved", "two")}
    assert second.refresh() is True
    assert state_of(second) == state_of(third)
    second.write({"c": decision(note="three")}, why="decide")
    assert state_of(opened(tmp_path))["c"] == ("approved", "three")
