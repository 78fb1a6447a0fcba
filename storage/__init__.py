"""copydesk storage: the TinyDB store, import, queries, similarity, hints, reviews, export.

Never imports textual; the TUI and the CLI both go through ``Store``.

The names below load on first use (PEP 562 ``__getattr__``): a one-post command
(``copydesk show``, ``review``) would otherwise import the export writers, the merge, the
query grammar (rapidfuzz) and the import workers (multiprocessing) it never calls, ~0.1 s
of each run. ``tests/test_layering.py`` checks that they stay unloaded.

The export function is ``storage.export.export``: loaded lazily, a package name ``export``
would be the function or the submodule depending on what was imported first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import lazy
from .errors import (
    InvalidStatusError,
    QueryError,
    StoreCorruptError,
    StoreError,
    UnknownPostError,
)
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

if TYPE_CHECKING:
    from .export import FORMATS as EXPORT_FORMATS
    from .export import ExportError, ExportResult, export_rows
    from .merge import Conflict, MergeReport
    from .paths import config_dir, default_db_path, samples_dir
    from .protocol import Claim, DecisionRequest, QueueProgress, ReviewStore, TeamDesk
    from .store import Store
    from .views import BUILTIN_VIEWS, UnknownViewError, View, ViewError

# name -> (module, its name there), imported when first asked for
_LAZY: dict[str, tuple[str, str]] = {
    "EXPORT_FORMATS": (".export", "FORMATS"),
    "ExportError": (".export", "ExportError"),
    "ExportResult": (".export", "ExportResult"),
    "export_rows": (".export", "export_rows"),
    "Conflict": (".merge", "Conflict"),
    "MergeReport": (".merge", "MergeReport"),
    "config_dir": (".paths", "config_dir"),
    "default_db_path": (".paths", "default_db_path"),
    "samples_dir": (".paths", "samples_dir"),
    "Claim": (".protocol", "Claim"),
    "DecisionRequest": (".protocol", "DecisionRequest"),
    "QueueProgress": (".protocol", "QueueProgress"),
    "ReviewStore": (".protocol", "ReviewStore"),
    "TeamDesk": (".protocol", "TeamDesk"),
    "Store": (".store", "Store"),
    "BUILTIN_VIEWS": (".views", "BUILTIN_VIEWS"),
    "UnknownViewError": (".views", "UnknownViewError"),
    "View": (".views", "View"),
    "ViewError": (".views", "ViewError"),
}


__getattr__, __dir__ = lazy.names(__name__, _LAZY, globals())


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
    "export_rows",
    "samples_dir",
]
