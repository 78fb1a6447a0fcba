"""The Store API: import, idempotence, queue order, reviews kept apart, persistence."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from sample_ids import SEED_IDS

from storage import (
    InvalidStatusError,
    Store,
    UnknownPostError,
    samples_dir,
)


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "db.json") as s:
        report = s.import_paths([samples_dir()])
        assert len(report.imported) == 5 and report.errors == []
        yield s


def test_import_stores_every_sample_post_with_its_reference_as_id(store):
    assert sorted(store.ids()) == sorted(SEED_IDS.values())
    post = store.get(SEED_IDS["001"])
    assert (
        post.title
        == "building a safer workflow for handling background jobs with php: step by step"
    )
    assert post.meta["stack"] == ["php", "backend", "php"]
    assert post.meta["flags"]["needs_human_review"] == 1
    assert post.source["path"].endswith("001_f5d76b64dc71a99a.txt")
    assert len(post.source["sha256"]) == 64
    assert [b["type"] for b in post.body].count("image") == 2
    assert post.review is None


def test_reimport_is_idempotent_and_changed_file_updates(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(samples_dir(), corpus)
    with Store.open(tmp_path / "db.json") as store:
        assert len(store.import_paths([corpus]).imported) == 5
        data_dir = tmp_path / "db.json.d"
        files = sorted(p for p in data_dir.rglob("*") if p.is_file() and "lock" not in p.name)
        assert [p.name for p in files if p.parent.name == "posts"] == [
            "000001.hints.json",
            "000001.json",
        ]
        before = {p: p.stat().st_mtime_ns for p in files}
        again = store.import_paths([corpus])
        assert (len(again.imported), len(again.updated), len(again.unchanged)) == (0, 0, 5)
        after = sorted(p for p in data_dir.rglob("*") if p.is_file() and "lock" not in p.name)
        assert after == files and {p: p.stat().st_mtime_ns for p in files} == before
        assert len(store) == 5

        target = corpus / "000_d88866b715cabc30.txt"
        target.write_text(target.read_text().replace("maintenance guide", "upkeep guide", 1))
        third = store.import_paths([corpus])
        assert third.updated == [SEED_IDS["000"]] and len(third.unchanged) == 4
        assert store.get(SEED_IDS["000"]).title.endswith("upkeep guide")
        assert len(store) == 5


def test_post_without_reference_gets_a_doc_id(tmp_path):
    doc = tmp_path / "plain.txt"
    doc.write_text("a title\n\nsome body text here.\n", encoding="utf-8")
    with Store.open(tmp_path / "db.json") as store:
        report = store.import_paths([doc])
        assert len(report.imported) == 1
        post_id = report.imported[0]
        assert post_id.startswith("doc-") and len(post_id) == 16
        assert store.get(post_id).title == "a title"


def test_bad_files_are_named_and_good_files_still_import(tmp_path):
    corpus = tmp_path / "mixed"
    shutil.copytree(samples_dir(), corpus)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 20)
    (corpus / "latin1.txt").write_bytes("caf\xe9 cr\xe8me\n\nbody.\n".encode("latin-1"))
    with Store.open(tmp_path / "db.json") as store:
        report = store.import_paths([corpus, tmp_path / "missing.txt"])
        assert len(report.imported) == 5
        reasons = {Path(e.path).name: e.reason for e in report.errors}
        assert set(reasons) == {"empty.txt", "binary.txt", "latin1.txt", "missing.txt"}
        assert "empty" in reasons["empty.txt"]
        assert "binary" in reasons["binary.txt"]
        assert "UTF-8" in reasons["latin1.txt"]
        assert "no such file" in reasons["missing.txt"]
        assert all(str(e).startswith(e.path + ": ") for e in report.errors)


def test_queue_order_puts_pending_needs_review_first_then_by_reference(store):
    ids = [row.id for row in store.search("", limit=None)]
    # 001, 003, 004 need review; sorted by reference within each group
    assert ids == [
        SEED_IDS["001"],
        SEED_IDS["004"],
        SEED_IDS["003"],
        SEED_IDS["002"],
        SEED_IDS["000"],
    ]
    store.set_review(SEED_IDS["001"], "approved")
    ids = [row.id for row in store.search("", limit=None)]
    assert ids[:2] == [SEED_IDS["004"], SEED_IDS["003"]]
    assert ids[2:] == [SEED_IDS["002"], SEED_IDS["001"], SEED_IDS["000"]]
    assert [r.id for r in store.search("", limit=2)] == ids[:2]


def journal_records(data_dir: Path) -> list[dict]:
    """The records of journal.jsonl (``<crc32> <json>`` lines), the header aside."""
    lines = (data_dir / "journal.jsonl").read_bytes().splitlines()
    return [orjson.loads(line.split(b" ", 1)[1]) for line in lines][1:]


def test_decision_is_saved_to_its_own_file_and_survives_reopen(tmp_path):
    db = tmp_path / "db.json"
    data_dir = tmp_path / "db.json.d"
    with Store.open(db) as store:
        store.import_paths([samples_dir()])
        others = {
            p: p.read_bytes()
            for p in data_dir.rglob("*")
            if p.is_file() and "journal" not in p.name
        }
        review = store.set_review(SEED_IDS["003"], "changes_requested", 'fix "the" title\nplease')
        assert review.status == "changes_requested" and review.decided_at.endswith("Z")
        # posts, shelf, derived files untouched: only the journal copies grew
        assert {p: p.read_bytes() for p in others} == others
    (record,) = journal_records(data_dir)
    (post_id, saved) = record["decisions"].popitem()
    assert post_id == SEED_IDS["003"] and saved["note"] == 'fix "the" title\nplease'
    with Store.open(db) as store:
        again = store.get(SEED_IDS["003"]).review
        assert again is not None and again.note == 'fix "the" title\nplease'
        assert again.content_sha256 == store.get(SEED_IDS["003"]).source["sha256"]
        assert store.progress() == (1, 3)


def test_undo_restores_previous_decision(store):
    pid = SEED_IDS["004"]
    first = store.set_review(pid, "approved", "ok")
    store.set_review(pid, "rejected")
    store.restore_review(pid, first)
    assert store.review(pid) == first
    store.restore_review(pid, None)
    assert store.review(pid) is None and store.summary(pid).status == "pending"


def test_unknown_status_and_unknown_id_are_clear_errors(store):
    with pytest.raises(InvalidStatusError, match="allowed: pending, approved, rejected"):
        store.set_review(SEED_IDS["000"], "maybe")
    with pytest.raises(UnknownPostError, match="no post with id 'nope'"):
        store.set_review("nope", "approved")
    with pytest.raises(UnknownPostError):
        store.get("nope")


def test_two_handles_see_each_others_writes(tmp_path):
    db = tmp_path / "db.json"
    with Store.open(db) as first, Store.open(db) as second:
        first.import_paths([samples_dir()])
        assert len(second) == 0
        assert second.refresh() is True
        assert len(second) == 5
        second.set_review(SEED_IDS["002"], "rejected", "dup")
        assert first.refresh() is True
        assert first.review(SEED_IDS["002"]).status == "rejected"
        assert first.refresh() is False


def test_damaged_index_cache_is_rebuilt_from_the_segments(tmp_path):
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        store.import_paths([samples_dir()])
    (index,) = (tmp_path / "db.json.d").glob("index-*.cdx")
    index.write_bytes(index.read_bytes()[:100])
    with Store.open(db, warn=(warnings := []).append) as store:
        assert len(store) == 5
        assert store.get(SEED_IDS["002"]).meta["difficulty"] == "advanced"
        assert [r.id for r in store.search("", limit=1)] == [SEED_IDS["001"]]
    assert len(warnings) == 1 and str(index) in warnings[0]


def test_a_big_rebuild_says_whether_this_command_keeps_it(tmp_path, monkeypatch):
    """A catalog rebuilt from the segments is said from REBUILD_SAID_FROM posts on; a
    read-only open, which writes nothing, says that it will not be kept (at 1,000,000 posts
    each such command spent minutes on it again)."""
    from storage.local import store_base

    monkeypatch.setattr(store_base, "REBUILD_SAID_FROM", 5)
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        store.import_paths([samples_dir()])
    data_dir = tmp_path / "db.json.d"
    for derived in data_dir.glob("index-*.cdx"):
        derived.unlink()
    told = {}
    for writable in (False, True):
        with Store.open(db, writable=writable, warn=(said := []).append) as store:
            assert len(store.search_ids("stack:php", limit=None)) >= 1
        told[writable] = [w for w in said if "building the catalog of 5 posts" in w]
        assert bool(list(data_dir.glob("index-*.cdx"))) == writable  # kept when writable
    assert len(told[False]) == 1 and "does not save it" in told[False][0]
    assert len(told[True]) == 1 and "does not save it" not in told[True][0]


def test_a_near_dups_file_in_the_old_words_is_shown_in_the_new(tmp_path):
    """A store written before the score's body reason was renamed keeps its near-dups
    file until the next import; its hints read "sentences alike", not "body N% shared"
    (which claimed the share of words the compare screen shows, and is not)."""
    near_copy = Path(__file__).resolve().parents[1] / "data" / "similar" / "004_near_copy.txt"
    db = tmp_path / "db.json"
    with Store.open(db) as s:
        assert s.import_paths([samples_dir(), near_copy]).ok
    (path,) = (tmp_path / "db.json.d").glob("near-dups-*.json")
    data = orjson.loads(path.read_bytes())
    new = data["hints"]["anp-ref-012395-2485"][0]["message"]
    assert new.endswith("(sentences alike 100%, title 81%, same topic)")
    old = new.replace("(sentences alike 100%", "(body 100% shared")
    data["hints"]["anp-ref-012395-2485"][0]["message"] = old
    path.write_bytes(orjson.dumps(data))
    with Store.open(db, writable=False) as s:
        (hint,) = [h for h in s.get("anp-ref-012395-2485").hints if h["code"] == "near_duplicate"]
    assert hint["message"] == new


@pytest.mark.parametrize("damage", ["missing", "other code"])
def test_an_import_that_changes_nothing_saves_a_stale_catalog(tmp_path, monkeypatch, damage):
    """After an upgrade (a catalog of other code) or the loss of the catalog file, a
    read-only command builds it for itself and says the next import saves it; a re-import
    of the same files, which changes nothing, does."""
    from storage.local import store_base

    monkeypatch.setattr(store_base, "REBUILD_SAID_FROM", 5)
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        store.import_paths([samples_dir()])
    data_dir = tmp_path / "db.json.d"
    (index,) = data_dir.glob("index-*.cdx")
    if damage == "missing":
        index.unlink()
    else:
        raw = index.read_bytes()
        head, _, body = raw.partition(b"\n")
        stamp = orjson.loads(head)
        index.write_bytes(orjson.dumps({**stamp, "code": "0123456789abcdef"}) + b"\n" + body)
    with Store.open(db, writable=False, warn=(said := []).append) as store:
        assert store.search_ids("stack:php", limit=None)
    assert any("the next `copydesk import`, does" in w for w in said)
    told: dict[str, list] = {"stale": [], "current": []}
    for state in told:  # the second import finds the catalog the first one saved
        with Store.open(db, warn=(said := []).append) as store:
            report = store.import_paths(  # as `copydesk import` calls it
                [samples_dir()], progress=lambda *p, seen=told[state]: seen.append(p), derive=False
            )
            assert not report.imported and not report.updated and len(report.unchanged) == 5
        assert bool([w for w in said if "building the catalog of 5 posts" in w]) == (
            state == "stale"
        )
    # the rebuild's progress, in posts, after the import's own
    assert told["stale"] == [*told["current"], (5, 5)]
    with Store.open(db, writable=False, warn=(said := []).append) as store:
        assert store.search_ids("stack:php", limit=None)
    assert not [w for w in said if "building the catalog" in w], said
