"""The fast SearchIndex against the plain specification (storage/query_spec.py).

Random small corpora (titles, topics and summaries from a small word pool with typos and
odd casing, list fields, ints, nested mappings, unknown fields, odd values) and random
queries built from the grammar: `SearchIndex.search` / `count` must give what the
specification gives, ids and order, after updates and after a to_data/from_data round
trip too; a query one rejects, the other rejects with the same message.
"""

from __future__ import annotations

import contextlib
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import storage.search_index as search_index
from storage import query_spec
from storage.codec import Reader, Writer
from storage.hints import HINT_CODES
from storage.models import Status
from storage.query import KNOWN_FIELDS, QueryError, index_fields, parents_of
from storage.search_index import SearchIndex
from storage.terms import PostFacts, body_holds

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --------------------------------------------------------------------------- corpora

WORDS = (
    "kubernetes kubernets Kubernetes kube postgresql postgress POSTGRES indexing indexng "
    "php PHP python pyhton redis cache caching cachng jobs job nginx école ÉCOLE straße "
    "strasse rollback note 12 2024 a ab x node.js c++ e-mail"
).split()
ODD_TEXT = st.sampled_from(["", " ", "Σ", "ΑΣ", "İstanbul", "a\nb", "x\x1fy", "日本語", "1.5"])
WORD = st.one_of(st.sampled_from(WORDS), st.sampled_from(WORDS).map(str.upper), ODD_TEXT)
TEXT = st.lists(WORD, max_size=4).map(" ".join)
SMALL_INT = st.integers(-3, 120)
HUGE_INT = st.sampled_from([2**53 - 1, 2**53, 2**53 + 1, 2**62, -(2**60), 10**17])
ODD_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from([5.0, 0.5, -0.0]),
    HUGE_INT,
    ODD_TEXT,
    st.text(max_size=3),
)
SCALAR = st.one_of(WORD, SMALL_INT, ODD_SCALAR)
ANY_LIST = st.lists(SCALAR, max_size=4)
TEXT_LIST = st.lists(WORD, max_size=4)


def maybe(strategy: st.SearchStrategy, odd: st.SearchStrategy = SCALAR) -> st.SearchStrategy:
    """Mostly `strategy`, sometimes something odd, sometimes nothing (the key is left out)."""
    return st.one_of(strategy, strategy, strategy, odd, st.just(_ABSENT))


_ABSENT = object()

META_FIELDS: dict[str, st.SearchStrategy] = {
    "topic": maybe(TEXT, st.one_of(SCALAR, TEXT_LIST)),
    "summary": maybe(TEXT, st.one_of(SCALAR, TEXT_LIST)),
    "stack": maybe(TEXT_LIST, ANY_LIST),
    "tools": maybe(TEXT_LIST, ANY_LIST),
    "code_language": maybe(st.sampled_from(["php", "Python", "sql", "12"])),
    "difficulty": maybe(st.sampled_from(["beginner", "advanced", "ADVANCED"])),
    "reading_time": maybe(SMALL_INT),
    "view_count": maybe(st.one_of(SMALL_INT, HUGE_INT)),
    "score": maybe(
        st.fixed_dictionaries(
            {},
            optional={
                "quality": st.one_of(SMALL_INT, SCALAR),
                "clarity": SMALL_INT,
                "novelty": SMALL_INT,  # a key the table does not know: score.novelty
            },
        )
    ),
    "flags": maybe(
        st.fixed_dictionaries(
            {},
            optional={
                "needs_human_review": st.one_of(st.sampled_from([0, 1, True, False, "1"]), SCALAR),
                "has_images": st.sampled_from([0, 1]),
                "shiny": st.sampled_from([0, 1, "1"]),  # an unknown flag
                "rare_flag": st.one_of(st.just(0), SCALAR),
            },
        )
    ),
    "revision": maybe(
        st.fixed_dictionaries({}, optional={"status": WORD, "version": st.just("1.5.6")})
    ),
    "entities": maybe(
        st.lists(
            st.one_of(
                st.fixed_dictionaries({}, optional={"name": WORD, "type": WORD}),
                SCALAR,  # not a mapping: left out
            ),
            max_size=3,
        )
    ),
    "payload": maybe(st.fixed_dictionaries({}, optional={"seed": SCALAR, "paragraphs": SMALL_INT})),
    # unknown fields, kept under their own names; `status` cannot shadow the review status
    "custom": maybe(st.one_of(WORD, SMALL_INT, ANY_LIST)),
    "extra_map": maybe(st.dictionaries(st.sampled_from(["colour", "quality", "x.y"]), SCALAR)),
    "status": maybe(WORD),
    "title": maybe(WORD),
    # rare: an update may bring the first one, or take the last one away
    "rare": st.one_of(*[st.just(_ABSENT)] * 6, WORD),
}

BLOCK = st.one_of(
    st.fixed_dictionaries({"type": st.just("paragraph"), "text": TEXT}),
    st.fixed_dictionaries({"type": st.just("list"), "items": st.lists(TEXT, max_size=3)}),
    st.fixed_dictionaries({"type": st.just("image"), "caption": TEXT}),
    st.fixed_dictionaries({"type": st.just("code"), "text": TEXT, "language": st.just("php")}),
)


@st.composite
def post_dicts(draw: st.DrawFn) -> dict[str, Any]:
    meta = {}
    for name, strategy in META_FIELDS.items():
        value = draw(strategy)
        if value is not _ABSENT:
            meta[name] = value
    title = draw(st.one_of(TEXT, TEXT, st.none(), SMALL_INT))
    return {"title": title, "body": draw(st.lists(BLOCK, max_size=3)), "meta": meta}


@st.composite
def facts(draw: st.DrawFn, post_id: str) -> PostFacts:
    post = draw(post_dicts())
    return PostFacts(
        id=post_id,
        fields=index_fields(post),
        queue_key=draw(st.integers(0, 5)),  # ties broken by id
        body=post["body"],
        status=draw(st.sampled_from(list(Status))).value,
        hints=tuple(draw(st.lists(st.sampled_from(HINT_CODES), max_size=2, unique=True))),
        changed=draw(st.booleans()),
    )


@st.composite
def corpora(draw: st.DrawFn, min_size: int = 2, max_size: int = 10) -> list[PostFacts]:
    numbers = st.lists(st.integers(0, 29), min_size=min_size, max_size=max_size, unique=True)
    return [draw(facts(f"p{n}")) for n in draw(numbers)]


# --------------------------------------------------------------------------- queries

FIELD_NAMES = sorted(KNOWN_FIELDS) + [
    "custom",
    "rare",
    "extra_map",
    "extra_map.colour",
    "extra_map.x.y",
    "flags.shiny",
    "score.novelty",
    "meta.status",
    "meta.title",
    "score.quality",  # an alias of quality
    "Stack",
    "entities",
    "nope",  # unknown: an error
]
INT_FIELDS = ["quality", "clarity", "reading_time", "view_count", "paragraphs", "custom", "seed"]
FLAGS = ["needs_human_review", "has_images", "ai_generated_style", "shiny", "rare_flag", "nope"]


@st.composite
def typo(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(WORDS))
    at = draw(st.integers(0, len(word)))
    how = draw(st.sampled_from(["drop", "insert", "prefix"]))
    if how == "prefix":
        return word[: max(at, 1)]
    if how == "drop":
        return word[:at] + word[at + 1 :]
    return word[:at] + draw(st.sampled_from("aeiouxz")) + word[at:]


def quoted(text: str) -> str:
    return f'"{text}"' if (" " in text or not text) else text


VALUE = st.one_of(WORD, SMALL_INT.map(str), st.sampled_from(["+5", "05", "1", "5.0", "²"]))
TERM = st.one_of(
    WORD,
    WORD,
    typo(),
    typo(),
    st.builds(lambda t: f'"{t}"', st.one_of(TEXT, typo())),
    st.builds(lambda f, v: f"{f}:{quoted(v)}", st.sampled_from(FIELD_NAMES), VALUE),
    st.builds(
        lambda f, op, n: f"{f}{op}{n}",
        st.sampled_from(INT_FIELDS + ["stack", "nope"]),
        st.sampled_from(["<", "<=", ">", ">=", "="]),
        st.one_of(SMALL_INT, HUGE_INT).map(str),
    ),
    st.builds("flag:{}".format, st.sampled_from(FLAGS)),
    st.builds("rare:{}".format, WORD),
    st.builds(
        "status:{}".format,
        st.sampled_from([*Status, "Changes-Requested", "bogus"]),
    ),
    st.builds("hint:{}".format, st.sampled_from([*HINT_CODES, "bogus"])),
    st.builds("changed:{}".format, st.sampled_from(["yes", "no", "maybe"])),
    st.sampled_from([":php", "<3", "stack:", '"unterminated', "-", 'x"y']),
)


@st.composite
def corpus_term(draw: st.DrawFn, posts: list[PostFacts]) -> str:
    """A term made from one post's own values: it usually selects some posts."""
    post = draw(st.sampled_from(posts))
    fields = post.fields
    how = draw(st.sampled_from(["field", "parent", "word", "typo", "phrase", "compare", "body"]))
    name = draw(st.sampled_from(sorted(fields)))
    keys = [(p, key) for p, keys in parents_of(fields).items() for key in keys if key in fields]
    if how == "parent" and keys:
        # a structured field: any of its keys (`entities:php`, `score:75`)
        parent, name = draw(st.sampled_from(keys))
    value = fields[name]
    item = draw(st.sampled_from(value)) if isinstance(value, list) and value else value
    text = str(item).lower()
    if how in ("word", "typo", "phrase"):
        words = text.split() or ["x"]
        start = draw(st.integers(0, len(words) - 1))
        word = words[start]
        if how == "typo" and len(word) > 3:
            at = draw(st.integers(0, len(word) - 1))
            word = word[:at] + word[at + 1 :] if draw(st.booleans()) else word[: at + 1]
        if how == "phrase":
            return '"' + " ".join(words[start : start + draw(st.integers(1, 2))]) + '"'
        return word
    if how == "body":
        blocks = [b.get("text") or b.get("caption") or "" for b in post.body or []]
        body = draw(st.sampled_from(blocks)) if blocks else "x"
        return f'"{body[:8]}"' if body.strip() and '"' not in body else "x"
    if how == "compare" and type(item) is int:
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "="]))
        return f"{name}{op}{item + draw(st.integers(-1, 1))}"
    if '"' in text or not text.strip():
        return f"{name}:x"
    if text.isdigit():  # the same number spelt otherwise: 12 is +12 and 012, "12" is not
        text = draw(st.sampled_from([f"+{text}", f"0{text}", text]))
    if how == "parent" and keys:
        name = parent
    return f"{name}:{quoted(text)}"


@st.composite
def queries_for(draw: st.DrawFn, posts: list[PostFacts]) -> str:
    size = draw(st.sampled_from([0, 1, 1, 1, 2, 2, 3]))
    terms = []
    for _ in range(size):
        # (st.one_of would flatten TERM's branches and make corpus terms rare)
        from_corpus = posts and draw(st.integers(0, 3)) > 0
        term = draw(corpus_term(posts) if from_corpus else TERM)
        terms.append(("-" if draw(st.booleans()) else "") + term)
    return " ".join(terms)


# --------------------------------------------------------------------------- checks


def rows(posts: list[PostFacts]) -> list[tuple[str, dict, Any]]:
    return [(post.id, dict(post.fields), post.queue_key) for post in posts]


def callbacks(posts: list[PostFacts], bodies: bool) -> dict[str, Any]:
    by_id = {post.id: post for post in posts}
    given = {
        "status_of": lambda post_id: by_id[post_id].status,
        "hints_of": lambda post_id: by_id[post_id].hints,
        "changed_of": lambda post_id: by_id[post_id].changed,
    }
    if bodies:
        given["body_contains"] = lambda post_id, phrase: body_holds(by_id[post_id].body, phrase)
    return given


def spec_posts(posts: list[PostFacts], bodies: bool) -> list[PostFacts]:
    if bodies:
        return posts
    return [PostFacts(**{**_as_dict(post), "body": None}) for post in posts]


def _as_dict(post: PostFacts) -> dict[str, Any]:
    return {name: getattr(post, name) for name in PostFacts.__slots__}


def assert_answers_like_the_spec(
    index: SearchIndex, posts: list[PostFacts], queries: list[str], bodies: bool
) -> None:
    facts = spec_posts(posts, bodies)
    asks = callbacks(posts, bodies)
    for text in queries:
        try:
            expected = query_spec.search(facts, text)
        except QueryError as error:
            with pytest.raises(QueryError) as caught:
                index.search(text, **asks)
            assert str(caught.value) == str(error), text
            continue
        assert index.search(text, limit=None, **asks) == expected, text
        assert index.count(text, **asks) == len(expected), text
        assert index.search(text, limit=2, **asks) == expected[:2], text


def typed(queries: list[str]) -> list[str]:
    """The queries, the first one as typed (a few of its prefixes before it: the index
    keeps the previous query's answers)."""
    first = queries[0]
    return [first[:end] for end in range(1, len(first), 3)] + queries


# Thresholds that pick encodings and shortcuts: each mode takes other code paths.
MODES = {
    "default": {},
    "coded": {"_SHARE_RATIO": 1.0, "_UNIQUE_RATIO": 2.0},  # every column dictionary-coded
    "uncoded": {"_SHARE_RATIO": 0.0},  # packed, numbers or plain
    "per candidate": {"_CANDIDATE_SHARE": 10**9, "_SCAN_SHARE": 10**9},
    "by buckets": {"_CANDIDATE_SHARE": 0, "_SCAN_SHARE": 0},
    "eager upkeep": {"_MAX_PATCHES": 0, "_MAX_INCREMENTAL": 1},
}


@contextlib.contextmanager
def mode(name: str):
    with contextlib.ExitStack() as stack:
        for constant, value in MODES[name].items():
            stack.enter_context(mock.patch.object(search_index, constant, value))
        yield


def round_trip(index: SearchIndex) -> SearchIndex:
    writer = Writer()
    data = index.to_data(writer)
    raw = writer.finish("test", 1, data)
    reader = Reader(raw, "test", 1)
    return SearchIndex.from_data(reader, reader.data)


# --------------------------------------------------------------------------- the tests


@SETTINGS
@given(
    posts=corpora(),
    data=st.data(),
    bodies=st.booleans(),
    mode_name=st.sampled_from(list(MODES)),
)
def test_index_answers_like_the_specification(posts, data, bodies, mode_name):
    texts = data.draw(st.lists(queries_for(posts), min_size=1, max_size=6))
    with mode(mode_name):
        index = SearchIndex(rows(posts))
        assert_answers_like_the_spec(index, posts, typed(texts), bodies)
        assert index.ids() == query_spec.search(posts, "")


@SETTINGS
@given(
    posts=corpora(),
    changes=st.lists(
        st.tuples(st.sampled_from(["update", "remove", "queue"]), corpora(min_size=1, max_size=4)),
        min_size=1,
        max_size=3,
    ),
    data=st.data(),
    bodies=st.booleans(),
    mode_name=st.sampled_from(list(MODES)),
)
def test_updates_and_round_trips_answer_like_the_specification(
    posts, changes, data, bodies, mode_name
):
    everyone = posts + [post for _, batch in changes for post in batch]
    queries = data.draw(st.lists(queries_for(everyone), min_size=1, max_size=5))
    with mode(mode_name):
        index = SearchIndex(rows(posts))
        current = {post.id: post for post in posts}
        for what, batch in changes:
            for text in reversed(queries):  # kept for the next query: queries[0]'s
                with contextlib.suppress(QueryError):
                    index.search(text, **callbacks(list(current.values()), bodies))
            if what == "update":  # replaced and new posts in one batch
                index.add_or_update_many(rows(batch))
                current.update((post.id, post) for post in batch)
            elif what == "remove":
                for post in batch:
                    index.remove(post.id)
                    current.pop(post.id, None)
            else:  # a decision moves a post in the queue
                for post in batch:
                    if post.id in current:
                        index.set_queue_key(post.id, post.queue_key)
                        moved = PostFacts(
                            **{**_as_dict(current[post.id]), "queue_key": post.queue_key}
                        )
                        current[post.id] = moved
            now = list(current.values())
            assert_answers_like_the_spec(index, now, queries, bodies)
        assert_answers_like_the_spec(round_trip(index), now, queries, bodies)
        assert_answers_like_the_spec(index.copy(), now, queries, bodies)
        assert round_trip(index).ids() == index.ids() == query_spec.search(now, "")


@st.composite
def text_corpora(draw: st.DrawFn) -> list[PostFacts]:
    """Posts with only title, topic and summary from the word pool: ranking at work."""
    numbers = draw(st.lists(st.integers(0, 29), min_size=2, max_size=12, unique=True))
    return [
        PostFacts(
            f"p{n}",
            index_fields(
                {"title": draw(TEXT), "meta": {"topic": draw(TEXT), "summary": draw(TEXT)}}
            ),
            draw(st.integers(0, 3)),
        )
        for n in numbers
    ]


FREE_WORDS = st.lists(st.one_of(st.sampled_from(WORDS), typo()), min_size=1, max_size=3).map(
    " ".join
)


@SETTINGS
@given(
    posts=text_corpora(),
    texts=st.lists(FREE_WORDS, min_size=1, max_size=4),
    mode_name=st.sampled_from(list(MODES)),
)
def test_ranking_answers_like_the_specification(posts, texts, mode_name):
    with mode(mode_name):
        assert_answers_like_the_spec(SearchIndex(rows(posts)), posts, texts, bodies=False)


# --------------------------------------------------------------------------- the spec itself


def facts_of(post_id: str, queue_key: int = 0, **post: Any) -> PostFacts:
    return PostFacts(post_id, index_fields(post), queue_key)


def test_the_spec_ranks_exact_then_prefix_then_typo_title_before_topic():
    posts = [
        facts_of("typo", title="kubernets notes"),
        facts_of("topic", title="other", meta={"topic": "kubernetes"}),
        facts_of("prefix", title="kubernetesx"),
        facts_of("exact", title="Kubernetes"),
        facts_of("none", title="redis"),
    ]
    assert query_spec.search(posts, "kubernetes") == ["exact", "prefix", "topic", "typo"]
    assert query_spec.search(posts, "-kubernetes") == ["none"]


def test_the_spec_keeps_queue_order_without_free_words():
    posts = [
        facts_of("b", 1, title="x", meta={"stack": ["php"]}),
        facts_of("a", 1, title="x", meta={"stack": ["PHP", "go"]}),
        facts_of("c", 0, title="x", meta={"stack": "php"}),
        facts_of("d", 0, title="x", meta={"stack": ["go"]}),
    ]
    assert query_spec.search(posts, "stack:php") == ["c", "a", "b"]
