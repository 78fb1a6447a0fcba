"""A store of copydesk's first format, built by hand the way that copydesk wrote it (see
``git show 0ab17c6:storage/importer.py`` build_record, ``0ab17c6:storage/store.py`` and
``0ab17c6:storage/reviews.py``), so that the conversion is tested against the files
themselves, not against the code that converts them:

    FILE                       {"store": {"1": {"format": 1, "generation", "next_doc_id", "clean"}}}
    FILE.d/posts-XX.json       {"posts": {doc_id: record}}, XX = doc_id % 64
    FILE.d/reviews.json        {"reviews": {n: {"id", status...}}, "conflicts", "views",
                                "state": {"1": {"generation"}}}
    FILE.d/reviews-recent.json {"reviews": {n: decision or {"id", "removed": true}},
                                "state": {"1": {"base_generation"}}}
    FILE.d/index.pickle        the derived cache (here: a hostile pickle, never loaded)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

import seeds
from storage.hints import compute_hints_many

SHARDS = 64


def build(db: Path, files: list[Path]) -> dict[str, Any]:
    """Write a format 1 store of ``files`` at ``db``; returns what it holds."""
    data_dir = db.with_name(db.name + ".d")
    data_dir.mkdir(parents=True)
    posts = [(seeds.read_file(path), str(path)) for path in files]
    datas = [post.to_dict() for post, _ in posts]
    shards: dict[int, dict[str, Any]] = {}
    records: dict[str, dict[str, Any]] = {}
    for doc_id, ((post, path), data, hints) in enumerate(
        zip(posts, datas, compute_hints_many(datas), strict=True), 1
    ):
        record = {
            "id": post.id,
            "reference": post.reference or "",
            **data,
            "source": {"path": path, "sha256": post.sha256},
            "hints": hints,
        }
        shards.setdefault(doc_id % SHARDS, {})[str(doc_id)] = record
        records[post.id] = record
    for shard, table in shards.items():
        (data_dir / f"posts-{shard:02d}.json").write_bytes(orjson.dumps({"posts": table}))
    manifest = {"format": 1, "generation": 3, "next_doc_id": len(posts) + 1, "clean": True}
    db.write_bytes(orjson.dumps({"store": {"1": manifest}}))

    ids = sorted(records)
    shas = {pid: records[pid]["source"]["sha256"] for pid in ids}

    def decision(pid: str, status: str, note: str, reviewer: str = "alice") -> dict[str, Any]:
        return {
            "id": pid,
            "status": status,
            "note": note,
            "decided_at": "2026-01-02T03:04:05Z",
            "reviewer": reviewer,
            "content_sha256": shas[pid],
        }

    base = [
        decision(pid, ("approved", "rejected")[n % 2], f"base {n}")
        for n, pid in enumerate(ids[: len(ids) // 2])
    ]
    recent = [
        decision(ids[0], "changes_requested", "recent: changed my mind"),
        {"id": ids[1], "removed": True},  # an undo
        decision(ids[len(ids) // 2], "approved", "recent: new"),
    ]
    conflict = {
        "post_id": ids[2],
        "theirs": {
            k: v
            for k, v in decision(ids[2], "approved", "bob says yes", "bob").items()
            if k != "id"
        },
        "source": "/home/alice/bob.jsonl",
        "recorded_at": "2026-01-02T04:00:00Z",
    }
    views = [
        {
            "name": "php queue",
            "query": "stack:php status:pending",
            "saved_at": "2026-01-01T00:00:00Z",
        }
    ]
    reviews = {
        "reviews": {str(n): doc for n, doc in enumerate(base, 1)},
        "conflicts": {"1": conflict},
        "views": {str(n): view for n, view in enumerate(views, 1)},
        "state": {"1": {"generation": 5}},
    }
    (data_dir / "reviews.json").write_bytes(orjson.dumps(reviews))
    recent_doc = {
        "reviews": {str(n): doc for n, doc in enumerate(recent, 1)},
        "state": {"1": {"base_generation": 5}},
    }
    (data_dir / "reviews-recent.json").write_bytes(orjson.dumps(recent_doc))

    decisions = {doc["id"]: {k: v for k, v in doc.items() if k != "id"} for doc in base}
    for doc in recent:
        if doc.get("removed"):
            decisions.pop(doc["id"])
        else:
            decisions[doc["id"]] = {k: v for k, v in doc.items() if k != "id"}
    return {
        "records": records,
        "decisions": decisions,
        "conflict": conflict,
        "views": [(v["name"], v["query"]) for v in views],
        "old_files": sorted(p.name for p in data_dir.iterdir()),
    }
