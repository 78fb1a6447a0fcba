"""Open a store by its location: a ``postgresql://`` URL is the team store, anything
else a local store file (``--db``, else ``$COPYDESK_DB``, else the user data dir)."""

from __future__ import annotations

import os
from collections.abc import Callable

from .protocol import ReviewStore


def is_database_url(location: object) -> bool:
    if location is None or not str(location)[:8].lower().startswith("postgres"):
        return False  # a local store: storage.pg (its regexes) is not imported at all
    from .pg.url import is_postgres_url

    return is_postgres_url(str(location))


def resolve_location(location: str | os.PathLike | None) -> str | os.PathLike | None:
    """``location``, else ``$COPYDESK_DB`` (None: the local default)."""
    if location is not None:
        return location
    return os.environ.get("COPYDESK_DB") or None


def open_store(
    location: str | os.PathLike | None = None,
    *,
    writable: bool = True,
    warn: Callable[[str], None] | None = None,
    repairing: bool = False,
) -> ReviewStore:
    """``writable`` and ``repairing`` are the local store's (``Store.open``); a team store
    writes nothing on open whatever they say, and its writes go through the server."""
    where = resolve_location(location)
    if is_database_url(where):
        from .pg import PostgresStore  # psycopg is imported only for a team store

        return PostgresStore.open(str(where), warn=warn)
    from .store import Store

    return Store.open(where, writable=writable, warn=warn, repairing=repairing)
