"""The team desk on a real server: claims with leases, min_reviews, disputes, live
refresh, schema versions, push, and the CLI commands."""

from __future__ import annotations

import hashlib
import time
import uuid

import orjson
import psycopg
import pytest
from click.testing import CliRunner

from storage import DecisionRequest, Status, Store, StoreError, samples_dir
from storage.pg import PostgresStore, SchemaError, init_database
from storage.pg.schema import MIGRATIONS, VERSION
from storage.pg.store_base import POLL_S
from tui.cli import main

NEEDS_REVIEW = ["anp-ref-003275-2123", "anp-ref-012395-2485", "anp-ref-013900-8738"]
OTHER = ["anp-ref-000357-8833", "anp-ref-019995-4029"]


@pytest.fixture
def team_url(pg_url):
    with PostgresStore.open(pg_url, reviewer="importer") as store:
        assert len(store.import_samples().imported) == 5
    return pg_url


@pytest.fixture
def opened(team_url):
    stores: list[PostgresStore] = []

    def open_as(reviewer: str) -> PostgresStore:
        store = PostgresStore.open(team_url, reviewer=reviewer)
        stores.append(store)
        return store

    yield open_as
    for store in stores:
        store.close()


def wait_for(check, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not seen in time"
        time.sleep(0.02)


def test_claims_go_in_queue_order_and_never_to_two_reviewers(opened):
    alice, bob = opened("alice"), opened("bob")
    assert alice.team.claim_next(2) == NEEDS_REVIEW[:2]
    assert bob.team.claim_next(5) == NEEDS_REVIEW[2:]
    assert bob.team.claim_next(1) == []
    holders = {c.post_id: c.reviewer for c in bob.team.claims()}
    assert holders == {
        NEEDS_REVIEW[0]: "alice",
        NEEDS_REVIEW[1]: "alice",
        NEEDS_REVIEW[2]: "bob",
    }
    assert all(550 < c.expires_in_s <= 600 for c in bob.team.claims())  # default 10 minutes
    assert bob.team.claim(NEEDS_REVIEW[0]) is None  # held by alice
    assert bob.team.held_by_other(NEEDS_REVIEW[0]).reviewer == "alice"
    assert bob.team.skips(NEEDS_REVIEW[0]) and not bob.team.skips(NEEDS_REVIEW[2])
    stolen = bob.team.claim(NEEDS_REVIEW[0], steal=True)
    assert stolen is not None and stolen.reviewer == "bob"
    assert alice.team.claim(OTHER[0]) is None  # needs no review: never claimed


def test_decision_releases_and_quitting_releases_all(opened):
    alice, bob = opened("alice"), opened("bob")
    first, second = alice.team.claim_next(2)
    alice.set_review(first, "approved")
    assert {c.post_id for c in bob.team.claims()} == {second}
    assert bob.team.claim_next(1) == [NEEDS_REVIEW[2]]  # first is decided, second held
    assert alice.team.release() == 1
    assert bob.team.claim_next(1) == [second]


def test_a_note_keeps_the_claim_and_a_decision_ends_it(opened):
    alice, bob = opened("alice"), opened("bob")
    (first,) = alice.team.claim_next(1)
    alice.set_review(first, "pending", note="checking the second code block")
    bob.refresh()
    assert bob.team.held_by_other(first).reviewer == "alice"  # still alice's to decide
    assert bob.team.claim_next(1) != [first]
    alice.set_reviews([DecisionRequest(first, Status.PENDING, "and the third")])  # many-post path
    assert bob.team.claim(first) is None
    assert {c.post_id: c.reviewer for c in bob.team.claims()}[first] == "alice"
    alice.set_review(first, "changes_requested", note="and the third")
    assert first not in {c.post_id for c in bob.team.claims()}  # decided: the claim ended


def test_a_v2_database_migrates_to_notes_that_keep_claims(pg_server):
    name, url = pg_server.fresh(migrated=False)
    try:
        with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
            for number, migration in enumerate(MIGRATIONS[:2], 1):
                conn.execute(migration)
                conn.execute("INSERT INTO copydesk_schema (version) VALUES (%s)", (number,))
        assert init_database(url) == (2, VERSION)
        with PostgresStore.open(url, reviewer="alice") as alice:
            alice.import_samples()
            (first,) = alice.team.claim_next(1)
            alice.set_review(first, "pending", note="a note only")
            with PostgresStore.open(url, reviewer="bob") as bob:
                assert bob.team.held_by_other(first).reviewer == "alice"
    finally:
        pg_server.drop(name)


def test_db_init_writes_anew_a_catalog_another_version_wrote(team_url, monkeypatch, tmp_path):
    from storage.catalog import Catalog
    from storage.pg.store_base import PgStoreBase

    monkeypatch.setenv("COPYDESK_CACHE_DIR", str(tmp_path / "cache"))
    with psycopg.connect(team_url, autocommit=True) as conn:
        conn.execute("UPDATE catalogs SET data = %s", (b"a catalog of another format",))
    with PostgresStore.open(team_url, reviewer="alice") as alice:  # built from the posts
        expected = alice.search_ids("kubernetes", None)
        assert len(alice) == 5
    assert init_database(team_url) == (VERSION, VERSION)
    with psycopg.connect(team_url) as conn:
        (data,) = conn.execute("SELECT data FROM catalogs").fetchone()
    assert Catalog.from_bytes(bytes(data)).ids()  # this version's format now
    monkeypatch.setattr(PgStoreBase, "_entries_catalog", lambda self, conn: pytest.fail("built"))
    with PostgresStore.open(team_url, reviewer="alice") as alice:
        assert alice.search_ids("kubernetes", None) == expected
    assert init_database(team_url) == (VERSION, VERSION)  # readable: nothing to write


def test_lease_ends_and_renewal_keeps_it(opened):
    alice, bob = opened("alice"), opened("bob")
    first, second = alice.team.claim_next(2, lease_s=1.0)
    alice.team.renew([first], lease_s=60)
    assert bob.team.claim(second) is None  # alice's lease on it still runs
    wait_for(lambda: bob.team.claim(second) is not None, 10)  # it ended: free again
    assert bob.team.claim(first) is None  # the renewed one did not end
    assert {c.post_id: c.reviewer for c in bob.team.claims()} == {first: "alice", second: "bob"}


def test_others_decisions_and_claims_arrive_within_a_second(opened):
    alice, bob = opened("alice"), opened("bob")
    bob.refresh()
    start = time.monotonic()
    alice.set_review(NEEDS_REVIEW[0], "rejected", note="no")
    alice.team.claim_next(1)

    def seen() -> bool:
        bob.refresh()
        return (
            bob.status_of(NEEDS_REVIEW[0]) == Status.REJECTED
            and bob.team.holder(NEEDS_REVIEW[1]) is not None
        )

    wait_for(seen, 1.0)
    assert time.monotonic() - start < 1.0
    assert bob.review(NEEDS_REVIEW[0]).reviewer == "alice"


def test_min_reviews_two_keeps_posts_queued_and_disputes_show(opened):
    alice, bob, carol = opened("alice"), opened("bob"), opened("carol")
    alice.set_min_reviews(2)
    post = NEEDS_REVIEW[0]
    alice.set_review(post, "approved")
    assert alice.status_of(post) == Status.PENDING  # one of two reviewers
    assert alice.review(post).status == "approved"  # alice's own decision
    assert alice.team.skips(post) and alice.team.claim_next(1) == [NEEDS_REVIEW[1]]
    bob.refresh()
    assert bob.team.claim_next(1) == [post]  # still in bob's queue
    bob.set_review(post, "rejected")
    carol.refresh()
    assert carol.status_of(post) == Status.DISPUTED
    assert carol.search_ids("status:disputed", limit=None) == [post]
    assert post not in carol.team.claim_next(3)  # two reviewers decided: out of the queue
    conflicts = carol.conflicts()
    assert {(c.post_id, c.theirs.reviewer) for c in conflicts} == {(post, "alice"), (post, "bob")}
    carol.resolve_conflict(post, "theirs", reviewer="bob")
    assert carol.status_of(post) == Status.REJECTED
    assert carol.conflicts() == []
    # the reviewers' own decisions are untouched: agreement still sees the disagreement
    assert carol.team.ratings()[post] == {"alice": "approved", "bob": "rejected"}


def test_undo_withdraws_only_this_reviewers_decision(opened):
    alice, bob = opened("alice"), opened("bob")
    post = NEEDS_REVIEW[0]
    alice.set_review(post, "approved")
    bob.refresh()
    before = bob.review(post)  # alice's, seen by bob
    bob.set_review(post, "rejected")
    bob.restore_reviews({post: before})
    assert bob.book.of(post, "bob") is None
    assert bob.status_of(post) == Status.APPROVED


def test_schema_missing_and_newer_are_refused(pg_server):
    _, bare = pg_server.fresh(migrated=False)
    with pytest.raises(SchemaError, match="copydesk db init"):
        PostgresStore.open(bare)
    assert init_database(bare) == (0, VERSION)
    assert init_database(bare) == (VERSION, VERSION)
    with psycopg.connect(bare, autocommit=True) as conn:
        conn.execute("INSERT INTO copydesk_schema (version) VALUES (%s)", (VERSION + 1,))
    with pytest.raises(SchemaError, match="newer than this copydesk"):
        PostgresStore.open(bare)
    with pytest.raises(SchemaError, match="newer"):
        init_database(bare)


def test_a_password_never_shows_in_errors(pg_server):
    url = pg_server.url_of("no_such_database").replace("://postgres@", "://postgres:Hunt3r2@")
    with pytest.raises(StoreError) as caught:
        PostgresStore.open(url)
    assert "Hunt3r2" not in str(caught.value) and "no_such_database" in str(caught.value)
    result = CliRunner().invoke(main, ["list", "--db", url])
    assert result.exit_code == 1 and "Hunt3r2" not in result.output


def test_push_moves_posts_and_decisions_and_is_safe_to_repeat(tmp_path, pg_url):
    local_db = tmp_path / "local.json"
    with Store.open(local_db) as local:
        local.import_paths([samples_dir()])
        local.set_review(NEEDS_REVIEW[0], "approved", note="fine", reviewer="dana")
        local.set_review(NEEDS_REVIEW[1], "rejected", reviewer="dana")
        local.save_view("php", "stack:php")
    runner = CliRunner()
    first = runner.invoke(main, ["push", str(local_db), "--db", pg_url, "--json"])
    assert first.exit_code == 0, first.output
    report = orjson.loads(first.output)
    assert len(report["posts"]["imported"]) == 5
    assert sorted(report["decisions"]["added"]) == sorted(NEEDS_REVIEW[:2])
    assert report["views_added"] == ["php"]
    again = orjson.loads(
        runner.invoke(main, ["push", str(local_db), "--db", pg_url, "--json"]).output
    )
    assert len(again["posts"]["unchanged"]) == 5 and again["decisions"]["added"] == []
    assert sorted(again["decisions"]["agreed"]) == sorted(NEEDS_REVIEW[:2])
    with Store.open(local_db) as local:  # dana changed her mind locally: a conflict
        local.set_review(NEEDS_REVIEW[1], "approved", reviewer="dana")
    third = orjson.loads(
        runner.invoke(main, ["push", str(local_db), "--db", pg_url, "--json"]).output
    )
    assert third["decisions"]["conflicts"] == [NEEDS_REVIEW[1]]
    with PostgresStore.open(pg_url, reviewer="erin") as server:
        assert server.get(NEEDS_REVIEW[0]).review.note == "fine"
        assert server.status_of(NEEDS_REVIEW[1]) == Status.REJECTED  # the server's stays
        (conflict,) = server.conflicts()
        assert conflict.theirs.status == "approved" and conflict.ours.status == "rejected"
        server.resolve_conflict(NEEDS_REVIEW[1], "theirs")
        assert server.status_of(NEEDS_REVIEW[1]) == Status.APPROVED
        assert server.conflicts() == []


def test_cli_team_commands(team_url, monkeypatch):
    runner = CliRunner()
    monkeypatch.setenv("COPYDESK_REVIEWER", "alice")
    monkeypatch.setenv("COPYDESK_DB", team_url)
    claimed = runner.invoke(main, ["claim", "--count", "2", "--lease", "30", "--json"])
    assert claimed.exit_code == 0, claimed.output
    rows = orjson.loads(claimed.output)
    assert [r["id"] for r in rows] == NEEDS_REVIEW[:2]
    assert rows[0]["reviewer"] == "alice" and rows[0]["lease_seconds"] == 30
    listing = runner.invoke(main, ["claims", "--json"])
    assert {c["id"] for c in orjson.loads(listing.output)} == set(NEEDS_REVIEW[:2])
    assert "released 1 claim" in runner.invoke(main, ["release", NEEDS_REVIEW[1]]).output
    reviewed = runner.invoke(main, ["review", NEEDS_REVIEW[0], "--status", "approved"])
    assert reviewed.exit_code == 0 and "by alice" in reviewed.output
    assert orjson.loads(runner.invoke(main, ["claims", "--json"]).output) == []
    monkeypatch.setenv("COPYDESK_REVIEWER", "bob")
    runner.invoke(main, ["review", NEEDS_REVIEW[0], "--status", "approved"])
    runner.invoke(main, ["review", NEEDS_REVIEW[1], "--status", "rejected"])
    monkeypatch.setenv("COPYDESK_REVIEWER", "alice")
    runner.invoke(main, ["review", NEEDS_REVIEW[1], "--status", "approved"])
    agreement = orjson.loads(runner.invoke(main, ["agreement", "--json"]).output)
    (pair,) = agreement["pairs"]
    assert pair["reviewers"] == ["alice", "bob"] and pair["posts"] == 2
    assert pair["percent_agreement"] == 0.5
    stats = orjson.loads(runner.invoke(main, ["stats", "--json"]).output)
    assert {r["reviewer"]: r["decisions"] for r in stats["reviewers"]} == {"alice": 2, "bob": 2}
    assert stats["reviewers"][0]["median_seconds"] is not None  # alice claimed first
    listed = orjson.loads(runner.invoke(main, ["list", "--json", "-q", "status:disputed"]).output)
    assert [r["id"] for r in listed] == [NEEDS_REVIEW[1]]
    config = runner.invoke(main, ["db", "config", "min_reviews", "2"])
    assert config.exit_code == 0 and "min_reviews = 2" in config.output
    assert "min_reviews = 2" in runner.invoke(main, ["db", "config"]).output
    assert runner.invoke(main, ["db", "config", "min_reviews", "0"]).exit_code == 2
    assert runner.invoke(main, ["db", "init"]).output.endswith("up to date\n")


def test_team_commands_on_a_local_store_say_what_they_need(tmp_path):
    result = CliRunner().invoke(main, ["claims", "--db", str(tmp_path / "x.json")])
    assert result.exit_code == 2 and "postgresql://" in result.output


def test_a_decided_post_is_not_claimed_again(opened):
    alice, bob = opened("alice"), opened("bob")
    alice.team.claim(NEEDS_REVIEW[0])
    alice.set_review(NEEDS_REVIEW[0], "approved")
    assert bob.team.claim(NEEDS_REVIEW[0]) is None  # done: min_reviews 1
    assert bob.team.claims() == []


def test_iter_posts_pages_through_the_table(opened, monkeypatch):
    """Pages of two: five posts take three queries and none is given twice or missed."""
    import storage.pg.store as pg_store

    monkeypatch.setattr(pg_store, "ITER_BATCH", 2)
    store = opened("reader")
    ids = [record["id"] for record in store.iter_posts()]
    assert ids == sorted(NEEDS_REVIEW + OTHER)


# one decision in one round trip (schema v2: copydesk_decide_one)

ONE = "CALL copydesk_decide_one(%s, %s, %s, %s, %s, %s, %s::timestamptz)"
MANY = "SELECT * FROM copydesk_decide(%s, %s, %s, %s, %s, %s, %s::timestamptz[])"


def _state(conn: psycopg.Connection, post: str) -> tuple:
    """What a decision leaves behind on one post, without its ids and clock times (the
    post's own sha256 shown as "post")."""
    decisions = conn.execute(
        "SELECT d.reviewer, d.status, d.note,"
        " CASE WHEN d.content_sha256 = p.sha256 THEN 'post' ELSE d.content_sha256 END,"
        " d.spent_s IS NOT NULL"
        " FROM decisions d JOIN posts p ON p.id = d.post_id"
        " WHERE d.post_id = %s ORDER BY d.reviewer",
        (post,),
    ).fetchall()
    queue = conn.execute(
        "SELECT reviews, done, holder, claimed_at IS NULL, lease_until IS NULL FROM queue"
        " WHERE post_id = %s",
        (post,),
    ).fetchone()
    return decisions, queue


def test_one_post_procedure_leaves_what_the_many_posts_function_leaves(team_url):
    one, many = NEEDS_REVIEW[0], NEEDS_REVIEW[1]
    with psycopg.connect(team_url, autocommit=True) as conn:
        conn.execute("UPDATE settings SET value = '2' WHERE key = 'min_reviews'")
        conn.execute(
            "UPDATE queue SET holder = 'alice', claimed_at = now() - interval '5 s',"
            " lease_until = now() + interval '60 s' WHERE post_id = ANY(%s)",
            ([one, many],),
        )
        steps = [
            ("alice", "approved", "first look", None),  # claimed: released, spent_s kept
            ("alice", "rejected", None, None),  # a note NULL keeps the note
            ("bob", "approved", "", "f" * 64),  # the second reviewer: done
            ("alice", None, None, None),  # withdrawn: open again
            ("carol", "pending", "a note only", None),  # a note is no decision
        ]
        for reviewer, status, note, sha in steps:
            got = conn.execute(
                ONE, (reviewer, one, status, note, sha, uuid.uuid4(), None)
            ).fetchone()
            rows = conn.execute(
                MANY, (reviewer, [many], [status], [note], [sha], uuid.uuid4(), None)
            ).fetchall()
            assert got is not None and len(rows) == 1
            assert got[:2] == rows[0][2:4]  # status, note
            assert _state(conn, one) == _state(conn, many)
        decisions, queue = _state(conn, one)
        assert queue == (1, False, None, True, True)  # bob's decision counts; nobody holds it
        assert ("alice", None, "first look", "post", False) in decisions
        assert ("bob", "approved", "", "f" * 64, False) in decisions


def test_a_single_decision_wakes_another_client(opened):
    """Seen sooner than a poll could see it: the procedure's notification arrived."""
    alice, bob = opened("alice"), opened("bob")
    synced = time.monotonic()  # bob syncs after this: his next poll is POLL_S later
    bob.refresh()  # (the wake-up a new connection starts with)
    alice.set_review(NEEDS_REVIEW[0], "approved", note="ok")
    while bob.status_of(NEEDS_REVIEW[0]) != Status.APPROVED:
        bob.refresh()
        assert time.monotonic() - synced < POLL_S, "seen by polling, not notified"
        time.sleep(0.005)


def test_a_v1_database_migrates_to_the_one_post_procedure(pg_server):
    name, url = pg_server.fresh(migrated=False)
    try:
        with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
            conn.execute(MIGRATIONS[0])
            conn.execute("INSERT INTO copydesk_schema (version) VALUES (1)")
        with pytest.raises(SchemaError, match="schema version 1"):
            PostgresStore.open(url)
        assert init_database(url) == (1, VERSION)
        with psycopg.connect(url) as conn:
            methods = conn.execute(
                "SELECT attname, attcompression FROM pg_attribute WHERE attrelid = 'posts'::regclass"
                " AND attname IN ('record', 'hints', 'body_text', 'index_entry')"
            ).fetchall()
            try:  # a server built without lz4 refuses it (and keeps pglz)
                conn.execute("CREATE TEMP TABLE lz4_probe (t text COMPRESSION lz4)")
                lz4 = True
            except psycopg.errors.FeatureNotSupported:
                lz4 = False
        assert len(methods) == 4 and {m for _, m in methods} == {"l" if lz4 else ""}
        with PostgresStore.open(url, reviewer="alice") as alice:
            alice.import_samples()
            started = time.monotonic()
            saved = alice.set_review(NEEDS_REVIEW[0], "rejected", note="no")
            assert saved.status == "rejected" and saved.reviewer == "alice"
            assert time.monotonic() - started < 5
            with PostgresStore.open(url, reviewer="bob") as bob:
                assert bob.review(NEEDS_REVIEW[0]).note == "no"
    finally:
        pg_server.drop(name)


# the catalog read from this machine's copy (storage/pg/catalog_cache.py)


def test_the_catalog_comes_from_this_machines_copy_only_when_it_is_the_servers(
    team_url, tmp_path, monkeypatch
):
    from seeds.synth import synthesize
    from storage.pg import catalog_cache

    monkeypatch.setenv("COPYDESK_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "team-catalogs"
    served: list[bool] = []  # per catalog read: from the copy (True) or the server
    load = catalog_cache.load
    monkeypatch.setattr(
        catalog_cache, "load", lambda *a: served.append(load(*a) is not None) or load(*a)
    )

    def digest_on_server() -> str:
        with psycopg.connect(team_url) as conn:
            return conn.execute(
                "SELECT sha256 FROM catalogs ORDER BY generation DESC LIMIT 1"
            ).fetchone()[0]

    with PostgresStore.open(team_url, reviewer="alice") as alice:
        ids = alice.ids()
    assert served == [False]  # nothing here yet: fetched, and kept
    digest = digest_on_server()
    copy = folder / f"{digest}.catalog"
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == digest
    with PostgresStore.open(team_url, reviewer="alice") as alice:
        assert alice.ids() == ids
    assert served == [False, True]
    copy.write_bytes(copy.read_bytes()[:-1] + b"x")  # damaged: never used
    with PostgresStore.open(team_url, reviewer="alice") as alice:
        assert alice.ids() == ids
        assert served == [False, True, False]
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == digest  # the server's again
        with PostgresStore.open(team_url, reviewer="bob") as bob:  # another import
            synthesize(3, tmp_path / "more", seed=5)
            bob.import_paths([str(tmp_path / "more")])
            assert digest_on_server() != digest
            new = set(bob.ids()) - set(ids)
        alice.refresh()  # the server says which catalog: the new one
        assert set(alice.ids()) == set(ids) | new and len(new) == 3
    assert (folder / f"{digest_on_server()}.catalog").exists()
    assert len(list(folder.glob("*.catalog"))) <= catalog_cache.KEEP
    monkeypatch.setenv("COPYDESK_CACHE_DIR", "")  # no copy at all
    assert catalog_cache.cache_dir() is None
    with PostgresStore.open(team_url, reviewer="carol") as carol:
        assert set(carol.ids()) == set(ids) | new
