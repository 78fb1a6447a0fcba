"""Post records and derived files of the wrong shape, and derived files lost: never a
traceback, never a silently wrong answer (``show``'s hints, near duplicates), and what is
rebuildable is rebuilt. The decisions are not at stake here (the fault matrix covers
them)."""

from __future__ import annotations

import json

import orjson
import pytest
from click.testing import CliRunner
from relsupport import copy_store

from storage import Store
from tui.cli import main


def _cli(*args: str):
    return CliRunner().invoke(main, list(args))


def _no_traceback(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output


@pytest.fixture
def store_copy(fault_store, tmp_path):
    db = copy_store(fault_store["db"], tmp_path / "store")
    return {**fault_store, "db": db, "data_dir": db.with_name(db.name + ".d")}


def _near_duplicate_post(case) -> str:
    data = orjson.loads((case["data_dir"] / f"near-dups-{case['generation']}.json").read_bytes())
    return sorted(data["hints"])[0]


def _shown(db, post_id):
    result = _cli("--db", str(db), "show", post_id, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _edit_segment(case, change) -> str:
    """Change the first record of segment 2; returns its post id."""
    path = case["data_dir"] / "posts" / "000002.json"
    data = orjson.loads(path.read_bytes())
    record = data["posts"][next(iter(data["posts"]))]
    change(record)
    path.write_bytes(orjson.dumps(data))
    return record["id"]


@pytest.mark.parametrize(
    "field, value", [("body", "x"), ("body", ["x", 5]), ("meta", [1]), ("warnings", 5)]
)
def test_a_post_record_of_the_wrong_shape_is_one_line_not_a_traceback(store_copy, field, value):
    post_id = _edit_segment(store_copy, lambda record: record.update({field: value}))
    for args in (["show", post_id], ["show", post_id, "--json"], ["list"]):
        result = _cli("--db", str(store_copy["db"]), *args)
        _no_traceback(result)
        if result.exit_code:
            (line,) = result.stderr.splitlines()
            assert post_id in line and "000002.json" in line


@pytest.mark.parametrize("where", ["near-dups", "hints"])
def test_hints_that_are_not_records_are_never_a_traceback(store_copy, where):
    if where == "near-dups":
        post_id = _near_duplicate_post(store_copy)
        path = store_copy["data_dir"] / f"near-dups-{store_copy['generation']}.json"
        data = orjson.loads(path.read_bytes())
        data["hints"][post_id] = [5, "x"]
    else:
        post_id = store_copy["segment_two"][0]
        path = store_copy["data_dir"] / "posts" / "000002.hints.json"
        data = orjson.loads(path.read_bytes())
        data["hints"][next(iter(data["hints"]))] = [5, "x"]
    path.write_bytes(orjson.dumps(data))
    for args in (["show", post_id], ["show", post_id, "--json"]):
        _no_traceback(_cli("--db", str(store_copy["db"]), *args))


@pytest.mark.parametrize("damage", [b"garbage", None])
def test_a_lost_hints_file_is_recomputed(store_copy, damage):
    db = store_copy["db"]
    post_id = store_copy["segment_two"][0]
    before = _shown(db, post_id)["hints"]
    assert before  # the synthetic posts all have hints
    path = store_copy["data_dir"] / "posts" / "000002.hints.json"
    if damage is None:
        path.unlink()
    else:
        path.write_bytes(damage)
    with Store.open(db) as store:  # a writer (the TUI, an import) opens the store
        store.finish_derived()
        store.search("")
    with Store.open(db, writable=False) as store:
        assert store.get(post_id).hints_pending is False
    assert _shown(db, post_id)["hints"] == before


@pytest.mark.parametrize("damage", [b"{}", b'{"reviews": "x"}'])
def test_a_near_dups_file_of_the_wrong_shape_is_not_trusted(store_copy, damage):
    db = store_copy["db"]
    post_id = _near_duplicate_post(store_copy)
    codes = [h["code"] for h in _shown(db, post_id)["hints"]]
    assert "near_duplicate" in codes
    (store_copy["data_dir"] / f"near-dups-{store_copy['generation']}.json").write_bytes(damage)
    assert [h["code"] for h in _shown(db, post_id)["hints"]] == codes


def test_a_near_dups_file_that_is_not_json_is_worked_around(store_copy):
    db = store_copy["db"]
    post_id = _near_duplicate_post(store_copy)
    hints = _shown(db, post_id)["hints"]
    (store_copy["data_dir"] / f"near-dups-{store_copy['generation']}.json").write_bytes(b"\x00{")
    assert _shown(db, post_id)["hints"] == hints  # asked of the catalog instead


def test_recovering_the_shelf_from_an_older_generation_names_the_posts_it_lacks(
    fault_store, tmp_path, synth_corpus
):
    db = copy_store(fault_store["db"], tmp_path / "store")
    extra = tmp_path / "extra"
    extra.mkdir()
    for path in synth_corpus[300:310]:
        (extra / path.name).write_bytes(path.read_bytes())
    with Store.open(db) as store:
        report = store.import_paths([extra])  # one commit: the .bak is the shelf before it
        new_ids = report.imported
        assert len(new_ids) == 10
    (db.with_name(db.name + ".d") / "shelf.json").write_bytes(b"garbage")
    with Store.open(db, warn=(warnings := []).append) as store:
        kept = set(new_ids) <= set(store.ids())
    assert kept or any("10 posts" in w and "import" in w for w in warnings), warnings


def test_phase_two_stopped_after_its_hints_files_before_its_commit_is_done_again(
    tmp_path, monkeypatch
):
    """Phase 2 writes each segment's hints file, then commits; stopped in between, the
    hints files are there but the catalog still waits: the store must still say so, and
    the next finish must do the work (it once said "nothing to finish" for ever)."""
    from seeds.synth import synthesize
    from storage.catalog import DerivedPendingError
    from storage.local import store_imports
    from storage.local.store import LocalStore

    synthesize(40, tmp_path / "seeds", seed=5)
    db = tmp_path / "db.json"
    monkeypatch.setattr(store_imports, "DERIVE_BEFORE_COMMIT", 0)  # two commits, as a big import
    with Store.open(db) as store:
        assert store.import_paths([tmp_path / "seeds"], derive=False).ok
        real_commit = LocalStore._commit

        def stopped(self, state, catalog):
            raise KeyboardInterrupt  # stands for a kill -9 between the two steps

        monkeypatch.setattr(LocalStore, "_commit", stopped)
        with pytest.raises(KeyboardInterrupt):
            store.finish_derived()
        monkeypatch.setattr(LocalStore, "_commit", real_commit)
    assert list((tmp_path / "db.json.d" / "posts").glob("*.hints.json"))  # files written
    with Store.open(db) as store:
        assert store.derived_pending == 40
        with pytest.raises(DerivedPendingError):
            store.similar(store.ids()[0])
    result = _cli("--db", str(db), "finish-import")
    assert result.exit_code == 0 and "done for 40 posts" in result.output, result.output
    with Store.open(db) as store:
        assert store.derived_pending == 0
        store.similar(store.ids()[0])  # answers now
