"""The store seam: what the TUI and the CLI may ask of a store, and nothing else.

Two backends implement it: the local TinyDB store (one reviewer, the default) and the
PostgreSQL store (a team on one queue). The TUI and the CLI are typed against
``ReviewStore``; neither knows which backend it holds. A contract test suite
(``tests/contract``) runs the same tests against both.

Rules every implementation keeps:

- A method that returns after a write has made it durable (on disk, or committed).
- Errors a user can act on are ``storage.errors.StoreError`` subclasses with a one-line
  message; a bad query raises ``storage.query.QueryError``.
- Post ids, titles and notes are data: returned as stored, never interpreted.
- Calls come from one thread at a time (the TUI's gateway serialises its workers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from .models import ImportReport, PostSummary, Review, SimilarPost, Status, StoredPost
from .views import View

if TYPE_CHECKING:  # the merge loads when a merge is asked for
    from .merge import Conflict, MergeReport

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """One decision to save: ``note`` None keeps the post's current note."""

    post_id: str
    status: Status
    note: str | None = None


class QueueProgress(NamedTuple):
    reviewed: int  # decided posts among those that need review
    needing: int  # posts flagged "needs human review"


@dataclass(frozen=True, slots=True)
class Claim:
    """A team reviewer's hold on a post (PostgreSQL store)."""

    post_id: str
    reviewer: str
    expires_in_s: float  # seconds left on the lease


@runtime_checkable
class TeamDesk(Protocol):
    """What only a shared store has: claims with leases. ``ReviewStore.team`` is None on a
    single-reviewer store."""

    lease_s: float  # a claim's default lease
    # True when the last refresh that found a change found only claims moved (who holds
    # what): the posts and decisions a screen shows are as they were, only row marks
    claims_only: bool

    @property
    def reviewer(self) -> str: ...

    def claim_next(self, count: int = 1, lease_s: float | None = None) -> list[str]: ...

    def claim(self, post_id: str, *, steal: bool = False) -> Claim | None: ...

    def renew(self, post_ids: Iterable[str]) -> None: ...

    def release(self, post_ids: Iterable[str] | None = None) -> int: ...

    def claims(self) -> list[Claim]: ...

    # From the last refresh, no query (safe on the UI thread):

    def holder(self, post_id: str) -> Claim | None: ...

    def held_by_other(self, post_id: str) -> Claim | None:
        """Another reviewer's live claim on the post, else None."""
        ...

    def decided_by_me(self, post_id: str) -> bool: ...

    def skips(self, post_id: str) -> bool:
        """Whether this reviewer's next-pending passes over the post (held by another,
        or already decided by this reviewer)."""
        ...


class StoreHandle(Protocol):
    """An open store: where it is, whether it writes, its team desk, its life."""

    @property
    def location(self) -> str:
        """Where the store is, for messages (a path, or a URL without its password)."""
        ...

    @property
    def read_only(self) -> bool: ...

    @property
    def team(self) -> TeamDesk | None: ...

    warnings: list[str]

    def close(self) -> None: ...

    def stop_waiting(self) -> None:
        """Make a call that waits for a server that is gone give up now, and every later
        one at once: the app is quitting (callable from any thread)."""
        ...

    def __enter__(self) -> ReviewStore: ...

    def __exit__(self, *exc: object) -> None: ...

    def refresh(self) -> bool:
        """Pick up other processes' writes; True when anything visible changed."""
        ...


class PostQueries(Protocol):
    """The posts: one by one, by query, and their similar posts."""

    def __len__(self) -> int: ...

    def __contains__(self, post_id: object) -> bool: ...

    def ids(self) -> list[str]:
        """Every post id in the static order (by reference, then id)."""
        ...

    def get(self, post_id: str) -> StoredPost:
        """The whole post with its decision and hints; ``UnknownPostError`` if absent."""
        ...

    def summary(self, post_id: str) -> PostSummary: ...

    def reviewed_version(self, post_id: str) -> StoredPost | None:
        """The post as it was when its decision was made, if its text changed since and
        that version is kept (for "what changed since review")."""
        ...

    def iter_posts(self) -> Iterator[dict[str, Any]]:
        """Every post's record (``id``, ``reference``, ``title``, ``body``, ``meta``, ...),
        in no set order, read piece by piece: for passes over the whole corpus
        (``storage.boilerplate``). A post that cannot be read is left out with a warning."""
        ...

    def search(self, query: str = "", limit: int | None = 50) -> list[PostSummary]:
        """Posts matching ``query``: best first with free words, else in queue order."""
        ...

    def search_ids(self, query: str = "", limit: int | None = 50) -> list[str]: ...

    def count(self, query: str = "") -> int: ...

    def progress(self) -> QueueProgress: ...

    def warm_up(self) -> None:
        """Load what searches need beyond the first screen (the search index), so that the
        first one does not wait for it; a screen calls it once its first rows show."""
        ...

    # similarity (needs import phase 2; ``DerivedPendingError`` until then)

    def similar(self, post_id: str, limit: int = 10) -> list[SimilarPost]: ...

    def clusters(self) -> list[list[str]]:
        """Near-duplicate clusters, biggest first, each sorted by id."""
        ...


class PostImports(Protocol):
    """Seed files into the store: phase 1 (posts reviewable), phase 2 (hints, similar)."""

    def import_paths(
        self, paths: Iterable[str], progress: ProgressCallback | None = None
    ) -> ImportReport: ...

    def import_samples(self) -> ImportReport: ...

    @property
    def derived_pending(self) -> int:
        """Posts whose hints and similarity (import phase 2) are still to be computed;
        until then an answer that needs them raises ``DerivedPendingError``."""
        ...

    def finish_derived(
        self, progress: ProgressCallback | None = None, *, wait: bool = True
    ) -> bool:
        """Compute what phase 2 left pending. False when another process is at it and
        ``wait`` is False."""
        ...


class DecisionRecords(Protocol):
    """This store's decisions: read, saved durably, restored (undo)."""

    def review(self, post_id: str) -> Review | None: ...

    def reviews(self) -> Mapping[str, Review]:
        """Every decision by post id (a snapshot)."""
        ...

    def status_of(self, post_id: str) -> Status: ...

    def set_review(
        self, post_id: str, status: str, note: str = "", *, reviewer: str | None = None
    ) -> Review:
        """Save one decision durably and return it."""
        ...

    def set_reviews(self, requests: Sequence[DecisionRequest]) -> dict[str, Review]:
        """Save many decisions in one durable write (a bulk or cluster decision)."""
        ...

    def restore_reviews(self, previous: Mapping[str, Review | None]) -> None:
        """Put back earlier decisions (None: undecided) in one durable write: undo."""
        ...


class ViewShelf(Protocol):
    """Built-in and saved views (a name for a query)."""

    def views(self) -> list[View]: ...

    def view(self, name: str) -> View: ...

    def save_view(self, name: str, query: str) -> View: ...

    def delete_view(self, name: str) -> None: ...


class ReviewMerge(Protocol):
    """Another reviewer's decisions merged in, and the conflicts they leave."""

    def merge_reviews(self, path: str) -> MergeReport: ...

    def conflicts(self) -> list[Conflict]: ...

    def resolve_conflict(
        self, post_id: str, keep: str, *, reviewer: str | None = None
    ) -> Review | None: ...


@runtime_checkable
class ReviewStore(
    StoreHandle, PostQueries, PostImports, DecisionRecords, ViewShelf, ReviewMerge, Protocol
):
    """An open store: what the TUI and the CLI may ask of it, in parts by job (above). Use
    as a context manager, or call ``close()``."""
