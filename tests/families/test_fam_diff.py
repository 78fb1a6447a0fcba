"""What changed since review: the block diff (storage/diff.py) on regenerated posts."""

from __future__ import annotations

import json

from click.testing import CliRunner
from famsupport import regenerate

from storage import Store
from storage.diff import ADDED, CHANGED, REMOVED, SAME, block_units, diff_posts
from tui.cli import main


def para(text: str) -> dict:
    return {"type": "paragraph", "text": text}


OLD = {
    "title": "a guide",
    "meta": {"reading_time": 5, "tools": ["git"], "topic": "a / b"},
    "body": [
        {"type": "heading", "text": "intro"},
        para("first sentence here. second sentence here."),
        {"type": "list", "items": ["one", "two", "three"]},
        para("a paragraph that goes away."),
        {"type": "code", "text": "a = 1\nb = 2", "language": "python"},
    ],
}
NEW = {
    "title": "a better guide",
    "meta": {"reading_time": 6, "tools": ["git"], "difficulty": "beginner"},
    "body": [
        {"type": "heading", "text": "intro"},
        para("first sentence here. second sentence changed."),
        {"type": "list", "items": ["one", "three", "four"]},
        {"type": "code", "text": "a = 1\nb = 3", "language": "python"},
        para("a new paragraph at the end."),
    ],
}


def ops(change) -> list[tuple[str, str]]:
    return [(line.op, line.text) for line in change.lines]


def test_units_of_each_block_type():
    assert block_units(para("one. two!  three?\nfour")) == ("one.", "two!", "three?", "four")
    assert block_units({"type": "list", "items": ["a", 7]}) == ("a", "7")
    assert block_units({"type": "code", "text": "x\n\ny"}) == ("x", "", "y")
    assert block_units({"type": "heading", "text": "h"}) == ("h",)
    image = {"type": "image", "caption": "c", "source": "s.com", "url": "https://s.com/1"}
    assert block_units(image) == ("c (image: s.com https://s.com/1)",)
    assert block_units("odd") == ("odd",) and block_units({"type": "list"}) == ()


def test_blocks_changed_added_and_removed_with_their_lines():
    diff = diff_posts(OLD, NEW)
    assert diff.changed and diff.unchanged_blocks == 1  # the heading
    assert (diff.title.old, diff.title.new) == ("a guide", "a better guide")
    assert [(m.name, m.old, m.new) for m in diff.meta] == [
        ("reading_time", 5, 6),
        ("topic", "a / b", None),
        ("difficulty", None, "beginner"),
    ]
    summary = [(b.change, b.type, b.old_index, b.new_index) for b in diff.blocks]
    assert summary == [
        (CHANGED, "paragraph", 1, 1),
        (CHANGED, "list", 2, 2),
        (REMOVED, "paragraph", 3, None),
        (CHANGED, "code", 4, 3),
        (ADDED, "paragraph", None, 4),
    ]
    paragraph, items, removed, code, added = diff.blocks
    assert ops(paragraph) == [
        (SAME, "first sentence here."),
        (REMOVED, "second sentence here."),
        (ADDED, "second sentence changed."),
    ]
    assert ops(items) == [(SAME, "one"), (REMOVED, "two"), (SAME, "three"), (ADDED, "four")]
    assert ops(removed) == [(REMOVED, "a paragraph that goes away.")]
    assert ops(code) == [(SAME, "a = 1"), (REMOVED, "b = 2"), (ADDED, "b = 3")]
    assert ops(added) == [(ADDED, "a new paragraph at the end.")]


def test_the_same_post_has_no_changes_and_blocks_moved_are_removed_and_added():
    assert not diff_posts(OLD, OLD).changed
    moved = {**OLD, "body": [OLD["body"][3], *OLD["body"][:3], OLD["body"][4]]}
    diff = diff_posts(OLD, moved)
    assert [(b.change, b.old_index, b.new_index) for b in diff.blocks] == [
        (ADDED, None, 0),
        (REMOVED, 3, None),
    ]
    assert diff.unchanged_blocks == 4


def test_a_replaced_block_of_another_text_is_removed_and_added_not_changed():
    old = {"body": [para("all about caching headers.")]}
    new = {"body": [para("nothing in common with before, at all.")]}
    diff = diff_posts(old, new)
    assert [b.change for b in diff.blocks] == [REMOVED, ADDED]


def test_odd_records_do_not_crash():
    diff = diff_posts({"body": "not a list", "meta": None}, {"body": [None, 3], "title": None})
    assert [b.change for b in diff.blocks] == [ADDED, ADDED]
    assert diff.title is None and diff.meta == ()


# ---------------------------------------------------------------------------- regenerated


REGENERATION = (
    (
        "the alphanode approach is to prefer a small verified change over a broad rewrite.",
        "the alphanode approach is to ship a small change behind a flag.",
    ),
    ("  • ", "  • a step the generator added\n  • "),
    (
        "\n\nfinal notes\n\n",
        "\n\nfinal notes\n\nthe regenerated post has a [bold]new[/bold] "
        "paragraph \x1b]0;owned\x07here.\n\n",
    ),
)


def regenerated_post(db, corpus, status: str = "approved"):
    post_id = corpus.family_source
    with Store.open(db) as store:
        before = store.get(post_id)
        store.set_review(post_id, status, note="reviewed the first version")
        regenerate(corpus.files[post_id], *REGENERATION)
        report = store.import_paths([corpus.dir])
        assert report.updated == [post_id] and not report.errors
    return post_id, before


def test_a_regenerated_post_shows_what_changed_since_review(db, corpus):
    post_id, before = regenerated_post(db, corpus)
    with Store.open(db, writable=False) as store:
        assert store.summary(post_id).changed
        reviewed = store.reviewed_version(post_id)
        assert reviewed.body == before.body
        diff = diff_posts(reviewed, store.get(post_id))
    assert diff.title is None
    changes = {(b.change, b.type) for b in diff.blocks}
    assert changes == {(CHANGED, "paragraph"), (CHANGED, "list"), (ADDED, "paragraph")}
    lines = {(line.op, line.text) for b in diff.blocks for line in b.lines if line.op != SAME}
    assert lines == {
        (REMOVED, REGENERATION[0][0]),
        (ADDED, REGENERATION[0][1]),
        (ADDED, "a step the generator added"),
        (ADDED, "the regenerated post has a [bold]new[/bold] paragraph \x1b]0;owned\x07here."),
    }


def test_cli_diff_prints_the_changes_literally_without_colours_off_a_tty(db, corpus):
    post_id, _ = regenerated_post(db, corpus)
    result = CliRunner().invoke(main, ["diff", post_id, "--db", str(db)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(f"{post_id}: changed since it was approved (")
    assert f"  - {REGENERATION[0][0]}\n" in out
    assert f"  + {REGENERATION[0][1]}\n" in out
    assert "  + a step the generator added\n" in out
    assert "  + the regenerated post has a [bold]new[/bold] paragraph here.\n" in out
    assert "\x1b" not in out and "\x07" not in out
    assert "(paragraph) added" in out and "(list) changed" in out


def test_cli_diff_colours_on_a_tty(db, corpus):
    from tui.cli.families import _print_diff

    post_id, _ = regenerated_post(db, corpus)
    with Store.open(db, writable=False) as store:
        diff = diff_posts(store.reviewed_version(post_id), store.get(post_id))
        review = store.review(post_id)
    runner = CliRunner()

    def show(color: bool) -> str:
        import click

        @click.command()
        def command() -> None:
            _print_diff(post_id, review, diff, color=color)

        return runner.invoke(command, color=True).stdout

    coloured, plain = show(True), show(False)
    assert f"\x1b[32m  + {REGENERATION[0][1]}\x1b[0m" in coloured  # green
    assert f"\x1b[31m  - {REGENERATION[0][0]}\x1b[0m" in coloured  # red
    assert "\x1b" not in plain
    assert "]0;owned" not in coloured  # the post's own escape never reaches the terminal


def test_cli_diff_json(db, corpus):
    post_id, _ = regenerated_post(db, corpus)
    result = CliRunner().invoke(main, ["diff", post_id, "--json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["id"] == post_id and data["changed"] is True
    assert data["review"]["status"] == "approved"
    assert data["review"]["note"] == "reviewed the first version"
    added = [b for b in data["diff"]["blocks"] if b["change"] == "added"]
    assert [line["op"] for line in added[0]["lines"]] == ["added"]


def test_cli_diff_of_an_unchanged_or_undecided_post(db, corpus):
    runner = CliRunner()
    post_id, other = corpus.family[:2]
    with Store.open(db) as store:
        store.set_review(post_id, "rejected")
    result = runner.invoke(main, ["diff", post_id, "--db", str(db)])
    assert (result.exit_code, result.stdout) == (0, f"{post_id}: not changed since its decision\n")
    result = runner.invoke(main, ["diff", other, "--db", str(db)])
    assert (result.exit_code, result.stdout) == (0, f"{other}: not decided yet\n")
    result = runner.invoke(main, ["diff", other, "--json", "--db", str(db)])
    assert json.loads(result.stdout) == {"id": other, "changed": False, "diff": None}
    result = runner.invoke(main, ["diff", "anp-ref-nope", "--db", str(db)])
    assert result.exit_code == 1 and "no post with id 'anp-ref-nope'" in result.stderr


def test_cli_diff_when_the_reviewed_text_is_not_kept_exits_1(db, corpus, tmp_path):
    """A colleague's decision made on a text this store never held (merged from their
    export): changed since review, but nothing to compare with."""
    post_id = corpus.family_source
    theirs = tmp_path / "theirs.jsonl"
    record = {"id": post_id, "status": "approved", "content_sha256": "0" * 64}
    theirs.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with Store.open(db) as store:
        store.merge_reviews(str(theirs))
        assert store.summary(post_id).changed and store.reviewed_version(post_id) is None
    result = CliRunner().invoke(main, ["diff", post_id, "--db", str(db)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"copydesk: {post_id}: changed since its decision, but the text it was decided on "
        "is not kept in this store (decided before copydesk kept earlier versions, or on "
        "another reviewer's copy)\n"
    )
