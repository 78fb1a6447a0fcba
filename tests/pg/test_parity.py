"""The team store answers exactly as the local store on the same files: one Catalog, one
query language, the same hints, similarity, views and export."""

from __future__ import annotations

import pytest

from seeds.synth import synthesize
from storage import Store
from storage.export import export_rows, render
from storage.pg import PostgresStore

QUERIES = [
    "",
    "stack:php",
    "-stack:php flag:needs_human_review",
    "quality<70",
    "reading_time>=10 status:pending",
    "status:approved",
    "status:rejected",
    "-status:pending",
    "hint:placeholder_image",
    "changed:no",
    "kubernets",
    "postgress indexng",
    "background jobs difficulty:advanced",
    '"rollback"',
    '"small verified change"',
    "tools:composer",
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return synthesize(300, tmp_path_factory.mktemp("parity") / "corpus", seed=21)


def test_both_backends_answer_alike(corpus, tmp_path, pg_url, monkeypatch):
    monkeypatch.setenv("COPYDESK_REVIEWER", "parity")
    with Store.open(tmp_path / "db.json") as local, PostgresStore.open(pg_url) as team:
        reports = [s.import_paths([str(p) for p in corpus]) for s in (local, team)]
        assert sorted(reports[0].imported) == sorted(reports[1].imported)
        assert reports[0].warnings == reports[1].warnings
        ids = local.ids()
        assert team.ids() == ids
        for n, post_id in enumerate(ids[:90]):
            status = ("approved", "rejected", "changes_requested")[n % 3]
            for store in (local, team):
                store.set_review(post_id, status, note=f"note {n}")
        for query in QUERIES:
            for limit in (None, 50):
                assert team.search_ids(query, limit) == local.search_ids(query, limit), query
            assert team.count(query) == local.count(query), query
        assert [s.to_dict() for s in team.search("", None)] == [
            s.to_dict() for s in local.search("", None)
        ]
        assert team.progress() == local.progress()
        assert team.clusters() == local.clusters()
        for post_id in ids[::25]:
            assert team.similar(post_id, 10) == local.similar(post_id, 10)
            assert team.get(post_id).hints == local.get(post_id).hints
            assert team.summary(post_id) == local.summary(post_id)
        local_rows, team_rows = export_rows(local), export_rows(team)
        for row in local_rows + team_rows:
            row["decided_at"] = ""  # the clock of each save
        assert team_rows == local_rows
        assert render("csv", team_rows) == render("csv", local_rows)
        assert [(v.name, team.count(v.query)) for v in team.views()] == [
            (v.name, local.count(v.query)) for v in local.views()
        ]
