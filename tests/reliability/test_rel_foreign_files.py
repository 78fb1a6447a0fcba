"""Files that are not ours (issue 14, items 3 and 10).

- ``--db`` naming an ordinary JSON file, another store's segment, ``shelf.json``,
  checkpoint or journal, an empty file, a text file, a directory: refused in one line,
  the file byte-for-byte unchanged and nothing created beside it (no ``.bak``, ``.d/``,
  ``.lock``), by read-only and writing commands alike.
- No pickle anywhere in storage: the source imports no code-running deserialiser, and a
  store directory holding a hostile pickle (whose load would create a marker file) where
  a cache could be read never runs it, whatever is opened, listed, shown or imported.
"""

from __future__ import annotations

import ast
import os
import pickle
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from relsupport import REPO, changed_names, copy_store, listing, run_cli

from storage import Store, StoreError, samples_dir
from storage.local.layout import NotAStoreError, StoreMissingError
from tui.cli import main

READ_ONLY = [["list"], ["views"], ["export"], ["conflicts"], ["clusters"]]
WRITING = [
    ["review", "anp-ref-003275-2123", "-s", "approved"],
    ["views", "save", "mine", "stack:php"],
    ["import", str(samples_dir())],
    ["repair"],
]


def _cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def other_store(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("other") / "db.json"
    with Store.open(db) as store:
        store.import_paths([samples_dir()])
        store.set_review(store.ids()[0], "approved", "theirs")
    return db


FOREIGN = {
    "package.json": lambda root, other: _write(
        root / "package.json", b'{"name": "x", "version": "1.0.0"}\n'
    ),
    "list.json": lambda root, other: _write(root / "list.json", b"[1, 2, 3]"),
    "empty file": lambda root, other: _write(root / "empty.json", b""),
    "readme": lambda root, other: _write(root / "README.md", b"# notes\n\nnot json at all\n"),
    "binary": lambda root, other: _write(root / "blob.bin", bytes(range(256))),
    "copydesk-ish text": lambda root, other: _write(root / "notes.txt", b'see "copydesk" docs {'),
    "a segment": lambda root, other: _copy(other, "db.json.d/posts/000001.json", root),
    "a shelf": lambda root, other: _copy(other, "db.json.d/shelf.json", root),
    "a journal": lambda root, other: _copy(other, "db.json.d/journal.jsonl", root),
    "an index": lambda root, other: _copy(other, "db.json.d/index-*.cdx", root),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _copy(other: Path, relative: str, root: Path) -> Path:
    """Another store's file, in place in that store (``root/other``)."""
    target_dir = root / "other"
    copy_store(other, target_dir)
    (found,) = target_dir.glob(relative)
    return found


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_db_naming_a_file_that_is_not_a_store_is_refused_and_left_alone(
    tmp_path, other_store, kind
):
    path = FOREIGN[kind](tmp_path, other_store)
    before = listing(tmp_path)
    for args in READ_ONLY + WRITING:
        result = _cli("--db", str(path), *args)
        assert result.exit_code == 1, (args, result.output)
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"copydesk: {path}: not a copydesk store"), line
        assert changed_names(before, listing(tmp_path)) == [], args  # not a byte, not a lock
    with pytest.raises(NotAStoreError):
        Store.open(path)


def test_the_real_program_refuses_an_ordinary_json_file(tmp_path, env):
    path = _write(tmp_path / "package.json", b'{"name": "x"}')
    before = listing(tmp_path)
    for args in (["list"], ["import", str(samples_dir())]):
        result = run_cli(["--db", str(path), *args], env)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"copydesk: {path}: not a copydesk store")
    assert changed_names(before, listing(tmp_path)) == []


def test_db_naming_a_directory_or_a_missing_store(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    before = listing(tmp_path)
    for args in READ_ONLY + WRITING:
        result = _cli("--db", str(folder), *args)
        assert result.exit_code in (1, 2) and "Traceback" not in result.output
        assert str(folder) in result.stderr
    with pytest.raises(StoreError, match="is a directory"):
        Store.open(folder)
    missing = tmp_path / "nothing.json"
    for args in READ_ONLY:  # a read-only command does not create a store
        result = _cli("--db", str(missing), *args)
        assert result.exit_code == 1
        (line,) = result.stderr.splitlines()
        assert line == (
            f"copydesk: {missing}: no copydesk store here (check --db; `copydesk import` "
            "creates one)"
        )
    with pytest.raises(StoreMissingError):
        Store.open(missing, writable=False)
    assert changed_names(before, listing(tmp_path)) == []


def test_another_store_named_through_its_files_is_never_changed(tmp_path, other_store):
    target_dir = tmp_path / "other"
    copy_store(other_store, target_dir)
    before = listing(tmp_path)
    data_dir = target_dir / "db.json.d"
    for name in ("shelf.json", "decisions.json", "posts/000001.json", "posts/000001.hints.json"):
        path = data_dir / name
        if not path.exists():
            continue
        for args in READ_ONLY + WRITING:
            assert _cli("--db", str(path), *args).exit_code == 1
    assert changed_names(before, listing(tmp_path)) == []
    with Store.open(target_dir / "db.json", writable=False) as store:
        assert len(store) == 5 and store.review(store.ids()[0]).note == "theirs"


# ---------------------------------------------------------------------- item 10: no pickle

FORBIDDEN_MODULES = {
    "pickle",
    "cPickle",
    "_pickle",
    "marshal",
    "shelve",
    "dill",
    "cloudpickle",
    "jsonpickle",
}
FORBIDDEN_CALLS = {"eval", "exec"}


def test_no_code_running_deserialiser_in_the_source():
    found = []
    for package in ("storage", "seeds", "tui"):
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name.split(".")[0] for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module.split(".")[0]]
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    names = [node.func.id] if node.func.id in FORBIDDEN_CALLS else []
                elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                    names = [node.value.id] if node.value.id in FORBIDDEN_MODULES else []
                for name in names:
                    if name in FORBIDDEN_MODULES | FORBIDDEN_CALLS:
                        found.append(f"{path.relative_to(REPO)}:{node.lineno}: {name}")
    assert found == []


class _Plant:
    """Unpickling this opens ``path`` for writing (creates it): the marker of code run."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def hostile_pickle(marker: Path) -> bytes:
    data = pickle.dumps(_Plant(marker), protocol=2)
    marker.unlink(missing_ok=True)
    return data


def test_the_planted_pickle_really_runs_code_when_unpickled(tmp_path):
    marker = tmp_path / "marker"
    data = hostile_pickle(marker)
    assert not marker.exists()
    pickle.loads(data)  # the test's own check that the bait works
    assert marker.exists()


def _plant(db: Path, marker: Path) -> list[Path]:
    """The hostile pickle wherever a cache of this or an older copydesk could be read."""
    data = hostile_pickle(marker)
    data_dir = db.with_name(db.name + ".d")
    names = ["index.pickle", "index.cdx", "near-dups.json", "cache.pickle", "catalog.pickle"]
    generations = [int(p.name.split("-")[1].split(".")[0]) for p in data_dir.glob("index-*.cdx")]
    for g in {*generations, *(g + 1 for g in generations)}:
        names += [f"index-{g}.cdx", f"search-{g}.cdx", f"near-dups-{g}.json"]
    planted = [data_dir / name for name in names]
    for path in planted:
        path.write_bytes(data)
    return planted


def test_a_store_holding_hostile_pickles_never_runs_them(tmp_path, other_store, env, monkeypatch):
    db = copy_store(other_store, tmp_path / "store")
    marker = tmp_path / "PWNED"
    _plant(db, marker)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    post_id = "anp-ref-003275-2123"
    # the API, read-only and writable, every reading call
    for writable in (False, True):
        with Store.open(db, writable=writable) as store:
            store.search("stack:php")
            store.get(post_id)
            store.similar(post_id)
            store.clusters()
            store.views()
            store.conflicts()
            store.refresh()
    with Store.open(db) as store:
        store.set_review(post_id, "rejected", "after the plant")
        store.import_paths([samples_dir()])
    assert not marker.exists()
    # the CLI, every command that reads the store, in-process and as the real program
    for args in (["list"], ["show", post_id], ["similar", post_id], ["clusters"], ["views"]):
        assert _cli("--db", str(db), *args).exit_code == 0, args
    _plant(db, marker)
    for args in (["list"], ["show", post_id], ["export", "--all"], ["conflicts"]):
        result = run_cli(["--db", str(db), *args], env)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert not marker.exists()


def test_a_format_1_store_with_a_hostile_index_pickle_converts_without_running_it(
    tmp_path, monkeypatch
):
    import legacystore

    corpus = tmp_path / "corpus"
    shutil.copytree(samples_dir(), corpus)
    db = tmp_path / "old" / "db.json"
    built = legacystore.build(db, sorted(corpus.iterdir()))
    marker = tmp_path / "PWNED"
    (db.with_name("db.json.d") / "index.pickle").write_bytes(hostile_pickle(marker))
    with Store.open(db) as store:
        assert len(store) == 5 and len(store.reviews()) == len(built["decisions"]) == 2
        store.search("")
    assert not marker.exists()
    kept = db.with_name("db.json.d") / "format-1" / "index.pickle"
    assert kept.exists() and os.path.getsize(kept) > 0  # moved aside for the user, unread
