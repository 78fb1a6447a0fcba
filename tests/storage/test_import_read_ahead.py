"""An import reads the catalog in a thread while its files are parsed
(``LocalStoreBase._catalog_read_ahead``), and gives what reading it after gives: the same
posts and answers, a damaged catalog rebuilt in the importing thread."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from storage import Store, samples_dir
from storage.local import index_files, store_base


@pytest.fixture
def db(tmp_path) -> Path:
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        store.import_paths([samples_dir()])
    return db


def _new_posts(tmp_path: Path) -> Path:
    folder = tmp_path / "new"
    folder.mkdir()
    for n, source in enumerate(sorted(samples_dir().glob("*.txt"))[:2]):
        text = source.read_text(encoding="utf-8")
        (folder / f"copy{n}.txt").write_text(
            text.replace("\nreferenceanp-ref-", f"\nreferenceanp-new{n}-", 1), encoding="utf-8"
        )
    return folder


def _answers(db: Path) -> tuple:
    with Store.open(db) as store:
        return (
            store.ids(),
            [store.summary(pid) for pid in store.ids()],
            store.search_ids("stack:php", limit=None),
        )


def test_the_catalog_is_read_in_its_own_thread_and_answers_as_read_after(db, tmp_path, monkeypatch):
    plain = tmp_path / "plain" / "db.json"
    shutil.copytree(db.parent, plain.parent)
    new = _new_posts(tmp_path)
    threads = []
    real = index_files.read_catalog

    def recording(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(index_files, "read_catalog", recording)
    with Store.open(db) as store:
        assert len(store.import_paths([new]).imported) == 2
    assert threads and threads[0].startswith("catalog-read")
    # the same import, the catalog read when shelve asks for it
    monkeypatch.setattr(
        store_base.LocalStoreBase, "_catalog_read_ahead", lambda self: self._catalog
    )
    threads.clear()
    with Store.open(plain) as store:
        assert len(store.import_paths([new]).imported) == 2
    assert threads == [threading.current_thread().name]
    assert _answers(db) == _answers(plain)


def test_a_damaged_catalog_read_ahead_is_rebuilt_and_the_import_goes_on(db, tmp_path):
    (index,) = db.with_name(db.name + ".d").glob("index-*.cdx")
    index.write_bytes(index.read_bytes()[: len(index.read_bytes()) // 2])
    with Store.open(db) as store:
        report = store.import_paths([_new_posts(tmp_path)])
        assert len(report.imported) == 2
        assert any("damaged" in w for w in store.warnings)
        assert len(store.ids()) == 7
    ids, _, php = _answers(db)
    assert len(ids) == 7 and php
