"""Similar posts and near-duplicate clusters (storage.similarity).

Speed and memory at 10k/100k posts are benchmarks, not tests; here: what the scores mean,
what the index keeps, and that its state and incremental updates are faithful.
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import orjson
import pytest

import seeds
from seeds.synth import render_document
from storage import similarity
from storage.hints import near_duplicate_hints
from storage.similarity import (
    NEAR_DUPLICATE_THRESHOLD,
    NEIGHBOURS_KEPT,
    SimilarityIndex,
    features,
    pair_score,
)

SAMPLES = Path(__file__).resolve().parents[2] / "seeds" / "samples"
DATA = Path(__file__).resolve().parents[1] / "data" / "similar"
SEED_004 = "anp-ref-012395-2485"
COPY_004 = "anp-ref-012396-7001"  # tests/data/similar/004_near_copy.txt


def read(path: Path) -> tuple[str, dict]:
    post = seeds.read_file(path)
    return post.id, post.to_dict()


@pytest.fixture(scope="module")
def seed_posts() -> dict[str, dict]:
    return dict(read(p) for p in sorted(SAMPLES.glob("*.txt")))


@pytest.fixture(scope="module")
def near_copy() -> tuple[str, dict]:
    return read(DATA / "004_near_copy.txt")


def index_of(items) -> SimilarityIndex:
    index = SimilarityIndex()
    index.add_many(items)
    return index


def neighbours(index: SimilarityIndex) -> dict[str, list]:
    return {i: index.similar(i, NEIGHBOURS_KEPT) for i in index.ids()}


# ---------------------------------------------------------------------------- features


def test_features_are_compact_json_and_deterministic(seed_posts):
    post = seed_posts[SEED_004]
    found = features(post)
    assert json.loads(json.dumps(found)) == found
    assert set(found) == {"v", "title", "topic", "sig", "units"}
    assert len(found["sig"]) == 2 * similarity.SIGNATURE_BYTES
    assert found["topic"] == "handling background jobs / postgresql indexing"
    assert found["title"].split() == sorted(found["title"].split())
    assert found["units"] > 25
    assert features(copy.deepcopy(post)) == found
    assert len(orjson.dumps(found)) < 400


def test_features_of_a_post_without_body_or_meta():
    found = features({"title": "Only: A Title", "body": [], "meta": {}})
    assert found["units"] == 0 and found["topic"] == "" and found["title"] == "a only title"
    assert features({})["units"] == 0


def test_an_added_image_changes_nothing_in_the_body(seed_posts):
    post = copy.deepcopy(seed_posts[SEED_004])
    before = features(post)["sig"]
    post["body"].insert(
        3, {"type": "image", "caption": "x visual reference 9", "source": "loremflickr.com"}
    )
    assert features(post)["sig"] == before


# ---------------------------------------------------------------------------- scores


def test_the_near_copy_of_004_is_a_near_duplicate_both_ways(seed_posts, near_copy):
    copy_id, copy_post = near_copy
    index = index_of(
        [*((i, features(p)) for i, p in seed_posts.items()), (copy_id, features(copy_post))]
    )
    first_of_copy = index.similar(copy_id)[0]
    first_of_004 = index.similar(SEED_004)[0]
    assert first_of_copy[0] == SEED_004 and first_of_004[0] == copy_id
    assert first_of_copy[1] == first_of_004[1] >= NEAR_DUPLICATE_THRESHOLD
    assert first_of_copy[2][0] == "sentences alike 100%" and "same topic" in first_of_copy[2]
    # ... so both carry near_duplicate, naming the other
    (hint,) = near_duplicate_hints(index.similar(copy_id))
    assert hint["message"].startswith(f"near-duplicate of {SEED_004}: score ")
    (hint,) = near_duplicate_hints(index.similar(SEED_004))
    assert COPY_004 in hint["message"]
    assert index.clusters() == [[SEED_004, COPY_004]]


def test_no_two_seeds_are_near_duplicates(seed_posts):
    feats = {i: features(p) for i, p in seed_posts.items()}
    scores = [pair_score(feats[a], feats[b])[0] for a, b in itertools.combinations(feats, 2)]
    assert max(scores) < NEAR_DUPLICATE_THRESHOLD - 20  # far below, not just below
    index = index_of(feats.items())
    assert index.clusters() == []
    for post_id in feats:  # a small index compares everything: each lists the other four
        found = index.similar(post_id)
        assert len(found) == 4
        assert all(score < NEAR_DUPLICATE_THRESHOLD for _, score, _ in found)
        assert not near_duplicate_hints(found)


def _reordered(post: dict) -> dict:
    """The same sentences in another order: sections swapped, paragraphs reversed."""
    post = copy.deepcopy(post)
    body = post["body"]
    heads = [n for n, b in enumerate(body) if b["type"] == "heading"]
    first, second = body[heads[0] : heads[1]], body[heads[1] : heads[2]]
    for section in (first, second):
        section[1:] = [b for b in reversed(section[1:]) if b["type"] == "paragraph"] + [
            b for b in section[1:] if b["type"] != "paragraph"
        ]
    body[heads[0] : heads[2]] = second + first
    post["title"] = "a post built from the same template paragraphs"
    return post


def test_template_sharing_scores_far_below_a_near_copy(seed_posts, near_copy):
    """Same topic, every sentence shared, but not the same post: not a near-duplicate."""
    base = features(seed_posts[SEED_004])
    twin = _reordered(seed_posts[SEED_004])
    assert sorted(b.get("text", "") for b in twin["body"]) == sorted(
        b.get("text", "") for b in seed_posts[SEED_004]["body"]
    )
    twin_score, reasons = pair_score(base, features(twin))
    copy_score, _ = pair_score(base, features(near_copy[1]))
    assert twin_score < NEAR_DUPLICATE_THRESHOLD <= copy_score
    assert copy_score - twin_score > 25
    assert "same topic" in reasons


def test_a_copy_with_an_edited_sentence_is_still_a_near_duplicate(seed_posts):
    post = copy.deepcopy(seed_posts[SEED_004])
    paragraph = next(b for b in post["body"] if b["type"] == "paragraph")
    paragraph["text"] = paragraph["text"].replace("calm, readable", "quiet, readable")
    post["title"] = "handling background jobs with postgresql indexing, safely"
    score, _ = pair_score(features(seed_posts[SEED_004]), features(post))
    assert score >= NEAR_DUPLICATE_THRESHOLD


def test_another_topic_with_the_same_body_is_not_a_near_duplicate(seed_posts):
    post = copy.deepcopy(seed_posts[SEED_004])
    post["meta"]["topic"] = "rotating log files / postgresql indexing"
    post["title"] = "field notes on rotating log files for postgresql indexing"
    score, reasons = pair_score(features(seed_posts[SEED_004]), features(post))
    assert score < NEAR_DUPLICATE_THRESHOLD
    assert "same topic" not in reasons and reasons[0] == "sentences alike 100%"


def test_posts_without_body_text_are_not_alike():
    empty = features({"title": "a", "meta": {"topic": "t"}})
    assert pair_score(empty, empty)[0] < NEAR_DUPLICATE_THRESHOLD


# ---------------------------------------------------------------------------- the index


def test_similar_respects_limit_and_unknown_ids(seed_posts):
    index = index_of((i, features(p)) for i, p in seed_posts.items())
    assert len(index.similar(SEED_004, limit=2)) == 2
    assert index.similar(SEED_004, limit=0) == []
    assert index.similar("no-such-post") == []
    scores = [score for _, score, _ in index.similar(SEED_004)]
    assert scores == sorted(scores, reverse=True)
    assert len(index) == 5 and SEED_004 in index


def test_state_round_trips_through_json(seed_posts, near_copy):
    index = index_of(
        [*((i, features(p)) for i, p in seed_posts.items()), (near_copy[0], features(near_copy[1]))]
    )
    state = index.to_state()
    restored = SimilarityIndex.from_state(orjson.loads(orjson.dumps(state)))
    assert neighbours(restored) == neighbours(index)
    assert restored.clusters() == index.clusters()
    assert json.loads(json.dumps(restored.to_state())) == state
    # and it keeps working: adding to the restored index is adding to the original
    extra = copy.deepcopy(near_copy[1])
    extra["title"] = "yet another copy"
    restored.add_many([("extra", features(extra))])
    index.add_many([("extra", features(extra))])
    assert neighbours(restored) == neighbours(index)


def test_copy_is_independent(seed_posts, near_copy):
    index = index_of((i, features(p)) for i, p in seed_posts.items())
    before = neighbours(index)
    twin = index.copy()
    twin.add_many([(near_copy[0], features(near_copy[1]))])
    assert neighbours(index) == before and near_copy[0] not in index
    assert twin.similar(SEED_004)[0][0] == near_copy[0]


def test_from_state_rejects_what_is_not_a_state():
    with pytest.raises(ValueError):
        SimilarityIndex.from_state({"format": "something else"})
    state = SimilarityIndex().to_state()
    state["ids"] = ["a"]
    with pytest.raises(ValueError):
        SimilarityIndex.from_state(state)


def _corpus(seed_posts, near_copy) -> list[tuple[str, dict]]:
    items = [(i, features(p)) for i, p in seed_posts.items()]
    items.append((near_copy[0], features(near_copy[1])))
    twin = _reordered(seed_posts[SEED_004])
    items.append(("twin-004", features(twin)))
    return items


def test_incremental_adds_give_the_lists_of_one_batch(seed_posts, near_copy):
    items = _corpus(seed_posts, near_copy)
    batch = index_of(items)
    stepwise = SimilarityIndex()
    stepwise.add_many(items[:3])
    stepwise.add_many(items[3:5])
    for item in items[5:]:
        stepwise.add_many([item])
    assert neighbours(stepwise) == neighbours(batch)
    assert stepwise.to_state() == batch.to_state()


def test_a_changed_post_is_rescored(seed_posts, near_copy):
    items = _corpus(seed_posts, near_copy)
    index = index_of(items)
    assert index.similar(COPY_004)[0][0] == SEED_004
    # the copy is rewritten into a copy of seed 002: 004 loses its near-duplicate
    changed = copy.deepcopy(seed_posts["anp-ref-000357-8833"])
    index.add_many([(COPY_004, features(changed))])
    expected = index_of([*items[:5], (COPY_004, features(changed)), items[6]])
    assert neighbours(index) == neighbours(expected)
    assert index.clusters() == [["anp-ref-000357-8833", COPY_004]]
    assert all(o != COPY_004 or s < NEAR_DUPLICATE_THRESHOLD for o, s, _ in index.similar(SEED_004))


def test_remove_gives_the_lists_without_the_post(seed_posts, near_copy):
    items = _corpus(seed_posts, near_copy)
    index = index_of(items)
    index.remove(COPY_004)
    without = index_of([item for item in items if item[0] != COPY_004])
    assert neighbours(index) == neighbours(without)
    assert COPY_004 not in index and index.similar(COPY_004) == []
    assert index.to_state() == without.to_state()  # removed slots are compacted away


def test_clusters_are_components_biggest_first(seed_posts):
    post = seed_posts[SEED_004]
    items = [(i, features(p)) for i, p in seed_posts.items()]
    for n in range(3):  # three more copies of 004, and one of seed 000
        items.append((f"copy-004-{n}", features(post)))
    items.append(("copy-000", features(seed_posts["anp-ref-019995-4029"])))
    clusters = index_of(items).clusters()
    assert clusters == [
        sorted([SEED_004, "copy-004-0", "copy-004-1", "copy-004-2"]),
        ["anp-ref-019995-4029", "copy-000"],
    ]
    assert index_of(items).clusters(threshold=101) == []


def test_planted_near_copies_of_the_synthesizer_are_found(monkeypatch):
    """300 synthesized posts, ~2% planted near-copies (another post's body under a reworded
    title): each copy lists its source above the threshold, and no cluster joins posts
    that are not copies of one another. Run twice: as is, and with topic blocks forced
    through the bounded title search and no widening, so that the LSH bands alone must
    find the copies."""
    from seeds.synth import _is_near_copy, _near_copy_source

    posts = {}
    for index in range(300):
        post = seeds.parse(render_document(index, 11)[1])
        posts[index] = (post.id, features(post.to_dict()))
    planted = [(_near_copy_source(i, 11), i) for i in posts if _is_near_copy(i, 11)]
    assert len(planted) >= 3
    family = {posts[b][0]: posts[a][0] for a, b in planted}

    def check() -> None:
        index = index_of(posts.values())
        for a, b in planted:
            found = {o: s for o, s, _ in index.similar(posts[b][0])}
            assert found.get(posts[a][0], 0) >= NEAR_DUPLICATE_THRESHOLD
        for cluster in index.clusters():
            assert len({family.get(i, i) for i in cluster}) == 1, cluster

    check()
    monkeypatch.setattr(similarity, "BLOCK_TOP", 2)
    monkeypatch.setattr(similarity, "WIDEN_BELOW", 0)
    check()


def test_every_kept_score_is_the_plain_pair_score(monkeypatch):
    # the index scores pairs with inlined arithmetic (storage/similarity.py, _offer_all):
    # it must give what pair_score, the plain version, gives for the same two posts
    import tempfile
    from pathlib import Path

    from seeds.synth import synthesize

    with tempfile.TemporaryDirectory() as tmp:
        paths = synthesize(400, Path(tmp) / "c", seed=5)
        feats = {}
        for path in paths:
            post = seeds.read_file(path)
            feats[post.id] = features(post.to_dict())
    index = SimilarityIndex()
    index.add_many(feats.items())
    checked = 0
    for post_id in feats:
        for other, score, reasons in index.similar(post_id, NEIGHBOURS_KEPT):
            assert (score, reasons) == pair_score(feats[post_id], feats[other])
            checked += 1
    assert checked > 400 * 5


def _unit_hashes_whole_body(body):
    """The plain version of similarity._unit_hashes: the whole body as one text."""
    import zlib
    from operator import xor

    crc, join = zlib.crc32, b" ".join
    texts = list(similarity._block_texts(body))
    blob = similarity._BLOCK_END.join(texts).encode("utf-8", "replace").lower()
    blob = join(blob.translate(similarity._UNIT_TABLE).split())
    units, contexts = [], []
    context = following = similarity._START
    first = True
    for unit in filter(None, map(bytes.strip, blob.split(b"."))):
        if unit == similarity._MARK:
            context, first = following, True
            continue
        if first:
            following, first = crc(join(unit.split(None, 3)[:3])), False
        units.append(unit)
        contexts.append(context)
    hashes = list(map(crc, units))
    return hashes + list(map(xor, hashes, contexts))


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TEXT = st.text(alphabet=st.sampled_from(list("ab c.!?\n\t\x1e\x1f,-'É")))
_BLOCK = st.one_of(
    st.builds(lambda t: {"type": "paragraph", "text": t}, _TEXT),
    st.builds(lambda items: {"type": "list", "items": items}, st.lists(_TEXT, max_size=4)),
    st.builds(lambda t: {"type": "image", "caption": t}, _TEXT),
    st.just({"type": "paragraph", "text": ""}),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_BLOCK, max_size=8))
def test_unit_hashes_block_by_block_equal_the_whole_body_version(body):
    # block by block keeps a 50 MB body's features at ~85 MB instead of ~1 GB
    assert similarity._unit_hashes(body) == _unit_hashes_whole_body(body)


def test_near_pairs_are_the_kept_pairs_above_the_threshold_both_ways(seed_posts):
    post = seed_posts[SEED_004]
    items = [(i, features(p)) for i, p in seed_posts.items()]
    items += [(f"copy-004-{n}", features(post)) for n in range(2)]
    index = index_of(items)
    pairs = index.near_pairs()
    expected: dict[str, dict[str, int]] = {}
    for post_id in index.ids():
        for other, score, _ in index.similar(post_id, NEIGHBOURS_KEPT):
            if score >= NEAR_DUPLICATE_THRESHOLD:
                expected.setdefault(post_id, {})[other] = score
                expected.setdefault(other, {})[post_id] = score
    assert pairs == expected
    family = {SEED_004, "copy-004-0", "copy-004-1"}
    assert set(pairs) == family and all(set(pairs[p]) == family - {p} for p in family)
    assert index.near_pairs(threshold=101) == {}


def test_near_pairs_know_a_pair_kept_in_one_row_only():
    """A post whose row is full of better neighbours still has the pair its near copy keeps
    (the rows are each post's 12 best, so a pair can be kept one way only)."""
    index = SimilarityIndex()
    body = [
        {"type": "paragraph", "text": f"shared sentence number {n} of the family."}
        for n in range(30)
    ]
    base = {"title": "family post", "body": body, "meta": {"topic": "t / s"}}
    items = [(f"same-{n:02d}", features(base)) for n in range(NEIGHBOURS_KEPT + 1)]
    edited = copy.deepcopy(base)
    edited["body"] = body[:27] + [{"type": "paragraph", "text": "one sentence of its own."}]
    items.append(("edited", features(edited)))
    index.add_many(items)
    rows = {i: {o for o, _, _ in index.similar(i, NEIGHBOURS_KEPT)} for i in index.ids()}
    one_way = [(a, b) for a in rows for b in rows[a] if a not in rows[b]]
    assert one_way, "the setup should keep some pair in one row only"
    pairs = index.near_pairs()
    near_one_way = 0
    for a, b in one_way:
        score = {o: s for o, s, _ in index.similar(a, NEIGHBOURS_KEPT)}[b]
        if score >= NEAR_DUPLICATE_THRESHOLD:
            assert pairs[b][a] == pairs[a][b] == score
            near_one_way += 1
    assert near_one_way


@pytest.mark.parametrize("bucket_cap", [similarity.BUCKET_CAP, 3])
def test_lsh_candidates_of_a_few_queries_are_those_of_every_post(monkeypatch, bucket_cap):
    # an import into a big store asks the LSH buckets of its few new posts only
    # (_buckets_of); they must be what the full pass over every post (_equal_runs) gives,
    # in the same order, chained buckets included
    import random

    monkeypatch.setattr(similarity, "BUCKET_CAP", bucket_cap)
    items = []
    for index in range(400):
        post = seeds.parse(render_document(index, 13)[1])
        items.append((post.id, features(post.to_dict())))
    template = items[7][1]
    items += [(f"copy-{n:02}", template) for n in range(12)]  # one big bucket a band
    blank = features({"title": "no body", "body": [], "meta": {}})
    items += [("blank-1", blank), ("blank-2", blank)]  # no units: in no bucket
    index = index_of(items)
    index.remove_many(["copy-03", items[20][0]])  # removed slots: in no bucket either
    live = [slot for slot, post_id in enumerate(index._ids) if post_id is not None]
    assert index._sizes[index._slot["blank-1"]] == 0
    every = index._lsh_candidates(live, live)
    assert sum(map(len, every.values())) > len(items)  # buckets are shared
    rng = random.Random(5)
    for size in (1, 10, 60, len(live) - 1):
        queries = rng.sample(live, size)
        few = index._lsh_candidates(queries, live)
        assert few == {q: every[q] for q in queries if q in every}


def test_the_catalog_files_data_reads_back_as_the_state_does(seed_posts, near_copy):
    # to_data (blobs, for the catalog file) and to_state (JSON-ready, for pool workers)
    from storage.codec import Reader, Writer

    index = index_of(_corpus(seed_posts, near_copy))
    index.remove_many([COPY_004])  # a removed slot: both compact it away
    writer = Writer()
    raw = writer.finish("t", 1, index.to_data(writer))
    reader = Reader(raw, "t", 1)
    again = SimilarityIndex.from_data(reader, reader.data)
    assert again.to_state() == index.to_state()
    assert neighbours(again) == neighbours(index)


def test_kept_clusters_are_those_worked_out_through_saving_and_changes(seed_posts):
    """``clusters()`` is kept (and saved with the index) until the neighbour lists change:
    read back, after adding, after removing, it is what working it out again gives."""
    from storage.codec import Reader, Writer

    post = seed_posts[SEED_004]
    items = [(i, features(p)) for i, p in seed_posts.items()]
    items += [(f"copy-004-{n}", features(post)) for n in range(3)]
    index = index_of(items)
    first = index.clusters()
    assert first and first == index._work_out_clusters(NEAR_DUPLICATE_THRESHOLD)
    first[0].append("changed by the caller")
    assert index.clusters() == index._work_out_clusters(NEAR_DUPLICATE_THRESHOLD)
    assert index.clustered() == {i for cluster in index.clusters() for i in cluster}
    assert {f"copy-004-{n}" for n in range(3)} <= index.clustered()

    writer = Writer()
    reader = Reader(writer.finish("t", 1, index.to_data(writer)), "t", 1)
    assert reader.data["clusters"] == index.clusters()  # saved with the index
    again = SimilarityIndex.from_data(reader, reader.data)
    assert again._clusters == index.clusters()  # read, not worked out

    again.add_many([("copy-000", features(seed_posts["anp-ref-019995-4029"]))])
    assert again.clusters() == again._work_out_clusters(NEAR_DUPLICATE_THRESHOLD)
    assert ["anp-ref-019995-4029", "copy-000"] in again.clusters()
    again.remove_many(["copy-004-0", "copy-004-1"])
    assert again.clusters() == again._work_out_clusters(NEAR_DUPLICATE_THRESHOLD)
    assert not any("copy-004-0" in cluster for cluster in again.clusters())

    older = index.to_state()
    del older["clusters"]  # an index saved before clusters were kept
    assert SimilarityIndex.from_state(older).clusters() == index.clusters()
    older["clusters"] = [["no such post", SEED_004]]
    with pytest.raises(ValueError, match="inconsistent"):
        SimilarityIndex.from_state(older)


def test_posts_added_to_an_index_read_back_keep_its_titles_packed(seed_posts, near_copy):
    """Read from a catalog file, an index's titles are packed: new posts are appended to
    them (nothing decoded); a changed post makes them a list. Either way the index is
    the one built in one batch, titles included."""
    from storage.codec import Reader, Writer
    from storage.texts import PackedTexts

    items = _corpus(seed_posts, near_copy)
    items[1] = (items[1][0], {**items[1][1], "title": "ünïcödé [b]markup[/b] \x1b[31m"})
    writer = Writer()
    first = index_of(items[:4])
    reader = Reader(writer.finish("t", 1, first.to_data(writer)), "t", 1)
    again = SimilarityIndex.from_data(reader, reader.data)
    assert isinstance(again._titles, PackedTexts)
    again.add_many(items[4:])
    assert isinstance(again._titles, PackedTexts)
    assert again.to_state() == index_of(items).to_state()
    assert neighbours(again) == neighbours(index_of(items))

    changed = (items[0][0], {**items[0][1], "title": "a new title"})
    again.add_many([changed, ("one-more", items[2][1])])
    expected = index_of([changed, *items[1:], ("one-more", items[2][1])])
    assert again.to_state()["titles"] == expected.to_state()["titles"]
    assert neighbours(again) == neighbours(expected)
