"""`copydesk clusters`, `keep` and the consistency guard of `review`, through the real
CLI (click's runner, and one run as a separate process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from storage import Status, Store
from storage.families import duplicate_note
from storage.similarity import NEAR_DUPLICATE_THRESHOLD
from tui.cli import main


def run(db, *args: str):
    return CliRunner().invoke(main, [*args, "--db", str(db)])


def test_clusters_json_lists_ids_titles_statuses_and_scores(db, corpus):
    with Store.open(db) as store:
        store.set_review(corpus.family[0], "approved")
        expected_clusters = store.clusters()
    result = run(db, "clusters", "--json")
    assert result.exit_code == 0, result.output
    clusters = json.loads(result.stdout)
    assert [[p["id"] for p in c["posts"]] for c in clusters] == expected_clusters
    assert [c["cluster"] for c in clusters] == list(range(1, len(clusters) + 1))
    family = next(c for c in clusters if [p["id"] for p in c["posts"]] == corpus.family)
    assert family["size"] == 3
    with Store.open(db, writable=False) as store:
        for post in family["posts"]:
            assert post["title"] == store.summary(post["id"]).title
            near = {n["id"]: n["score"] for n in post["near_duplicates"]}
            assert set(near) == set(corpus.others(post["id"]))
            assert all(score >= NEAR_DUPLICATE_THRESHOLD for score in near.values())
            similar = {s.id: s.score for s in store.similar(post["id"])}
            assert all(similar[other] == score for other, score in near.items())
    assert [p["status"] for p in family["posts"]] == ["approved", "pending", "pending"]


def test_clusters_text(db, corpus):
    result = run(db, "clusters")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    at = lines.index(next(line for line in lines if corpus.family[0] in line)) - 1
    assert lines[at].endswith("(3 posts)")
    assert lines[at + 1].startswith(f"  {Status.PENDING.mark} {corpus.family[0]}")
    assert lines[at + 2].startswith("      near: ")


def test_keep_decides_the_family_and_says_what_it_did(db, corpus):
    keeper = corpus.family[2]
    result = run(db, "keep", keeper)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{keeper}: approved, kept (saved ")
    assert lines[1:] == [
        f"{other}: rejected as a duplicate of {keeper}" for other in corpus.others(keeper)
    ]
    with Store.open(db, writable=False) as store:
        assert store.status_of(keeper) is Status.APPROVED
        for other in corpus.others(keeper):
            assert store.review(other).note == duplicate_note(keeper)
    listed = json.loads(run(db, "clusters", "--json").stdout)
    family = next(c for c in listed if c["posts"][0]["id"] == corpus.family[0])
    assert [p["status"] for p in family["posts"]] == ["rejected", "rejected", "approved"]


def test_keep_errors_exit_1_and_write_nothing(db, corpus):
    with Store.open(db, writable=False) as store:
        clustered = {p for c in store.clusters() for p in c}
        loner = next(p for p in store.ids() if p not in clustered)
    result = run(db, "keep", loner)
    assert result.exit_code == 1
    assert result.stderr == (
        f"copydesk: post {loner!r} has no near duplicates: it is in no cluster\n"
    )
    result = run(db, "keep", "anp-ref-nope")
    assert result.exit_code == 1 and "no post with id 'anp-ref-nope'" in result.stderr
    assert "Traceback" not in result.output
    with Store.open(db, writable=False) as store:
        assert store.reviews() == {}
    assert run(db, "keep").exit_code == 2  # no id: usage error


def test_review_refuses_to_contradict_a_near_duplicate_unless_forced(db, corpus):
    source, copy = corpus.planted[0]
    assert run(db, "review", copy, "-s", "rejected").exit_code == 0
    result = run(db, "review", source, "-s", "approved", "-m", "looks fine")
    assert result.exit_code == 1
    with Store.open(db, writable=False) as store:
        title = store.summary(copy).title
        score = {s.id: s.score for s in store.similar(source)}[copy]
        assert store.review(source) is None  # nothing saved
    assert result.stderr.splitlines() == [
        f'copydesk: {source}: its near duplicate {copy} "{title}" (score {score}) is rejected; '
        "approved would contradict that",
        "copydesk: nothing saved (--force saves anyway)",
    ]
    assert run(db, "review", source, "-s", "rejected").exit_code == 0  # alike: fine
    result = run(db, "review", source, "-s", "approved", "--force")
    assert result.exit_code == 0 and result.stdout.startswith(f"{source}: approved (saved ")
    assert {
        r["id"]
        for r in json.loads(run(db, "list", "--json", "-q", "hint:inconsistent_duplicate").stdout)
    } == {source, copy}
    views = {v["name"]: v["count"] for v in json.loads(run(db, "views", "--json").stdout)}
    assert views["Inconsistent duplicates"] == 2


def test_review_of_a_kept_family_member(db, corpus):
    keeper, first, _ = corpus.family
    assert run(db, "keep", keeper).exit_code == 0
    # approving a copy rejected as a duplicate: consistent (the keeper is approved too)
    assert run(db, "review", first, "-s", "approved").exit_code == 0
    # rejecting the keeper for its text now contradicts that approval
    result = run(db, "review", keeper, "-s", "changes_requested", "-m", "intro too long")
    assert result.exit_code == 1 and f"its near duplicate {first} " in result.stderr
    assert "changes requested would contradict that" in result.stderr


def test_the_guard_in_a_separate_process(db, corpus, tmp_path):
    source, copy = corpus.planted[0]
    env = {**os.environ, "HOME": str(tmp_path), "COPYDESK_REVIEWER": "tester"}
    cli = [sys.executable, "-m", "tui.cli", "--db", str(db)]
    root = Path(__file__).resolve().parents[2]  # this checkout's copydesk, not an installed one
    ok = subprocess.run(
        [*cli, "review", copy, "-s", "approved"], capture_output=True, env=env, cwd=root
    )
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run(
        [*cli, "review", source, "-s", "rejected"],
        capture_output=True,
        env=env,
        text=True,
        cwd=root,
    )
    assert refused.returncode == 1
    assert f"its near duplicate {copy} " in refused.stderr and "is approved" in refused.stderr
    with Store.open(db, writable=False) as store:
        assert store.review(source) is None


def test_hostile_ids_are_shown_with_visible_escapes(db, corpus, tmp_path):
    """A near copy whose reference holds a terminal escape and a bidi override: clusters,
    keep and the guard name it escaped, never raw."""
    import seeds

    source = corpus.files[corpus.family_source]
    hostile_ref = "anp-ref-\x1b]0;owned\x07-\u202e1"
    post = seeds.read_file(source)
    text = source.read_text(encoding="utf-8").replace(post.reference, hostile_ref)
    (corpus.dir / "hostile.txt").write_text(text, encoding="utf-8")
    assert run(db, "import", str(corpus.dir)).exit_code == 0
    outputs = [
        run(db, "clusters"),
        run(db, "clusters", "--json"),
        run(db, "keep", corpus.family_source),
        run(db, "review", hostile_ref, "-s", "changes_requested", "-m", ""),
    ]
    assert [r.exit_code for r in outputs] == [0, 0, 0, 1]
    for result in outputs:
        assert "\x1b" not in result.output and "\u202e" not in result.output
    assert "anp-ref-\\x1b]0;owned\\x07-\\u202e1" in outputs[0].stdout
    assert (
        f"anp-ref-\\x1b]0;owned\\x07-\\u202e1: rejected as a duplicate of {corpus.family_source}"
        in outputs[2].stdout
    )
    assert "its near duplicate" in outputs[3].stderr
    listed = json.loads(outputs[1].stdout)  # escaped for the terminal, the same value
    assert any(p["id"] == hostile_ref for c in listed for p in c["posts"])
