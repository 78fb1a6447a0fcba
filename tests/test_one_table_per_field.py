"""Adding a meta field is one entry in ``seeds.meta.FIELDS``: the reader parses it, the
hints stop calling it unknown, the query language searches it and the meta pane shows it,
with nothing else edited. The test edits that one table in a copy of the three packages
and runs the copy in a child process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from rich.console import Console

    from storage import Store
    from tui.widgets.meta_pane import meta_renderable

    store = Store.open(Path(sys.argv[1]) / "db.json")
    report = store.import_paths([Path(sys.argv[1]) / "seed.txt"])
    (post_id,) = report.imported
    post = store.get(post_id)
    console = Console(width=120, record=True, file=open("/dev/null", "w"))
    console.print(meta_renderable(post.meta))
    try:
        found = store.search_ids('tone:"calm and steady"', None)
    except Exception as exc:  # an unknown field is a query error
        found = type(exc).__name__
    print(repr(post.meta.get("tone")))
    print(sorted(h["code"] for h in post.hints if h["code"] == "unknown_field"))
    print(found == [post_id])
    print("calm and steady" in console.export_text())
    """
)


ENTRY = '        _field("difficulty", TEXT),\n'
ADDED = ENTRY + '        _field("tone", TEXT, required=False),\n'


def _run(tmp_path: Path, mode: str) -> list[str]:
    work, code = tmp_path / mode, tmp_path / f"{mode}-code"
    work.mkdir()
    for package in ("seeds", "storage", "tui"):
        shutil.copytree(ROOT / package, code / package, ignore=shutil.ignore_patterns("*.pyc"))
    if mode == "added":  # the one edit
        meta = code / "seeds" / "meta.py"
        text = meta.read_text(encoding="utf-8")
        assert text.count(ENTRY) == 1
        meta.write_text(text.replace(ENTRY, ADDED), encoding="utf-8")
    sample = sorted((ROOT / "seeds" / "samples").glob("*.txt"))[0].read_text(encoding="utf-8")
    seed = sample.replace("\ndifficulty", "\ntone: calm and steady\ndifficulty", 1)
    assert seed != sample
    (work / "seed.txt").write_text(seed, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(work), mode],
        capture_output=True,
        text=True,
        cwd=code,  # the copy comes first on sys.path
        env={**os.environ, "PYTHONPATH": str(code)},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_a_field_added_to_the_table_is_parsed_searched_and_shown(tmp_path):
    assert _run(tmp_path, "added") == ["'calm and steady'", "[]", "True", "True"]


def test_without_the_entry_the_same_line_is_an_unknown_field(tmp_path):
    tone, unknown, _, _ = _run(tmp_path, "plain")
    assert tone == "'calm and steady'"  # kept, as any unknown field is
    assert unknown == "['unknown_field']"  # and flagged: the table does not know it
