"""The PostgreSQL store: a review team on one queue (``PostgresStore``)."""

from .connection import ConnectionLost, NotSavedError
from .schema import VERSION as SCHEMA_VERSION
from .schema import SchemaError
from .store import PostgresStore, init_database
from .team import DEFAULT_LEASE_S, PgTeamDesk
from .url import display_url, is_postgres_url, redact

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
