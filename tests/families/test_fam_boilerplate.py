"""The template's boilerplate (storage/boilerplate.py) and ``ReviewStore.iter_posts``."""

from __future__ import annotations

import json

from click.testing import CliRunner
from famsupport import regenerate

from seeds.synth import APPROACH_SUFFIX, OWNER_SUFFIX, STACKS
from storage import Store
from storage.boilerplate import PARAGRAPH, SENTENCE, Boilerplate, find_boilerplate, phrase_query
from tui.cli import main


def post(*texts: str, items: tuple[str, ...] = ()) -> dict:
    body: list[dict] = [{"type": "paragraph", "text": text} for text in texts]
    if items:
        body.append({"type": "list", "items": list(items)})
    body.append({"type": "code", "text": "the code block is never counted here at all."})
    return {"id": "x", "body": body}


SHARED = "for this php case, keep the owner in the same place."
PARA = "a paragraph the template repeats whole. its second sentence comes along."
WIDE = "a paragraph the template repeats whole."  # also found outside the paragraph


def found(posts, min_posts=3) -> set[tuple[str, str, int]]:
    return {(b.kind, b.text, b.posts) for b in find_boilerplate(posts, min_posts=min_posts)}


def test_sentences_and_paragraphs_held_by_enough_posts():
    posts = [
        post(f"intro {n} is its own. {SHARED}", PARA, items=("check the backup twice", "ok"))
        for n in range(3)
    ]
    posts.append(post(f"{WIDE[:-1]} and more.", f"Something else. {SHARED.upper()}"))
    posts.append(post("nothing shared in this one at all."))
    assert found(posts) == {
        (SENTENCE, SHARED, 4),  # case does not matter
        (PARAGRAPH, PARA, 3),  # its second sentence is in no other post: not listed alone
        (SENTENCE, "check the backup twice", 3),  # a list item; "ok" is too short
    }
    # the 4th post has WIDE's words inside a longer sentence: that is another sentence
    assert found(posts, min_posts=4) == {(SENTENCE, SHARED, 4)}
    assert found(posts, min_posts=5) == set()


def test_a_sentence_of_a_repeated_paragraph_found_in_more_posts_is_listed_too():
    posts = [post(PARA) for _ in range(3)] + [post(f"{WIDE} another one follows here.")]
    assert found(posts) == {(PARAGRAPH, PARA, 3), (SENTENCE, WIDE, 4)}


def test_a_post_counts_once_and_spaces_and_lines_are_normalised():
    twice = post(SHARED, SHARED, f"x y z w. {SHARED}")
    spaced = post(SHARED.replace(" ", "  ").replace("keep the", "keep\nthe"))
    assert found([twice, spaced, post(SHARED)]) == {(SENTENCE, SHARED, 3)}


def test_odd_bodies_are_skipped():
    odd = [{"body": None}, {"body": ["x", {"type": "paragraph", "text": 3}]}, {}]
    assert find_boilerplate([*odd, post(SHARED), post(SHARED)], min_posts=2) == [
        Boilerplate(SENTENCE, SHARED, 2)
    ]


def test_most_posts_first_then_by_text():
    posts = [post("alpha beta gamma delta. one two three four.")] * 3
    posts += [post("one two three four.")]
    assert [(b.text, b.posts) for b in find_boilerplate(posts)] == [
        ("one two three four.", 4),
        ("alpha beta gamma delta. one two three four.", 3),
    ]


def test_the_query_is_the_text_as_a_phrase():
    assert phrase_query("keep the owner.") == '"keep the owner."'
    assert phrase_query('say "hello" to the owner') == '"say" "hello" "to the owner"'
    assert Boilerplate(SENTENCE, "a b c d.", 3).to_dict() == {
        "kind": SENTENCE,
        "text": "a b c d.",
        "posts": 3,
        "query": '"a b c d."',
    }


# ---------------------------------------------------------------------------- the corpus


def body_text(path) -> str:
    """A seed file's body (before the meta box), lower case, single spaces."""
    text = path.read_text(encoding="utf-8").split("\nalphanode post meta\n", 1)[0]
    return " ".join(text.lower().split())


def test_the_synthesizers_template_sentences_are_found_with_their_counts(db, corpus):
    """Oracle: the template sentences of seeds/synth.py, counted in the files' text."""
    with Store.open(db, writable=False) as store:
        report = {b.text: b for b in find_boilerplate(store.iter_posts(), min_posts=2)}
        expected = [APPROACH_SUFFIX.strip()]
        expected += [OWNER_SUFFIX.strip().format(s=stack.name) for stack in STACKS]
        checked = 0
        for sentence in expected:
            holding = sum(sentence in body_text(path) for path in corpus.files.values())
            if holding < 2:
                continue
            item = report[sentence]
            assert (item.kind, item.posts) == (SENTENCE, holding), sentence
            assert store.count(item.query) == holding
            checked += 1
        assert checked >= 5
        # the first sentence of the report is the template's most repeated one
        top = find_boilerplate(store.iter_posts())[0]
        assert top.posts == max(b.posts for b in report.values())


def test_iter_posts_gives_every_post_once(db):
    with Store.open(db, writable=False) as store:
        records = list(store.iter_posts())
        assert sorted(r["id"] for r in records) == sorted(store.ids())
        first = store.get(records[0]["id"])
        assert (records[0]["title"], records[0]["body"]) == (first.title, first.body)


def test_iter_posts_skips_a_damaged_segment_with_a_warning(tmp_path, corpus):
    db = tmp_path / "two" / "db.json"
    files = sorted(corpus.files.values())
    with Store.open(db) as store:  # two imports: two segments
        store.import_paths(files[:10])
        store.import_paths(files[10:20])
    segments = sorted((db.parent / "db.json.d" / "posts").glob("[0-9]*[0-9].json"))
    assert len(segments) == 2
    segments[0].write_bytes(b"{ damaged")
    with Store.open(db, writable=False) as store:
        ids = [r["id"] for r in store.iter_posts()]
        assert len(ids) == 10 and len(set(ids)) == 10
        assert sum("unreadable (damaged segment)" in w for w in store.warnings) == 10


def test_cli_boilerplate_lists_the_sentences_with_their_queries(db, corpus):
    hostile = "this [bold]sentence[/bold] \x1b[2J is in three posts."
    for post_id in list(corpus.files)[:3]:
        regenerate(
            corpus.files[post_id],
            ("\n\nalphanode post meta", f"\n\n{hostile}\n\nalphanode post meta"),
        )
    runner = CliRunner()
    assert runner.invoke(main, ["import", str(corpus.dir), "--db", str(db)]).exit_code == 0
    result = runner.invoke(main, ["boilerplate", "--json", "--all", "--db", str(db)])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    with Store.open(db, writable=False) as store:
        assert listed == [b.to_dict() for b in find_boilerplate(store.iter_posts())]
    ours = next(item for item in listed if "[bold]" in item["text"])
    assert ours["posts"] == 3 and ours["text"] == hostile.lower()
    with Store.open(db, writable=False) as store:
        assert store.count(ours["query"]) == 3
    result = runner.invoke(main, ["boilerplate", "--min-posts", "3", "--all", "--db", str(db)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{len(listed)} sentences and paragraphs held by at least 3 of {len(corpus.files)} posts"
    )
    assert len(lines) == 2 + len(listed)
    assert lines[1].split() == ["posts", "kind", "query"]
    assert f"{listed[0]['posts']:>6}  {listed[0]['kind']:<9}  {listed[0]['query']}" == lines[2]
    shown = next(line for line in lines if "[bold]" in line)
    # the escape sequence is dropped, the markup shown as it is
    assert shown.endswith('"this [bold]sentence[/bold]  is in three posts."')
    assert "\x1b" not in result.stdout
    few = runner.invoke(main, ["boilerplate", "-n", "2", "--db", str(db)])
    assert len(few.stdout.splitlines()) == 4 and "the 2 held by most posts shown" in few.stdout


def test_cli_boilerplate_usage_errors(db):
    result = CliRunner().invoke(main, ["boilerplate", "--min-posts", "1", "--db", str(db)])
    assert result.exit_code == 2 and "--min-posts" in result.stderr


def test_the_block_cache_gives_the_plain_findings(db):
    """find_boilerplate remembers blocks by their raw text (an optimisation): with no
    cache, and with a cache forgotten every few blocks, the findings are the same."""
    with Store.open(db, writable=False) as store:
        posts = list(store.iter_posts())
    cached = find_boilerplate(posts, min_posts=2)
    assert len(cached) > 50
    assert find_boilerplate(posts, min_posts=2, cache_size=0) == cached
    assert find_boilerplate(posts, min_posts=2, cache_size=3) == cached
