"""Child process of the reliability tests: makes decisions or imports until it is killed.

Prints ``ready`` once the store is open and ``ack ID STATUS NOTE`` only after the write
returned, so every ``ack`` line is a decision the user was told was saved. Run by hand:

    python tests/reliability/storm_child.py decide /tmp/db.json 1 api
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


def small_review_limits() -> None:
    """``COPYDESK_STORM_REVIEW_LIMITS=8,6`` lowers ``DIRECT_MAX, RECENT_MAX`` of
    storage/reviews.py so that a short storm saves through every path: the base, the recent
    file and compactions (a real store reaches them only after hundreds of decisions)."""
    limits = os.environ.get("COPYDESK_STORM_REVIEW_LIMITS")
    if limits:
        from storage import reviews

        reviews.DIRECT_MAX, reviews.RECENT_MAX = (int(n) for n in limits.split(","))


def decide(db: str, round_no: int, via: str) -> None:
    """Cycle decisions over every post, forever. ``via``: ``api`` (Store) or ``cli`` (click)."""
    from storage import Store

    small_review_limits()

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
        if via == "api":
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

    analysed = False

    def progress(done: int, total: int) -> None:
        nonlocal analysed
        if done == total and not analysed:
            analysed = True
            say("analysed")  # the parse phase is over: the writes start now

    with Store.open(db) as store:
        say("ready")
        report = store.import_paths([corpus], progress=progress)
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
