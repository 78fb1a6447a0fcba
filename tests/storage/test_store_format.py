"""The store format in the manifest: a copydesk reads the formats it knows, makes an older
store its own format at the first writable open, and an older copydesk refuses a store of
a newer format instead of taking its files for damage."""

from __future__ import annotations

import json

import pytest

import storage.local.layout as layout_module
from storage import Store, StoreError, samples_dir


def _manifest(db) -> dict:
    return json.loads(db.read_text())["copydesk"]["1"]


def _shelf_format(db) -> int:
    shelf = json.loads((db.parent / f"{db.name}.d" / "shelf.json").read_text())
    return shelf["shelf"]["1"]["format"]


@pytest.fixture
def store_of_the_previous_format(tmp_path):
    """A store as copydesk of store format 2 left it: manifest 2, shelf format 1."""
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        store.import_paths([samples_dir()])
        post_id = store.ids()[0]
        store.set_review(post_id, "approved", note="kept")
    doc = json.loads(db.read_text())
    doc["copydesk"]["1"]["format"] = 2
    db.write_text(json.dumps(doc))
    return db, post_id


def test_a_new_store_is_of_the_current_format(tmp_path):
    db = tmp_path / "db.json"
    Store.open(db).close()
    assert _manifest(db)["format"] == layout_module.FORMAT == 3


def test_a_store_of_the_previous_format_is_read_as_it_is_and_upgraded_when_written(
    store_of_the_previous_format,
):
    db, post_id = store_of_the_previous_format
    before = db.read_bytes()
    with Store.open(db, writable=False) as store:  # a read-only command writes nothing
        assert store.review(post_id).note == "kept"
        assert len(store) == 5
    assert db.read_bytes() == before
    store_id = _manifest(db)["store"]
    with Store.open(db) as store:
        assert _manifest(db)["format"] == 3 and _manifest(db)["store"] == store_id
        store.import_paths([samples_dir()])
        store.set_review(store.ids()[1], "rejected")
    assert _shelf_format(db) == 2  # written only once the manifest says 3
    with Store.open(db, writable=False) as store:
        assert store.review(post_id).note == "kept" and len(store) == 5


def test_a_copydesk_that_knows_only_the_previous_format_refuses_an_upgraded_store(
    store_of_the_previous_format, monkeypatch
):
    db, _ = store_of_the_previous_format
    Store.open(db).close()  # upgraded
    files = {p: p.read_bytes() for p in db.parent.rglob("*") if p.is_file()}
    monkeypatch.setattr(layout_module, "FORMAT", 2)  # the previous copydesk's tables
    monkeypatch.setattr(layout_module, "READ_FORMATS", (2,))
    for writable in (True, False):
        with pytest.raises(StoreError, match="written by a newer copydesk"):
            Store.open(db, writable=writable)
    assert {p: p.read_bytes() for p in db.parent.rglob("*") if p.is_file()} == files
