"""The import's fast paths give what the plain ones give (file names as strings, ...)."""

from __future__ import annotations

import os
from pathlib import Path

from storage import importer


def _tree(root: Path) -> None:
    (root / "a").mkdir()
    (root / "a-b").mkdir()
    (root / "a" / "x.txt").write_text("x")
    (root / "a-b" / "y.txt").write_text("y")
    (root / "dir.txt").mkdir()
    (root / "dir.txt" / "in.txt").write_text("in")
    (root / "skip.md").write_text("no")
    os.symlink(root / "a" / "x.txt", root / "link.txt")  # the same file as a/x.txt


def test_collected_names_are_the_strings_of_the_collected_paths(tmp_path, monkeypatch):
    _tree(tmp_path)
    cases = [
        [tmp_path],
        [tmp_path / "a", tmp_path],
        [str(tmp_path) + "//a/", tmp_path / "link.txt"],
        [tmp_path / "missing", tmp_path / "skip.md"],
    ]
    monkeypatch.chdir(tmp_path)
    cases += [["."], ["./a/"], ["a", "a-b/y.txt", "a/../a-b"]]
    for paths in cases:
        names, name_errors = importer.collect_names(paths)
        files, file_errors = importer.collect_files(paths)
        assert names == [str(f) for f in files]
        assert all(type(n) is str for n in names)
        assert name_errors == file_errors
    assert importer.collect_names(["."])[0] == ["a/x.txt", "a-b/y.txt", "dir.txt/in.txt"]
