"""Stand-in for ``storage.catalog`` until it lands on main: the same API, built from the
pieces the local store uses today (PostRows, SearchIndex, SimilarityIndex), with the
local store's query rules copied from ``storage/store.py``. ``storage.pg.catalog`` picks
the real module when it exists; delete this file then.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import chain, compress, islice
from typing import Any

from ..errors import UnknownPostError
from ..hints import near_duplicate_hints
from ..models import PENDING, PostSummary, Review, SimilarPost
from ..postrows import PostRows
from ..protocol import QueueProgress
from ..query import SearchIndex
from ..similarity import NEAR_DUPLICATE_THRESHOLD, SimilarityIndex

QUEUE_FRONT_TERMS = "flag:needs_human_review status:pending"
_FORMAT = b"copydesk-interim-catalog-1\n"

BodyContains = Callable[[str, str], bool] | None


@dataclass(slots=True)
class IndexEntry:
    id: str
    row: dict
    fields: dict
    features: dict


class Catalog:
    def __init__(self, rows: PostRows, search: SearchIndex, similarity: SimilarityIndex):
        self._rows = rows
        self._search = search
        self._similarity = similarity
        self._review_first = list(compress(rows.ids, rows.needs_review))
        self._needs_review = set(self._review_first)
        self._near_dups = {i for cluster in similarity.clusters() for i in cluster}

    @classmethod
    def build(cls, entries: Iterable[IndexEntry]) -> Catalog:
        entries = list(entries)
        rows = PostRows([(e.row, 0) for e in entries])
        fields = {e.id: e.fields for e in entries}
        search = SearchIndex(
            [(pid, fields[pid], rows.queue_key(s)) for s, pid in enumerate(rows.ids)]
        )
        similarity = SimilarityIndex()
        similarity.add_many((e.id, e.features) for e in entries)
        return cls(rows, search, similarity)

    def updated(self, entries: Iterable[IndexEntry], removed: Iterable[str] = ()) -> Catalog:
        entries = list(entries)
        gone = set(removed)
        changed = {e.id for e in entries} | gone
        rows = PostRows(
            chain(
                ((r, d) for r, d in self._rows.items_with_doc_ids() if r["id"] not in changed),
                ((e.row, 0) for e in entries),
            )
        )
        search = pickle.loads(pickle.dumps(self._search, protocol=pickle.HIGHEST_PROTOCOL))
        for post_id in gone:
            if post_id in search:
                search.remove(post_id)
        search.add_or_update_many(
            (e.id, e.fields, rows.queue_key(rows.slot(e.id)))  # type: ignore[arg-type]
            for e in entries
        )
        similarity = self._similarity.copy()
        similarity.remove_many(gone)
        similarity.add_many((e.id, e.features) for e in entries)
        return Catalog(rows, search, similarity)

    def to_bytes(self) -> bytes:
        state = {
            "rows": self._rows,
            "search": self._search,
            "similarity": self._similarity.to_state(),
        }
        return _FORMAT + pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> Catalog:
        if not data.startswith(_FORMAT):
            raise ValueError("not an interim catalog")
        state = pickle.loads(data[len(_FORMAT) :])
        return cls(
            state["rows"], state["search"], SimilarityIndex.from_state(state["similarity"])
        )

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, post_id: object) -> bool:
        return post_id in self._rows

    def ids(self) -> list[str]:
        return list(self._rows.ids)

    def summary(self, post_id: str, decisions: Mapping[str, Review]) -> PostSummary:
        rows = self._rows
        slot = rows.slot(post_id)
        if slot is None:
            raise UnknownPostError(post_id)
        review = decisions.get(post_id)
        hint_codes = rows.hint_codes[slot]
        if post_id in self._near_dups:
            hint_codes += ("near_duplicate",)
        return PostSummary(
            id=post_id,
            reference=rows.references[slot],
            title=rows.titles[slot],
            topic=rows.topics[slot],
            needs_human_review=bool(rows.needs_review[slot]),
            status=review.status if review else PENDING,
            hint_codes=hint_codes,
            changed=bool(review and review.made_on_other_text(rows.sha256(slot))),
        )

    def progress(self, decisions: Mapping[str, Review]) -> QueueProgress:
        reviewed = sum(
            1
            for pid, review in decisions.items()
            if review.status != PENDING and pid in self._needs_review
        )
        return QueueProgress(reviewed, len(self._needs_review))

    def _queue_order(self, ids, decisions, limit=None):
        ids = list(ids)
        needs = self._needs_review
        front = [
            i
            for i in ids
            if i in needs and ((r := decisions.get(i)) is None or r.status == PENDING)
        ]
        if not front:
            return ids if limit is None else ids[:limit]
        if limit is not None and len(front) >= limit:
            return front[:limit]
        front_set = set(front)
        rest = (i for i in ids if i not in front_set)
        return front + list(islice(rest, None if limit is None else limit - len(front)))

    def _all_in_queue_order(self, decisions, limit):
        front: list[str] = []
        for post_id in self._review_first:
            review = decisions.get(post_id)
            if review is None or review.status == PENDING:
                front.append(post_id)
                if limit is not None and len(front) >= limit:
                    return front
        front_set = set(front)
        rest = (i for i in self._rows.ids if i not in front_set)
        return front + list(islice(rest, None if limit is None else limit - len(front)))

    def _callbacks(self, decisions, body_contains):
        def status_of(post_id: str) -> str:
            review = decisions.get(post_id)
            return review.status if review else PENDING

        return {
            "status_of": status_of,
            "hints_of": lambda pid: self.summary(pid, decisions).hint_codes,
            "changed_of": lambda pid: self.summary(pid, decisions).changed,
            "body_contains": body_contains,
        }

    def search_ids(
        self,
        query: str,
        limit: int | None,
        decisions: Mapping[str, Review],
        body_contains: BodyContains = None,
    ) -> list[str]:
        query = query.strip()
        if not query:
            return self._all_in_queue_order(decisions, limit)
        parsed = self._search.parse(query)
        callbacks = self._callbacks(decisions, body_contains)
        if parsed.has_free_words:
            return self._search.search(parsed, limit=limit, **callbacks)
        if limit is None:
            found = self._search.search(parsed, limit=None, **callbacks)
            return self._queue_order(found, decisions)
        front = self._search.search(
            self._search.parse(f"{query} {QUEUE_FRONT_TERMS}"), limit=limit, **callbacks
        )
        if len(front) >= limit:
            return front
        front_set = set(front)
        rest = self._search.search(parsed, limit=limit + len(front), **callbacks)
        return front + [i for i in rest if i not in front_set][: limit - len(front)]

    def search(self, query, limit, decisions, body_contains=None) -> list[PostSummary]:
        return [
            self.summary(i, decisions)
            for i in self.search_ids(query, limit, decisions, body_contains)
        ]

    def count(self, query: str, decisions, body_contains=None) -> int:
        if not query.strip():
            return len(self._rows)
        parsed = self._search.parse(query)
        return self._search.count(parsed, **self._callbacks(decisions, body_contains))

    # ------------------------------------------------------------------ similarity

    def similar(self, post_id: str, limit: int = 10) -> list[SimilarPost]:
        if post_id not in self._rows:
            raise UnknownPostError(post_id)
        out = []
        for other, score, reasons in self._similarity.similar(post_id, limit):
            row = self._rows.get(other)
            if row is not None:
                out.append(SimilarPost(other, row["reference"], row["title"], score, reasons))
        return out

    def clusters(self) -> list[list[str]]:
        return self._similarity.clusters()

    def near_duplicate_hints(self, post_id: str) -> list[dict]:
        if post_id not in self._near_dups:
            return []
        close = [s for s in self.similar(post_id, 10) if s.score >= NEAR_DUPLICATE_THRESHOLD]
        return near_duplicate_hints(close)
