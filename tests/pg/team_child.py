"""A reviewer process for the team reliability tests.

    python team_child.py URL REVIEWER OUT MODE [LEASE]

MODE ``work``: claim one post, decide it, repeat until the queue gives nothing (twice in
a row, a second apart); each line of OUT is ``ok ID`` once ``set_review`` returned,
``notsaved ID`` when it raised NotSavedError (then it tries again, as a reviewer would),
``claimed ID`` after each claim.
MODE ``hold``: claim 5 posts with LEASE seconds, write ``claimed ID`` lines, ``ready``,
then sleep (the test kills it with SIGKILL).
"""

from __future__ import annotations

import sys
import time

from storage.pg import NotSavedError, PostgresStore


def main() -> None:
    url, reviewer, out, mode = sys.argv[1:5]
    lease = float(sys.argv[5]) if len(sys.argv) > 5 else 30.0
    with open(out, "a", buffering=1, encoding="utf-8") as log:
        store = PostgresStore.open(url, reviewer=reviewer)
        if mode == "hold":
            for post_id in store.team.claim_next(5, lease):
                log.write(f"claimed {post_id}\n")
            log.write("ready\n")
            time.sleep(600)
            return
        empty = 0
        while empty < 2:
            claimed = store.team.claim_next(1, lease)
            if not claimed:
                empty += 1
                time.sleep(1.0)
                continue
            empty = 0
            (post_id,) = claimed
            log.write(f"claimed {post_id}\n")
            for _attempt in range(3):  # as a reviewer told "not saved" presses again
                try:
                    store.set_review(post_id, "approved", note=f"by {reviewer}")
                except NotSavedError as exc:
                    log.write(f"notsaved {post_id} {str(exc)[:200]!r}\n")
                    continue
                log.write(f"ok {post_id}\n")
                break
        store.close()


if __name__ == "__main__":
    main()
