"""Which files an import reads: directories expanded to their ``*.txt`` files (the walk
and its reports are in storage/files.py; the store calls them through here).

The analysis of the files is in storage/analysis.py, the import itself in
storage/local/importing.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .files import Collected as Collected
from .files import collect_files as collect_files
from .files import collect_names as collect_names

Progress = Callable[[int, int], None]

# Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 200
CHUNK_SIZE = 64
_LOCAL_CHUNK = 50  # files analysed together (and progress reported) without a pool


@dataclass(slots=True)
class AnalysedPost:
    """What the parent needs from one parsed file."""

    path: str
    id: str
    sha256: str
    record_json: bytes  # the full stored record, already serialised
    row: dict[str, Any]  # the index row: title, topic, reference, hint codes, ...
    fields: dict[str, Any]  # query fields (storage.query.index_fields)
    features: Any  # similarity features (storage.similarity.features)
    warnings: list[str]
