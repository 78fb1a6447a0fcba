"""The PostgreSQL store: a review team on one queue (``PostgresStore``).

Only ``url`` loads with the package: every command asks ``is_postgres_url`` of its
``--db``, and the rest imports psycopg (~120 ms of a one-shot command on a local store).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import lazy
from .url import display_url, is_postgres_url, redact

if TYPE_CHECKING:
    from .connection import ConnectionLost, NotSavedError
    from .schema import VERSION as SCHEMA_VERSION
    from .schema import SchemaError
    from .store import PostgresStore, init_database
    from .team import DEFAULT_LEASE_S, PgTeamDesk

# name -> (module, attribute), loaded on first use
_LAZY = {
    "ConnectionLost": (".connection", "ConnectionLost"),
    "NotSavedError": (".connection", "NotSavedError"),
    "SCHEMA_VERSION": (".schema", "VERSION"),
    "SchemaError": (".schema", "SchemaError"),
    "PostgresStore": (".store", "PostgresStore"),
    "init_database": (".store", "init_database"),
    "DEFAULT_LEASE_S": (".team", "DEFAULT_LEASE_S"),
    "PgTeamDesk": (".team", "PgTeamDesk"),
}


__getattr__, __dir__ = lazy.names(__name__, _LAZY, globals())


__all__ = [
    "DEFAULT_LEASE_S",
    "SCHEMA_VERSION",
    "ConnectionLost",
    "NotSavedError",
    "PgTeamDesk",
    "PostgresStore",
    "SchemaError",
    "display_url",
    "init_database",
    "is_postgres_url",
    "redact",
]
