"""The in-memory catalog (rows, search index, similarity) a PostgreSQL store keeps current:
the shared ``storage.catalog`` when present, else the interim copy in this package."""

from __future__ import annotations

try:
    from ..catalog import Catalog, IndexEntry  # type: ignore[import-not-found]
except ImportError:  # until storage/catalog.py lands on main
    from ._interim_catalog import Catalog, IndexEntry

__all__ = ["Catalog", "IndexEntry"]
