"""Fixtures for the reliability tests: one synthetic corpus and one imported store per
session, copied per test so that every test damages or storms its own store."""

from __future__ import annotations

from pathlib import Path

import faultstore
import orjson
import pytest
from relsupport import child_env, copy_store

from seeds.synth import synthesize
from storage import Store
from storage.local.shelf import Locations

CORPUS_SIZE = 320  # above the importer's PARALLEL_THRESHOLD: imports use the process pool
TEMPLATE_SIZE = 120  # posts in the template store (imported serially)


@pytest.fixture(scope="session")
def synth_corpus(tmp_path_factory) -> list[Path]:
    return synthesize(CORPUS_SIZE, tmp_path_factory.mktemp("synth") / "corpus", seed=11)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory, synth_corpus) -> Path:
    db = tmp_path_factory.mktemp("template") / "db.json"
    with Store.open(db) as store:
        report = store.import_paths(synth_corpus[:TEMPLATE_SIZE])
        assert len(report.imported) == TEMPLATE_SIZE and not report.errors
    return db


@pytest.fixture
def db(tmp_path, template_db) -> Path:
    """A private copy of the template store (120 synthetic posts, no decisions)."""
    return copy_store(template_db, tmp_path / "store")


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return child_env(tmp_path / "home")


@pytest.fixture(scope="session")
def fault_store(tmp_path_factory) -> dict:
    """The store of the fault matrix (faultstore.py: 330 posts, 300 decisions, every store
    file present), with what the tests need to know about it."""
    built = faultstore.build(tmp_path_factory.mktemp("fault"))
    db = built["db"]
    shelf_path = db.with_name(db.name + ".d").joinpath("shelf.json")
    shelf = orjson.loads(shelf_path.read_bytes())
    header = shelf["shelf"]["1"]
    assert Locations.problem(shelf["locations"], header["posts"]) is None
    stored = Locations.from_data(shelf["locations"], header["posts"], shelf_path)
    locations = {pid: (loc.doc_id, loc.path) for pid, loc in stored.items()}
    # the posts of the second segment, by doc id (the first is the one whose key is damaged)
    segment_two = sorted(
        (pid for pid, loc in locations.items() if loc[0] > 256), key=lambda p: locations[p][0]
    )
    decided = built["expected"]["decisions"]
    segment_one = sorted(pid for pid, loc in locations.items() if loc[0] <= 256)
    return {
        **built,
        "generation": shelf["shelf"]["1"]["generation"],
        "posts": {pid: loc[1] for pid, loc in locations.items()},
        "segment_two": segment_two,
        "decided_in_segment_one": next(pid for pid in segment_one if pid in decided),
        "spare": next(pid for pid in segment_one if pid not in decided),
    }
