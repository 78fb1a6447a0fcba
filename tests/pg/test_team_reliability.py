"""Many reviewer processes on one queue: exactly once, kill -9, server restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from seeds.synth import synthesize
from storage import ImportReport
from storage.analysis import worker_pool
from storage.pg import PostgresStore, importing, init_database

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("team_child.py")
QUEUE_SIZE = 10_000
REVIEWERS = 8


def child_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("COPYDESK_DB", None)
    env["HOME"] = str(tmp_path / "home")
    env["COPYDESK_CONFIG_DIR"] = str(tmp_path / "config")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def fill_queue(url: str, corpus_dir: Path, count: int) -> list[str]:
    """``count`` synthetic posts, every one marked as needing review (the test needs a
    queue of that size, and only ~30% of synthetic posts need review)."""
    files = synthesize(count, corpus_dir, seed=5)
    with worker_pool(len(files)) as pool:
        analysed = importing.analyse([str(f) for f in files], pool, None)
    for post in analysed.posts.values():
        post.row["needs_human_review"] = True
    with PostgresStore.open(url, reviewer="setup") as store:
        store.write_posts(analysed.posts, ImportReport())
        assert len(store) == count
        return store.ids()


def read_log(path: Path) -> list[tuple[str, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, rest = line.partition(" ")
        out.append((word, rest.split(" ", 1)[0]))
    return out


def spawn(tmp_path: Path, url: str, reviewer: str, mode: str, lease: float) -> tuple:
    log = tmp_path / f"{reviewer}.log"
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), url, reviewer, str(log), mode, str(lease)],
        env=child_env(tmp_path),
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, log


def decided_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT post_id, count(*) FROM decisions WHERE status = 'approved' GROUP BY post_id"
        ).fetchall()
    return dict(rows)


def test_eight_reviewers_decide_a_10000_post_queue_exactly_once(pg_url, tmp_path):
    ids = fill_queue(pg_url, tmp_path / "corpus", QUEUE_SIZE)
    children = [spawn(tmp_path, pg_url, f"r{i}", "work", 60) for i in range(REVIEWERS)]
    for proc, _ in children:
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-2000:]
    acked: dict[str, str] = {}
    for i, (_, log) in enumerate(children):
        for word, post_id in read_log(log):
            if word == "ok":
                assert post_id not in acked, f"{post_id} decided by r{i} and {acked[post_id]}"
                acked[post_id] = f"r{i}"
            assert word != "notsaved"
    assert set(acked) == set(ids)  # none lost
    counts = decided_counts(pg_url)
    assert set(counts) == set(ids) and set(counts.values()) == {1}  # exactly once
    per_reviewer = {r: list(acked.values()).count(r) for r in set(acked.values())}
    assert len(per_reviewer) == REVIEWERS  # everyone got work
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM queue WHERE holder IS NOT NULL").fetchone() == (
            0,
        )
        assert conn.execute("SELECT count(*) FROM queue WHERE NOT done").fetchone() == (0,)


def test_a_killed_reviewers_claims_return_when_their_lease_ends(pg_url, tmp_path):
    fill_queue(pg_url, tmp_path / "corpus", 12)
    lease = 2.0
    proc, log = spawn(tmp_path, pg_url, "doomed", "hold", lease)
    deadline = time.monotonic() + 60
    while "ready" not in (log.read_text() if log.exists() else ""):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    held = [post_id for word, post_id in read_log(log) if word == "claimed"]
    assert len(held) == 5
    killed_at = time.monotonic()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    with PostgresStore.open(pg_url, reviewer="survivor") as other:
        first = other.team.claim_next(12, lease_s=60)
        if time.monotonic() - killed_at < lease - 0.5:  # the leases still run: held back
            assert not set(first) & set(held) and len(first) == 7
        time.sleep(max(0.0, lease - (time.monotonic() - killed_at)) + 0.3)
        assert sorted(other.team.claim_next(12, lease_s=60)) == sorted(held)


def own_server(settings: dict[str, str] | None = None):
    """A server of this test's own, started (a restart must not hit the others' tests)."""
    from storage.pg.localserver import LocalServer, ServerUnavailable

    try:
        server = LocalServer(settings=settings) if settings else LocalServer()
    except ServerUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    server.start()
    return server


def test_server_restart_loses_no_acknowledged_decision(tmp_path):
    server = own_server()  # fsync on: acknowledged means on disk
    try:
        url = server.create_database("restart")
        init_database(url)
        ids = fill_queue(url, tmp_path / "corpus", 600)
        children = [spawn(tmp_path, url, f"r{i}", "work", 60) for i in range(3)]
        logs = [log for _, log in children]

        def acked() -> int:
            return sum(word == "ok" for log in logs if log.exists() for word, _ in read_log(log))

        def each_working() -> bool:  # every child connected and deciding (a slow start
            # under load once put one child's first connect inside the restart)
            return all(
                log.exists() and any(word == "ok" for word, _ in read_log(log)) for log in logs
            )

        deadline = time.monotonic() + 120
        while acked() < 60 or not each_working():
            assert time.monotonic() < deadline, "the reviewers made no progress"
            time.sleep(0.05)
        before_restart = acked()
        server.restart()
        for proc, _ in children:
            _, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err[-2000:]
        assert acked() > before_restart + 100  # they reconnected and carried on
        ok: set[tuple[str, str]] = set()
        not_saved: set[tuple[str, str]] = set()
        for i, log in enumerate(logs):
            for word, post_id in read_log(log):
                if word == "ok":
                    ok.add((f"r{i}", post_id))
                elif word == "notsaved":
                    not_saved.add((f"r{i}", post_id))
        with psycopg.connect(url) as conn:
            stored = set(
                conn.execute(
                    "SELECT reviewer, post_id FROM decisions WHERE status = 'approved'"
                ).fetchall()
            )
        assert ok <= stored  # no acknowledged decision lost
        assert not (not_saved - ok) & stored  # "not saved" was true
        assert {post_id for _, post_id in stored} == set(ids)  # the queue was finished
    finally:
        server.stop()


def test_a_decision_is_on_disk_when_acknowledged_and_a_claim_need_not_be(tmp_path):
    """The procedure commits the decision before it lets the notification commit without
    waiting for the disk: the decision's commit record is flushed when set_review returns,
    while a claim's (asynchronous on purpose) usually is not yet (the WAL writer waits)."""
    server = own_server({"fsync": "off", "wal_writer_delay": "10s", "autovacuum": "off"})
    try:
        url = server.create_database("durable")
        init_database(url)
        with psycopg.connect(url, autocommit=True) as probe:
            try:
                probe.execute("CREATE EXTENSION pg_walinspect")
            except psycopg.Error as exc:
                pytest.skip(f"no pg_walinspect on this server: {exc}")
            with PostgresStore.open(url, reviewer="importer") as store:
                store.import_samples()
            alice = PostgresStore.open(url, reviewer="alice")

            def flushed(xid: str, since: str) -> bool:
                """Whether the commit record of ``xid`` lies before the WAL flush point."""
                end = probe.execute("SELECT pg_current_wal_flush_lsn()").fetchone()[0]
                if probe.execute("SELECT %s::pg_lsn <= %s::pg_lsn", (end, since)).fetchone()[0]:
                    return False  # nothing written since was flushed yet
                return bool(
                    probe.execute(
                        "SELECT EXISTS (SELECT 1 FROM pg_get_wal_records_info(%s, %s)"
                        " WHERE resource_manager = 'Transaction' AND record_type = 'COMMIT'"
                        " AND xid = %s::xid)",
                        (since, end, xid),
                    ).fetchone()[0]
                )

            claims_flushed = []
            try:
                for _ in range(3):  # the samples hold three needs-review posts
                    since = probe.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
                    (post,) = alice.team.claim_next(1, 60)
                    claim_xid = probe.execute(
                        "SELECT xmin::text FROM queue WHERE post_id = %s", (post,)
                    ).fetchone()[0]
                    claims_flushed.append(flushed(claim_xid, since))
                    since = probe.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
                    alice.set_review(post, "approved")
                    xid = probe.execute(
                        "SELECT xid(txid)::text FROM decisions WHERE post_id = %s", (post,)
                    ).fetchone()[0]
                    assert flushed(xid, since), "an acknowledged decision not on disk"
            finally:
                alice.close()
        assert not all(claims_flushed)  # the probe sees an asynchronous commit
    finally:
        server.stop()


def test_opening_a_store_during_a_server_restart_waits_for_it(tmp_path):
    """A reviewer starting copydesk while the server restarts ("shutting down", refused,
    "starting up") gets the store once it is back, not "cannot connect"."""
    import threading

    server = own_server({"fsync": "off"})
    try:
        url = server.create_database("opening")
        init_database(url)
        restarted = threading.Event()
        restart = threading.Thread(target=lambda: (server.restart(), restarted.set()))
        opened = 0
        restart.start()
        while not restarted.is_set():
            store = PostgresStore.open(url, reviewer="early")  # raises without the wait
            store.close()
            opened += 1
        restart.join()
        assert opened >= 1
        with PostgresStore.open(url, reviewer="after") as store:
            assert store.count() == 0
    finally:
        server.stop()


def test_quitting_does_not_wait_for_a_server_that_is_gone(tmp_path):
    """Seen in tmux: with the server stopped, `q` left the app waiting ~30 s a call (the
    reconnect window) in the store thread, then again to give back the claims."""
    from storage import StoreError
    from tui.gateway import StoreGateway
    from tui.team import release_all

    server = own_server()
    stopped = False
    try:
        url = server.create_database("quit")
        init_database(url)
        ids = fill_queue(url, tmp_path / "corpus", 20)
        store = PostgresStore.open(url, reviewer="quitter")
        assert store.team.claim(ids[0]) is not None
        gateway = StoreGateway(store)
        server.stop()
        stopped = True
        waiting = gateway.submit(lambda s: s.team.release())  # a call that meets the outage
        time.sleep(0.5)  # it is in its reconnect loop now
        started = time.monotonic()
        gateway.close()  # what the app does when it quits
        with pytest.raises(StoreError):
            waiting.result(timeout=5)
        with pytest.raises(StoreError):
            release_all(store)  # run_app says so and exits: the claim ends with its lease
        assert time.monotonic() - started < 3
        store.close()
    finally:
        if not stopped:
            server.stop()
