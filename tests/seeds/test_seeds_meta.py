"""The meta box: glued names, kinds, ints, snake_case keys, warnings."""

from pathlib import Path

import pytest

from seeds import FIELDS, parse, read_file, snake_case
from seeds.meta import parse_meta, scalar

DATA = Path(__file__).parent.parent / "data"


def meta_of(box: str) -> tuple[dict, list[str]]:
    post = parse("title\n\nbody text here.\n\nalphanode post meta\n\n" + box)
    return post.meta, post.warnings


def test_field_table():
    assert list(FIELDS) == [
        "topic",
        "summary",
        "ai_outline",
        "ai_brief",
        "stack",
        "tools",
        "code_language",
        "difficulty",
        "reading_time",
        "view_count",
        "score",
        "revision",
        "reference",
        "hash",
        "flags",
        "checklist",
        "entities",
        "image_sources",
        "payload",
        "notes",
    ]
    assert FIELDS["reading_time"].name == "reading time"
    assert FIELDS["reading_time"].kind == "int"
    assert FIELDS["entities"].kind == "records"
    assert FIELDS["image_sources"].required is False
    assert {f.kind for f in FIELDS.values()} == {"text", "int", "list", "mapping", "records"}


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("needs human review", "needs_human_review"),
        ("last reviewed", "last_reviewed"),
        ("source id", "source_id"),
        ("code language", "code_language"),
        ("ai outline", "ai_outline"),
        ("recommended action", "recommended_action"),
        ("  Mixed-Case  Name ", "mixed_case_name"),
    ],
)
def test_snake_case(name, key):
    assert snake_case(name) == key


def test_scalar_turns_only_all_digit_values_into_ints():
    assert scalar("73") == 73 and scalar("19995") == 19995 and scalar("0") == 0
    assert scalar("1.5.6") == "1.5.6"
    assert scalar("2020-05-03") == "2020-05-03"
    assert scalar("-3") == "-3" and scalar("") == "" and scalar("²") == "²"
    # Too long for a 64-bit int (JSON writers need that): stays text.
    assert scalar("9" * 19) == "9" * 19 and scalar("9" * 18) == int("9" * 18)


def test_glued_names_match_longest_first_and_ignore_case():
    meta, warnings = meta_of(
        "ai briefa brief\nai outline\n  • context: x\nReading Time12\ntopic: with a colon\n"
    )
    assert meta["ai_brief"] == "a brief"
    assert meta["ai_outline"] == {"context": "x"}
    assert meta["reading_time"] == 12
    assert meta["topic"] == "with a colon"


def test_text_fields_stay_text_even_when_all_digits():
    meta, _ = meta_of("hash123456789012345678901234\nreference42\n")
    assert meta["hash"] == "123456789012345678901234"
    assert meta["reference"] == "42"


def test_all_digit_values_are_ints_in_lists_and_mappings():
    meta, _ = meta_of(
        "stack\n  • php\n  • 8\npayload\n  • seed: 19995\n  • source id: "
        "alphanode-019995\nrevision\n  • version: 1.5.6\n"
    )
    assert meta["stack"] == ["php", 8]
    assert meta["payload"] == {"seed": 19995, "source_id": "alphanode-019995"}
    assert meta["revision"] == {"version": "1.5.6"}


def test_lists_of_mappings_start_a_new_item_when_a_key_repeats():
    meta, _ = meta_of(
        "entities\n    • name: php\n    • type: stack\n    • name: backend\n"
        "image sources\n    • source: a.com\n    • url: https://a.com/1?x=1:2\n"
        "    • caption: c 1\n    • source: b.com\n    • caption: c 2\n"
    )
    assert meta["entities"] == [{"name": "php", "type": "stack"}, {"name": "backend"}]
    assert meta["image_sources"] == [
        {"source": "a.com", "url": "https://a.com/1?x=1:2", "caption": "c 1"},
        {"source": "b.com", "caption": "c 2"},
    ]


def test_unknown_fields_are_kept_with_warnings():
    post = read_file(DATA / "unknown_field.txt")
    assert post.meta["mood"] == "cheerful"
    assert post.meta["related_links"] == ["https://example.com/a", "https://example.com/b"]
    assert post.meta["unknown_lines"] == ["this line fits nowhere at all"]
    assert post.meta["reading_time"] == "eight"
    assert post.meta["stack"] == ["php"]
    assert post.body == [
        {"type": "paragraph", "text": "the body is one paragraph and it is kept as it is."}
    ]
    assert post.warnings[:4] == [
        "line 8: reading_time is not an integer: 'eight'",
        "line 9: unknown meta field 'mood' kept as 'mood'",
        "line 10: unknown meta field 'related links' kept as 'related_links'",
        "line 13: stray line in meta box kept as unknown_lines: 'this line fits nowhere at all'",
    ]
    assert post.warnings[4].startswith(
        "missing meta fields: summary, ai_outline, ai_brief, tools, code_language"
    )


def test_unknown_field_with_key_value_bullets_is_a_mapping_or_records():
    meta, warnings = meta_of(
        "review board\n  • owner: ana\n  • due: 3\npeople\n    • name: ana\n    • name: bo\n"
    )
    assert meta["review_board"] == {"owner": "ana", "due": 3}
    assert meta["people"] == [{"name": "ana"}, {"name": "bo"}]
    assert "unknown meta field 'review board' kept as 'review_board'" in warnings[0]


def test_column_zero_line_with_bullets_is_one_name():
    # "scorecard" is not the field "score" with the value "card".
    meta, warnings = meta_of("scorecard\n  • a: 1\nscore\n  • quality: 5\n")
    assert meta["scorecard"] == {"a": 1}
    assert meta["score"] == {"quality": 5}
    assert any("unknown meta field 'scorecard'" in w for w in warnings)


def test_no_meta_box_keeps_the_body_with_a_warning():
    post = read_file(DATA / "no_meta.txt")
    assert post.title == "a post whose meta box was lost"
    assert post.body == [
        {"type": "heading", "text": "production checks"},
        {"type": "paragraph", "text": "the body is still worth reviewing, so it is kept."},
        {"type": "list", "items": ["first item", "second item"]},
    ]
    assert post.meta == {}
    assert post.warnings == ["no meta box (no 'alphanode post meta' line); body kept"]
    assert post.id.startswith("doc-")


def test_missing_fields_are_one_warning():
    _meta, warnings = meta_of("topicx\nreferenceanp-ref-1\n")
    assert warnings == [
        "missing meta fields: summary, ai_outline, ai_brief, stack, tools, code_language, "
        "difficulty, reading_time, view_count, score, revision, hash, flags, checklist, "
        "entities, payload, notes"
    ]


def test_stray_bullets_indented_lines_and_duplicates_warn():
    meta, warnings = parse_meta(
        [
            "  • orphan bullet",
            "topicfirst",
            "   indented text",
            "topicsecond",
            "flags",
            "  • no colon here",
            "| |",
        ],
        first_lineno=10,
    )
    assert meta["topic"] == "first"
    assert meta["unknown_lines"] == ["• orphan bullet", "indented text"]
    assert meta["flags"] == {"no_colon_here": ""}
    assert warnings[:5] == [
        "line 10: stray line in meta box kept as unknown_lines: '• orphan bullet'",
        "line 12: stray line in meta box kept as unknown_lines: 'indented text'",
        "line 13: duplicate meta field 'topic'; first value kept",
        "line 15: flags: bullet without 'key: value': 'no colon here'",
        warnings[4],
    ]
    assert warnings[4].startswith("missing meta fields:")


def test_structured_field_with_no_bullets_is_empty():
    meta, _ = meta_of("notes\nflags\nentities\n")
    assert meta["notes"] == [] and meta["flags"] == {} and meta["entities"] == []


def test_text_field_with_bullets_keeps_them_with_a_warning():
    meta, warnings = meta_of("topic\n  • a\n  • b\n")
    assert meta["topic"] == ["a", "b"]
    assert "line 7: meta field 'topic' should be text, found bullet lines; kept as list" in (
        warnings
    )


def test_warnings_are_capped_but_every_stray_line_is_kept():
    meta, warnings = meta_of("".join(f"stray {n}\n" for n in range(200)))
    assert meta["unknown_lines"] == [f"stray {n}" for n in range(200)]
    assert len(warnings) == 52
    assert warnings[0] == "line 7: stray line in meta box kept as unknown_lines: 'stray 0'"
    assert warnings[50] == "150 more meta box warnings not shown"
    assert warnings[51].startswith("missing meta fields: topic, summary")
