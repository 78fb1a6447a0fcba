"""Review decisions, kept apart from post content.

Decisions live in their own small TinyDB file (``FILE.d/reviews.json``) so that saving
one rewrites kilobytes, never the corpus. The caller holds the store's write lock.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from tinydb import TinyDB

from .jsonstore import AtomicJSONStorage, Warn
from .models import Review
from .paths import config_dir

REVIEWS_TABLE = "reviews"
CONFLICTS_TABLE = "conflicts"  # another reviewer's differing decisions (storage/merge.py)
VIEWS_TABLE = "views"  # saved views (storage/views.py)


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def reviewer_name() -> str:
    """``$COPYDESK_REVIEWER``, else ``reviewer`` in config.toml, else the login name."""
    env = os.environ.get("COPYDESK_REVIEWER")
    if env:
        return env
    config = config_dir() / "config.toml"
    try:
        value = tomllib.loads(config.read_text(encoding="utf-8")).get("reviewer")
        if isinstance(value, str) and value.strip():
            return value.strip()
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        pass
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


class ReviewBook:
    """The decisions table, cached in memory and re-read when another process writes it."""

    def __init__(self, path: Path, *, warn: Warn | None = None) -> None:
        self.path = path
        self._db = TinyDB(path, storage=AtomicJSONStorage, warn=warn)
        self._storage: AtomicJSONStorage = self._db.storage  # type: ignore[assignment]
        self._table = self._db.table(REVIEWS_TABLE)
        self._cache: dict[str, Review] | None = None

    @property
    def db(self) -> TinyDB:
        return self._db

    def changed_on_disk(self) -> bool:
        return self._storage.changed_on_disk()

    def reload(self) -> None:
        self._cache = None
        self._storage.close()  # drops the parsed file too: the next read goes to disk

    def all(self) -> dict[str, Review]:
        if self._cache is None or self._storage.changed_on_disk():
            self._cache = {doc["id"]: Review.from_dict(doc) for doc in self._table.all()}
        return self._cache

    def get(self, post_id: str) -> Review | None:
        return self.all().get(post_id)

    def put(self, post_id: str, review: Review | None) -> None:
        """Save (or with None, remove) one decision. Durable when this returns."""
        # Not TinyDB's upsert: its Table caches the next doc id, which another process may
        # have taken since ("Document with ID 7 already exists"). write_batch keys by id.
        self.write_batch({post_id: review})

    def conflict_records(self) -> list[dict]:
        """The stored conflicts (see storage/merge.py), oldest first."""
        data = self._storage.read() or {}
        table = data.get(CONFLICTS_TABLE) or {}
        return [dict(table[key]) for key in sorted(table, key=int)]

    def view_records(self) -> list[dict]:
        """The saved views (see storage/views.py), oldest first."""
        data = self._storage.read() or {}
        table = data.get(VIEWS_TABLE) or {}
        return [dict(table[key]) for key in sorted(table, key=int)]

    def write_batch(
        self,
        decisions: Mapping[str, Review | None],
        conflicts: list[dict] | None = None,
        views: list[dict] | None = None,
    ) -> None:
        """Save many decisions (None removes one) and, when given, the whole conflicts or
        views table, in one durable write: a merge of thousands of decisions is one rewrite,
        not thousands.
        """
        # the in-memory decisions, when they are current, are updated rather than re-read
        cache = self._cache if not self._storage.changed_on_disk() else None
        data = dict(self._storage.read() or {})
        reviews = dict(data.get(REVIEWS_TABLE) or {})
        key_of = {doc.get("id"): key for key, doc in reviews.items()}
        next_key = max((int(key) for key in reviews), default=0) + 1
        for post_id, review in decisions.items():
            key = key_of.get(post_id)
            if review is None:
                if key is not None:
                    del reviews[key]
                continue
            if key is None:
                key, next_key = str(next_key), next_key + 1
            reviews[key] = {"id": post_id, **review.to_dict()}
        data[REVIEWS_TABLE] = reviews
        if conflicts is not None:
            data[CONFLICTS_TABLE] = {str(n): dict(c) for n, c in enumerate(conflicts, 1)}
        if views is not None:
            data[VIEWS_TABLE] = {str(n): dict(v) for n, v in enumerate(views, 1)}
        self._storage.write(data)
        # TinyDB's Table caches the next free doc id, which the write above may have taken
        self._table._next_id = None
        self._table.clear_cache()
        if cache is not None:
            cache = dict(cache)
            for post_id, review in decisions.items():
                if review is None:
                    cache.pop(post_id, None)
                else:
                    cache[post_id] = review
        self._cache = cache

    def close(self) -> None:
        self._db.close()
