"""The store the fault matrix damages: 330 posts and 300 decisions made through the real
API (notes, a bulk decision, undos, a merge of another reviewer's file with conflicts, a
resolved conflict, saved views), with a checkpoint and journal records after it, so that
every store file exists: the manifest and its ``.bak``, ``shelf.json`` and ``.bak``, two
post segments with their hints files, ``decisions.json`` and ``.bak``, both journal
copies, ``index-G.cdx`` and ``near-dups-G.json``.

``snapshot(store)`` is what must survive any damage: every decision (status, note,
reviewer, time, content hash), the open conflicts and the saved views.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import orjson

import storage.local.decisions as decisions_module
from seeds.synth import synthesize
from storage import DecisionRequest, Status, Store
from storage.jsonstore import write_json

POSTS = 330
DECISIONS = 300
CHECKPOINT_EVERY = 100  # so that decisions.json and its .bak exist, with records after them
STATUS_CYCLE = ("approved", "rejected", "changes_requested")
# a query the search index answers (the first screen's empty query needs the rows only)
SEARCHED = "stack:php"


def build(root: Path, corpus_source: list[Path] | None = None) -> dict[str, Any]:
    """Build the store under ``root``; returns its paths and the expected snapshot."""
    root.mkdir(parents=True, exist_ok=True)
    corpus = root / "corpus"
    files = synthesize(POSTS, corpus, seed=14)
    db = root / "db.json"
    old_env = os.environ.get("COPYDESK_REVIEWER")
    old_every = decisions_module.CHECKPOINT_EVERY
    os.environ["COPYDESK_REVIEWER"] = "alice"
    decisions_module.CHECKPOINT_EVERY = CHECKPOINT_EVERY
    try:
        with Store.open(db) as store:
            report = store.import_paths([corpus])
            assert len(report.imported) == POSTS and not report.errors, report.summary()
            ids = store.ids()
            _decide(store, ids, root)
            expected = as_json(snapshot(store))
            found = store.search_ids(SEARCHED, limit=None)
    finally:
        decisions_module.CHECKPOINT_EVERY = old_every
        if old_env is None:
            os.environ.pop("COPYDESK_REVIEWER", None)
        else:
            os.environ["COPYDESK_REVIEWER"] = old_env
    # the manifest rewritten once, the way every store file is: its .bak is a valid copy
    write_json(db, orjson.loads(db.read_bytes()))
    assert len(expected["decisions"]) == DECISIONS
    (root / "expected.json").write_bytes(orjson.dumps(expected))
    assert found
    return {"db": db, "corpus": corpus, "files": files, "expected": expected, "found": found}


def _decide(store: Store, ids: list[str], root: Path) -> None:
    # 285 decisions one by one, every one with a note (some with quotes and newlines)
    for n, post_id in enumerate(ids[:285]):
        note = f"note {n}" if n % 7 else f'note {n}: "quoted"\nsecond line'
        store.set_review(post_id, STATUS_CYCLE[n % 3], note)
    # second thoughts on a few, then undo some of them and five decisions altogether
    previous = {pid: store.review(pid) for pid in ids[:12]}
    for n, post_id in enumerate(ids[:12]):
        store.set_review(post_id, STATUS_CYCLE[(n + 1) % 3], f"changed my mind {n}")
    store.restore_reviews({pid: previous[pid] for pid in ids[6:12]})
    store.restore_reviews(dict.fromkeys(ids[280:285]))
    # one bulk decision of ten posts (one durable write), a note kept by note=None
    store.set_reviews([DecisionRequest(pid, Status.APPROVED, "bulk") for pid in ids[285:295]])
    store.set_reviews([DecisionRequest(ids[285], Status.REJECTED, None)])
    # saved views, one replaced and one deleted
    store.save_view("php queue", "stack:php status:pending")
    store.save_view("advanced", "difficulty:advanced")
    store.save_view("scratch", "quality<50")
    store.save_view("advanced", "difficulty:advanced status:approved")
    store.delete_view("scratch")
    # bob's export: 10 posts we have not decided (added), 3 agreements, 4 conflicts
    lines = []
    for pid in ids[295:305]:
        lines.append({"id": pid, "status": "approved", "note": "bob adds", "reviewer": "bob"})
    for pid in ids[12:15]:
        mine = store.review(pid)
        lines.append({"id": pid, "status": mine.status, "note": mine.note, "reviewer": "bob"})
    for pid in ids[15:19]:
        other = "approved" if store.review(pid).status != "approved" else "rejected"
        lines.append({"id": pid, "status": other, "note": f"bob on {pid}", "reviewer": "bob"})
    bob = root / "bob.jsonl"
    bob.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    report = store.merge_reviews(bob)
    assert (len(report.added), len(report.agreed), len(report.conflicts)) == (10, 3, 4)
    # two conflicts settled: one keeping theirs, one keeping ours; two stay open
    store.resolve_conflict(ids[15], "theirs")
    store.resolve_conflict(ids[16], "ours")
    store.set_review(ids[0], "rejected", "last word")  # a decision after everything


def snapshot(store: Store) -> dict[str, Any]:
    """What must survive: decisions, open conflicts, saved views (plain JSON data)."""
    return {
        "decisions": {pid: review.to_dict() for pid, review in sorted(store.reviews().items())},
        "conflicts": sorted(
            (c.post_id, c.theirs.to_dict(), c.ours.to_dict() if c.ours else None)
            for c in store.conflicts()
        ),
        "views": [(v.name, v.query) for v in store.views() if not v.builtin],
    }


def as_json(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists)."""
    return orjson.loads(orjson.dumps(value))
