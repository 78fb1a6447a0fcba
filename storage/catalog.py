"""The catalog: every post's row, search index and similarity, in memory, and the queries
over them. Backend-independent: the local store and the PostgreSQL store both hold one.

A catalog knows no decisions and no bodies: queries that need them (``status:``,
``changed:``, the queue order, quoted phrases in bodies) take the decisions as a mapping
and the body test as a callback from the store that owns them.

Queue order: pending posts that need review first, then the rest; each part in the static
order of the rows (by reference, then id).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from itertools import compress, islice
from typing import Any, Protocol

from .codec import CodecError, Reader, Writer, expect
from .errors import StoreError, UnknownPostError
from .families import decided_differently, side
from .hints import near_duplicate_hints
from .models import PostSummary, Review, SimilarPost, Status
from .postrows import PostRows
from .protocol import QueueProgress
from .query import HINT, Query
from .search_index import SearchIndex
from .similarity import NEAR_DUPLICATE_THRESHOLD, SimilarityIndex

# The query terms of the front of the queue: pending posts that need review.
QUEUE_FRONT_TERMS = "flag:needs_human_review status:pending"
CACHE_KIND = "catalog"
# 2: the search index is a container of its own inside the catalog's, decoded on first
# use: the first screen (the queue in order) needs rows only, and decoding the search
# index was 0.4 s of the 1.1 s a 100,000-post store took to show its first rows.
# 3: hint codes as combinations and a number per post, similarity arrays as blobs (they
# were JSON lists and base64 text: ~2 s of a 1,000,000-post store's open).
# 4: the search index may live apart ("search" null; ``from_bytes(search_apart=...)``): a
# local store keeps it in a file of its own, read on first use (see index_files.py).
# 5: "search_delta", the posts added to the search index since it was encoded (below).
CACHE_VERSION = 5
SEARCH_KIND = "catalog-search"
SEARCH_VERSION = 1
# An update of at least this many posts builds the similarity index in a pool worker,
# in parallel with the search index built in this process.
PARALLEL_SIMILARITY = 2000
# An import that adds a few posts to a store whose search index was read from a file
# leaves that index as it is and keeps the posts' query fields beside it (the search
# delta), added to the index when it is decoded: decoding, updating and encoding the
# index of 100,000 posts to add 1,000 cost ~1 s of the import. Past this many posts in
# the delta the index is encoded again whole (adding the delta costs the first search
# ~0.15 s a 1,000 posts, in the TUI in the background).
SEARCH_DELTA_MAX = 5000

Decisions = Mapping[str, Review]
BodyContains = Callable[[str, str], bool]
SearchRow = tuple[str, Mapping[str, Any], tuple[str, str]]  # id, query fields, queue key


@dataclass(slots=True)
class IndexEntry:
    """What the catalog needs of one post (no body): its list row, query fields and
    similarity features, and the post number the store files it under."""

    id: str
    doc_id: int
    row: dict[str, Any]  # storage.postrows.ROW_KEYS
    fields: Mapping[str, Any]  # storage.query.index_fields(post)
    features: dict[str, Any] | None  # storage.similarity.features(post); None: not yet


class DamagedIndexError(StoreError):
    """The search index read from a file is damaged, and nothing could rebuild it."""


# What rebuilds the search index when its bytes turn out damaged on first use: the store's
# (from its posts), with its warning.
RebuildSearch = Callable[[str], SearchIndex]


class SearchSource(Protocol):
    """Where a search index written apart from its catalog is read from."""

    def read(self) -> bytes | memoryview:
        """Its container's bytes; ``CodecError`` when they cannot be had."""
        ...

    def refuse(self) -> None:
        """Its bytes were refused when decoded: the catalog's search index is not them."""
        ...


class DerivedPendingError(StoreError):
    """An answer needs review hints or similarity that are still being computed."""

    def __init__(self, pending: int) -> None:
        self.pending = pending
        super().__init__(
            f"review hints and similar posts are still being computed for {pending:,} "
            "posts; try again in a moment"
        )


def _status(decisions: Decisions, post_id: str) -> Status:
    review = decisions.get(post_id)
    return Status(review.status) if review is not None else Status.PENDING


class Catalog:
    """Rows, search index and similarity of every post; immutable once built (``updated``
    returns a new catalog, so a reader never sees a half-applied import)."""

    def __init__(
        self,
        rows: PostRows,
        search: SearchIndex | Callable[[], SearchIndex],
        similarity: SimilarityIndex,
        pending: frozenset[str] = frozenset(),
        search_source: SearchSource | None = None,
        search_delta: tuple[SearchRow, ...] = (),
        rebuild_search: RebuildSearch | None = None,
    ) -> None:
        self.rows = rows
        # the search index, or what decodes it on first use (``from_bytes``)
        self._search_index = search if isinstance(search, SearchIndex) else None
        self._decode_search = None if isinstance(search, SearchIndex) else search
        # What the search index was read from, written apart (``from_bytes``), while it is
        # that one unchanged but for ``search_delta``: a writer may copy those bytes
        # (unless refused when decoded) rather than decode and encode them again, and
        # write the delta beside them. None once changed otherwise.
        self.search_source = search_source
        # posts added to or replaced in the index ``search_source`` holds (in order; the
        # last row of an id wins): ``search_index`` holds them once decoded
        self.search_delta = search_delta
        self._rebuild_search = rebuild_search  # makes the index again should it be refused
        self._search_lock = threading.Lock()
        self._similarity = similarity
        # posts whose hints and similarity features are not computed yet (import phase 2)
        self.pending = pending
        self._review_first = list(compress(rows.ids, rows.needs_review))
        self._needs_review = set(self._review_first)
        self._near_dups = similarity.clustered()
        self._near_pairs: dict[str, dict[str, int]] | None = None  # made on first use

    @property
    def search_index(self) -> SearchIndex:
        """The search index, decoded on first use (``from_bytes``)."""
        search = self._search_index
        if search is None:
            with self._search_lock:  # decoded once, whichever thread asks first
                if self._search_index is None:
                    assert self._decode_search is not None
                    self._search_index = self._decode_search()
                    self._decode_search = None
                search = self._search_index
        return search

    def warm_up(self) -> None:
        """Decode what the first search needs, ahead of it (see ``from_bytes``)."""
        self.search_index  # noqa: B018 - decoding it is the point

    # ------------------------------------------------------------------ building

    @classmethod
    def empty(cls) -> Catalog:
        return cls(PostRows(), SearchIndex(), SimilarityIndex())

    @classmethod
    def build(cls, entries: Iterable[IndexEntry], pool: Executor | None = None) -> Catalog:
        return cls.empty().updated(entries, pool=pool)

    def updated(self, entries: Iterable[IndexEntry], pool: Executor | None = None) -> Catalog:
        """A new catalog with ``entries`` added or replacing the posts of their ids (the
        last entry of a repeated id wins); this one is unchanged."""
        changes = {entry.id: entry for entry in entries}
        if not changes:
            return self
        derived = {pid: e for pid, e in changes.items() if e.features is not None}
        stale = [pid for pid, e in changes.items() if e.features is None and pid in self.rows]
        similarity = _start_similarity(self._similarity, derived, pool, remove=stale)
        pending = (self.pending - derived.keys()) | (changes.keys() - derived.keys())
        rows = self.rows.updated([(entry.row, entry.doc_id) for entry in changes.values()])
        added: list[SearchRow] = [
            (pid, entry.fields, rows.queue_key(rows.slot(pid)))  # type: ignore[arg-type]
            for pid, entry in changes.items()
        ]
        delta = _delta_with(self.search_delta, added)
        source = self.search_source
        if source is not None and len(self.rows) and len(delta) <= SEARCH_DELTA_MAX:
            return Catalog(
                rows,
                _search_decoder(source.read, source.refuse, rows, delta, self._rebuild_search),
                similarity(),
                frozenset(pending),
                source,
                delta,
                self._rebuild_search,
            )
        if not len(self.rows):
            search = SearchIndex(
                [(pid, changes[pid].fields, rows.queue_key(s)) for s, pid in enumerate(rows.ids)]
            )
        else:
            search = self.search_index.copy()
            search.add_or_update_many(added)
        return Catalog(rows, search, similarity(), frozenset(pending))

    def with_derived(
        self,
        hint_codes: Mapping[str, tuple[str, ...]],
        features: Mapping[str, dict[str, Any]],
    ) -> Catalog:
        """A new catalog with the hints and similarity features of import phase 2.

        The similarity index is built in this process: nothing else is to be done in the
        meantime, and a pool worker held a second copy of it (~235 MB at 100,000 posts)."""
        known = {pid: f for pid, f in features.items() if pid in self.rows}
        entries = {pid: IndexEntry(pid, 0, {}, {}, f) for pid, f in known.items()}
        similarity = _start_similarity(self._similarity, entries, None)
        rows = self.rows.with_hint_codes(hint_codes)
        search = (
            self._search_index if self._search_index is not None else (lambda: self.search_index)
        )
        # the same search index: what it was read from still holds it (and the delta)
        return Catalog(
            rows,
            search,
            similarity(),
            self.pending - known.keys(),
            self.search_source,
            self.search_delta,
            self._rebuild_search,
        )

    def check_derived(self) -> None:
        """Raise ``DerivedPendingError`` while import phase 2 is unfinished."""
        if self.pending:
            raise DerivedPendingError(len(self.pending))

    # ------------------------------------------------------------------ persistence

    def to_bytes(self) -> bytes:
        """Data only (``storage.codec``): nothing in it can run code when read."""
        return b"".join(self.to_parts())

    def to_parts(self) -> list[Any]:
        """``to_bytes`` in parts, written one after the other (no copy of it all)."""
        return self.parts_without_search(self.search_parts())

    def search_parts(self) -> list[Any]:
        """The search index's own container, in parts."""
        inner = Writer()
        return inner.finish_parts(SEARCH_KIND, SEARCH_VERSION, self.search_index.to_data(inner))

    def parts_without_search(
        self, search: list[Any] | None = None, *, with_delta: bool = True
    ) -> list[Any]:
        """The catalog's container holding ``search_parts()``, or with its search index
        apart (None: read back with ``from_bytes(search_apart=...)``). Written apart, the
        search index's bytes are freed before the rest is made: 40 of the 89 MB a
        100,000-post catalog allocated to be written."""
        writer = Writer()
        data = {
            "rows": self.rows.to_data(writer),
            "search": None if search is None else writer.container(search),
            # an index written here holds the delta; one written apart may not (above)
            "search_delta": _delta_to_data(self.search_delta)
            if search is None and with_delta
            else [],
            "similarity": self._similarity.to_data(writer, self.rows.slot_map()),
            "pending": sorted(self.pending),
        }
        return writer.finish_parts(CACHE_KIND, CACHE_VERSION, data)

    @classmethod
    def from_bytes(
        cls,
        raw: bytes | memoryview,
        rebuild: RebuildSearch | None = None,
        search_apart: SearchSource | None = None,
    ) -> Catalog:
        """The catalog ``to_bytes`` or ``parts_without_search`` wrote; ``CodecError`` for
        anything else.

        The search index is checked and decoded on first use (every byte's checksum is
        checked here), from ``search_apart.read()`` when it was written apart (which
        raises ``CodecError`` when it cannot give its bytes). Should it be refused then,
        ``rebuild`` (told why) makes it again; without one, ``DamagedIndexError``."""
        reader = Reader(raw, CACHE_KIND, CACHE_VERSION)
        data = reader.data
        expect(isinstance(data, dict), "catalog: not a mapping")
        rows = PostRows.from_data(reader, data.get("rows"))
        delta = _delta_from_data(data.get("search_delta", []))
        if data.get("search") is None:
            expect(search_apart is not None, "catalog: its search index is apart")
            assert search_apart is not None
            decode = _search_decoder(search_apart.read, search_apart.refuse, rows, delta, rebuild)
        else:
            search_apart, delta = None, ()
            embedded = reader.bytes(data.get("search"))
            decode = _search_decoder(lambda: embedded, lambda: None, rows, (), rebuild)
        similarity = SimilarityIndex.from_data(reader, data.get("similarity"), rows.ids)
        pending = data.get("pending", [])
        expect(isinstance(pending, list), "catalog: bad pending list")
        return cls(
            rows,
            decode,
            similarity,
            frozenset(map(str, pending)),
            search_apart,
            delta,
            rebuild,
        )

    # ------------------------------------------------------------------ posts

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, post_id: object) -> bool:
        return post_id in self.rows

    def ids(self) -> list[str]:
        """Every id in the static order (by reference, then id)."""
        return list(self.rows.ids)

    def needs_review(self, post_id: str) -> bool:
        return post_id in self._needs_review

    def sha256(self, post_id: str) -> str:
        slot = self.rows.slot(post_id)
        if slot is None:
            raise UnknownPostError(post_id)
        return self.rows.sha256(slot)

    def summary(self, post_id: str, decisions: Decisions) -> PostSummary:
        """The list row of one post."""
        rows = self.rows
        slot = rows.slot(post_id)
        if slot is None:
            raise UnknownPostError(post_id)
        review = decisions.get(post_id)
        hint_codes = rows.hint_codes[slot]
        if post_id in self._near_dups:
            hint_codes += ("near_duplicate",)
            if self._inconsistent(post_id, review, decisions):
                hint_codes += ("inconsistent_duplicate",)
        return PostSummary(
            id=post_id,
            reference=rows.references[slot],
            title=rows.titles[slot],
            topic=rows.topics[slot],
            needs_human_review=bool(rows.needs_review[slot]),
            status=Status(review.status) if review else Status.PENDING,
            hint_codes=hint_codes,
            changed=bool(review and review.made_on_other_text(rows.sha256(slot))),
        )

    def _inconsistent(self, post_id: str, review: Review | None, decisions: Decisions) -> bool:
        """Whether the post is decided otherwise than one of its near duplicates (the rule
        of storage/families.py)."""
        if side(review) is None:
            return False
        if self._near_pairs is None:
            self._near_pairs = self._similarity.near_pairs()
        near = self._near_pairs.get(post_id, {})
        return any(decided_differently(review, decisions.get(other)) for other in near)

    def progress(self, decisions: Decisions) -> QueueProgress:
        """Decided posts among those flagged for review, and how many are flagged."""
        needs = self._needs_review
        reviewed = sum(
            1 for pid, r in decisions.items() if r.status != Status.PENDING and pid in needs
        )
        return QueueProgress(reviewed, len(needs))

    # ------------------------------------------------------------------ search

    def parse(self, query: str) -> Query:
        """Parse ``query``, knowing the unknown meta fields the posts carry."""
        return self.search_index.parse(query)

    def search_ids(
        self,
        query: str,
        limit: int | None,
        decisions: Decisions,
        body_contains: BodyContains | None = None,
    ) -> list[str]:
        """Ids matching ``query``, best first with free words, else in queue order."""
        query = query.strip()
        if not query:
            return self._all_in_queue_order(decisions, limit)
        parsed = self.parse(query)
        self._check_terms(parsed)
        callbacks = self._callbacks(decisions, body_contains)
        if parsed.has_free_words:  # ranked: best first
            return self.search_index.search(parsed, limit=limit, **callbacks)
        if limit is None:
            return self._queue_order(
                self.search_index.search(parsed, limit=None, **callbacks), decisions
            )
        # Queue order with a limit: the pending posts needing review first, asked of the
        # index as a query of their own, so that neither pass goes past the limit (a quoted
        # phrase reads bodies, and a big result is costly to list in full).
        front = self.search_index.search(
            self.parse(f"{query} {QUEUE_FRONT_TERMS}"), limit=limit, **callbacks
        )
        if len(front) >= limit:
            return front
        front_set = set(front)
        rest = self.search_index.search(parsed, limit=limit + len(front), **callbacks)
        return front + [i for i in rest if i not in front_set][: limit - len(front)]

    def search(
        self,
        query: str,
        limit: int | None,
        decisions: Decisions,
        body_contains: BodyContains | None = None,
    ) -> list[PostSummary]:
        ids = self.search_ids(query, limit, decisions, body_contains)
        return [self.summary(post_id, decisions) for post_id in ids]

    def count(
        self, query: str, decisions: Decisions, body_contains: BodyContains | None = None
    ) -> int:
        if not query.strip():
            return len(self.rows)
        parsed = self.parse(query)
        self._check_terms(parsed)
        return self.search_index.count(parsed, **self._callbacks(decisions, body_contains))

    def _check_terms(self, parsed: Query) -> None:
        """A ``hint:`` term needs every post's hints: none is answered half-built."""
        if self.pending and any(term.kind == HINT for term in parsed.terms):
            raise DerivedPendingError(len(self.pending))

    def _callbacks(
        self, decisions: Decisions, body_contains: BodyContains | None
    ) -> dict[str, Callable[..., Any]]:
        callbacks: dict[str, Callable[..., Any]] = {
            "status_of": lambda pid: _status(decisions, pid),
            "hints_of": lambda pid: self.summary(pid, decisions).hint_codes,
            "changed_of": lambda pid: self.summary(pid, decisions).changed,
        }
        if body_contains is not None:
            callbacks["body_contains"] = body_contains
        return callbacks

    def _queue_order(self, ids: Iterable[str], decisions: Decisions) -> list[str]:
        """Stable partition: pending posts needing review first, the rest after."""
        ids = list(ids)
        needs = self._needs_review
        front = [i for i in ids if i in needs and _status(decisions, i) == Status.PENDING]
        if not front:
            return ids
        front_set = set(front)
        return front + [i for i in ids if i not in front_set]

    def _all_in_queue_order(self, decisions: Decisions, limit: int | None) -> list[str]:
        """Every post in queue order, stopping at ``limit`` (the empty query)."""
        front: list[str] = []
        for post_id in self._review_first:
            if _status(decisions, post_id) == Status.PENDING:
                front.append(post_id)
                if limit is not None and len(front) >= limit:
                    return front
        front_set = set(front)
        rest = (i for i in self.rows.ids if i not in front_set)
        return front + list(islice(rest, None if limit is None else limit - len(front)))

    # ------------------------------------------------------------------ similarity

    def similar(self, post_id: str, limit: int = 10, min_score: int = 0) -> list[SimilarPost]:
        if post_id not in self.rows:
            raise UnknownPostError(post_id)
        self.check_derived()
        out = []
        for other, score, reasons in self._similarity.similar(post_id, limit, min_score):
            row = self.rows.get(other)
            if row is not None:
                out.append(SimilarPost(other, row["reference"], row["title"], score, reasons))
        return out

    def clusters(self) -> list[list[str]]:
        self.check_derived()
        return self._similarity.clusters()

    def near_dup_ids(self) -> list[str]:
        """The posts that have a near duplicate (members of a cluster)."""
        return sorted(self._near_dups) if not self.pending else []

    def mark_read(self, generation: int) -> None:
        """This catalog is what the store files of ``generation`` hold (see
        ``near_duplicates_since_read``)."""
        self._similarity.mark_read(generation)

    def near_duplicates_since_read(self) -> tuple[int, set[str]] | None:
        """(the generation ``mark_read`` named, the posts whose similar lists changed
        since): the near-duplicate hints of every other post are those of that
        generation. None when the similarity was not read from files, or was rebuilt."""
        return self._similarity.changed_since_read()

    def near_duplicate_hints(self, post_id: str) -> list[dict[str, str]]:
        """The ``near_duplicate`` hints of one post (one per near copy)."""
        if post_id not in self._near_dups or self.pending:
            return []
        return near_duplicate_hints(self.similar(post_id, 10, NEAR_DUPLICATE_THRESHOLD))


def _search_from_bytes(
    raw: bytes | memoryview, rows: PostRows, delta: tuple[SearchRow, ...] = ()
) -> SearchIndex:
    """The search index encoded in ``raw``, with the posts of ``delta`` added."""
    reader = Reader(raw, SEARCH_KIND, SEARCH_VERSION)
    search = SearchIndex.from_data(reader, reader.data, (rows.slot_map(), rows.ids))
    if delta:
        search.add_or_update_many(delta)
    expect(set(rows.ids) == set(search.ids()), "catalog: rows and search index differ")
    return search


def _search_decoder(
    read: Callable[[], bytes | memoryview],
    refuse: Callable[[], None],
    rows: PostRows,
    delta: tuple[SearchRow, ...],
    rebuild: RebuildSearch | None,
) -> Callable[[], SearchIndex]:
    """What decodes a catalog's search index on first use: the bytes ``read`` gives,
    plus ``delta``. Refused (``refuse`` is told), ``rebuild`` makes it again from the
    posts, delta included; without one, ``DamagedIndexError``."""

    def decode() -> SearchIndex:
        try:
            return _search_from_bytes(read(), rows, delta)
        except CodecError as exc:
            refuse()  # not what the catalog holds from here on
            if rebuild is None:
                raise DamagedIndexError(f"the search index is damaged ({exc})") from None
            made = rebuild(str(exc))
        # from the committed posts: an import's delta may not be among them yet
        if delta:
            made.add_or_update_many(delta)
        return made

    return decode


def _delta_with(delta: tuple[SearchRow, ...], added: list[SearchRow]) -> tuple[SearchRow, ...]:
    """``delta`` with ``added``: one row per id, the last one, in the order rows came."""
    if not delta:
        return tuple(added)
    newer = {row[0] for row in added}
    return tuple(row for row in delta if row[0] not in newer) + tuple(added)


def _delta_to_data(delta: tuple[SearchRow, ...]) -> list[Any]:
    return [
        [post_id, list(fields), list(fields.values()), list(key)] for post_id, fields, key in delta
    ]


def _delta_from_data(data: Any) -> tuple[SearchRow, ...]:
    """What ``_delta_to_data`` wrote; ``CodecError`` for any other shape."""
    expect(isinstance(data, list), "catalog: bad search delta")
    delta = []
    for item in data:
        expect(isinstance(item, list) and len(item) == 4, "catalog: bad search delta row")
        post_id, names, values, key = item
        expect(
            type(post_id) is str
            and isinstance(names, list)
            and isinstance(values, list)
            and len(names) == len(values)
            and set(map(type, names)) <= {str}
            and isinstance(key, list)
            and len(key) == 2
            and set(map(type, key)) <= {str},
            "catalog: bad search delta row",
        )
        delta.append((post_id, dict(zip(names, values, strict=True)), (key[0], key[1])))
    return tuple(delta)


def _start_similarity(
    current: SimilarityIndex,
    changes: Mapping[str, IndexEntry],
    pool: Executor | None,
    remove: list[str] | None = None,
) -> Callable[[], SimilarityIndex]:
    """Start adding the changed posts to a copy of ``current`` (and removing ``remove``);
    returns what waits for the result. A large update runs in a pool worker, beside the
    search index build."""
    items = [(pid, e.features) for pid, e in changes.items() if e.features is not None]
    if not items and not remove:
        return lambda: current
    if pool is not None and len(items) >= PARALLEL_SIMILARITY and not remove:
        state = current.to_state() if len(current) else None
        future = pool.submit(similarity_state, state, items)
        return lambda: SimilarityIndex.from_state(future.result())

    def here() -> SimilarityIndex:
        index = current.copy()
        if remove:
            index.remove_many(remove)
        index.add_many(items)
        return index

    return here


def similarity_state(state: dict[str, Any] | None, items: list[tuple[str, Any]]) -> dict[str, Any]:
    """``SimilarityIndex`` state (None: an empty index) with ``items`` (id, features) added.
    A plain function of plain data, so that a pool worker can run it."""
    index = SimilarityIndex() if state is None else SimilarityIndex.from_state(state)
    index.add_many(items)
    return index.to_state()
