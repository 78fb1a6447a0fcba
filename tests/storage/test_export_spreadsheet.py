"""A real spreadsheet program opens the csv export: no cell is a formula.

LibreOffice (headless, Debian package ``libreoffice-calc``; ``.ci/run`` installs it) converts
the exported file to flat ODS, reading it with ``,``, ``;`` and tab as the separator, with
and without "remove spaces", and every cell of the result is checked. The same rows written
by a naive writer (minimal quoting, no neutralising) give formula cells under the same
conversion: the check can see a formula when there is one.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from storage.export import FIELDS, write_csv

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
if SOFFICE is None:
    if os.environ.get("CI") == "true":
        pytest.fail(
            "CI=true but LibreOffice (soffice) is missing: .ci/run installs it", pytrace=False
        )
    pytest.skip(
        "LibreOffice is not installed (apt-get install -y libreoffice-calc); CI runs this test",
        allow_module_level=True,
    )

TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"

# Formulas at the start of a field and after every separator a reader might split on.
HOSTILE = [
    "ok;=cmd|' /C calc'!A0",
    '=HYPERLINK("http://x","click")',
    "fine, =1+1",
    "tab\t=2+2",
    "semi; +3+3",
    "line one\n=4+4",
    "crlf\r\n-5+5",
    'quoted "=6+6" inside',
    "@SUM(1;2)",
    "-7+7",
    "+8+8",
    "a;b;=9+9;c",
    "spaces ;   =10+10",
]


def _rows() -> list[dict]:
    rows = []
    for number, text in enumerate(HOSTILE):
        rows.append(
            {
                "id": f"anp-ref-{number}",
                "reference": text if number % 2 else f"anp-ref-{number}",
                "title": text,
                "topic": "=1+2" if number == 0 else "topic",
                "status": "rejected",
                "note": text,
                "decided_at": "2026-01-01T00:00:00Z",
                "reviewer": "=bob" if number == 1 else "alice",
                "hints": ["thin_content", "near_duplicate"],
                "needs_human_review": bool(number % 2),
            }
        )
    return rows


def _naive_csv(rows: list[dict], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(FIELDS)
        for row in rows:
            writer.writerow([";".join(v) if isinstance(v, list) else v for v in row.values()])


def _convert(csv_files: list[Path], options: str, tmp_path: Path) -> list[Path]:
    """Flat ODS files of ``csv_files``, read with the CSV filter ``options``."""
    out = tmp_path / ("out-" + options.replace(",", "_").replace("/", "-"))
    profile = tmp_path / "lo-profile"  # its own: parallel tests never share one
    subprocess.run(
        [
            SOFFICE,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={profile.as_uri()}",
            f"--infilter=CSV:{options}",
            "--convert-to",
            "fods",
            "--outdir",
            str(out),
            *map(str, csv_files),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    converted = [out / (path.stem + ".fods") for path in csv_files]
    assert all(path.exists() for path in converted), list(out.iterdir())
    return converted


def _paragraph_text(element: ET.Element) -> str:
    """The text of a ``text:p``, with its ``text:s`` (spaces) and ``text:tab`` elements."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == f"{{{TEXT}}}s":
            parts.append(" " * int(child.get(f"{{{TEXT}}}c", "1")))
        elif child.tag == f"{{{TEXT}}}tab":
            parts.append("\t")
        elif child.tag == f"{{{TEXT}}}line-break":
            parts.append("\n")
        else:
            parts.append(_paragraph_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _cells(fods: Path) -> list[tuple[str | None, str]]:
    """(formula or None, text) of every cell of the document, repeated cells expanded."""
    cells = []
    for row in ET.parse(fods).getroot().iter(f"{{{TABLE}}}table-row"):
        for cell in row.iter(f"{{{TABLE}}}table-cell"):
            text = "\n".join(_paragraph_text(p) for p in cell.iter(f"{{{TEXT}}}p"))
            repeat = int(cell.get(f"{{{TABLE}}}number-columns-repeated", "1"))
            if text or cell.get(f"{{{TABLE}}}formula"):
                cells.extend([(cell.get(f"{{{TABLE}}}formula"), text)] * repeat)
    return cells


# separator (, ; tab), text delimiter ", UTF-8, from line 1, no column formats, default
# language, quoted fields not forced to text, detect special numbers; then the same with
# "remove spaces" on (token 11), so that " =1+1" is trimmed to a formula if it can be.
READINGS = [
    f"{sep},34,76,1,,0,false,true,false,false,{trim}"
    for sep in (44, 59, 9)
    for trim in ("false", "true")
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict[str, tuple[list, list]]:
    tmp_path = tmp_path_factory.mktemp("spreadsheet")
    rows = _rows()
    ours = tmp_path / "ours.csv"
    with ours.open("w", newline="", encoding="utf-8") as handle:
        write_csv(rows, handle)
    naive = tmp_path / "naive.csv"
    _naive_csv(rows, naive)
    result = {}
    for options in READINGS:
        ours_fods, naive_fods = _convert([ours, naive], options, tmp_path)
        result[options] = (_cells(ours_fods), _cells(naive_fods))
    return result


@pytest.mark.parametrize("options", READINGS)
def test_no_cell_of_the_export_is_a_formula(converted, options):
    ours, naive = converted[options]
    assert any(formula for formula, _ in naive), "the naive file should hold formulas"
    formulas = [(formula, text) for formula, text in ours if formula]
    assert formulas == []
    assert any("cmd|' /C calc'!A0" in text for _, text in ours)  # the data is there


def test_read_with_our_separator_every_note_arrives_whole_and_readable(converted):
    ours, _ = converted[READINGS[0]]
    texts = [text for _, text in ours]
    width = len(FIELDS)
    header, body = texts[:width], texts[width:]
    assert header == list(FIELDS)
    notes = [body[i * width + FIELDS.index("note")] for i in range(len(HOSTILE))]
    assert notes == [
        "ok;'=cmd|' /C calc'!A0",
        '\'=HYPERLINK("http://x","click")',
        "fine, '=1+1",
        "tab\t'=2+2",
        "semi; '+3+3",
        "line one\n'=4+4",
        "crlf\n'-5+5",
        'quoted "\'=6+6" inside',
        "'@SUM(1;2)",
        "'-7+7",
        "'+8+8",
        "a;b;'=9+9;c",
        "spaces ;   '=10+10",
    ]
