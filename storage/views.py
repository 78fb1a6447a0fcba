"""Views: named queries of the search grammar (``storage/query.py``).

The built-in views are fixed; a reviewer's saved views live in the ``views`` table of the
decisions file (``FILE.d/reviews.json``) and are written like decisions: under the store's
lock, after re-reading, atomically. ``Store.views()``, ``Store.view(name)``,
``Store.save_view(name, query)`` and ``Store.delete_view(name)`` are the API; this module
holds the rules (names, lookup, the table's records).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .errors import StoreError

NAME_MAX_CHARS = 60


@dataclass(frozen=True, slots=True)
class View:
    name: str
    query: str
    builtin: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "query": self.query, "builtin": self.builtin}


BUILTIN_VIEWS: tuple[View, ...] = (
    View("All posts", "", True),
    View("Needs review", "flag:needs_human_review status:pending", True),
    View("Approved", "status:approved", True),
    View("Rejected", "status:rejected", True),
    View("Changes requested", "status:changes_requested", True),
    View("Changed since review", "changed:yes", True),
    # decided otherwise than a near duplicate (storage/families.py)
    View("Inconsistent duplicates", "hint:inconsistent_duplicate", True),
)


class ViewError(StoreError, ValueError):
    """A view name that cannot be saved or deleted (empty, too long, a built-in's)."""


class UnknownViewError(ViewError, KeyError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = list(known)
        names = ", ".join(repr(n) for n in self.known)
        super().__init__(f"no view named {name!r}; the views are: {names}")

    def __str__(self) -> str:  # KeyError would quote the message again
        return self.args[0]


def _key(name: str) -> str:
    return name.casefold()


def clean_name(name: str) -> str:
    """The name a view is saved under (stripped); raises ``ViewError`` when unusable."""
    name = name.strip()
    if not name:
        raise ViewError("a view needs a name")
    if len(name) > NAME_MAX_CHARS:
        raise ViewError(f"view name too long ({len(name)} characters, at most {NAME_MAX_CHARS})")
    if any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in name):
        raise ViewError(f"view name {name!r} holds control characters")
    return name


def builtin(name: str) -> View | None:
    key = _key(name.strip())
    return next((v for v in BUILTIN_VIEWS if _key(v.name) == key), None)


def refuse_builtin(name: str, action: str) -> str:
    """``name``, unless it is a built-in view's: then ``ViewError`` (it cannot be ``action``)."""
    view = builtin(name)
    if view is not None:
        hint = "; save under another name" if action == "replaced" else ""
        raise ViewError(f"{view.name!r} is a built-in view and cannot be {action}{hint}")
    return name


def saved_views(records: Iterable[dict]) -> list[View]:
    """The saved views of the ``views`` table's records, by name (case-insensitive)."""
    views = {}
    for record in records:
        name, query = record.get("name"), record.get("query", "")
        if isinstance(name, str) and name.strip() and isinstance(query, str):
            views[_key(name)] = View(name, query, False)  # the later record wins
    return sorted(views.values(), key=lambda v: (_key(v.name), v.name))


def all_views(records: Iterable[dict]) -> list[View]:
    """Built-in views first, in their fixed order, then the saved ones by name."""
    builtin_keys = {_key(v.name) for v in BUILTIN_VIEWS}
    return [*BUILTIN_VIEWS, *(v for v in saved_views(records) if _key(v.name) not in builtin_keys)]


def find(views: Sequence[View], name: str) -> View:
    """The view named ``name`` (case and surrounding spaces ignored)."""
    key = _key(name.strip())
    for view in views:
        if _key(view.name) == key:
            return view
    raise UnknownViewError(name, [v.name for v in views])


def with_view(records: Iterable[dict], view: View, saved_at: str) -> list[dict]:
    """The table's records with ``view`` saved (replacing one of the same name)."""
    key = _key(refuse_builtin(view.name, "replaced"))
    kept = [dict(r) for r in records if _key(str(r.get("name", ""))) != key]
    return [*kept, {"name": view.name, "query": view.query, "saved_at": saved_at}]


def without_view(records: Iterable[dict], name: str) -> list[dict]:
    """The table's records with the saved view ``name`` removed."""
    records = [dict(r) for r in records]
    refuse_builtin(name, "deleted")
    view = find(all_views(records), name)
    key = _key(view.name)
    return [r for r in records if _key(str(r.get("name", ""))) != key]


def combine(*queries: str) -> str:
    """Queries ANDed: the terms of the grammar are ANDed, so joined with a space."""
    return " ".join(q.strip() for q in queries if q.strip())
