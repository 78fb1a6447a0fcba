"""Export review decisions for the people who fix or publish posts.

``export_rows`` picks the posts (decided ones by default, a search query narrows them) and
turns each into a flat dict of ``FIELDS``; the writers turn rows into csv (RFC 4180, safe to
open in a spreadsheet), json (one array), jsonl (one object per line, the format
``copydesk import-reviews`` reads back) or a markdown report grouped by status.

``export`` writes a file atomically (temp file, fsync, rename) and never over the store.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .errors import StoreError
from .jsonstore import atomic_write_bytes
from .models import APPROVED, CHANGES_REQUESTED, PENDING, REJECTED
from .reviews import now_iso

if TYPE_CHECKING:
    from .store import Store

FORMATS: tuple[str, ...] = ("md", "csv", "json", "jsonl")
FILE_SUFFIXES = {"md": ".md", "csv": ".csv", "json": ".json", "jsonl": ".jsonl"}
FIELDS: tuple[str, ...] = (
    "id",
    "reference",
    "title",
    "topic",
    "status",
    "note",
    "decided_at",
    "reviewer",
    "hints",
    "needs_human_review",
)
# the markdown report puts what needs work first
STATUS_ORDER: tuple[str, ...] = (REJECTED, CHANGES_REQUESTED, APPROVED, PENDING)
STATUS_HEADINGS = {
    REJECTED: "Rejected",
    CHANGES_REQUESTED: "Changes requested",
    APPROVED: "Approved",
    PENDING: "Pending",
}


class ExportError(StoreError):
    """An export that cannot be written (bad format, or a path that is not allowed)."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path | None  # None: written to a stream (stdout)
    count: int  # posts exported
    format: str


# ---------------------------------------------------------------------- rows


def export_rows(
    store: Store, *, query: str = "", include_pending: bool = False
) -> list[dict[str, Any]]:
    """One dict of ``FIELDS`` per post, in reference order.

    Default scope: posts with a decision; ``include_pending`` adds the others. ``query`` uses
    the search grammar (``storage/query.py``) and raises ``QueryError`` when malformed.
    """
    order = store.ids()
    if query.strip():
        matched = set(store.search_ids(query, limit=None))
        order = [post_id for post_id in order if post_id in matched]
    reviews = store.reviews()
    rows: list[dict[str, Any]] = []
    for post_id in order:
        review = reviews.get(post_id)
        status = review.status if review is not None else PENDING
        if status == PENDING and not include_pending:
            continue
        summary = store.summary(post_id)
        rows.append(
            {
                "id": post_id,
                "reference": summary.reference,
                "title": summary.title,
                "topic": summary.topic,
                "status": status,
                "note": review.note if review is not None else "",
                "decided_at": review.decided_at if review is not None else "",
                "reviewer": review.reviewer if review is not None else "",
                "hints": list(summary.hint_codes),
                "needs_human_review": bool(summary.needs_human_review),
            }
        )
    return rows


# ---------------------------------------------------------------------- csv

# A spreadsheet evaluates a cell that starts with one of these (CSV/formula injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
HINT_SEPARATOR = ";"
# Where a spreadsheet may see a cell start: the start of the field, and after every
# character that some reader takes for a separator or a quote (``;`` in many European
# locales, a tab, a line end), past spaces (a reader that trims them) and quotes.
_FORMULA_START = re.compile(r"(?:^|[,;\t\r\n\"])[ \"]*(?=[=+\-@])")
# Controls have no place in a spreadsheet cell, and an ESC would reach a terminal that
# shows the file: U+FFFD, as in the markdown report. Tab and line ends stay.
_CSV_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def neutralise_cell(value: str) -> str:
    """The cell with ``'`` put before every place where a spreadsheet would start a
    formula: the field's start (``=``, ``+``, ``-``, ``@``, tab, CR) and any ``,``/``;``/
    tab/line-separated part of it, so that a reader splitting on another separator than
    ours sees no formula either (``ok;=cmd|' /C calc'!A0`` -> ``ok;'=cmd|' /C calc'!A0``)."""
    if value.startswith(("\t", "\r")):
        value = "'" + value
    return _FORMULA_START.sub(lambda m: m.group() + "'", value)


def _csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list | tuple):
        text = HINT_SEPARATOR.join(str(v) for v in value)
    else:
        text = str(value)
    return neutralise_cell(_CSV_CONTROL.sub("\ufffd", text))


def write_csv(rows: Iterable[dict[str, Any]], stream: TextIO) -> None:
    """RFC 4180: header row, CRLF line ends, every field quoted (a separator or quote in
    a field stays inside it, whichever separator the reader uses), newlines and quotes
    kept exactly; formulas neutralised (``neutralise_cell``).

    Open a file for it with ``newline=""``. Hints are joined with ``;``.
    """
    writer = csv.writer(stream, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(FIELDS)
    for row in rows:
        writer.writerow([_csv_cell(row[name]) for name in FIELDS])


# ---------------------------------------------------------------------- json, jsonl


def write_json(rows: Sequence[dict[str, Any]], stream: TextIO) -> None:
    json.dump(list(rows), stream, ensure_ascii=False, indent=2)
    stream.write("\n")


def write_jsonl(rows: Iterable[dict[str, Any]], stream: TextIO) -> None:
    # json.dumps escapes control characters, so every object stays on one line
    for row in rows:
        stream.write(json.dumps(row, ensure_ascii=False))
        stream.write("\n")


# ---------------------------------------------------------------------- markdown

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# characters with a meaning anywhere in a line (emphasis, code, links, html, tables, ...)
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&])")
# at the start of a line: list markers, setext underlines, ordered list numbers
_LINE_START_SPECIAL = re.compile(r"^([-+=])|^(\d{1,9})([.)])")


def _plain(text: Any) -> str:
    """Text without control characters (an ESC would reach a terminal that shows the file)."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub("\ufffd", text)


def md_line(text: str) -> str:
    """One line of post text as literal markdown: nothing in it can start a block or span."""
    escaped = _INLINE_SPECIAL.sub(r"\\\1", text.strip())
    return _LINE_START_SPECIAL.sub(
        lambda m: "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3), escaped
    )


def md_inline(text: Any) -> str:
    """Text for a heading or a list item: one line, literal."""
    return md_line(" ".join(_plain(text).split()))


def md_code(text: Any) -> str:
    """A code span that holds any text, backticks included (CommonMark rules)."""
    value = " ".join(_plain(text).split())
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    if value.startswith("`") or value.endswith("`"):
        value = f" {value} "
    return f"{fence}{value}{fence}"


def md_blockquote(text: Any) -> list[str]:
    """A multi-line note as a blockquote; each of its lines stays a line (hard breaks)."""
    lines = [line.rstrip() for line in _plain(text).strip("\n").split("\n")]
    out = []
    for index, line in enumerate(lines):
        if not line.strip():
            out.append(">")
            continue
        quoted = "> " + md_line(line)
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if following.strip():
            quoted += "\\"  # CommonMark hard line break
        out.append(quoted)
    return out


def _status_heading(status: str) -> str:
    return STATUS_HEADINGS.get(status, md_inline(status))


def write_markdown(
    rows: Sequence[dict[str, Any]],
    stream: TextIO,
    *,
    query: str = "",
    generated_at: str | None = None,
) -> None:
    """A report grouped by status (with counts), one heading per post, notes quoted."""
    generated_at = generated_at or now_iso()
    lines = ["# copydesk review notes", ""]
    scope = f"{len(rows)} post{'s' if len(rows) != 1 else ''}, exported {md_inline(generated_at)}"
    if query.strip():
        scope += f", query {md_code(query)}"
    lines.append(scope + ".")
    statuses = list(STATUS_ORDER) + sorted({r["status"] for r in rows} - set(STATUS_ORDER))
    for status in statuses:
        group = [row for row in rows if row["status"] == status]
        if not group:
            continue
        lines += ["", f"## {_status_heading(status)} ({len(group)})"]
        for row in group:
            lines += ["", f"### {md_inline(row['title']) or '(untitled)'}", ""]
            lines.append(f"- Reference: {md_code(row['reference'] or row['id'])}")
            if row["reference"] != row["id"]:
                lines.append(f"- Id: {md_code(row['id'])}")
            if row["topic"]:
                lines.append(f"- Topic: {md_inline(row['topic'])}")
            hints = ", ".join(md_code(code) for code in row["hints"]) or "none"
            lines.append(f"- Hints: {hints}")
            lines.append(f"- Needs human review: {'yes' if row['needs_human_review'] else 'no'}")
            if row["decided_at"] or row["reviewer"]:
                who = f" by {md_inline(row['reviewer'])}" if row["reviewer"] else ""
                lines.append(f"- Decided: {md_inline(row['decided_at']) or 'unknown time'}{who}")
            lines.append("")
            if row["note"].strip():
                lines += md_blockquote(row["note"])
            else:
                lines.append("*No note.*")
    stream.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------- files

WRITERS = {"csv": write_csv, "json": write_json, "jsonl": write_jsonl, "md": write_markdown}


def render(fmt: str, rows: Sequence[dict[str, Any]], *, query: str = "") -> str:
    if fmt not in WRITERS:
        raise ExportError(f"unknown export format {fmt!r}; allowed: {', '.join(FORMATS)}")
    buffer = io.StringIO(newline="")  # keep the csv writer's CRLF and notes' own line ends
    if fmt == "md":
        write_markdown(rows, buffer, query=query)
    else:
        WRITERS[fmt](rows, buffer)
    return buffer.getvalue()


def format_for_path(path: str | os.PathLike, default: str = "md") -> str:
    """The format a file name asks for (``.csv`` -> csv, ``.ndjson`` -> jsonl, ...)."""
    suffix = Path(path).suffix.lower()
    by_suffix = {
        ".md": "md",
        ".markdown": "md",
        ".csv": "csv",
        ".json": "json",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
    }
    return by_suffix.get(suffix, default)


def store_files(db_path: str | os.PathLike) -> tuple[Path, Path, list[Path]]:
    """(data dir, db file, the other protected files) of the store at ``db_path``."""
    db = Path(db_path).expanduser().resolve()
    data_dir = db.with_name(db.name + ".d")
    return data_dir, db, [db, db.with_name(db.name + ".bak"), db.with_name(db.name + ".lock")]


def check_output_path(db_path: str | os.PathLike, output: str | os.PathLike) -> Path:
    """The resolved output path; ExportError when it is part of the store or unusable."""
    target = Path(output).expanduser()
    resolved = target.resolve()  # follows symlinks, in the parents too
    data_dir, db, protected = store_files(db_path)
    in_store = (
        resolved in protected
        or resolved == data_dir
        or data_dir in resolved.parents
        or (resolved.parent == db.parent and resolved.name.startswith(db.name + ".damaged-"))
    )
    if not in_store and resolved.exists():  # hard links to a store file
        in_store = any(p.exists() and os.path.samefile(resolved, p) for p in protected)
    if in_store:
        raise ExportError(
            f"{target}: refusing to write over a file of the copydesk store ({db}); "
            "choose another output file"
        )
    if resolved.is_dir():
        raise ExportError(f"{target}: is a directory; give a file name")
    if not resolved.parent.is_dir():
        raise ExportError(f"{target.parent}: no such directory")
    return resolved


def export(
    store: Store,
    fmt: str,
    output: str | os.PathLike | None = None,
    *,
    query: str = "",
    include_pending: bool = False,
    stream: TextIO | None = None,
) -> ExportResult:
    """Export to ``output`` (atomically) or, for None or ``-``, to ``stream`` (stdout)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; allowed: {', '.join(FORMATS)}")
    target = None
    if output is not None and str(output) != "-":
        target = check_output_path(store.path, output)
    rows = export_rows(store, query=query, include_pending=include_pending)
    text = render(fmt, rows, query=query)
    if target is None:
        out = stream if stream is not None else sys.stdout
        out.write(text)
        out.flush()
        return ExportResult(None, len(rows), fmt)
    try:
        # no .bak beside the user's file: that is the store's convention, not an export's
        atomic_write_bytes(target, text.encode("utf-8", "replace"), keep_backup=False)
    except OSError as exc:
        raise ExportError(f"{output}: cannot write ({exc.strerror or exc})") from exc
    return ExportResult(target, len(rows), fmt)
