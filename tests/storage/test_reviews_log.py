"""Decisions in two files: the base ``reviews.json`` and ``reviews-recent.json`` (the
decisions since the last compaction). A save on a large base writes only the small
file; compaction keeps every decision; recent wins over the base; a crash between the
compaction's writes loses nothing; handles on one store keep each other's decisions."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest
from tinydb import TinyDB

import storage.jsonstore as jsonstore
import storage.reviews as reviews_mod
from storage import Review, Store, samples_dir
from storage.reviews import RECENT_NAME, ReviewBook

REPO = Path(__file__).resolve().parents[2]


def decision(status: str = "approved", note: str = "") -> Review:
    return Review(status, note, "2025-01-01T00:00:00Z", "tester", "")


def read(path: Path) -> dict:
    return orjson.loads(path.read_bytes())


def recent_of(base: Path) -> Path:
    return base.with_name(RECENT_NAME)


def on_disk(base: Path) -> dict[str, tuple[str, str]]:
    """Decisions as a fresh handle reads them: (status, note) by post id."""
    book = ReviewBook(base)
    try:
        return {pid: (r.status, r.note) for pid, r in book.all().items()}
    finally:
        book.close()


@pytest.fixture
def writes(monkeypatch):
    """Every atomic write, as (file name, bytes written)."""
    seen: list[tuple[str, int]] = []
    real = jsonstore.atomic_write_bytes

    def spy(path, data, **kwargs):
        seen.append((Path(path).name, len(data)))
        return real(path, data, **kwargs)

    monkeypatch.setattr(jsonstore, "atomic_write_bytes", spy)
    return seen


@pytest.fixture
def small_limits(monkeypatch):
    """A base counts as large from 4 decisions; the recent file holds at most 5."""
    monkeypatch.setattr(reviews_mod, "DIRECT_MAX", 4)
    monkeypatch.setattr(reviews_mod, "RECENT_MAX", 5)


def test_a_save_on_a_large_base_writes_only_the_small_recent_file(tmp_path, writes):
    base = tmp_path / "reviews.json"
    book = ReviewBook(base)
    book.write_batch({f"post-{n}": decision(note="x" * 40) for n in range(2000)})
    assert writes == [("reviews.json", writes[0][1]), (RECENT_NAME, writes[1][1])]
    base_bytes, base_stat = base.read_bytes(), base.stat()
    assert len(base_bytes) > 200_000
    writes.clear()

    for n in range(10):
        book.reload()  # as under the store's lock
        book.put(f"post-{n}", decision("rejected", f"again {n}"))
    assert [name for name, _ in writes] == [RECENT_NAME] * 10
    assert max(size for _, size in writes) < 5_000
    assert base.read_bytes() == base_bytes and base.stat().st_mtime_ns == base_stat.st_mtime_ns
    assert len(read(recent_of(base))["reviews"]) == 10

    # both files are plain TinyDB documents
    with TinyDB(recent_of(base), access_mode="r") as db:
        assert [d["id"] for d in db.table("reviews").all()] == [f"post-{n}" for n in range(10)]
    with TinyDB(base, access_mode="r") as db:
        assert len(db.table("reviews")) == 2000

    decisions = on_disk(base)
    assert len(decisions) == 2000
    assert decisions["post-3"] == ("rejected", "again 3")
    assert decisions["post-10"] == ("approved", "x" * 40)
    book.close()


def test_the_recent_file_is_compacted_into_the_base_when_full(tmp_path, writes):
    base = tmp_path / "reviews.json"
    book = ReviewBook(base)
    book.write_batch({f"post-{n}": decision() for n in range(500)})
    writes.clear()
    for n in range(reviews_mod.RECENT_MAX + 1):
        book.reload()
        book.put(f"new-{n}", decision("changes_requested", str(n)))
    names = [name for name, _ in writes]
    # the last save compacts: the recent file marked, the base, an empty recent file
    assert names[: reviews_mod.RECENT_MAX] == [RECENT_NAME] * reviews_mod.RECENT_MAX
    assert names[reviews_mod.RECENT_MAX :] == [RECENT_NAME, "reviews.json", RECENT_NAME]
    saved = read(base)
    assert len(saved["reviews"]) == 500 + reviews_mod.RECENT_MAX + 1
    assert read(recent_of(base))["reviews"] == {}
    assert read(recent_of(base))["state"]["1"] == {
        "base_generation": saved["state"]["1"]["generation"]
    }
    decisions = on_disk(base)
    assert len(decisions) == 500 + reviews_mod.RECENT_MAX + 1
    assert decisions[f"new-{reviews_mod.RECENT_MAX}"] == (
        "changes_requested",
        str(reviews_mod.RECENT_MAX),
    )
    book.close()


def test_a_small_store_keeps_everything_in_reviews_json(tmp_path, writes):
    with Store.open(tmp_path / "db.json") as store:
        store.import_paths([samples_dir()])
        writes.clear()
        for post_id in store.ids():
            store.set_review(post_id, "approved", "fine")
        assert [name for name, _ in writes] == ["reviews.json"] * 5
        assert not (store.data_dir / RECENT_NAME).exists()
        saved = read(store.data_dir / "reviews.json")
        assert sorted(d["id"] for d in saved["reviews"].values()) == sorted(store.ids())


def test_recent_decisions_win_over_the_base_and_removals_hide_base_ones(tmp_path, small_limits):
    base = tmp_path / "reviews.json"
    book = ReviewBook(base)
    book.write_batch({f"post-{n}": decision(note="base") for n in range(6)})  # a large base
    book.reload()
    book.put("post-1", decision("rejected", "recent"))
    book.reload()
    book.put("post-2", None)  # undo of a base decision: a removal in the recent file
    book.reload()
    book.put("post-9", decision("approved", "recent only"))
    book.reload()
    book.put("post-9", None)  # a post only the recent file decided: simply gone
    assert [d["id"] for d in read(base)["reviews"].values()] == [f"post-{n}" for n in range(6)]
    assert [(d["id"], d.get("removed")) for d in read(recent_of(base))["reviews"].values()] == [
        ("post-1", None),
        ("post-2", True),
    ]
    expected = {f"post-{n}": ("approved", "base") for n in (0, 3, 4, 5)}
    expected["post-1"] = ("rejected", "recent")
    assert {p: (r.status, r.note) for p, r in book.all().items()} == expected
    assert on_disk(base) == expected
    assert book.get("post-2") is None
    book.close()


def test_the_mapping_all_hands_out_never_changes(tmp_path, small_limits):
    book = ReviewBook(tmp_path / "reviews.json")
    book.write_batch({f"post-{n}": decision() for n in range(6)})
    snapshot = book.all()
    frozen = dict(snapshot)
    for n in range(20):  # recent saves, compactions, removals
        book.reload()
        book.put(f"post-{n % 8}", None if n % 3 == 0 else decision("rejected", str(n)))
    assert dict(snapshot) == frozen
    book.close()


def test_many_operations_from_two_handles_match_a_model(tmp_path, small_limits):
    """Direct writes, recent saves, compactions, removals, conflict-table writes and a
    batch, from two handles taking turns (each re-reads as under the lock)."""
    base = tmp_path / "reviews.json"
    handles = [ReviewBook(base), ReviewBook(base)]
    model: dict[str, tuple[str, str]] = {}
    rng = random.Random(7)
    for step in range(400):
        book = handles[rng.randrange(2)]
        book.reload()
        roll = rng.random()
        if roll < 0.04:  # a merge: many decisions at once
            batch = {
                f"post-{rng.randrange(40)}": decision("approved", f"batch {step}")
                for _ in range(rng.randrange(1, 12))
            }
            book.write_batch(batch)
            model.update({p: ("approved", r.note) for p, r in batch.items()})
        elif roll < 0.08:  # a conflict resolution: the base is rewritten
            book.write_batch({}, [{"post_id": "x", "step": step}])
        else:
            post_id = f"post-{rng.randrange(40)}"
            if rng.random() < 0.2:
                book.put(post_id, None)
                model.pop(post_id, None)
            else:
                status = rng.choice(["approved", "rejected", "changes_requested"])
                book.put(post_id, decision(status, f"step {step}"))
                model[post_id] = (status, f"step {step}")
        for other in handles:
            other.reload()  # as under the lock (without it a stat decides, see refresh())
            assert {p: (r.status, r.note) for p, r in other.all().items()} == model, step
        assert on_disk(base) == model, step
    assert len(read(recent_of(base))["reviews"]) <= reviews_mod.RECENT_MAX
    for book in handles:
        book.close()


def test_a_crash_after_the_compacted_base_before_the_empty_recent_file_loses_nothing(
    tmp_path, small_limits, monkeypatch
):
    base = tmp_path / "reviews.json"
    book = ReviewBook(base)
    book.write_batch({f"post-{n}": decision(note="base") for n in range(6)})
    for n in range(5):  # the recent file fills up
        book.reload()
        book.put(f"post-{n}", decision("rejected", f"recent {n}"))
    assert len(read(recent_of(base))["reviews"]) == 5
    real = jsonstore.atomic_write_bytes
    calls = []

    def dies_after_the_base(path, data, **kwargs):
        calls.append(Path(path).name)
        if Path(path).name == RECENT_NAME and "reviews.json" in calls:
            raise OSError(5, "killed between the compaction's writes")
        return real(path, data, **kwargs)

    monkeypatch.setattr(jsonstore, "atomic_write_bytes", dies_after_the_base)
    book.reload()
    with pytest.raises(OSError):
        book.put("post-7", decision("approved", "the one that compacts"))
    monkeypatch.undo()
    assert calls == [RECENT_NAME, "reviews.json", RECENT_NAME]
    # the base has everything; the recent file still holds the compacted decisions,
    # which are skipped (they are of the older generation)
    assert len(read(recent_of(base))["reviews"]) == 5
    expected = {f"post-{n}": ("rejected", f"recent {n}") for n in range(5)}
    expected["post-5"] = ("approved", "base")
    expected["post-7"] = ("approved", "the one that compacts")
    assert on_disk(base) == expected
    assert {p: (r.status, r.note) for p, r in book.all().items()} == expected
    # and the next saves go on as usual, from this handle or another
    other = ReviewBook(base)
    other.reload()
    other.put("post-0", decision("approved", "after the crash"))
    book.reload()
    book.put("post-8", decision("rejected", "after the crash too"))
    expected["post-0"] = ("approved", "after the crash")
    expected["post-8"] = ("rejected", "after the crash too")
    assert on_disk(base) == expected
    other.close()
    book.close()


def test_stale_recent_decisions_never_undo_a_newer_base(tmp_path, small_limits, monkeypatch):
    """A merge rewrites the base with a newer decision for a post the recent file holds;
    killed before the recent file is emptied, the older recent decision must not win."""
    base = tmp_path / "reviews.json"
    book = ReviewBook(base)
    book.write_batch({f"post-{n}": decision(note="base") for n in range(6)})
    book.reload()
    book.put("post-1", decision("rejected", "older, in the recent file"))
    real = jsonstore.atomic_write_bytes
    written = []

    def dies_after_the_base(path, data, **kwargs):
        written.append(Path(path).name)
        if Path(path).name == RECENT_NAME and "reviews.json" in written:
            raise OSError(5, "killed")
        return real(path, data, **kwargs)

    monkeypatch.setattr(jsonstore, "atomic_write_bytes", dies_after_the_base)
    book.reload()
    with pytest.raises(OSError):
        book.write_batch({"post-1": decision("approved", "newer, in the base")}, conflicts=[])
    monkeypatch.undo()
    assert on_disk(base)["post-1"] == ("approved", "newer, in the base")
    book.close()


def test_a_crash_before_the_base_is_written_keeps_the_recent_decisions(
    tmp_path, small_limits, monkeypatch
):
    base = tmp_path / "reviews.json"
    book = ReviewBook(base)
    book.write_batch({f"post-{n}": decision(note="base") for n in range(6)})
    for n in range(5):
        book.reload()
        book.put(f"post-{n}", decision("rejected", f"recent {n}"))
    real = jsonstore.atomic_write_bytes

    def base_write_fails(path, data, **kwargs):
        if Path(path).name == "reviews.json":
            raise OSError(28, "No space left on device")
        return real(path, data, **kwargs)

    monkeypatch.setattr(jsonstore, "atomic_write_bytes", base_write_fails)
    book.reload()
    with pytest.raises(OSError):
        book.put("post-9", decision("approved", "never acknowledged"))
    monkeypatch.undo()
    assert read(recent_of(base))["state"]["1"]["compacting"]  # nobody trusts a cached base
    expected = {f"post-{n}": ("rejected", f"recent {n}") for n in range(5)}
    expected["post-5"] = ("approved", "base")
    assert on_disk(base) == expected
    book.reload()
    book.put("post-9", decision("approved", "saved this time"))
    expected["post-9"] = ("approved", "saved this time")
    assert on_disk(base) == expected
    assert {p: (r.status, r.note) for p, r in book.all().items()} == expected
    book.close()


def test_writer_rereads_under_the_lock_when_both_files_look_unchanged(
    tmp_path, small_limits, monkeypatch
):
    # as in tests/reliability/test_rel_two_processes.py, with saves on the recent file and
    # compactions: a handle must not trust the (mtime, size, inode) it cached
    with Store.open(tmp_path / "db.json") as first:
        first.import_paths([samples_dir()])
        ids = first.ids()
        first._reviews.write_batch({f"old-{n}": decision() for n in range(6)})  # large base
        with Store.open(tmp_path / "db.json") as second:
            first.set_review(ids[0], "approved", "first")  # first caches both files
            second.set_review(ids[1], "rejected", "second")
            for n in range(6):  # second compacts the base meanwhile
                second._reviews.reload()
                second._reviews.put(f"more-{n}", decision())
            monkeypatch.setattr(jsonstore.AtomicJSONStorage, "_stat_signature", lambda s: "same")
            first._reviews._storage._signature = "same"
            first._reviews._recent_storage._signature = "same"
            first.set_review(ids[2], "approved", "first again")
            monkeypatch.undo()
        notes = {pid: note for pid, (_s, note) in on_disk(first.data_dir / "reviews.json").items()}
    assert {pid: notes[pid] for pid in ids[:3]} == {
        ids[0]: "first",
        ids[1]: "second",
        ids[2]: "first again",
    }
    assert len(notes) == 3 + 6 + 6


def test_an_open_handle_sees_recent_saves_and_compactions_after_refresh(
    tmp_path, small_limits, monkeypatch
):
    monkeypatch.setattr(reviews_mod, "RECENT_MAX", 3)
    with Store.open(tmp_path / "db.json") as writer:
        writer.import_paths([samples_dir()])
        ids = writer.ids()
        writer._reviews.write_batch({f"old-{n}": decision() for n in range(6)})
        with Store.open(tmp_path / "db.json") as reader:
            assert len(reader.reviews()) == 6
            writer.set_review(ids[0], "rejected", "recent")
            assert writer._reviews._base_count >= reviews_mod.DIRECT_MAX
            assert (writer.data_dir / RECENT_NAME).exists()
            assert reader.refresh() is True
            assert reader.review(ids[0]).note == "recent"
            assert reader.summary(ids[0]).status == "rejected"
            generation = read(writer.data_dir / "reviews.json")["state"]["1"]["generation"]
            for post_id in ids[1:]:  # the fourth decision in the recent file compacts
                writer.set_review(post_id, "approved", "batch")
            writer.set_review(ids[0], "changes_requested", "after")
            assert read(writer.data_dir / "reviews.json")["state"]["1"]["generation"] > generation
            assert len(read(writer.data_dir / RECENT_NAME)["reviews"]) == 2
            assert reader.refresh() is True
            assert {p: r.note for p, r in reader.reviews().items() if p in ids} == {
                **dict.fromkeys(ids[1:], "batch"),
                ids[0]: "after",
            }
            assert reader.count("status:approved") == 4
            assert reader.refresh() is False


def test_a_damaged_recent_file_recovers_from_its_backup(tmp_path, small_limits):
    base = tmp_path / "reviews.json"
    book = ReviewBook(base)
    book.write_batch({f"post-{n}": decision(note="base") for n in range(6)})
    for n in range(3):
        book.reload()
        book.put(f"post-{n}", decision("rejected", f"recent {n}"))
    book.close()
    recent_of(base).write_bytes(b'{"reviews": {"1": {"id"')
    warnings = []
    again = ReviewBook(base, warn=warnings.append)
    decisions = {p: (r.status, r.note) for p, r in again.all().items()}
    assert decisions["post-1"] == ("rejected", "recent 1")
    assert decisions["post-2"] == ("approved", "base")  # the last save was the damaged one
    (warning,) = warnings
    assert "recovered the previous generation from reviews-recent.json.bak" in warning
    again.close()


STORM_CHILD = textwrap.dedent(
    """
    import sys
    import storage.reviews as reviews
    reviews.DIRECT_MAX, reviews.RECENT_MAX = 8, 6   # saves take every path, often
    from storage import Store
    db, round_no = sys.argv[1], int(sys.argv[2])
    with Store.open(db) as store:
        ids = store.ids()
        print("ready", flush=True)
        n = 0
        while True:
            post_id, status = storm_op(ids, round_no, n)
            if status is None:
                store.restore_review(post_id, None)
            else:
                store.set_review(post_id, status, f"r{round_no}-s{n}")
            print(f"ack {n}", flush=True)
            n += 1
    """
)


def storm_op(ids: list[str], round_no: int, n: int) -> tuple[str, str | None]:
    """The child's n-th operation of a round: (post id, status or None for an undo)."""
    post_id = ids[(n * 3 + round_no) % len(ids)]
    return post_id, None if n % 11 == 10 else ("approved", "rejected", "changes_requested")[n % 3]


def test_kill_9_during_saves_on_the_recent_file_loses_no_acknowledged_decision(tmp_path):
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        store.import_paths([samples_dir()])
        ids = store.ids()
        with store._write_lock():  # a base with more decisions than the child's DIRECT_MAX
            store._reviews.write_batch({f"old-{n}": decision() for n in range(10)})
    child_code = STORM_CHILD.replace("import sys\n", "import sys\n" + _storm_op_source(), 1)
    env = {**os.environ, "PYTHONPATH": str(REPO), "COPYDESK_REVIEWER": "storm"}
    env.pop("COPYDESK_DB", None)
    rng = random.Random(5)
    expected: dict[str, tuple[str, str] | None] = {}
    acknowledged = 0
    for round_no in range(6):
        child = subprocess.Popen(
            [sys.executable, "-c", child_code, str(db), str(round_no)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().startswith(b"ready"), child.communicate()[1]
        time.sleep(rng.uniform(0.05, 0.4))
        os.killpg(child.pid, signal.SIGKILL)
        out, err = child.communicate(timeout=30)
        assert b"Traceback" not in err, err.decode()
        acked = [
            int(line.split()[1]) for line in out.decode().splitlines() if line.startswith("ack ")
        ]
        assert acked == list(range(len(acked)))
        acknowledged += len(acked)
        for n in acked:
            post_id, status = storm_op(ids, round_no, n)
            expected[post_id] = None if status is None else (status, f"r{round_no}-s{n}")
        # the write in flight at the kill (saved, not yet printed) may have landed
        in_flight_post, in_flight_status = storm_op(ids, round_no, len(acked))
        landed = (
            None if in_flight_status is None else (in_flight_status, f"r{round_no}-s{len(acked)}")
        )
        with Store.open(db) as store:
            stored = {p: (r.status, r.note) for p, r in store.reviews().items()}
        assert sum(1 for p in stored if p.startswith("old-")) == 10
        for post_id in ids:
            if post_id == in_flight_post and stored.get(post_id) == landed:
                expected[post_id] = landed
            assert stored.get(post_id) == expected.get(post_id), (round_no, post_id)
    assert acknowledged > 20  # the storm really saved, compacted and removed things


def _storm_op_source() -> str:
    import inspect

    return textwrap.dedent(inspect.getsource(storm_op))
