"""The read side every store shares: queries answered by its catalog over its decisions.

A backend subclasses ``CatalogStore`` and provides the current catalog, the decisions, the
saved view records and (optionally) a body-phrase test; lists, counts, search, similar
posts, clusters and views then behave the same on every backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import UnknownPostError
from .models import PostSummary, Review, SimilarPost, Status
from .protocol import QueueProgress
from .views import View, all_views, find

if TYPE_CHECKING:
    from .catalog import BodyContains, Catalog


class CatalogStore:
    """Mixin of the ``ReviewStore`` read methods; see the module docstring."""

    def _catalog(self) -> Catalog:  # pragma: no cover - every backend overrides it
        raise NotImplementedError

    def _decisions(self) -> Mapping[str, Review]:  # pragma: no cover
        raise NotImplementedError

    def _view_records(self) -> list[dict[str, Any]]:  # pragma: no cover
        raise NotImplementedError

    def _body_contains(self) -> BodyContains | None:
        """A test "does this post's body hold this phrase" for quoted phrases, if any."""
        return None

    # -- posts ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._catalog())

    def __contains__(self, post_id: object) -> bool:
        return post_id in self._catalog()

    def _known(self, post_id: str) -> None:
        if post_id not in self._catalog():
            raise UnknownPostError(post_id)

    def ids(self) -> list[str]:
        """Every post id in the static order (by reference, then id)."""
        return self._catalog().ids()

    def summary(self, post_id: str) -> PostSummary:
        return self._catalog().summary(post_id, self._decisions())

    def search(self, query: str = "", limit: int | None = 50) -> list[PostSummary]:
        return self._catalog().search(query, limit, self._decisions(), self._body_contains())

    def search_ids(self, query: str = "", limit: int | None = 50) -> list[str]:
        return self._catalog().search_ids(query, limit, self._decisions(), self._body_contains())

    def count(self, query: str = "") -> int:
        return self._catalog().count(query, self._decisions(), self._body_contains())

    def progress(self) -> QueueProgress:
        return self._catalog().progress(self._decisions())

    def warm_up(self) -> None:
        self._catalog().warm_up()

    # -- similarity -------------------------------------------------------------------

    def similar(self, post_id: str, limit: int = 10) -> list[SimilarPost]:
        return self._catalog().similar(post_id, limit)

    def clusters(self) -> list[list[str]]:
        return self._catalog().clusters()

    # -- decisions --------------------------------------------------------------------

    def review(self, post_id: str) -> Review | None:
        return self._decisions().get(post_id)

    def reviews(self) -> dict[str, Review]:
        return dict(self._decisions())

    def status_of(self, post_id: str) -> Status:
        review = self._decisions().get(post_id)
        return Status(review.status) if review is not None else Status.PENDING

    # -- views ------------------------------------------------------------------------

    def views(self) -> list[View]:
        """The built-in views, then the saved ones by name (``storage/views.py``)."""
        return all_views(self._view_records())

    def view(self, name: str) -> View:
        """The view named ``name``, case-insensitively; ``UnknownViewError`` names them all."""
        return find(self.views(), name)
