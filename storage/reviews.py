"""Review decisions, kept apart from post content.

Decisions live in their own TinyDB files, never in the post shards, so that saving one
never rewrites the corpus:

- ``FILE.d/reviews.json``, the base: every decision as of the last compaction, the
  conflicts (storage/merge.py) and the saved views (storage/views.py), and its
  ``generation`` (a number that grows with every rewrite of the base);
- ``FILE.d/reviews-recent.json``: the decisions since then (at most ``RECENT_MAX``; a
  removal is ``{"id": ..., "removed": true}``) and the generation of the base they go on.

A save rewrites only the recent file (atomically, like every write: ``jsonstore.py``), so
it costs the same with 50 or 50,000 decisions. When the recent file would pass
``RECENT_MAX`` decisions, a compaction folds it into a new base. While the base holds
fewer than ``DIRECT_MAX`` decisions, saves rewrite the base itself (as cheap, and one file
holds everything); so do merges and conflict or view changes.

Reading: the recent decisions go over the base when the base's generation is at most the
one they were saved on. A compaction writes the base with a new generation, then an
empty recent file on it; a crash between the two leaves recent decisions of an older
generation, which the new base already holds: they are skipped, nothing is lost.

Writers hold the store's lock and re-read the recent file under it (it is small). They
re-read the base too unless the recent file vouches for the copy they have: it names that
base generation and no compaction is under way. A compaction that could replace a base
someone trusts first marks the recent file ``compacting``, so that nobody trusts a copy
while the base may be changing. A small base is always re-read: it costs nothing.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .models import Review
from .paths import config_dir

if TYPE_CHECKING:  # ReviewBook is the format-1 store's (legacy.py): tinydb loads with it
    from tinydb import TinyDB

    from .jsonstore import AtomicJSONStorage, Warn

REVIEWS_TABLE = "reviews"
CONFLICTS_TABLE = "conflicts"  # another reviewer's differing decisions (storage/merge.py)
VIEWS_TABLE = "views"  # saved views (storage/views.py)
STATE_TABLE = "state"  # base: {"generation"}; recent: {"base_generation", "compacting"}
RECENT_NAME = "reviews-recent.json"

# While the base holds fewer decisions, a save rewrites it whole (as cheap as the recent
# file, and everything stays in one file); from then on saves go to the recent file.
DIRECT_MAX = 256
# The recent file holds at most this many decisions; one more compacts them into the base.
RECENT_MAX = 256


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def reviewer_name() -> str:
    """``$COPYDESK_REVIEWER``, else ``reviewer`` in config.toml, else the login name."""
    env = os.environ.get("COPYDESK_REVIEWER")
    if env:
        return env
    config = config_dir() / "config.toml"
    try:
        text: str | None = config.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    if text is not None:
        import tomllib  # only when there is a config to read

        try:
            value = tomllib.loads(text).get("reviewer")
        except tomllib.TOMLDecodeError:
            value = None
        if isinstance(value, str) and value.strip():
            return value.strip()
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


class ReviewBook:
    """The decisions (base + recent file, see above), cached in memory and re-read when
    another process writes them. Writes and reads under the lock follow ``reload()``."""

    def __init__(self, path: Path, *, warn: Warn | None = None) -> None:
        self.path = Path(path)
        self.recent_path = self.path.with_name(RECENT_NAME)
        from tinydb import TinyDB

        from .jsonstore import AtomicJSONStorage

        self._db = TinyDB(self.path, storage=AtomicJSONStorage, warn=warn)
        self._storage: AtomicJSONStorage = self._db.storage  # type: ignore[assignment]
        self._recent_db = TinyDB(self.recent_path, storage=AtomicJSONStorage, warn=warn)
        self._recent_storage: AtomicJSONStorage = self._recent_db.storage  # type: ignore
        self._verify = True  # the next look re-reads the recent file and checks the base
        # the base as last read or written
        self._base_data: dict[str, Any] | None = None
        self._base_reviews: dict[str, Review] = {}
        self._base_generation = 0
        self._base_count = 0  # decisions in the base file
        # the recent file as last read or written
        self._recent_state: dict[str, Any] | None = None  # None: no recent file
        self._recent_count = 0  # decisions in the recent file, applying or not
        self._recent_docs: dict[str, dict] = {}  # its decisions by post id, the latest
        self._overlay: dict[str, dict] = {}  # post id -> recent doc, when they apply
        # base + overlay; handed out by all(), so copied before a change once it has been
        self._merged: dict[str, Review] = {}
        self._shared = False

    @property
    def db(self) -> TinyDB:
        return self._db

    # ------------------------------------------------------------------ reading

    def changed_on_disk(self) -> bool:
        return self._storage.changed_on_disk() or self._recent_storage.changed_on_disk()

    def reload(self) -> None:
        """Go to disk at the next look: the recent file is re-read, the base checked.
        The store calls it when it takes its write lock and on ``refresh()``."""
        self._verify = True

    def all(self) -> Mapping[str, Review]:
        """Every decision by post id. The mapping is a snapshot: it never changes."""
        self._sync()
        self._shared = True
        return self._merged

    def get(self, post_id: str) -> Review | None:
        self._sync()
        return self._merged.get(post_id)

    def conflict_records(self) -> list[dict]:
        """The stored conflicts (see storage/merge.py), oldest first."""
        return self._records(CONFLICTS_TABLE)

    def view_records(self) -> list[dict]:
        """The saved views (see storage/views.py), oldest first."""
        return self._records(VIEWS_TABLE)

    def _records(self, table_name: str) -> list[dict]:
        self._sync()
        table = (self._base_data or {}).get(table_name) or {}
        return [dict(table[key]) for key in sorted(table, key=int)]

    def _sync(self) -> None:
        verify = self._verify
        recent_changed = verify or self._recent_storage.changed_on_disk()
        if not recent_changed and self._base_data is not None:
            if not self._storage.changed_on_disk():
                return
        self._verify = False
        old_overlay = self._overlay
        if recent_changed:
            if verify:
                self._recent_storage.close()  # its (mtime, size, inode) can look unchanged
            self._take_recent(self._recent_storage.read())
        base_stale = (
            self._base_data is None
            or self._storage.changed_on_disk()
            or (recent_changed and not self._base_vouched_for())
        )
        if base_stale:
            self._storage.close()
            self._take_base(self._storage.read() or {})
        self._overlay = self._applying_overlay()
        if base_stale:
            self._merged, self._shared = dict(self._base_reviews), False
            self._apply(_reviews_of(self._overlay))
        elif self._overlay != old_overlay:  # another process saved: O(recent), not O(all)
            changes = {pid: self._base_reviews.get(pid) for pid in old_overlay}
            changes.update(_reviews_of(self._overlay))
            self._apply(changes)

    def _base_vouched_for(self) -> bool:
        """Whether the recent file vouches for our copy of the base (see the module doc):
        it names our base generation, no compaction is under way, and the base is large
        (a small one is simply re-read)."""
        state = self._recent_state
        return (
            self._base_data is not None
            and self._base_count >= DIRECT_MAX
            and state is not None
            and state.get("base_generation") == self._base_generation
            and not _compacting(state)
        )

    def _take_base(self, data: dict[str, Any]) -> None:
        reviews = data.get(REVIEWS_TABLE) or {}
        self._base_data = data
        self._base_reviews = {
            doc["id"]: Review.from_dict(doc)
            for doc in reviews.values()
            if isinstance(doc, dict) and isinstance(doc.get("id"), str)
        }
        self._base_count = len(reviews)
        self._base_generation = _number(_state(data).get("generation"))

    def _take_recent(self, data: dict[str, Any] | None) -> None:
        if data is None:
            self._recent_state, self._recent_count, self._recent_docs = None, 0, {}
            return
        table = data.get(REVIEWS_TABLE) or {}
        docs: dict[str, dict] = {}
        for key in sorted(table, key=int):  # in the order they were saved: the later wins
            doc = table[key]
            if isinstance(doc, dict) and isinstance(doc.get("id"), str):
                docs.pop(doc["id"], None)
                docs[doc["id"]] = doc
        self._recent_state = _state(data)
        self._recent_count = len(table)
        self._recent_docs = docs

    def _applying_overlay(self) -> dict[str, dict]:
        """The recent decisions, when they go on the base we have (see the module doc)."""
        state = self._recent_state
        if state is None or self._base_generation > _number(state.get("base_generation")):
            return {}
        return self._recent_docs

    def _apply(self, changes: Mapping[str, Review | None]) -> None:
        """Change the merged decisions; copied first when all() has handed them out."""
        merged = self._merged
        if self._shared:
            merged, self._shared = dict(merged), False
        for post_id, review in changes.items():
            if review is None:
                merged.pop(post_id, None)
            else:
                merged[post_id] = review
        self._merged = merged

    # ------------------------------------------------------------------ writing

    def put(self, post_id: str, review: Review | None) -> None:
        """Save (or with None, remove) one decision. Durable when this returns."""
        # Not TinyDB's upsert: its Table caches the next doc id, which another process may
        # have taken since ("Document with ID 7 already exists"). write_batch keys by id.
        self.write_batch({post_id: review})

    def write_batch(
        self,
        decisions: Mapping[str, Review | None],
        conflicts: list[dict] | None = None,
        views: list[dict] | None = None,
    ) -> None:
        """Save many decisions (None removes one) and, when given, the whole conflicts or
        views table, durably. The caller holds the store's write lock.

        A few decisions on a large base go to the recent file; anything else (a merge of
        thousands, conflicts, views, a small base) rewrites the base, recent folded in.
        """
        self._sync()
        overlay = dict(self._overlay)
        for post_id, review in decisions.items():
            overlay.pop(post_id, None)  # in saving order: the latest last
            if review is not None:
                overlay[post_id] = {"id": post_id, **review.to_dict()}
            elif post_id in self._base_reviews:
                overlay[post_id] = {"id": post_id, "removed": True}
        if (
            conflicts is None
            and views is None
            and self._base_count >= DIRECT_MAX
            and len(overlay) <= RECENT_MAX
        ):
            self._write_recent(overlay, self._base_generation)
            self._overlay = overlay
            self._apply(decisions)
        else:
            self._write_base(overlay, decisions, conflicts, views)

    def _write_recent(
        self, overlay: Mapping[str, dict], base_generation: int, **state: Any
    ) -> None:
        state = {"base_generation": base_generation, **state}
        data = {
            REVIEWS_TABLE: {str(n): doc for n, doc in enumerate(overlay.values(), 1)},
            STATE_TABLE: {"1": state},
        }
        self._recent_storage.write(data)
        self._recent_state, self._recent_count = state, len(overlay)
        self._recent_docs = dict(overlay)

    def _write_base(
        self,
        overlay: Mapping[str, dict],
        decisions: Mapping[str, Review | None],
        conflicts: list[dict] | None,
        views: list[dict] | None,
    ) -> None:
        """Compaction: the base with ``overlay`` folded in, then an empty recent file."""
        data = dict(self._base_data or {})
        reviews = dict(data.get(REVIEWS_TABLE) or {})
        key_of = {doc.get("id"): key for key, doc in reviews.items() if isinstance(doc, dict)}
        next_key = max((int(key) for key in reviews), default=0) + 1
        for post_id, doc in overlay.items():
            key = key_of.get(post_id)
            if doc.get("removed"):
                if key is not None:
                    del reviews[key]
                continue
            if key is None:
                key, next_key = str(next_key), next_key + 1
            reviews[key] = doc
        state = self._recent_state or {}
        generation = 1 + max(
            self._base_generation,
            _number(state.get("base_generation")),
            _number(state.get("compacting")),
        )
        data[REVIEWS_TABLE] = reviews
        data[STATE_TABLE] = {"1": {"generation": generation}}
        if conflicts is not None:
            data[CONFLICTS_TABLE] = {str(n): dict(c) for n, c in enumerate(conflicts, 1)}
        if views is not None:
            data[VIEWS_TABLE] = {str(n): dict(v) for n, v in enumerate(views, 1)}
        if self._base_vouched_for():
            # another process may trust its copy of this base: from now on it must not
            self._write_recent(self._overlay, self._base_generation, compacting=generation)
        self._storage.write(data)
        self._apply(decisions)
        self._base_data = data
        self._base_reviews = dict(self._merged)
        self._base_count = len(reviews)
        self._base_generation = generation
        self._overlay = {}
        if len(reviews) >= DIRECT_MAX or self._recent_count or _compacting(self._recent_state):
            # the recent decisions are in the base now; the recent file vouches for it
            self._write_recent({}, generation)

    def close(self) -> None:
        self._db.close()
        self._recent_db.close()


def _state(data: Mapping[str, Any]) -> dict[str, Any]:
    table = data.get(STATE_TABLE)
    doc = table.get("1") if isinstance(table, dict) else None
    return dict(doc) if isinstance(doc, dict) else {}


def _number(value: Any) -> int:
    """A generation as stored (0 when missing or not a number: a hand-edited file)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _compacting(state: Mapping[str, Any] | None) -> bool:
    return bool(state and state.get("compacting"))


def _reviews_of(overlay: Mapping[str, dict]) -> dict[str, Review | None]:
    """The recent docs as decisions; a removal is None."""
    return {
        post_id: None if doc.get("removed") else Review.from_dict(doc)
        for post_id, doc in overlay.items()
    }
