"""The decisions of a local store: a checkpoint file plus the mirrored journal.

- ``FILE.d/journal.jsonl`` and ``journal-mirror.jsonl`` (``journal.py``): every change, in
  order, fsynced in both copies before it is acknowledged. Never shortened.
- ``FILE.d/decisions.json`` (TinyDB, atomic, previous generation kept as ``.bak``): the
  state as of a journal record (``seq``), so that opening a store replays only the records
  after it. Written every ``CHECKPOINT_EVERY`` records.

The state is: decisions by post id, the open conflicts with merged decisions, the saved
views. Any one of these files can be damaged or deleted without losing an acknowledged
change: the checkpoint comes back from its ``.bak`` plus the journal, or from the journal
alone; a journal copy from the other copy. When what the files themselves record says
that data existed and it is in none of them (a gap in the journal's numbers, a checkpoint
newer than both journal copies, a journal that does not start at record 1), the log
raises ``DecisionsLostError`` naming what is missing and how to go on (``copydesk
repair``) instead of carrying on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import StoreCorruptError, StoreError
from ..jsonstore import read_json, write_json
from ..models import STATUSES, Review
from ..reviews import now_iso
from .journal import FORMAT, Journal, JournalChanged

CHECKPOINT_NAME = "decisions.json"
CHECKPOINT_FORMAT = 1
CHECKPOINT_EVERY = 1024  # journal records between checkpoints
REVIEW_KEYS = ("status", "note", "decided_at", "reviewer", "content_sha256")

Warn = Callable[[str], None]


class DecisionsLostError(StoreError):
    """The store's own records say decisions existed that no file holds any more."""


@dataclass(slots=True)
class DecisionState:
    """Everything the log holds, as of record ``seq``."""

    seq: int = 0
    decisions: dict[str, Review] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)

    def apply(self, record: Mapping[str, Any]) -> None:
        """Apply one validated journal record (see ``validate_record``)."""
        if record["op"] == "snapshot":
            self.decisions = {}
        for post_id, review in record.get("decisions", {}).items():
            if review is None:
                self.decisions.pop(post_id, None)
            else:
                self.decisions[post_id] = Review.from_dict(review)
        if "conflicts" in record:
            self.conflicts = [dict(c) for c in record["conflicts"]]
        if "views" in record:
            self.views = [dict(v) for v in record["views"]]
        self.seq = record["seq"]


def review_dict(review: Review) -> dict[str, str]:
    return {key: str(value) for key, value in review.to_dict().items()}


def _valid_review(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("status") in STATUSES
        and all(isinstance(value.get(key, ""), str) for key in REVIEW_KEYS)
    )


def _view_problem(view: Any) -> str | None:
    if not isinstance(view, dict):
        return "a view that is not a record"
    if not isinstance(view.get("name"), str) or not isinstance(view.get("query", ""), str):
        return f"a bad view ({str(view)[:80]})"
    return None


def _conflict_problem(conflict: Any) -> str | None:
    if not isinstance(conflict, dict):
        return "a conflict that is not a record"
    if not isinstance(conflict.get("post_id"), str) or not _valid_review(conflict.get("theirs")):
        return f"a bad conflict ({str(conflict)[:80]})"
    if not all(isinstance(conflict.get(key, ""), str) for key in ("source", "recorded_at")):
        return f"a bad conflict ({str(conflict)[:80]})"
    return None


def _tables_problem(conflicts: Iterable[Any], views: Iterable[Any]) -> str | None:
    for conflict in conflicts:
        problem = _conflict_problem(conflict)
        if problem is not None:
            return problem
    for view in views:
        problem = _view_problem(view)
        if problem is not None:
            return problem
    return None


def validate_record(record: dict[str, Any], store_id: str) -> str | None:
    """Why a journal record (CRC already checked) is not one copydesk writes, or None."""
    op = record.get("op")
    if record["seq"] == 0:
        if op != "begin" or record.get("format") != FORMAT:
            return "record 0 is not a journal header"
        if record.get("store") != store_id:
            return "the journal of another store"
        return None
    if record["seq"] < 0:
        return "a negative record number"
    if op not in ("put", "snapshot"):
        return f"unknown operation {op!r}"
    decisions = record.get("decisions", {})
    if not isinstance(decisions, dict):
        return "decisions is not a mapping"
    for post_id, review in decisions.items():
        if review is not None and not _valid_review(review):
            return f"bad decision for {post_id!r}"
    tables = {}
    for table in ("conflicts", "views"):
        value = record.get(table, [])
        if not isinstance(value, list):
            return f"{table} is not a list of records"
        tables[table] = value
    return _tables_problem(tables["conflicts"], tables["views"])


class DecisionLog:
    """Reads and writes the decisions of one store directory; see the module docstring.

    ``writable`` False never writes anything (read-only commands): damage is worked around
    in memory and reported, repairs are left to a writing process.
    """

    def __init__(
        self, directory: Path, store_id: str, *, writable: bool, warn: Warn | None = None
    ) -> None:
        self.directory = directory
        self.checkpoint_path = directory / CHECKPOINT_NAME
        self.journal = Journal(directory)
        self.store_id = store_id
        self.writable = writable
        self._warn = warn or (lambda message: None)
        self.state = DecisionState()
        self._ends = (0, 0)  # where each journal copy's complete lines end
        self._sizes = (-2, -2)  # journal sizes when last read (-1: missing)
        self._since_checkpoint = 0
        self.lost: str | None = None  # set when writing must be refused

    # ------------------------------------------------------------------ reading

    def load(self) -> None:
        """Read the checkpoint and replay the journal after it."""
        state, offsets = self._read_checkpoint()
        if state.seq:
            journal = self.journal.read_after(offsets, state.seq, self._check)
        else:
            journal = self.journal.read(check=self._check)
        self._take(state, journal, from_checkpoint=True)

    def _check(self, record: dict[str, Any]) -> str | None:
        return validate_record(record, self.store_id)

    def create(self) -> None:
        """Start the journal of a new store (so that losing it later is noticed)."""
        for path in self.journal.paths:
            if path.exists():
                raise StoreError(
                    f"{path}: a decision journal is already here; not starting a new one over it"
                )
        self._ends = self.journal.rewrite([self._header()])
        self._sizes = self.journal.sizes()

    def changed_on_disk(self) -> bool:
        return self.journal.sizes() != self._sizes

    def refresh(self) -> bool:
        """Apply records appended by another process; True when there were any."""
        if not self.changed_on_disk():
            return False
        sizes = self.journal.sizes()
        if any(size < end for size, end in zip(sizes, self._ends, strict=True) if size >= 0):
            self.load()  # a copy was replaced or shortened: start over
            return True
        journal = self.journal.read(self._ends, self._check)
        before = self.state.seq
        self._take(self.state, journal, from_checkpoint=False)
        return self.state.seq != before

    def _read_checkpoint(self) -> tuple[DecisionState, tuple[int, int]]:
        try:
            data = read_json(
                self.checkpoint_path,
                warn=self._warn,
                validate=self._checkpoint_problem,
                writable=self.writable,
            )
        except StoreCorruptError as exc:
            # neither the checkpoint nor its .bak: the journal alone has everything
            self._warn(f"{exc}; rebuilding the decisions from the journal")
            return DecisionState(), (0, 0)
        if data is None:
            return DecisionState(), (0, 0)
        meta = data["checkpoint"]["1"]
        state = DecisionState(
            seq=meta["seq"],
            decisions={doc["id"]: Review.from_dict(doc) for doc in data["decisions"].values()},
            conflicts=[dict(c) for c in data.get("conflicts", {}).values()],
            views=[dict(v) for v in data.get("views", {}).values()],
        )
        offsets = meta.get("offsets")
        return state, (offsets[0], offsets[1])

    def _checkpoint_problem(self, data: dict[str, Any]) -> str | None:
        """Why ``data`` is not a checkpoint of this store, or None (see jsonstore)."""
        meta = (data.get("checkpoint") or {}).get("1") if isinstance(data, dict) else None
        if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
            return "not a copydesk decisions checkpoint"
        if meta.get("store") != self.store_id:
            return "a checkpoint of another store"
        if type(meta.get("seq")) is not int or meta["seq"] < 0:
            return "no record number"
        offsets = meta.get("offsets")
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(type(n) is int and n >= 0 for n in offsets)
        ):
            return "bad journal offsets"
        decisions = data.get("decisions")
        if not isinstance(decisions, dict):
            return "no decisions table"
        for doc in decisions.values():
            if not (_valid_review(doc) and isinstance(doc.get("id"), str)):
                return f"a bad decision ({str(doc)[:80]})"
        if meta.get("count") != len(decisions):
            return f"holds {len(decisions)} decisions, its header says {meta.get('count')}"
        tables = {}
        for table in ("conflicts", "views"):
            value = data.get(table, {})
            if not isinstance(value, dict):
                return f"bad {table} table"
            tables[table] = value.values()
        return _tables_problem(tables["conflicts"], tables["views"])

    def _take(self, state: DecisionState, journal: Any, *, from_checkpoint: bool) -> None:
        """Replay ``journal`` (validated records) onto ``state``, checking that nothing
        known is missing."""
        if any(journal.foreign) and all(
            foreign or not exists
            for foreign, exists in zip(journal.foreign, journal.exists, strict=True)
        ):
            raise StoreCorruptError(
                self.journal.paths[0],
                "the journal of another store (record 0 names another store id); restore "
                "this store's journal from a backup",
            )
        problems = list(journal.problems)
        records = journal.records
        lost = self._missing(state.seq, records, journal, from_checkpoint=from_checkpoint)
        for record in records:
            if record["seq"] > state.seq:
                state.apply(record)
        self.state = state
        self._ends = journal.ends
        self._sizes = self.journal.sizes()
        self._since_checkpoint = (
            sum(1 for r in records if r["seq"] > 0)
            if from_checkpoint
            else (self._since_checkpoint + len(records))
        )
        if problems:
            fix = " (worked around from the other copy)" if lost is None else ""
            self._warn(f"{self.directory}: " + "; ".join(problems[:5]) + fix)
        if lost is not None:
            self.lost = lost
        elif journal.needs_repair and self.writable:
            self.repair_journal()

    def _missing(
        self, seq: int, records: list[dict[str, Any]], journal: Any, *, from_checkpoint: bool
    ) -> str | None:
        """What is known to be missing, or None. See the module docstring."""
        if not any(journal.exists):
            return "both journal copies (journal.jsonl, journal-mirror.jsonl) are missing"
        unreadable = sorted(n for n in journal.unreadable if n > seq)
        if unreadable:
            first = unreadable[0]
            return (
                f"journal record {first} is of the wrong shape in every copy "
                f"({journal.unreadable[first]})"
            )
        numbers = [r["seq"] for r in records if r["seq"] > 0]
        later = [n for n in numbers if n > seq]
        if later and later[0] != seq + 1:
            return f"journal records {seq + 1}-{later[0] - 1} are in no journal copy"
        gaps = [b for a, b in zip(later, later[1:], strict=False) if b != a + 1]
        if gaps:
            return f"journal record {gaps[0] - 1} is in no journal copy"
        if not from_checkpoint:
            return None
        have = max([journal.covers, *numbers])
        if seq > 0 and have < seq:
            return (
                f"{CHECKPOINT_NAME} holds decisions up to record {seq}, but the journal "
                f"copies end at record {have}: records {have + 1}-{seq} are only in the "
                "checkpoint and any after it are lost"
            )
        if seq == 0 and numbers and numbers[0] != 1:
            return f"the journal starts at record {numbers[0]}: records 1-{numbers[0] - 1} are lost"
        return None

    # ------------------------------------------------------------------ writing

    def check_writable(self) -> None:
        if self.lost is not None:
            raise DecisionsLostError(
                f"{self.directory}: {self.lost}. Nothing was written. Restore the files from "
                "a backup, or run `copydesk repair` to go on with what is left."
            )
        if not self.writable:
            raise StoreError(f"{self.directory}: opened read-only")

    def write(
        self,
        decisions: Mapping[str, Review | None],
        *,
        why: str,
        conflicts: list[dict[str, Any]] | None = None,
        views: list[dict[str, Any]] | None = None,
    ) -> None:
        """Append one record and apply it. The caller holds the store's write lock and
        has called ``refresh`` under it. Durable when this returns."""
        self.check_writable()
        for attempt in range(2):
            record: dict[str, Any] = {
                "seq": self.state.seq + 1,
                "op": "put",
                "why": why,
                "at": now_iso(),
                "decisions": {
                    post_id: None if review is None else review_dict(review)
                    for post_id, review in decisions.items()
                },
            }
            if conflicts is not None:
                record["conflicts"] = conflicts
            if views is not None:
                record["views"] = views
            problem = validate_record(record, self.store_id)
            if problem is not None:  # a caller's mistake: never write what reading refuses
                raise ValueError(f"not writing journal record {record['seq']}: {problem}")
            try:
                self._append([record])
                return
            except JournalChanged:
                if attempt:
                    raise
                # another writer's records we have not read (the size test missed them):
                # read everything again, then number ours after theirs
                self.load()
                self.check_writable()

    def _append(self, records: list[dict[str, Any]]) -> None:
        if not self.journal.paths[0].exists() and not self.journal.paths[1].exists():
            records = [self._header(), *records]
        self._ends = self.journal.append(records, self._ends)
        self._sizes = self.journal.sizes()
        for record in records:
            if record["seq"] > 0:
                self.state.apply(record)
                self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY:
            try:
                self.write_checkpoint()
            except OSError as exc:  # the records are durable in the journal: saved anyway
                self._warn(
                    f"{exc.filename or self.checkpoint_path}: checkpoint not written "
                    f"({exc.strerror or exc}); the journal holds every decision"
                )

    def _header(self) -> dict[str, Any]:
        return {"seq": 0, "op": "begin", "format": FORMAT, "store": self.store_id, "at": now_iso()}

    def write_checkpoint(self) -> None:
        state = self.state
        data = {
            "checkpoint": {
                "1": {
                    "format": CHECKPOINT_FORMAT,
                    "store": self.store_id,
                    "seq": state.seq,
                    "offsets": list(self._ends),
                    "count": len(state.decisions),
                    "written_at": now_iso(),
                }
            },
            "decisions": {
                str(n): {"id": post_id, **review_dict(review)}
                for n, (post_id, review) in enumerate(state.decisions.items(), 1)
            },
            "conflicts": {str(n): c for n, c in enumerate(state.conflicts, 1)},
            "views": {str(n): v for n, v in enumerate(state.views, 1)},
        }
        write_json(self.checkpoint_path, data)
        self._since_checkpoint = 0

    def repair_journal(self) -> None:
        """Rewrite both journal copies from the records they hold together."""
        journal = self.journal.read(check=self._check)
        for path, foreign in zip(self.journal.paths, journal.foreign, strict=True):
            if foreign:  # another store's file: not ours to overwrite
                os.replace(
                    path, path.with_name(f"{path.name}.foreign-{time.strftime('%Y%m%d-%H%M%S')}")
                )
        good = list(journal.records)
        if not good or good[0]["seq"] != 0:
            good = [self._header(), *[r for r in good if r["seq"] > 0]]
        self._ends = self.journal.rewrite(good)
        self._sizes = self.journal.sizes()
        self._warn(f"{self.journal.paths[0].parent}: journal copies repaired")

    def start_over(self, snapshot: DecisionState, *, why: str) -> None:
        """``copydesk repair`` and migration: a new journal whose record 1 is ``snapshot``.
        What copydesk would refuse to read (an unknown status, say) is left out, named in
        a warning."""
        decisions, dropped = {}, []
        for post_id, review in snapshot.decisions.items():
            if _valid_review(review_dict(review)):
                decisions[post_id] = review_dict(review)
            else:
                dropped.append(f"the decision on {post_id} (status {review.status!r})")
        conflicts = [c for c in snapshot.conflicts if _conflict_problem(c) is None]
        views = [v for v in snapshot.views if _view_problem(v) is None]
        dropped += [
            f"a bad conflict ({str(c)[:60]})" for c in snapshot.conflicts if c not in conflicts
        ]
        dropped += [f"a bad view ({str(v)[:60]})" for v in snapshot.views if v not in views]
        if dropped:
            more = f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""
            self._warn(f"{self.directory}: left out {', '.join(dropped[:5])}{more}")
        record = {
            "seq": 1,
            "op": "snapshot",
            "why": why,
            "at": now_iso(),
            "decisions": decisions,
            "conflicts": conflicts,
            "views": views,
        }
        self._ends = self.journal.rewrite([self._header(), record])
        self._sizes = self.journal.sizes()
        self.state = DecisionState()
        self.state.apply(record)
        self.lost = None
        self.write_checkpoint()

    def records(self) -> Iterable[dict[str, Any]]:
        """Every valid journal record (for audits and tests)."""
        return [r for r in self.journal.read(check=self._check).records if r["seq"] > 0]
