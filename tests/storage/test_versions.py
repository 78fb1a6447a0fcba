"""What a decision was made on stays readable after a re-import changes the post."""

from __future__ import annotations

import shutil

from storage import Store, samples_dir


def _edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_reviewed_version_survives_a_reimport_and_reopening(tmp_path):
    corpus = tmp_path / "in"
    shutil.copytree(samples_dir(), corpus)
    db = tmp_path / "db.json"
    with Store.open(db) as store:
        store.import_paths([corpus])
        post_id = store.ids()[0]
        before = store.get(post_id)
        store.set_review(post_id, "approved", note="fine as it is")
        assert store.reviewed_version(post_id) is None  # not changed since
        path = corpus / before.source["path"].rsplit("/", 1)[1]
        _edit(path, "\n\n", "\n\nA paragraph the generator added later.\n\n")
        assert store.import_paths([corpus]).updated == [post_id]
    with Store.open(db, writable=False) as store:
        old = store.reviewed_version(post_id)
        assert old is not None and old.body == before.body and old.title == before.title
        now = store.get(post_id)
        assert now.body != before.body and store.summary(post_id).changed
        assert old.review is not None and old.review.note == "fine as it is"


def test_a_post_never_decided_or_decided_on_its_current_text_has_no_reviewed_version(tmp_path):
    with Store.open(tmp_path / "db.json") as store:
        store.import_paths([samples_dir()])
        first, second = store.ids()[:2]
        store.set_review(second, "rejected")
        assert store.reviewed_version(first) is None
        assert store.reviewed_version(second) is None
