"""The synthesizer writes seed documents the reader takes without a warning, in the
samples' layout, with the variety and planted cases the store and hints need."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from seeds import parse, read_file
from seeds.synth import (
    MAX_COUNT,
    PROBLEMS,
    STACKS,
    TITLE_SUFFIXES,
    TITLE_TEMPLATES,
    render_document,
    synthesize,
)

SAMPLES = Path(__file__).resolve().parents[2] / "seeds" / "samples"
FILE_NAME = re.compile(r"^\d{6}_[0-9a-f]{16}\.txt$")
REFERENCE = re.compile(r"^anp-ref-(\d{6})-\d{4}$")
PLACEHOLDER_HOSTS = {"loremflickr.com", "dummyimage.com", "placehold.co"}
SNIPPETS = {stack.language: set() for stack in STACKS}
for _stack in STACKS:
    SNIPPETS[_stack.language].update(_stack.snippets)

FILE_COUNT = 200
SAMPLE_COUNT = 2000  # rendered in memory for the proportions


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("synth") / "corpus"
    return out, synthesize(FILE_COUNT, out, seed=7)


@pytest.fixture(scope="module")
def rendered() -> list[tuple[str, str]]:
    return [render_document(index, 11) for index in range(SAMPLE_COUNT)]


@pytest.fixture(scope="module")
def parsed(rendered) -> list:
    return [parse(text, name) for name, text in rendered]


def _sample_meta_keys() -> set[str]:
    keys: set[str] = set()
    for path in SAMPLES.glob("*.txt"):
        keys.update(read_file(path).meta)
    return keys


def _body_without_images(post) -> list[dict]:
    return [block for block in post.body if block["type"] != "image"]


# --- files -------------------------------------------------------------------------------


def test_writes_exactly_count_txt_files_flat(corpus_dir):
    out, paths = corpus_dir
    entries = sorted(out.iterdir())
    assert len(paths) == FILE_COUNT
    assert entries == sorted(paths)
    assert all(entry.is_file() and FILE_NAME.match(entry.name) for entry in entries)
    # File i is document i, in order.
    assert [path.name[:6] for path in paths] == [f"{i:06d}" for i in range(FILE_COUNT)]


def test_files_are_the_rendered_documents(corpus_dir):
    _, paths = corpus_dir
    for index in (0, 1, FILE_COUNT - 1):
        name, text = render_document(index, 7)
        assert paths[index].name == name
        assert paths[index].read_bytes() == text.encode()


def test_every_file_parses_without_warnings_with_all_sample_fields(corpus_dir):
    _, paths = corpus_dir
    sample_keys = _sample_meta_keys()
    assert "image_sources" in sample_keys and "payload" in sample_keys
    for path in paths:
        post = read_file(path)
        assert post.warnings == [], path.name
        has_images = post.meta["flags"]["has_images"]
        expected = sample_keys if has_images else sample_keys - {"image_sources"}
        assert set(post.meta) == expected, path.name
        assert len(post.body) >= 5
        assert post.listed_similar == []
        assert path.read_bytes().endswith(b"\n\nSimilar Posts")


FIELD_ORDER = [
    "topic",
    "summary",
    "ai outline",
    "ai brief",
    "stack",
    "tools",
    "code language",
    "difficulty",
    "reading time",
    "view count",
    "score",
    "revision",
    "reference",
    "hash",
    "flags",
    "checklist",
    "entities",
    "image sources",
    "payload",
    "notes",
]


def _field_lines(text: str) -> list[str]:
    meta = text.split("\nalphanode post meta\n", 1)[1].split("\n\nSimilar Posts")[0]
    return [line for line in meta.splitlines() if line and not line.startswith(" ")]


def test_meta_fields_glued_in_the_samples_order(rendered):
    sample = _field_lines((SAMPLES / "001_f5d76b64dc71a99a.txt").read_text())
    assert [line[: len(name)] for line, name in zip(sample, FIELD_ORDER, strict=True)] == (
        FIELD_ORDER
    )
    for _, text in rendered[:300]:
        lines = _field_lines(text)
        names = (
            FIELD_ORDER
            if "\nimage sources\n" in text
            else [name for name in FIELD_ORDER if name != "image sources"]
        )
        assert len(lines) == len(names)
        assert all(line.startswith(name) for line, name in zip(lines, names, strict=True))


def test_refuses_a_non_empty_directory_and_bad_counts(tmp_path):
    (tmp_path / "stale.txt").write_text("old")
    with pytest.raises(FileExistsError):
        synthesize(3, tmp_path)
    with pytest.raises(ValueError):
        synthesize(MAX_COUNT + 1, tmp_path / "new")
    with pytest.raises(ValueError):
        synthesize(-1, tmp_path / "new")


# --- determinism -------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_documents(tmp_path, corpus_dir):
    _, first = corpus_dir
    again = synthesize(60, tmp_path / "again", seed=7)
    other = synthesize(60, tmp_path / "other", seed=8)
    assert [p.name for p in again] == [p.name for p in first[:60]]
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in first[:60]]
    assert not {p.read_bytes() for p in other} & {p.read_bytes() for p in first}


def test_process_pool_output_matches_one_process(tmp_path):
    done: list[tuple[int, int]] = []
    serial = synthesize(1100, tmp_path / "serial", seed=5, workers=1)
    pooled = synthesize(
        1100, tmp_path / "pooled", seed=5, workers=2, progress=lambda d, t: done.append((d, t))
    )
    assert [p.name for p in pooled] == [p.name for p in serial]
    assert [p.read_bytes() for p in pooled[::37]] == [p.read_bytes() for p in serial[::37]]
    assert len(list((tmp_path / "pooled").iterdir())) == 1100
    assert done[-1] == (1100, 1100) and len(done) == 2
    assert sorted(d for d, _ in done) == [d for d, _ in done]


# --- structure of each post --------------------------------------------------------------


def test_body_blocks_agree_with_meta(parsed):
    for post in parsed:
        meta = post.meta
        kinds = Counter(block["type"] for block in post.body)
        assert kinds["heading"] >= 4 and kinds["list"] == 1
        # The samples' convention: payload paragraphs = body paragraphs - 1.
        assert meta["payload"]["paragraphs"] == kinds["paragraph"] - 1
        code = [block for block in post.body if block["type"] == "code"]
        assert 1 <= len(code) <= 2 and len({block["text"] for block in code}) == len(code)
        for block in code:
            assert block["language"] == meta["code_language"] == meta["stack"][2]
            assert block["text"] in SNIPPETS[meta["code_language"]]
        listed = next(block for block in post.body if block["type"] == "list")
        assert listed["items"] == meta["checklist"]
        images = [block for block in post.body if block["type"] == "image"]
        sources = meta.get("image_sources", [])
        assert [(b["caption"], b["source"], b["url"]) for b in images] == [
            (s["caption"], s["source"], s["url"]) for s in sources
        ]
        flags = meta["flags"]
        assert flags["has_images"] == int(bool(images))
        assert flags["image_heavy"] == int(len(images) >= 4)
        number = REFERENCE.match(meta["reference"]).group(1)
        assert meta["payload"]["source_id"] == f"alphanode-{number}"
        assert meta["payload"]["seed"] == int(number)
        assert meta["payload"]["scenario"] == meta["ai_outline"]["context"]
        assert meta["topic"] == f"{meta['ai_outline']['problem']} / {meta['stack'][0]}"
        assert re.fullmatch(r"[0-9a-f]{24}", meta["hash"])
        assert all(50 <= value <= 99 for value in meta["score"].values())
        assert 2015 <= int(meta["revision"]["last_reviewed"][:4]) <= 2026


def test_python_snippet_with_a_blank_line_is_one_code_block(rendered, parsed):
    found = 0
    for (_, text), post in zip(rendered, parsed, strict=True):
        for block in post.body:
            if (
                block["type"] == "code"
                and block["language"] == "python"
                and ("\n\n" in block["text"])
            ):
                # The whole snippet, blank line kept, exactly as written in the file.
                assert block["text"] in SNIPPETS["python"]
                assert f"\n\n{block['text']}\n\n" in text
                found += 1
    assert found >= 20


def test_images_mix_real_and_placeholder_hosts(parsed):
    hosts = Counter(
        source["source"] for post in parsed for source in post.meta.get("image_sources", [])
    )
    assert hosts["unsplash"] and PLACEHOLDER_HOSTS <= set(hosts)
    for post in parsed:
        for source in post.meta.get("image_sources", []):
            if source["source"] == "unsplash":
                assert source["url"].startswith("https://images.unsplash.com/photo-")
            elif source["source"] in PLACEHOLDER_HOSTS:
                assert source["url"].startswith(f"https://{source['source']}/")


def test_some_images_glued_to_the_checklist_and_some_artefact_lines(rendered):
    texts = [text for _, text in rendered]
    glued = re.compile(r"^  \u2022 .*\n.* visual reference \d+\n", re.M)
    assert sum(1 for text in texts if glued.search(text)) > SAMPLE_COUNT // 10
    artefacts = sum(1 for text in texts if text.startswith("|"))
    assert SAMPLE_COUNT // 20 < artefacts < SAMPLE_COUNT // 5


# --- the corpus as a whole ---------------------------------------------------------------


def test_proportions_of_review_flags_and_images(parsed):
    review = sum(post.meta["flags"]["needs_human_review"] for post in parsed) / len(parsed)
    no_images = sum(1 for post in parsed if "image_sources" not in post.meta) / len(parsed)
    assert 0.28 < review < 0.39
    assert 0.25 < no_images < 0.45


def test_variety(parsed):
    def distinct(get) -> int:
        return len({get(post.meta) for post in parsed})

    assert distinct(lambda m: m["stack"][0]) >= 25
    assert distinct(lambda m: m["code_language"]) >= 12
    assert distinct(lambda m: m["ai_outline"]["problem"]) >= 30
    assert distinct(lambda m: m["payload"]["scenario"]) >= 20
    assert distinct(lambda m: m["difficulty"]) == 3
    assert distinct(lambda m: m["revision"]["last_reviewed"][:4]) == 12
    assert distinct(lambda m: m["revision"]["status"]) >= 4
    assert (
        min(m.meta["view_count"] for m in parsed)
        < 1_000
        < 100_000
        < max(m.meta["view_count"] for m in parsed)
    )


def test_titles_distinct_and_near_copies_planted(parsed):
    references = [post.meta["reference"] for post in parsed]
    assert len(set(references)) == len(references)
    assert len({post.meta["hash"] for post in parsed}) == len(parsed)

    # A near-copy repeats an earlier post's body (perhaps plus one image) under a reworded title.
    first_with_body: dict[str, int] = {}
    copies = []
    for index, post in enumerate(parsed):
        key = repr(_body_without_images(post))
        if key in first_with_body:
            copies.append((first_with_body[key], index))
        else:
            first_with_body[key] = index
    assert 0.01 * SAMPLE_COUNT < len(copies) < 0.035 * SAMPLE_COUNT
    # Titles are distinct, apart from two near-copies of the same post that may share one.
    copy_indexes = {copy for _, copy in copies}
    originals = [post.title for index, post in enumerate(parsed) if index not in copy_indexes]
    assert len(set(originals)) == len(originals)
    assert not set(originals) & {parsed[copy].title for copy in copy_indexes}
    assert len({post.title for post in parsed}) >= len(parsed) - 2
    for source, copy in copies:
        original, near = parsed[source], parsed[copy]
        assert near.title != original.title
        assert near.meta["reference"] != original.meta["reference"]
        extra = len(near.meta.get("image_sources", [])) - len(
            original.meta.get("image_sources", [])
        )
        assert extra in (0, 1)


def test_title_combinations_never_collide():
    # Every plain title and every reworded (near-copy) title is a different string.
    plain, reworded = set(), set()
    for primary, rewording in TITLE_TEMPLATES:
        for stack in STACKS:
            for problem in PROBLEMS:
                for suffix in TITLE_SUFFIXES:
                    plain.add(primary.format(p=problem, s=stack.name) + suffix)
                    reworded.add(rewording.format(p=problem, s=stack.name) + suffix)
    combos = len(TITLE_TEMPLATES) * len(STACKS) * len(PROBLEMS) * len(TITLE_SUFFIXES)
    assert len(plain) == len(reworded) == combos
    assert not plain & reworded
