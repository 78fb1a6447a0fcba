"""copydesk storage: the TinyDB store, import, queries, similarity, hints, reviews, export.

Never imports textual; the TUI and the CLI both go through ``Store``.
"""

from .errors import InvalidStatusError, StoreCorruptError, StoreError, UnknownPostError
from .export import FORMATS as EXPORT_FORMATS
from .export import ExportError, ExportResult, export, export_rows
from .merge import Conflict, MergeReport
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
    Status,
    StoredPost,
)
from .paths import config_dir, default_db_path, samples_dir
from .protocol import Claim, DecisionRequest, QueueProgress, ReviewStore, TeamDesk
from .query import QueryError
from .store import Store
from .views import BUILTIN_VIEWS, UnknownViewError, View, ViewError

__all__ = [
    "APPROVED",
    "BUILTIN_VIEWS",
    "CHANGES_REQUESTED",
    "EXPORT_FORMATS",
    "PENDING",
    "REJECTED",
    "STATUSES",
    "Claim",
    "Conflict",
    "DecisionRequest",
    "ExportError",
    "ExportResult",
    "FileError",
    "ImportReport",
    "InvalidStatusError",
    "MergeReport",
    "PostSummary",
    "QueueProgress",
    "QueryError",
    "Review",
    "ReviewStore",
    "SimilarPost",
    "Status",
    "Store",
    "StoreCorruptError",
    "StoreError",
    "StoredPost",
    "TeamDesk",
    "UnknownPostError",
    "UnknownViewError",
    "View",
    "ViewError",
    "config_dir",
    "default_db_path",
    "export",
    "export_rows",
    "samples_dir",
]
