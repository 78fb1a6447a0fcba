"""Review hints: each code fires on the real seeds and on a hand-made case, and stays quiet
on a clean post. A hint that fires where it is untrue is a bug, so the quiet cases matter
as much as the firing ones."""

from __future__ import annotations

import copy
import datetime
from pathlib import Path

import pytest

import seeds
from seeds.synth import render_document
from storage.hints import (
    HINT_CODES,
    PLACEHOLDER_HOSTS,
    compute_hints,
    near_duplicate_hints,
)
from storage.models import SimilarPost
from storage.similarity import NEAR_DUPLICATE_THRESHOLD

SAMPLES = Path(__file__).resolve().parents[2] / "seeds" / "samples"
DATA = Path(__file__).resolve().parents[1] / "data" / "similar"
TODAY = datetime.date(2026, 11, 23)


def seed(number: int) -> dict:
    (path,) = SAMPLES.glob(f"{number:03d}_*.txt")
    return seeds.read_file(path).to_dict()


def document(name: str) -> dict:
    return seeds.read_file(DATA / name).to_dict()


def hints(post: dict, **kwargs) -> dict[str, dict]:
    kwargs.setdefault("today", TODAY)
    found = compute_hints(post, **kwargs)
    by_code = {h["code"]: h for h in found}
    assert len(by_code) == len(found), "at most one hint per code"
    return by_code


@pytest.fixture
def clean() -> dict:
    """Seed 004 without its repeated sentence: a post with nothing to flag."""
    return document("clean.txt")


# ---------------------------------------------------------------------------- the seeds


def test_seed_001_has_placeholder_images_and_a_repeated_sentence():
    found = hints(seed(1))
    assert "placeholder_image" in found
    message = found["placeholder_image"]["message"]
    assert "loremflickr.com" in message and "dummyimage.com" in message
    assert "placehold.co" not in message  # seed 001 has no placehold.co image
    assert found["repeated_sentence"]["message"].startswith(
        'sentence repeated twice: "for this php case, keep the owner'
    )


def test_seed_002_names_all_three_placeholder_hosts_but_not_unsplash():
    message = hints(seed(2))["placeholder_image"]["message"]
    assert message.startswith("3 images from placeholder hosts:")
    for host in PLACEHOLDER_HOSTS:
        assert host in message
    assert "unsplash" not in message


def test_seed_003_is_stale_on_a_fixed_day_and_not_before():
    found = hints(seed(3), today=TODAY)
    assert found["stale_review"]["message"].startswith("last reviewed 2017-04-23, 9 years")
    assert "stale_review" not in hints(seed(3), today=datetime.date(2018, 1, 1))


def test_seed_000_has_no_image_hints():
    found = hints(seed(0))
    assert "placeholder_image" not in found
    assert "flag_mismatch" not in found
    assert "near_duplicate" not in found  # only near_duplicate_hints makes that one


def test_what_the_five_seeds_carry():
    """The seeds' own conventions (paragraph count, reading time, image-heavy) must not
    make every seed a suspect."""
    carried = {n: set(hints(seed(n))) for n in range(5)}
    assert carried == {
        0: {"repeated_sentence", "stale_review", "duplicate_list_item"},
        1: {"placeholder_image", "repeated_sentence", "stale_review", "duplicate_list_item"},
        2: {"placeholder_image", "repeated_sentence"},
        3: {"repeated_sentence", "stale_review"},
        4: {"repeated_sentence"},
    }


def test_stack_listing_php_twice_is_named():
    assert hints(seed(0))["duplicate_list_item"]["message"] == "stack lists php twice"


def test_a_document_without_meta_box_has_missing_meta():
    found = hints(document("no_meta_box.txt"))
    assert found["missing_meta"]["severity"] == "error"
    assert found["missing_meta"]["message"].startswith("no meta box")


def test_the_clean_post_has_no_hint(clean):
    assert compute_hints(clean, today=TODAY) == []


def test_every_hint_is_well_formed():
    for number in range(5):
        for hint in compute_hints(seed(number), today=TODAY):
            assert set(hint) == {"code", "message", "severity"}
            assert hint["code"] in HINT_CODES
            assert hint["severity"] in ("info", "warning", "error")
            assert hint["message"] and "\n" not in hint["message"]


def test_hint_codes_lists_all_eleven():
    assert set(HINT_CODES) == {
        "placeholder_image",
        "flag_mismatch",
        "repeated_sentence",
        "paragraph_count",
        "reading_time",
        "stale_review",
        "near_duplicate",
        "inconsistent_duplicate",
        "missing_meta",
        "unknown_field",
        "duplicate_list_item",
    }


# ---------------------------------------------------------------------------- hand-made cases


def _image(source: str, url: str | None = None) -> dict:
    block = {"type": "image", "caption": "x visual reference 1", "source": source}
    if url:
        block["url"] = url
    return block


def _with_images(post: dict, *blocks: dict) -> dict:
    post["body"][1:1] = blocks
    post["meta"]["flags"]["has_images"] = 1
    return post


def _paragraph(post: dict, text: str) -> dict:
    post["body"].insert(1, {"type": "paragraph", "text": text})
    post["meta"]["payload"]["paragraphs"] += 1
    return post


FIRING = {
    "placeholder_image (image block)": (
        "placeholder_image",
        lambda p: _with_images(p, _image("dummyimage.com")),
        "1 image from placeholder hosts: dummyimage.com",
    ),
    "placeholder_image (url only)": (
        "placeholder_image",
        lambda p: _with_images(p, _image("cdn", "https://placehold.co/1200x630/png?text=x")),
        "placehold.co",
    ),
    "placeholder_image (cut short in the body)": (
        "placeholder_image",
        lambda p: _paragraph(p, "the hero picture came from dummyimage."),
        "named in the body text: dummyimage.com",
    ),
    "flag_mismatch (has images 0 with an image)": (
        "flag_mismatch",
        lambda p: (
            _with_images(p, _image("unsplash")) and p["meta"]["flags"].update(has_images=0) or p
        ),
        "has images is 0 but the body has 1 image",
    ),
    "flag_mismatch (has images 1 without one)": (
        "flag_mismatch",
        lambda p: p["meta"]["flags"].update(has_images=1) or p,
        "has images is 1 but the body has no image",
    ),
    "flag_mismatch (image heavy with one image)": (
        "flag_mismatch",
        lambda p: (
            _with_images(p, _image("unsplash")) and p["meta"]["flags"].update(image_heavy=1) or p
        ),
        "image heavy is 1 with 1 image",
    ),
    "flag_mismatch (six images, not heavy)": (
        "flag_mismatch",
        lambda p: _with_images(p, *[_image("unsplash")] * 6),
        "image heavy is 0 with 6 images",
    ),
    "repeated_sentence": (
        "repeated_sentence",
        lambda p: _paragraph(p, "keep the owner close. measure twice. keep the owner close."),
        'sentence repeated twice: "keep the owner close"',
    ),
    "paragraph_count": (
        "paragraph_count",
        lambda p: p["meta"]["payload"].update(paragraphs=12) or p,
        "payload says 12 paragraphs; the body has 9 (posts count all but the introduction: 8",
    ),
    "reading_time (too long)": (
        "reading_time",
        lambda p: p["meta"].update(reading_time=60) or p,
        "reading time 60 min for 368 words: ~2 min at 200 words/min",
    ),
    "reading_time (zero)": (
        "reading_time",
        lambda p: p["meta"].update(reading_time=0) or p,
        "reading time 0 min",
    ),
    "stale_review": (
        "stale_review",
        lambda p: p["meta"]["revision"].update(last_reviewed="2024-11-01") or p,
        "last reviewed 2024-11-01, 2 years 0 months ago (stale after 730 days)",
    ),
    "missing_meta (a field)": (
        "missing_meta",
        lambda p: p["meta"].pop("topic") and p,
        "missing meta fields: topic",
    ),
    "missing_meta (empty box)": (
        "missing_meta",
        lambda p: p.update(meta={}) or p,
        "empty meta box",
    ),
    "unknown_field": (
        "unknown_field",
        lambda p: p["meta"].update(seo_score=71, editor="ana") or p,
        "unknown meta fields: seo_score, editor",
    ),
    "duplicate_list_item (meta)": (
        "duplicate_list_item",
        lambda p: p["meta"]["tools"].append("Vacuum") or p,
        "tools lists vacuum twice",
    ),
    "duplicate_list_item (body list)": (
        "duplicate_list_item",
        lambda p: (
            next(b for b in p["body"] if b["type"] == "list")["items"].append(
                "create a safe backup"
            )
            or p
        ),
        'a body list has "create a safe backup" twice',
    ),
}


@pytest.mark.parametrize("case", list(FIRING))
def test_each_code_fires_on_a_hand_made_case_and_only_it(clean, case):
    code, make, expected = FIRING[case]
    post = make(copy.deepcopy(clean))
    found = hints(post)
    assert set(found) == {code}
    assert expected in found[code]["message"]


QUIET = {
    "an unsplash image with has images 1": lambda p: _with_images(p, _image("unsplash")),
    "the word placeholder": lambda p: _paragraph(p, "use a placeholder. then replace it."),
    "a placeholder host inside another host name": lambda p: _with_images(
        p, _image("images.example.com", "https://example.com/?from=dummyimage.com")
    ),
    "three or four images either way (the seeds do not decide)": lambda p: _with_images(
        p, *[_image("unsplash")] * 4
    ),
    "a short sentence repeated": lambda p: _paragraph(p, "it works. it works. ship it."),
    "200 words a minute, like the synthesizer": lambda p: p["meta"].update(reading_time=2) or p,
    "the seeds' slow reading time": lambda p: p["meta"].update(reading_time=20) or p,
    "a review 700 days ago": lambda p: (
        p["meta"]["revision"].update(
            last_reviewed=(TODAY - datetime.timedelta(days=700)).isoformat()
        )
        or p
    ),
    "an unparsable review date": lambda p: p["meta"]["revision"].update(last_reviewed="soon") or p,
    "no image sources field (optional)": lambda p: p["meta"].pop("image_sources", None) or p,
    "stray meta lines (not a field)": lambda p: p["meta"].update(unknown_lines=["???"]) or p,
    "no payload paragraphs": lambda p: p["meta"]["payload"].pop("paragraphs") and p,
}


@pytest.mark.parametrize("case", list(QUIET))
def test_no_hint_where_it_would_be_untrue(clean, case):
    post = QUIET[case](copy.deepcopy(clean))
    assert compute_hints(post, today=TODAY) == []


def test_unknown_field_from_the_reader():
    found = hints(document("unknown_field.txt"))
    assert found["unknown_field"]["message"] == "unknown meta field: seo_score"


def test_stale_after_days_is_configurable(clean):
    assert "stale_review" not in hints(clean)  # reviewed 2026-01-19
    found = hints(clean, stale_after_days=100)
    assert "stale after 100 days" in found["stale_review"]["message"]


def test_hint_messages_carry_no_control_characters(clean):
    post = _paragraph(
        copy.deepcopy(clean), "a \x1b[31mred\x1b[0m line here. a \x1b[31mred\x1b[0m line here."
    )
    message = hints(post)["repeated_sentence"]["message"]
    assert "\x1b" not in message
    assert "red" in message


def test_bad_shapes_do_not_crash():
    assert compute_hints({}, today=TODAY)[0]["code"] == "missing_meta"
    weird = {
        "title": 3,
        "body": ["x", {"type": "image"}, {"items": [None, {}]}],
        "meta": {
            "flags": "no",
            "payload": [],
            "revision": {"last_reviewed": 5},
            "reading_time": "ten",
            "stack": [1, 1, True],
        },
        "warnings": None,
    }
    codes = {h["code"] for h in compute_hints(weird, today=TODAY)}
    assert "duplicate_list_item" in codes  # the two 1s


def test_no_untrue_hints_on_synthesized_posts():
    """The synthesizer keeps flags, paragraph counts and reading times consistent (its
    conventions are the seeds'), so none of these may fire on its posts."""
    consistent = {
        "flag_mismatch",
        "paragraph_count",
        "reading_time",
        "missing_meta",
        "unknown_field",
    }
    seen: dict[str, int] = {}
    for index in range(150):
        _, text = render_document(index, 3)
        for hint in compute_hints(seeds.parse(text).to_dict(), today=TODAY):
            seen[hint["code"]] = seen.get(hint["code"], 0) + 1
    assert not consistent & set(seen), seen
    assert seen.get("placeholder_image", 0) > 20  # they do use placeholder hosts


# ---------------------------------------------------------------------------- near_duplicate


def test_near_duplicate_hints_name_the_other_post_and_score():
    found = near_duplicate_hints(
        [
            ("anp-ref-012395-2485", 97, ["sentences alike 100%", "title 88%", "same topic"]),
            ("anp-ref-019995-4029", NEAR_DUPLICATE_THRESHOLD - 1, ["sentences alike 40%"]),
        ]
    )
    assert found == [
        {
            "code": "near_duplicate",
            "message": "near-duplicate of anp-ref-012395-2485: score 97 "
            "(sentences alike 100%, title 88%, same topic)",
            "severity": "warning",
        }
    ]


def test_near_duplicate_hints_take_similar_posts():
    post = SimilarPost("anp-ref-1", "anp-ref-1", "a \x07safer workflow", 91, ["same topic"])
    (hint,) = near_duplicate_hints([post])
    assert hint["message"] == (
        'near-duplicate of anp-ref-1 "a safer workflow": score 91 (same topic)'
    )
    assert near_duplicate_hints([]) == []
