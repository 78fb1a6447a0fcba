"""SearchIndex: the query language answered over many posts (filters, ranking, callbacks)."""

from __future__ import annotations

import contextlib
import pickle
import random
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import seeds
import storage.search_index as search_index
from storage.codec import Reader, Writer
from storage.query import QueryError, index_fields
from storage.search_index import SearchIndex

SAMPLES = Path(__file__).resolve().parents[2] / "seeds" / "samples"


# --------------------------------------------------------------------------- the five seeds


@pytest.fixture(scope="module")
def seed_posts() -> dict[str, tuple[str, dict]]:
    """file prefix ("000") -> (post id = meta reference, post dict)."""
    posts = {}
    for path in sorted(SAMPLES.glob("*.txt")):
        post = seeds.read_file(path)
        posts[path.name[:3]] = (post.id, post.to_dict())
    return posts


@pytest.fixture(scope="module")
def seed_index(seed_posts) -> tuple[SearchIndex, dict[str, str]]:
    rows = [
        (post_id, index_fields(post), (n,)) for n, (post_id, post) in enumerate(seed_posts.values())
    ]
    names = {post_id: prefix for prefix, (post_id, _) in seed_posts.items()}
    return SearchIndex(rows), names


def found(seed_index, query: str, **kwargs) -> list[str]:
    index, names = seed_index
    return [names[i] for i in index.search(query, **kwargs)]


def test_ids_are_the_references(seed_posts):
    assert seed_posts["000"][0] == "anp-ref-019995-4029"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("stack:php", ["000", "001"]),
        ("flag:needs_human_review", ["001", "003", "004"]),
        ("quality<75", ["000"]),
        ("difficulty:advanced -stack:php", ["002", "003"]),
        ("reading_time>=10", ["000", "001", "004"]),
    ],
)
def test_done_when_on_the_five_seeds(seed_index, query, expected):
    assert found(seed_index, query) == expected
    assert seed_index[0].count(query) == len(expected)


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("postgress indexng", "004"),
        ("postgressql", "004"),
        ("pyhton", "003"),
        ("linux servr", "002"),
        ("buidling safer php", "001"),
    ],
)
def test_typos_rank_the_intended_seed_first(seed_index, query, first):
    assert found(seed_index, query)[0] == first


def test_empty_query_lists_all_in_queue_order(seed_index):
    assert found(seed_index, "") == ["000", "001", "002", "003", "004"]
    assert found(seed_index, "", limit=2) == ["000", "001"]
    assert seed_index[0].count("") == 5


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tools:composer", ["000", "001"]),
        ("code_language:sql", ["004"]),
        ("CODE_LANGUAGE:SQL", ["004"]),
        ('topic:"handling background jobs / php"', ["000", "001"]),
        ("reference:anp-ref-000357-8833", ["002"]),
        ("quality:98", ["004"]),
        ("quality=98", ["004"]),
        ("quality>89", ["004"]),
        ("quality<=75", ["000", "001"]),
        ("view_count>440000", ["002", "004"]),
        ("score.clarity>=94", ["003", "004"]),
        ("paragraphs:8", ["003", "004"]),
        ("flag:has_images", ["001", "002"]),
        ("flag:image_heavy", ["002"]),
        ("needs_human_review:0", ["000", "002"]),
        ("revision.status:expanded", ["002", "003"]),
        ("revision:expanded", ["002", "003"]),  # a mapping: any of its values
        ("ai_outline.stack:python services", []),  # unquoted: only "python" is the value
        ('ai_outline.stack:"python services"', ["003"]),
        ("entities.name:backend", ["000", "001", "003"]),
        ("entities:database", ["004"]),  # a list of mappings: any value of any item
        ("image_sources.source:placehold.co", ["002"]),
        ("last_reviewed:2020-05-03", ["000"]),
        ("stack:PHP -flag:needs_human_review", ["000"]),
        ("-stack:php -stack:python", ["002", "004"]),
        ("-quality<80", ["003", "004"]),
        ("-flag:needs_human_review", ["000", "002"]),
        ("stack:php stack:sql", []),
        ("difficulty:expert", []),
    ],
)
def test_field_terms(seed_index, query, expected):
    assert found(seed_index, query) == expected
    assert seed_index[0].count(query) == len(expected)


def test_free_words_each_must_match(seed_index):
    assert found(seed_index, "php") == ["000", "001"]
    assert found(seed_index, "linux python") == []
    assert found(seed_index, "handling -php") == ["002", "003", "004"]


def test_free_words_combined_with_filters_are_ranked(seed_index):
    assert found(seed_index, "step -stack:php") == ["003"]
    assert found(seed_index, "maintenance guide quality>75") == ["004"]


def test_phrase_in_title_topic_or_summary(seed_index):
    assert found(seed_index, '"safer workflow"') == ["001", "004"]
    assert found(seed_index, '"/ python"') == ["003"]  # topic
    assert found(seed_index, '"in linux server operations, with"') == ["002"]  # summary
    assert found(seed_index, '-"safer workflow"') == ["000", "002", "003"]
    # without body_contains a phrase only in bodies finds nothing
    assert found(seed_index, '"this php case"') == []


def test_phrase_in_body_asks_body_contains_last_and_only_when_needed(seed_index, seed_posts):
    bodies = {
        post_id: " ".join(
            block.get("text", "") + " ".join(block.get("items", [])) for block in post["body"]
        ).lower()
        for post_id, post in seed_posts.values()
    }
    asked: list[tuple[str, str]] = []

    def body_contains(post_id: str, phrase: str) -> bool:
        asked.append((post_id, phrase))
        return phrase in bodies[post_id]

    # "this php case" is only in the php posts' bodies
    assert found(seed_index, '"This PHP case"', body_contains=body_contains) == ["000", "001"]
    assert {phrase for _, phrase in asked} == {"this php case"}
    asked.clear()
    assert found(seed_index, 'stack:python "this php case"', body_contains=body_contains) == []
    # only the post that passed every other term was read
    assert [seed_index[1][i] for i, _ in asked] == ["003"]
    asked.clear()
    # the phrase is in the titles of 001 and 004: no body read for them; 002 fails the flag
    assert found(seed_index, '"safer workflow" -flag:image_heavy', body_contains=body_contains) == [
        "001",
        "004",
    ]
    assert sorted(seed_index[1][i] for i, _ in asked) == ["000", "003"]
    asked.clear()
    assert found(seed_index, '-"this php case"', body_contains=body_contains) == [
        "002",
        "003",
        "004",
    ]
    assert seed_index[0].count('"rollback note"', body_contains=body_contains) == 5


def test_review_callbacks(seed_index):
    names = seed_index[1]
    by_name = {name: post_id for post_id, name in names.items()}
    statuses = {by_name["001"]: "approved", by_name["003"]: "changes_requested"}
    hints = {by_name["002"]: ("placeholder_image", "flag_mismatch")}
    changed = {by_name["001"]}
    asked: list[str] = []

    def status_of(post_id: str) -> str:
        asked.append(post_id)
        return statuses.get(post_id, "pending")

    callbacks = {
        "status_of": status_of,
        "hints_of": lambda i: hints.get(i, ()),
        "changed_of": lambda i: i in changed,
    }
    assert found(seed_index, "status:approved", **callbacks) == ["001"]
    assert found(seed_index, "status:pending", **callbacks) == ["000", "002", "004"]
    assert found(seed_index, "-status:pending", **callbacks) == ["001", "003"]
    assert found(seed_index, "status:changes_requested", **callbacks) == ["003"]
    assert found(seed_index, "hint:placeholder_image", **callbacks) == ["002"]
    assert found(seed_index, "-hint:flag_mismatch", **callbacks) == ["000", "001", "003", "004"]
    assert found(seed_index, "changed:yes", **callbacks) == ["001"]
    assert found(seed_index, "changed:no flag:has_images", **callbacks) == ["002"]
    assert seed_index[0].count("status:pending", **callbacks) == 3
    asked.clear()
    # status is asked only for the posts the field terms let through
    assert found(seed_index, "stack:php status:approved", **callbacks) == ["001"]
    assert sorted(names[i] for i in asked) == ["000", "001"]


def test_review_callbacks_default_to_pending_no_hints_unchanged(seed_index):
    assert len(found(seed_index, "status:pending")) == 5
    assert found(seed_index, "status:approved") == []
    assert found(seed_index, "hint:placeholder_image") == []
    assert found(seed_index, "changed:no") == ["000", "001", "002", "003", "004"]


def test_query_errors_from_strings(seed_index):
    with pytest.raises(QueryError, match="unknown field 'bogus_field' at position 0"):
        seed_index[0].search("bogus_field:x")
    with pytest.raises(QueryError):
        seed_index[0].count("quality<x")


# --------------------------------------------------------------------------- hand-made posts


def post(title: str, topic: str = "", summary: str = "", **meta) -> dict:
    """A post dict of ARCHITECTURE.md with only what a test needs."""
    return {
        "title": title,
        "body": [{"type": "paragraph", "text": "body text."}],
        "meta": {"topic": topic, "summary": summary, **meta},
        "listed_similar": [],
        "warnings": [],
    }


def build(posts: dict[str, dict], keys: dict[str, object] | None = None) -> SearchIndex:
    rows = [
        (post_id, index_fields(p), keys[post_id] if keys else n)
        for n, (post_id, p) in enumerate(posts.items())
    ]
    return SearchIndex(rows)


CORPUS = {
    "k8s": post(
        "running kubernetes jobs safely", "jobs / kubernetes", "kubernetes cron jobs explained"
    ),
    "k8s-summary": post("cron jobs on a cluster", "jobs / ops", "uses kubernetes cron jobs"),
    "kube-proxy": post("debugging kube-proxy", "networking", "iptables rules"),
    "pg": post("postgresql indexing in practice", "indexes / postgresql", "btree and gin"),
    "pg-other": post("postgresql vacuum tuning", "postgresql", "autovacuum settings"),
    "mysql": post("mysql indexing basics", "indexes / mysql", "btree indexes"),
    "php": post("php background jobs", "jobs / php", "queues in php"),
}


def test_typo_ranks_the_intended_post_first():
    index = build(CORPUS)
    assert index.search("kubernets")[:2] == ["k8s", "k8s-summary"]
    # title match first, topic/summary-only match second; kube-proxy is a different word
    assert index.search("postgress indexng")[0] == "pg"
    assert index.search("postgress indexng") == ["pg"]
    assert index.search("indexng")[:2] == ["pg", "mysql"]  # tie: queue order


def test_prefix_while_typing():
    index = build(CORPUS)
    for typed in ("k", "ku", "kub", "kube", "kuber", "kubern", "kuberne", "kubernet"):
        results = index.search(typed)
        assert {"k8s", "k8s-summary"} <= set(results), typed
    # an exact word beats a longer word it prefixes
    assert index.search("kube")[0] == "kube-proxy"
    assert index.search("kubernetes")[0] == "k8s"


def test_ranked_ties_follow_the_queue_order():
    keys = {post_id: -n for n, post_id in enumerate(CORPUS)}  # reversed queue
    index = build(CORPUS, keys)
    assert index.search("postgresql") == ["pg-other", "pg"]
    assert index.search("") == list(reversed(CORPUS))
    assert index.search("indexing") == ["mysql", "pg"]


def test_limit_and_count():
    index = build(CORPUS)
    assert len(index.search("", limit=3)) == 3
    assert index.search("", limit=None) == list(CORPUS)
    assert index.count("jobs") == len(index.search("jobs", limit=None)) == 3
    assert index.count("-jobs") == 4
    assert index.search("nothingmatcheshere") == []
    assert index.count("nothingmatcheshere") == 0


def test_add_update_remove():
    index = build(CORPUS)
    index.add_or_update("new", index_fields(post("kubernetes autoscaling", stack=["k8s"])), -1)
    assert index.search("")[0] == "new"
    assert index.search("autoscalng") == ["new"]
    assert index.search("stack:k8s") == ["new"]
    # an update replaces the old words and values, and moves the post in the queue
    index.add_or_update("new", index_fields(post("redis caching", stack=["redis"])), 100)
    assert index.search("autoscaling") == []
    assert index.search("redis") == ["new"]
    assert index.search("stack:k8s") == []
    assert index.search("")[-1] == "new"
    index.remove("pg")
    index.remove("not-there")
    assert "pg" not in index
    assert index.search("postgresql") == ["pg-other"]
    assert len(index) == len(CORPUS)
    assert index.search("", limit=None) == [i for i in CORPUS if i != "pg"] + ["new"]
    # a freed slot is reused by the next new post
    index.add_or_update("pg2", index_fields(post("postgresql indexing again")), 0.5)
    assert index.search("postgresql indexing") == ["pg2"]
    assert index.search("", limit=3) == ["k8s", "pg2", "k8s-summary"]


def test_set_queue_key_moves_a_post():
    index = build(CORPUS)
    index.search("jobs")  # results cached for the previous query must not go stale
    index.set_queue_key("php", -1)
    assert index.search("")[0] == "php"
    assert index.search("jobs") == ["php", "k8s", "k8s-summary"]
    index.set_queue_key("php", -1)  # unchanged key: nothing to do
    index.set_queue_key("php", 99)
    assert index.search("", limit=None)[-1] == "php"
    with pytest.raises(KeyError):
        index.set_queue_key("missing", 0)


def test_many_updates_fall_back_to_one_sort():
    index = build(CORPUS)
    for n in range(search_index._MAX_INCREMENTAL + 10):
        index.add_or_update(f"p{n}", index_fields(post(f"post {n}")), 1000 - n)
    ids = index.search("", limit=None)
    assert ids[:7] == list(CORPUS)
    assert ids[7:] == [f"p{n}" for n in reversed(range(search_index._MAX_INCREMENTAL + 10))]


def test_duplicate_ids_keep_the_last_row():
    rows = [
        ("a", index_fields(post("first title")), 0),
        ("b", index_fields(post("other")), 1),
        ("a", index_fields(post("second title")), 2),
    ]
    index = SearchIndex(rows)
    assert len(index) == 2
    assert index.search("first") == []
    assert index.search("second") == ["a"]
    assert index.search("") == ["b", "a"]


def test_unknown_fields_of_the_posts_are_queryable():
    index = build(
        {
            "a": post("one", custom="Red", flags={"needs_human_review": 1, "shiny": 1}),
            "b": post("two", custom="blue", flags={"needs_human_review": 0, "shiny": 0}),
        }
    )
    assert index.search("custom:red") == ["a"]
    assert index.search("flag:shiny") == ["a"]
    assert index.search("flags.shiny:0") == ["b"]
    with pytest.raises(QueryError, match="unknown field 'other'"):
        index.search("other:x")


def test_pickled_index_answers_the_same(seed_index):
    index = seed_index[0]
    copy = pickle.loads(pickle.dumps(index))
    for query in ("", "stack:php", "pyhton", "difficulty:advanced -stack:php", '"safer workflow"'):
        assert copy.search(query) == index.search(query)


def test_index_is_not_changed_by_searching(seed_index):
    index = seed_index[0]
    before = index.search("", limit=None)
    index.search("php quality<80 -flag:image_heavy")
    index.search("php")
    assert index.search("", limit=None) == before
    assert index.search("php quality<80") == index.search("quality<80 php")


# --------------------------------------------------------------------------- larger corpus


WORDS = (
    "kubernetes postgresql indexing caching nginx redis python php jobs queues deploys "
    "rollbacks monitoring logging backups tuning scaling latency errors"
).split()


@pytest.fixture(scope="module")
def big_corpus() -> dict[str, dict]:
    rng = random.Random(5)
    posts = {}
    for n in range(3000):
        words = rng.sample(WORDS, 4)
        posts[f"p{n:04d}"] = post(
            " ".join(words),
            f"{words[0]} / {rng.choice(WORDS)}",
            " ".join(rng.sample(WORDS, 3)),
            quality=rng.randint(50, 100),
            stack=rng.sample(WORDS, 2),
        )
    return posts


@pytest.mark.parametrize(
    "query",
    [
        "kubernets",
        "postgress indexng",
        "p",
        "postgresql i",
        "redis caching nginx",
        "logging -redis",
        "scaling quality>80",
        "tuning stack:python",
    ],
)
def test_shortcuts_give_the_same_results(big_corpus, monkeypatch, query):
    """Per-candidate scoring, lazy buckets and queue-order walks change speed, not results."""
    index = build(big_corpus)
    fast = index.search(query, limit=None)
    assert fast
    monkeypatch.setattr(search_index, "_CANDIDATE_SHARE", 0)  # never per candidate
    monkeypatch.setattr(search_index, "_SCAN_SHARE", 0)  # always sort groups
    slow = build(big_corpus).search(query, limit=None)
    assert fast == slow
    monkeypatch.setattr(search_index, "_CANDIDATE_SHARE", 10**9)  # always per candidate
    monkeypatch.setattr(search_index, "_SCAN_SHARE", 10**9)  # always walk the queue
    assert build(big_corpus).search(query, limit=None) == fast
    assert index.search(query, limit=10) == fast[:10]
    assert index.count(query) == len(fast)


def test_bulk_changes_answer_like_a_fresh_index(big_corpus):
    rng = random.Random(11)
    index = build(big_corpus)
    final = dict(big_corpus)
    keys = {post_id: n for n, post_id in enumerate(big_corpus)}
    changes = []
    for n in rng.sample(range(len(big_corpus)), 900):  # replace 900 posts at once
        post_id = f"p{n:04d}"
        words = rng.sample(WORDS, 3)
        final[post_id] = post(" ".join(words), "changed / " + words[0], "new summary", quality=1)
        keys[post_id] = -n
        changes.append((post_id, index_fields(final[post_id]), -n))
    for n in range(50):  # and add new ones
        final[f"new{n}"] = post(f"brand new {WORDS[n % len(WORDS)]}", "new", "added")
        keys[f"new{n}"] = 10_000 + n
        changes.append((f"new{n}", index_fields(final[f"new{n}"]), 10_000 + n))
    index.add_or_update_many(changes)
    fresh = build(final, keys)
    for query in ("", "quality:1", "changed", "kubernets", "brand new", "p i", "-quality<60"):
        assert index.search(query, limit=None) == fresh.search(query, limit=None), query
    assert pickle.loads(pickle.dumps(index)).search("changed redis") == fresh.search(
        "changed redis"
    )


def test_ranked_results_are_by_score_then_queue(big_corpus):
    index = build(big_corpus)
    results = index.search("redis caching", limit=None)
    # every result holds both words somewhere; exact title matches come first
    both_in_title = [
        i for i in big_corpus if {"redis", "caching"} <= set(big_corpus[i]["title"].split())
    ]
    assert results[: len(both_in_title)] == both_in_title
    for post_id in results:
        p = big_corpus[post_id]
        text = " ".join((p["title"], p["meta"]["topic"], p["meta"]["summary"]))
        assert "redis" in text and "caching" in text


def test_filters_without_words_keep_queue_order(big_corpus):
    index = build(big_corpus)
    expected = [i for i, p in big_corpus.items() if p["meta"]["quality"] > 90]
    assert index.search("quality>90", limit=None) == expected
    expected = [i for i, p in big_corpus.items() if "php" not in p["meta"]["stack"]]
    assert index.search("-stack:php", limit=None) == expected
    assert index.search("-stack:php", limit=5) == expected[:5]


def test_posts_added_later_come_in_queue_order(big_corpus):
    # a day's batch: posts added to a built index take new slots, out of queue order;
    # every answer is the one an index built at once in queue order gives
    ids = list(big_corpus)
    keys = {post_id: n for n, post_id in enumerate(ids)}
    later = set(ids[7::10])
    index = build({i: big_corpus[i] for i in ids if i not in later}, keys)
    index.add_or_update_many([(i, index_fields(big_corpus[i]), keys[i]) for i in sorted(later)])
    whole = build(big_corpus, keys)
    for query in ("redis", "redis caching", "kafka stack:redis", "quality>90", "cach", ""):
        assert index.search(query, limit=None) == whole.search(query, limit=None), query
    placing = index._order._placing
    assert placing is not None and placing._rank is None  # the merge, not a sort by rank


@settings(max_examples=60, deadline=None)
@given(
    base=st.integers(0, 300),
    added=st.lists(st.integers(0, 400), max_size=200),
    dead=st.sets(st.integers(0, 299), max_size=30),
    seed=st.integers(0, 2**16),
)
def test_queue_placing_sorts_as_the_keys_do(base, added, dead, seed):
    # slots [0, base) in queue order (keys 0, 2, 4, ...), some dead; then posts with any
    # key: the merge (few out of line) and the rank (many) both sort as the keys do
    rng = random.Random(seed)
    ids: list[str | None] = [f"p{slot:04d}" for slot in range(base + len(added))]
    keys: list[object] = [2 * slot for slot in range(base)] + added
    for slot in dead:
        if slot < base:
            ids[slot] = keys[slot] = None
    order = search_index._QueueOrder(ids, keys)
    live = [slot for slot, post_id in enumerate(ids) if post_id is not None]
    for _ in range(5):
        group = set(rng.sample(live, rng.randint(0, len(live))))
        assert order.sort(group) == sorted(group, key=lambda s: (keys[s], ids[s]))


# --------------------------------------------------------------------------- column encodings


def brute_equal(values: list, text: str) -> set[int]:
    """Slots holding the text (any case) or, for a number value, the number `text` spells."""
    found = set()
    for slot, value in enumerate(values):
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, str) and item.lower() == text:
                found.add(slot)
            elif isinstance(item, int) and text.lstrip("-").isdigit() and item == int(text):
                found.add(slot)
    return found


COLUMN_DATA = {
    # few distinct values: dictionary codes
    "coded text": [random.Random(1).choice(["PHP", "python", "go", None]) for _ in range(400)],
    "coded list": [random.Random(2).sample(["a", "B", "c", "d"], 2) for _ in range(400)],
    "coded ints": [random.Random(3).randint(0, 9) for _ in range(400)],
    # mostly distinct: packed text, float array
    "packed text": [f"Title {n} of many" if n % 50 else None for n in range(400)],
    # values holding the packing's separators are kept exactly, in plain objects
    "separators": [f"Title {n} of\nmany" if n % 50 else f"a\x1f{n}" for n in range(400)],
    "packed list": [[f"https://x/{n}", f"https://y/{n}"] if n % 7 else None for n in range(400)],
    "numbers": [n * 1001 if n % 9 else None for n in range(400)],
    # mixed kinds: plain objects
    "plain": [n if n % 2 else f"v{n}" for n in range(400)],
}
EXPECTED_KIND = {
    "coded text": "_Coded",
    "coded list": "_Coded",
    "coded ints": "_Coded",
    "packed text": "_Packed",
    "packed list": "_Packed",
    "separators": "_Plain",
    "numbers": "_Numbers",
    "plain": "_Plain",
}
PROBES = {
    "coded text": ["php", "PHP", "go", "rust"],
    "coded list": ["b", "a", "z"],
    "coded ints": [3, "3", 10],
    "packed text": ["title 7 of many", "title 7", "many"],
    "packed list": ["https://x/8", "https://y/13", "https://x/"],
    "separators": ["title 7 of\nmany", "title 7 of many", "a\x1f50"],
    "numbers": [2002, "2002", 3],
    "plain": [3, "v4", "4"],
}


@pytest.mark.parametrize("name", list(COLUMN_DATA))
def test_column_encodings_match_a_brute_force_scan(name):
    raw = list(COLUMN_DATA[name])
    column = search_index._Column.build(raw)
    assert type(column).__name__ == EXPECTED_KIND[name]
    expected_raw = list(raw)

    def check(column, values):
        for probe in PROBES[name]:
            text = str(probe).lower()
            number = int(text) if text.lstrip("-").isdigit() else None
            assert column.equal(text, number) == brute_equal(values, text), probe
        numbers = [v if isinstance(v, int) else None for v in values]
        assert column.compare(">", 5000) == {
            s for s, v in enumerate(numbers) if v is not None and v > 5000
        }
        texts = [v.lower() if isinstance(v, str) else "" for v in values]
        assert column.contains("title 1") == {s for s, v in enumerate(texts) if "title 1" in v}

    check(column, expected_raw)
    # changes, including a value the encoding cannot hold, keep answers right
    rng = random.Random(9)
    for _ in range(80):
        slot = rng.randrange(len(raw) + 5)
        value = rng.choice(raw + [None, "Title 1 new", 5001, ["new", "B"]])
        if slot >= len(expected_raw):
            expected_raw.extend([None] * (slot + 1 - len(expected_raw)))
        expected_raw[slot] = value
        column = column.put(slot, value)
        check(column, expected_raw)
        column.settle()  # a packed column packs its changes now and then
        check(column, expected_raw)
    check(pickle.loads(pickle.dumps(column)), expected_raw)


def test_upper_case_data_matches_lower_case_queries():
    index = build(
        {
            "a": post("Kubernetes Guide", "Ops / K8S", "All About PODS", stack=["PHP"]),
            "b": post("other post", "misc", "nothing", stack=["python"]),
        }
    )
    assert index.search("stack:php") == ["a"]
    assert index.search("kubernetes") == ["a"]
    assert index.search('"kubernetes guide"') == ["a"]
    assert index.search('"about pods"') == ["a"]
    assert index.search('topic:"ops / k8s"') == ["a"]


# Values as index_fields gives them (no bools, no None inside lists), by family: a column
# built from one family takes that family's encoding, then any value may be put in it.
_TEXTS = st.sampled_from(["php", "PHP", "go", "12", "", "a b", "Title 7", "x\ny", "a\x1fb", "ß"])
_INTS = st.one_of(st.integers(-5, 20), st.sampled_from([2**53, 2**53 + 1, 10**17, -(2**60)]))
_SCALARS = st.one_of(_TEXTS, _INTS, st.sampled_from([5.0, 0.5, -0.0]))
_FAMILIES = {
    "text": _TEXTS,
    "ints": _INTS,
    "text lists": st.lists(_TEXTS, max_size=3),
    "mixed lists": st.lists(_SCALARS, max_size=3),
    "mixed": st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3)),
}
_ANY_VALUE = st.one_of(st.none(), *_FAMILIES.values())
_PROBES = ["php", "go", "12", "+12", "012", "5", "0", "a b", "title 7", "x\ny", "ß", "b"]


def _model_equal(values: list, text: str) -> set[int]:
    number = int(text) if text.lstrip("+-").isdigit() else None
    found = set()
    for slot, value in enumerate(values):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.lower() == text:
                found.add(slot)
            elif item is not None and not isinstance(item, str) and item == number:
                found.add(slot)
    return found


def _check_column(column, values: list) -> None:
    for text in _PROBES:
        number = int(text) if text.lstrip("+-").isdigit() else None
        assert column.equal(text, number) == _model_equal(values, text), text
    for op in ("<", "<=", ">", ">=", "="):
        expected = {
            s
            for s, v in enumerate(values)
            if type(v) in (int, float) and search_index.COMPARISONS[op](v, 5)
        }
        assert column.compare(op, 5) == expected, op
    for phrase in ("php", "itle", "a b", "x\ny", "\x1f"):
        expected = {s for s, v in enumerate(values) if isinstance(v, str) and phrase in v.lower()}
        assert column.contains(phrase) == expected, phrase
    present = [
        v
        for v in values
        if v not in (None, "") and not (isinstance(v, list) and all(i == "" for i in v))
    ]
    assert column.holds_values(len(values)) == bool(present)


@settings(max_examples=200, deadline=None)
@given(
    family=st.sampled_from(list(_FAMILIES)),
    data=st.data(),
    coded=st.booleans(),
    eager=st.booleans(),
)
def test_columns_answer_like_their_values(family, data, coded, eager):
    raw = data.draw(st.lists(st.one_of(st.none(), _FAMILIES[family]), max_size=12))
    puts = data.draw(
        st.lists(st.tuples(st.integers(0, len(raw) + 4), _ANY_VALUE, st.booleans()), max_size=8)
    )
    ratio = {"_SHARE_RATIO": 1.0, "_UNIQUE_RATIO": 2.0} if coded else {"_SHARE_RATIO": 0.0}
    with contextlib.ExitStack() as stack:
        for name, value in {**ratio, "_MAX_PATCHES": 0 if eager else 64}.items():
            stack.enter_context(mock.patch.object(search_index, name, value))
        column = search_index._Column.build(list(raw))
        values = list(raw)
        _check_column(column, values)
        for slot, value, settle in puts:
            values.extend([None] * (slot + 1 - len(values)))
            values[slot] = value
            column = column.put(slot, value)
            if settle:
                column.settle()
            _check_column(column, values)
        writer = Writer()
        data_out = writer.finish("column", 1, column.to_data(writer))
        reader = Reader(data_out, "column", 1)
        _check_column(search_index._Column.from_data(reader, reader.data), values)


def _bytes_of(index: SearchIndex) -> bytes:
    writer = Writer()
    return writer.finish("search", 1, index.to_data(writer))


def _mixed_changes(corpus: dict[str, dict], seed: int) -> list:
    """Replacements, new posts, a value no packed column can hold (a separator), numbers
    turned text, a new field: every kind of column change."""
    rng = random.Random(seed)
    changes = []
    for n in rng.sample(range(len(corpus)), 300):
        words = rng.sample(WORDS, 3)
        fields = index_fields(post(" ".join(words), "changed / " + words[0], "x\x1fy", quality=1))
        changes.append((f"p{n:04d}", fields, -n))
    for n in range(40):
        fields = index_fields(
            post(f"brand new {WORDS[n % len(WORDS)]}", "new", "added", quality="high")
        )
        changes.append((f"new{n}", {**fields, "brand_new_field": f"v{n % 3}"}, 10_000 + n))
    return changes


def test_a_copy_updated_answers_as_the_serialized_copy_and_leaves_the_original(big_corpus):
    original = build(big_corpus)
    before = _bytes_of(original)
    fast, plain = original.copy(), original.serialized_copy()
    assert _bytes_of(fast) == _bytes_of(plain) == before
    for seed in (1, 2):  # twice: a copy of a copy's changes, patches and all
        changes = _mixed_changes(big_corpus, seed)
        fast.add_or_update_many(changes)
        plain.add_or_update_many(changes)
        fast, plain = fast.copy(), plain.serialized_copy()
    assert _bytes_of(fast) == _bytes_of(plain)
    for query in ("", "quality:1", "changed", "brand new", "brand_new_field:v1", "kubernets"):
        assert fast.search(query, limit=None) == plain.search(query, limit=None), query
    assert _bytes_of(original) == before  # the copies' changes never reached it
    assert original.search("changed", limit=None) == build(big_corpus).search("changed", limit=None)


@pytest.mark.parametrize("replace", [False, True])
def test_packing_new_posts_onto_the_end_equals_packing_all_again(big_corpus, replace):
    index = build(big_corpus)
    changes = [
        (f"new{n}", index_fields(post(f"brand new post {n}", "new / x", "added")), 10_000 + n)
        for n in range(30)  # under _MAX_PATCHES: kept as patches until written
    ]
    if replace:  # a replaced post too: its slot is inside, so all is packed again
        changes.append(("p0003", index_fields(post("replaced", "other", "text")), -3))
    index.add_or_update_many(changes)
    packed = [c for c in index._columns.values() if isinstance(c, search_index._Packed)]
    assert packed and any(c.patches for c in packed)
    for column in packed:
        if not column.patches:
            continue
        fast, full = column.copy(), column.copy()
        fast._repack()
        full._repack_all()
        assert (fast.packed, list(fast.starts)) == (full.packed, list(full.starts))
        assert [fast.value(s) for s in range(fast._size())] == [
            column.value(s) for s in range(fast._size())
        ]
