"""Dependencies flow one way: tui -> storage -> seeds. seeds and storage never import textual."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage import Store, samples_dir

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "seeds": {"textual", "storage", "tui"},
    "storage": {"textual", "tui"},
}


def imported_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_no_forbidden_imports_in_source():
    offenders = []
    for package, forbidden in FORBIDDEN.items():
        for path, names in imported_modules(package).items():
            bad = names & forbidden
            if bad:
                offenders.append(f"{path} imports {sorted(bad)}")
    assert offenders == []


def test_importing_storage_does_not_load_textual():
    # Also catches indirect imports through third-party code.
    code = "import sys, seeds, storage; print('textual' in sys.modules, 'tui' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_a_command_on_a_local_store_does_not_load_psycopg(tmp_path):
    """Every command asks whether --db is a PostgreSQL URL; only a team store may pay for
    psycopg's import (~120 ms of each one-shot command)."""
    db, samples = tmp_path / "db.json", ROOT / "seeds" / "samples"
    code = (
        "import sys; from click.testing import CliRunner; from tui.cli import main; "
        f"r = CliRunner().invoke(main, ['--db', {str(db)!r}, 'import', {str(samples)!r}]); "
        "assert r.exit_code == 0, r.output; print('psycopg' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
    from storage.pg import PostgresStore  # the lazy names still resolve

    assert PostgresStore.__name__ == "PostgresStore"


def test_checker_would_catch_a_violation(tmp_path):
    # the AST walk sees both import forms
    tree = ast.parse("import textual.app\nfrom textual import work\n")
    names = {
        a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert names == {"textual"}


def test_import_linter_contracts_hold():
    # the contracts in pyproject.toml: layers, no textual below tui, backends apart
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert " kept, 0 broken" in out.stdout


# What a one-post command must not import (issue 17: `show` and `review` in <= 0.3 s at
# 100,000 posts, ~0.1 s of which these cost): they load lazily, where they are used.
NOT_FOR_ONE_POST = (
    "rapidfuzz",  # the query grammar and the similarity index
    "multiprocessing",  # the import's worker pool
    "concurrent.futures.process",
    "rich.progress",  # import and synth progress bars
    "storage.export",
    "storage.merge",
    "storage.query",
    "storage.terms",
    "storage.catalog",
    "storage.similarity",
    "storage.search_index",
    "storage.files",
    "storage.local.importing",
    "storage.pg",
    "seeds",  # the seed parser: an import's
    "tomllib",
    "platformdirs",  # --db is given
    "tui.cli.export",  # other commands' modules (tui/cli/__init__.py COMMANDS)
    "tui.cli.families",
    "tui.cli.synth",
    "tui.cli.team",
    "textual",
)

REPORT_MODULES = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('MODULES', *sorted(sys.modules), file=sys.stderr))\n"
    "from tui.cli import main\n"
    "main(sys.argv[1:], prog_name='copydesk')\n"
)


@pytest.mark.parametrize(
    "command",
    [
        ["show", "anp-ref-003275-2123"],
        ["show", "anp-ref-003275-2123", "--json"],
        ["review", "anp-ref-003275-2123", "--status", "approved"],
        ["review", "anp-ref-012395-2485", "--status", "rejected", "--force"],
    ],
    ids=" ".join,
)
def test_a_one_post_command_imports_only_what_it_uses(tmp_path, command):
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        store.import_paths([samples_dir()])
    env = dict(os.environ, COPYDESK_REVIEWER="layering")  # else config.toml is looked for
    out = subprocess.run(
        [sys.executable, "-c", REPORT_MODULES, "--db", str(db), *command],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert "anp-ref-0" in out.stdout  # it did its work
    loaded = set(out.stderr.rsplit("MODULES ", 1)[1].split())
    assert "storage.local.store" in loaded  # the report is of a command that opened a store
    assert sorted(name for name in NOT_FOR_ONE_POST if name in loaded) == []
    if command[0] == "show":  # reads take no lock (review's write takes FILE.lock)
        assert "filelock" not in loaded
    # not a terminal: the post's php code is laid out, not highlighted (no lexer loaded)
    lexers = {name for name in loaded if name.startswith("pygments.lexers.")}
    assert lexers <= {"pygments.lexers._mapping", "pygments.lexers.special"}
