"""Two processes on one store never lose each other's writes; an open handle (the TUI's)
sees another process's decisions and imports after ``refresh()``."""

from __future__ import annotations

import shutil
import subprocess
import sys

from relsupport import Child, journal_decisions, run_cli

import seeds
from storage import Store


def test_two_processes_writing_25_decisions_each_at_once_keep_all_50(db, env, tmp_path):
    with Store.open(db) as store:
        ids = store.ids()
    first_ids, second_ids = ids[0:50:2], ids[1:50:2]
    go = tmp_path / "go"
    first = Child(["decide-list", str(db), str(go), "first", *first_ids], env, tmp_path / "1.err")
    second = Child(
        ["decide-list", str(db), str(go), "second", *second_ids], env, tmp_path / "2.err"
    )
    assert first.wait_for("ready") and second.wait_for("ready")
    go.touch()  # both start writing at the same moment
    assert first.wait() == 0, first.stderr
    assert second.wait() == 0, second.stderr
    assert len(first.acks()) == 25 and len(second.acks()) == 25

    expected = {pid: "first" for pid in first_ids} | {pid: "second" for pid in second_ids}
    on_disk = journal_decisions(db)
    assert {pid: doc["note"] for pid, doc in on_disk.items()} == expected
    with Store.open(db) as store:
        assert {pid: r.note for pid, r in store.reviews().items()} == expected
        assert all(r.status == "approved" for r in store.reviews().values())


def test_two_cli_review_commands_at_once_keep_both_writers_decisions(db, env):
    with Store.open(db) as store:
        ids = store.ids()
    # two shells, each running `copydesk review` twice, started together
    script = "from tui.cli import main; main(prog_name='copydesk')"
    loops = []
    for tag, chunk in (("left", ids[:2]), ("right", ids[2:4])):
        commands = " && ".join(
            f'{sys.executable} -c "{script}" --db {db} review {pid} -s rejected -m {tag}'
            for pid in chunk
        )
        loops.append(
            subprocess.Popen(
                ["bash", "-c", commands],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for loop in loops:
        out, err = loop.communicate(timeout=120)
        assert loop.returncode == 0, err
        assert "Traceback" not in err
    with Store.open(db) as store:
        notes = {pid: r.note for pid, r in store.reviews().items()}
    assert notes == {**dict.fromkeys(ids[:2], "left"), **dict.fromkeys(ids[2:4], "right")}


def test_open_handle_sees_cli_review_and_import_after_refresh(db, env, tmp_path, synth_corpus):
    reader = Store.open(db)  # like the TUI: opened before, holds no lock
    try:
        post_id = reader.ids()[7]
        result = run_cli(["--db", str(db), "review", post_id, "-s", "rejected", "-m", "cli"], env)
        assert result.returncode == 0, result.stderr
        assert reader.refresh() is True
        review = reader.review(post_id)
        assert review is not None and (review.status, review.note) == ("rejected", "cli")
        assert reader.summary(post_id).status == "rejected"

        extra = tmp_path / "extra"
        extra.mkdir()
        for path in synth_corpus[200:205]:
            shutil.copy(path, extra / path.name)
        new_ids = {seeds.read_file(p).id for p in extra.iterdir()}
        result = run_cli(["--db", str(db), "import", str(extra)], env)
        assert result.returncode == 0, result.stderr
        assert "5 imported" in result.stdout
        assert len(reader) == 120  # the open handle's index is the old one until refresh
        assert reader.refresh() is True
        assert len(reader) == 125 and new_ids <= set(reader.ids())
        for post_id in new_ids:
            assert reader.get(post_id).source["path"].startswith(str(extra))
        assert {r.id for r in reader.search("", limit=None)} >= new_ids
        assert reader.refresh() is False  # nothing new since
    finally:
        reader.close()


def test_a_writer_whose_view_of_the_journal_is_stale_never_cuts_another_writers_records(
    db, monkeypatch
):
    # A writer re-reads the journal under the lock when its copies' sizes changed. Should
    # that test ever miss another writer's append, the bytes after the end it knows are
    # complete, acknowledged records, not the torn line of a crashed append: they must
    # never be cut, and the new record must not reuse their number.
    from storage.local.decisions import DecisionLog

    with Store.open(db) as first, Store.open(db) as second:
        ids = first.ids()
        first.set_review(ids[0], "approved", "first")
        second.set_review(ids[1], "rejected", "second")
        monkeypatch.setattr(DecisionLog, "changed_on_disk", lambda self: False)
        first.set_review(ids[2], "approved", "first again")
        monkeypatch.undo()
        assert first.review(ids[1]).note == "second"
    notes = {pid: doc["note"] for pid, doc in journal_decisions(db).items()}
    assert notes == {ids[0]: "first", ids[1]: "second", ids[2]: "first again"}
    with Store.open(db) as store:
        assert {pid: r.note for pid, r in store.reviews().items()} == notes


def test_two_handles_writing_in_turn_without_refreshing_keep_every_write(db):
    with Store.open(db) as first, Store.open(db) as second:
        ids = first.ids()
        for n in range(20):
            handle = (first, second)[n % 2]
            if n % 7 == 6:
                handle.save_view(f"view {n}", "stack:php")
            else:
                handle.set_review(ids[n], "approved", f"turn {n}")
        notes = {ids[n]: f"turn {n}" for n in range(20) if n % 7 != 6}
        for handle in (first, second):
            handle.refresh()
            assert {pid: r.note for pid, r in handle.reviews().items()} == notes
            assert [v.name for v in handle.views() if not v.builtin] == ["view 13", "view 6"]
