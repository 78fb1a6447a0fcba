"""kill -9 storms: a child process decides or imports, the parent SIGKILLs it at random
moments, round after round. Afterwards the store opens, every decision the child
acknowledged (printed after ``set_review``/``set_reviews``/``copydesk review`` returned) is
in the journal on disk (read without the store's code, ``relsupport.journal_decisions``)
and in the store, and the posts form a consistent set that a re-import completes.

A child deciding in a tight loop spends most of its time appending to the two journal
copies, so most kills land in an append (between the copies, in an fsync); with
``COPYDESK_STORM_CHECKPOINT_EVERY=3`` checkpoints are written, and killed, all the time.

Rounds: ``COPYDESK_STORM_ROUNDS`` (decision rounds, default 12) and
``COPYDESK_IMPORT_STORM_ROUNDS`` (default 4); raise them to run the storms by hand.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections import Counter
from pathlib import Path

from relsupport import Child, copy_store, journal_decisions

import seeds
from storage import Store

DECISION_ROUNDS = int(os.environ.get("COPYDESK_STORM_ROUNDS", "12"))
IMPORT_ROUNDS = int(os.environ.get("COPYDESK_IMPORT_STORM_ROUNDS", "4"))
IMPORT_FILES = 240  # above the importer's PARALLEL_THRESHOLD: the process pool is used


def _note_key(note: str) -> tuple[int, int]:
    round_part, seq_part = note.split("-")
    return int(round_part[1:]), int(seq_part[1:])


def _journal_state(db: Path) -> str:
    """How the kill left the journal: 'same' copies, one copy 'ahead', or a 'torn' line."""
    directory = db.with_name(db.name + ".d")
    primary = (directory / "journal.jsonl").read_bytes()
    mirror = (directory / "journal-mirror.jsonl").read_bytes()
    if not primary.endswith(b"\n") or not mirror.endswith(b"\n"):
        return "torn"
    return "same" if primary == mirror else "ahead"


def _decision_storm(db: Path, env, tmp_path: Path, via: str, rounds: int, seed: int):
    rng = random.Random(seed)
    last_ack: dict[str, tuple[str, str]] = {}  # post id -> (note, status) last acknowledged
    expected: dict[str, tuple[str, str]] = {}  # the same, plus in-flight writes that landed
    acknowledged = in_flight_landed = 0
    left: Counter[str] = Counter()
    for round_no in range(rounds):
        child = Child(["decide", str(db), str(round_no), via], env, tmp_path / f"{round_no}.err")
        if round_no % 5 == 4:
            time.sleep(rng.uniform(0.0, 0.5))  # often while it starts and opens the store
        else:
            assert child.wait_for("ready")
            # a `copydesk review` opens the store each time: give it longer to decide some
            time.sleep(rng.uniform(0.01, 0.3) if via == "api" else rng.uniform(0.2, 0.8))
        child.kill()
        assert "Traceback" not in child.stderr, child.stderr
        left[_journal_state(db)] += 1
        acks = child.acks()
        acknowledged += len(acks)
        for post_id, status, note in acks:
            last_ack[post_id] = expected[post_id] = (note, status)
        # After every kill each acknowledged decision is on disk. A decision may differ
        # from its last ack only by the write in flight when the kill came (saved, not yet
        # printed: the next seq), or the rest of a bulk write whose first acks were printed.
        last_seq = max((_note_key(a[2])[1] for a in acks), default=-1)
        allowed = {(round_no, last_seq), (round_no, last_seq + 1)}
        on_disk = journal_decisions(db)
        for post_id, doc in on_disk.items():
            stored = (doc["note"], doc["status"])
            if expected.get(post_id) != stored:
                assert _note_key(doc["note"]) in allowed, (post_id, doc, expected.get(post_id))
                expected[post_id] = stored
                in_flight_landed += 1
        assert set(on_disk) == set(expected)
    with Store.open(db) as store:
        assert {pid: (r.note, r.status) for pid, r in store.reviews().items()} == expected
        for post_id, (note, _status) in last_ack.items():
            review = store.review(post_id)
            assert review is not None and review.reviewer == "storm"
            assert _note_key(review.note) >= _note_key(note)
            assert store.summary(post_id).status == review.status
    return acknowledged, len(last_ack), in_flight_landed, left


def test_kill_9_storm_during_journal_appends_via_the_api_loses_no_acknowledged_decision(
    db, env, tmp_path
):
    acknowledged, posts, landed, left = _decision_storm(
        db, env, tmp_path, "api", DECISION_ROUNDS, 1
    )
    print(
        f"\napi storm: {DECISION_ROUNDS} rounds, {acknowledged} decisions acknowledged on "
        f"{posts} posts, all found; {landed} unacknowledged in-flight writes landed; "
        f"journal copies after the kills: {dict(left)}"
    )
    assert acknowledged > DECISION_ROUNDS  # the storm really decided things


def test_kill_9_storm_through_checkpoints_loses_no_acknowledged_decision(db, env, tmp_path):
    """The same storm with a checkpoint every 3 records: kills land in checkpoint writes."""
    env = {**env, "COPYDESK_STORM_CHECKPOINT_EVERY": "3"}
    acknowledged, posts, landed, left = _decision_storm(
        db, env, tmp_path, "api", DECISION_ROUNDS, 3
    )
    directory = db.with_name(db.name + ".d")
    assert (directory / "decisions.json").exists()  # the storm really wrote checkpoints
    killed_checkpoints = list(directory.glob(".decisions.json.*.tmp"))
    print(
        f"\ncheckpoint storm: {DECISION_ROUNDS} rounds, {acknowledged} decisions "
        f"acknowledged on {posts} posts, all found; {landed} in-flight writes landed; "
        f"{len(killed_checkpoints)} checkpoint writes killed half-way; journal copies after "
        f"the kills: {dict(left)}"
    )
    assert acknowledged > DECISION_ROUNDS


def test_kill_9_storm_during_cli_review_commands_loses_no_acknowledged_decision(db, env, tmp_path):
    rounds = max(3, DECISION_ROUNDS // 4)
    acknowledged, posts, landed, _ = _decision_storm(db, env, tmp_path, "cli", rounds, 2)
    print(
        f"\ncli storm: {rounds} rounds, {acknowledged} `copydesk review` acknowledged on "
        f"{posts} posts, all found; {landed} unacknowledged in-flight writes landed"
    )
    assert acknowledged > 0


def _retitle(path: Path, round_no: int) -> None:
    text = path.read_text(encoding="utf-8")
    title = seeds.parse(text).title
    path.write_text(text.replace(title, f"{title} rev {round_no}", 1), encoding="utf-8")


def _assert_consistent(db: Path) -> int:
    """Every listed post can be read, and its segment record agrees with the catalog."""
    with Store.open(db) as store:
        ids = store.ids()
        assert len(set(ids)) == len(ids) == len(store)
        for post_id in ids:
            post = store.get(post_id)
            assert post.title == store.summary(post_id).title
            assert post.id == post_id
        return len(ids)


def _import_duration(db: Path, corpus: Path, env, tmp_path: Path) -> float:
    """Seconds from ``ready`` to ``done`` of the same import, unkilled, on a copy."""
    scratch = copy_store(db, tmp_path / "calibrate")
    child = Child(["import", str(scratch), str(corpus)], env, tmp_path / "calibrate.err")
    assert child.wait_for("ready")
    started = time.monotonic()
    assert child.wait_for("done", timeout=120)
    duration = time.monotonic() - started
    assert child.wait() == 0, child.stderr
    return duration


def test_kill_9_storm_during_imports_keeps_a_consistent_store_and_every_decision(
    db, env, tmp_path, synth_corpus
):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files = [Path(shutil.copy(p, corpus / p.name)) for p in synth_corpus[:IMPORT_FILES]]
    with Store.open(db) as store:  # decisions acknowledged before the storm
        decided = {pid: f"before-{n}" for n, pid in enumerate(store.ids()[:40])}
        for pid, note in decided.items():
            store.set_review(pid, "approved", note)
    rng = random.Random(3)
    outcomes: Counter[str] = Counter()
    counts = []
    duration = _import_duration(db, corpus, env, tmp_path)
    for round_no in range(IMPORT_ROUNDS):
        for path in rng.sample(files, 50):  # changed files: the import has writing to do
            _retitle(path, round_no)
        child = Child(["import", str(db), str(corpus)], env, tmp_path / f"import-{round_no}.err")
        assert child.wait_for("ready")
        # anywhere in the import (its duration measured on a copy): the parse in the
        # process pool, the segment writes, the commits, the hints and similarity phase
        time.sleep(rng.uniform(0.0, duration))
        finished = any(line.startswith("done") for line in child.lines)
        child.kill()
        outcomes["finished before the kill" if finished else "killed mid-import"] += 1
        assert "Traceback" not in child.stderr, child.stderr
        counts.append(_assert_consistent(db))
        notes = {pid: doc["note"] for pid, doc in journal_decisions(db).items()}
        assert notes == decided

    with Store.open(db) as store:  # re-running the import completes it
        report = store.import_paths([corpus])
        assert report.errors == []
        changed = 0
        for path in files:
            post = seeds.read_file(path)
            stored = store.get(post.id)
            assert (stored.title, stored.source["sha256"]) == (post.title, post.sha256)
        for pid, note in decided.items():
            review = store.review(pid)
            assert review is not None and (review.status, review.note) == ("approved", note)
            changed += store.get(pid).changed
        assert len(store) == len(files)  # the template's 120 posts are among them
    leftovers = [p for p in db.parent.rglob(".*.tmp")]
    assert outcomes["killed mid-import"] > 0  # the storm really hit imports
    print(
        f"\nimport storm: {IMPORT_ROUNDS} rounds ({dict(outcomes)}; an import takes "
        f"{duration:.2f} s), posts after each round "
        f"{counts}, {len(decided)} decisions kept, {changed} of them changed since review; "
        f"{len(leftovers)} temp files of killed writers left "
        f"({sum(p.stat().st_size for p in leftovers)} bytes)"
    )
