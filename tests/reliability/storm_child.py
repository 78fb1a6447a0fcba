"""Child process of the reliability tests: makes decisions or imports until it is killed.

Prints ``ready`` once the store is open and ``ack ID STATUS NOTE`` only after the write
returned, so every ``ack`` line is a decision the user was told was saved. Run by hand:

    python tests/reliability/storm_child.py decide /tmp/db.json 1 api
    COPYDESK_STORM_CHECKPOINT_EVERY=3 python tests/reliability/storm_child.py decide /tmp/db.json 1 api
    python tests/reliability/storm_child.py import /tmp/db.json /path/to/corpus
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

STATUS_CYCLE = ("approved", "rejected", "changes_requested")


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def small_checkpoint_interval() -> None:
    """``COPYDESK_STORM_CHECKPOINT_EVERY=3`` lowers ``CHECKPOINT_EVERY`` of
    storage/local/decisions.py so that a short storm also writes (and is killed while
    writing) checkpoints; a real store writes one every 1,024 journal records."""
    every = os.environ.get("COPYDESK_STORM_CHECKPOINT_EVERY")
    if every:
        from storage.local import decisions

        decisions.CHECKPOINT_EVERY = int(every)


def decide(db: str, round_no: int, via: str) -> None:
    """Cycle decisions over every post, forever. ``via``: ``api`` (Store) or ``cli`` (click).
    Through the API every fifth write is a bulk decision of three posts (one record)."""
    from storage import DecisionRequest, Status, Store

    small_checkpoint_interval()

    store = Store.open(db)
    ids = store.ids()
    if via == "cli":
        store.close()  # every `copydesk review` opens the store itself
        from tui.cli import main
    say("ready")
    seq = 0
    start = (round_no * 37) % len(ids)
    while True:
        post_id = ids[(start + seq) % len(ids)]
        status = STATUS_CYCLE[seq % len(STATUS_CYCLE)]
        note = f"r{round_no:03d}-n{seq:05d}"
        if via == "api" and seq % 5 == 4:
            bulk = [ids[(start + seq + n) % len(ids)] for n in range(3)]
            store.set_reviews([DecisionRequest(pid, Status(status), note) for pid in bulk])
            for other in bulk[1:]:
                say(f"ack {other} {status} {note}")
        elif via == "api":
            store.set_review(post_id, status, note)
        else:
            # the whole CLI path (open, save, close) in-process; 0 is "acknowledged"
            try:
                main(
                    ["--db", db, "review", post_id, "-s", status, "-m", note], standalone_mode=False
                )
            except SystemExit as exc:
                if exc.code:
                    raise
        say(f"ack {post_id} {status} {note}")
        seq += 1


def decide_list(db: str, go_file: str, tag: str, ids: list[str]) -> None:
    """Wait for ``go_file`` to exist, then decide on each id once (two-writer test)."""
    from storage import Store

    store = Store.open(db)
    say("ready")
    deadline = time.monotonic() + 60
    while not Path(go_file).exists():
        if time.monotonic() > deadline:
            raise SystemExit("go file never appeared")
        time.sleep(0.002)
    pause = random.Random(tag)
    for post_id in ids:
        store.set_review(post_id, "approved", tag)
        say(f"ack {post_id} approved {tag}")
        # a few ms between decisions, so that the two writers' turns interleave
        time.sleep(pause.uniform(0, 0.02))
    store.close()
    say("done")


def import_corpus(db: str, corpus: str) -> None:
    from storage import Store

    with Store.open(db) as store:
        say("ready")
        report = store.import_paths([corpus])
        say(f"done {report.summary()}")


def main(argv: list[str]) -> None:
    mode = argv[0]
    if mode == "decide":
        decide(argv[1], int(argv[2]), argv[3] if len(argv) > 3 else "api")
    elif mode == "decide-list":
        decide_list(argv[1], argv[2], argv[3], argv[4:])
    elif mode == "import":
        import_corpus(argv[1], argv[2])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
