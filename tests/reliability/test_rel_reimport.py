"""Re-importing a changed post keeps its decision and marks it "changed since review"."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

import seeds
from storage import Review, Store, samples_dir
from tui.cli import main


def _ids(rows) -> list[str]:
    return [row.id for row in rows]


def test_reimport_of_a_changed_post_keeps_the_decision_and_flags_it_changed(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(samples_dir(), corpus)
    by_id = {seeds.read_file(p).id: p for p in corpus.iterdir()}
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        store.import_paths([corpus])
        edited, untouched = sorted(by_id)[:2]
        store.set_review(edited, "approved", "read it, fine")
        store.set_review(untouched, "rejected", "duplicate")
        decided_sha = store.get(edited).source["sha256"]
        assert store.search("changed:yes", limit=None) == []

    path = by_id[edited]
    original = path.read_text(encoding="utf-8")
    post = seeds.parse(original)
    paragraph = next(b["text"] for b in post.body if b["type"] == "paragraph")
    path.write_text(
        original.replace(paragraph, paragraph + " One more sentence.", 1), encoding="utf-8"
    )

    with Store.open(db) as store:
        report = store.import_paths([corpus])
        assert report.updated == [edited] and len(report.unchanged) == 4
        stored = store.get(edited)
        assert stored.review is not None
        assert (stored.review.status, stored.review.note) == ("approved", "read it, fine")
        assert stored.review.content_sha256 == decided_sha != stored.source["sha256"]
        assert stored.changed is True
        assert store.summary(edited).changed is True
        assert store.get(untouched).changed is False
        assert _ids(store.search("changed:yes", limit=None)) == [edited]
        assert store.count("changed:yes") == 1
        not_changed = _ids(store.search("changed:no", limit=None))
        assert edited not in not_changed and untouched in not_changed
        assert _ids(store.search("changed:yes status:approved", limit=None)) == [edited]

    runner = CliRunner()
    shown = runner.invoke(main, ["--db", str(db), "show", edited, "--json"])
    assert shown.exit_code == 0
    review = json.loads(shown.stdout)["review"]
    assert review["changed_since_review"] is True and review["status"] == "approved"
    other = json.loads(runner.invoke(main, ["--db", str(db), "show", untouched, "--json"]).stdout)
    assert other["review"]["changed_since_review"] is False
    listed = runner.invoke(main, ["--db", str(db), "list", "--json", "-q", "changed:yes"])
    assert [row["id"] for row in json.loads(listed.stdout)] == [edited]

    with Store.open(db) as store:
        # deciding again on the new text clears the mark
        store.set_review(edited, "approved", "re-read")
        assert store.get(edited).changed is False
        assert store.search("changed:yes", limit=None) == []
        # a decision made on the first text is changed again; reverting the file clears it
        store.restore_review(
            edited, Review("approved", "on the first text", content_sha256=decided_sha)
        )
        assert store.get(edited).changed is True
        path.write_text(original, encoding="utf-8")
        assert store.import_paths([corpus]).updated == [edited]
        assert store.get(edited).changed is False
        assert _ids(store.search("changed:yes", limit=None)) == []
