"""copydesk storage: the TinyDB store, import, queries, similarity, hints, reviews, export.

Never imports textual; the TUI and the CLI both go through ``Store``.
"""

from .errors import InvalidStatusError, StoreCorruptError, StoreError, UnknownPostError
from .models import (
    APPROVED,
    CHANGES_REQUESTED,
    PENDING,
    REJECTED,
    STATUSES,
    FileError,
    ImportReport,
    PostSummary,
    Review,
    SimilarPost,
    StoredPost,
)
from .paths import config_dir, default_db_path, samples_dir
from .query import QueryError
from .store import Store

__all__ = [
    "APPROVED",
    "CHANGES_REQUESTED",
    "PENDING",
    "REJECTED",
    "STATUSES",
    "FileError",
    "ImportReport",
    "InvalidStatusError",
    "PostSummary",
    "QueryError",
    "Review",
    "SimilarPost",
    "Store",
    "StoreCorruptError",
    "StoreError",
    "StoredPost",
    "UnknownPostError",
    "config_dir",
    "default_db_path",
    "samples_dir",
]
