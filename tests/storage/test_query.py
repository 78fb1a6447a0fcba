"""The query grammar (`parse_query`) and the flat field map of a post (`index_fields`)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

import seeds
from storage.query import (
    CHANGED,
    COMPARE,
    FIELD,
    FLAG,
    HINT,
    KNOWN_FIELDS,
    PHRASE,
    STATUS,
    WORD,
    QueryError,
    index_fields,
    parse_query,
)

SAMPLES = Path(__file__).resolve().parents[2] / "seeds" / "samples"


def sample(prefix: str) -> dict:
    (path,) = SAMPLES.glob(f"{prefix}_*.txt")
    return seeds.read_file(path).to_dict()


# --------------------------------------------------------------------------- index_fields


def test_index_fields_flattens_a_real_seed():
    fields = index_fields(sample("001"))
    assert fields["title"] == (
        "building a safer workflow for handling background jobs with php: step by step"
    )
    assert fields["topic"] == "handling background jobs / php"
    assert fields["stack"] == ["php", "backend", "php"]
    assert fields["reading_time"] == 10
    # nested mapping keys by their own name
    assert fields["quality"] == 75
    assert fields["clarity"] == 71
    assert fields["needs_human_review"] == 1
    assert fields["source_id"] == "alphanode-003275"
    assert fields["paragraphs"] == 7
    assert fields["last_reviewed"] == "2022-02-05"
    assert fields["context"] == "with simple rollback steps"
    # clashes stay reachable under parent.key; the top-level name keeps its meaning
    assert fields["revision.status"] == "drafted"
    assert fields["ai_outline.stack"] == "php"
    assert "status" not in fields
    # list-of-mapping fields: one list per key
    assert fields["entities.name"] == ["php", "backend", "handling background jobs"]
    assert fields["entities.type"] == ["stack", "area", "problem"]
    assert fields["image_sources.source"] == ["loremflickr.com", "dummyimage.com"]
    assert len(fields["image_sources.url"]) == 2


def test_index_fields_is_compact_and_json_ready():
    post = sample("002")
    fields = index_fields(post)
    assert "body" not in fields
    assert not any(isinstance(v, dict) for v in fields.values())
    assert orjson.loads(orjson.dumps(fields)) == fields
    # every name it produces is one the grammar knows
    assert set(fields) <= set(KNOWN_FIELDS)


def test_index_fields_without_image_sources():
    assert not any(name.startswith("image_sources") for name in index_fields(sample("000")))


def _records_plainly(name: str, records: list) -> dict[str, list]:
    """What a list of mappings gives, the plain way: one list per dotted key, in the order
    the keys are first met, None values left out, other odd values as ``_scalar`` makes
    them (a bool as 0/1, anything else but str/int/float as its text)."""
    out: dict[str, list] = {}
    for record in records:
        if not isinstance(record, dict):
            continue
        for key, item in record.items():
            if isinstance(item, bool):
                item = int(item)
            elif item is None:
                continue
            elif not isinstance(item, str | int | float):
                item = str(item)
            out.setdefault(f"{name}.{key}", []).append(item)
    return out


def test_list_of_mapping_fields_are_one_list_per_dotted_key():
    records = [
        {"name": "php", "type": "language", 3: "three", "on": True},
        "not a mapping",
        {"type": "tool", "name": "redis", "3": "text three", "none": None, "f": 1.5},
        {"name": ["odd"], "on": False},
    ]
    post = {"title": "t", "meta": {"entities": records, "things": records[2:]}}
    fields = index_fields(post)
    expected = {"title": "t", **_records_plainly("entities", records)}
    expected.update(_records_plainly("things", records[2:]))
    assert fields == expected
    assert list(fields) == list(expected)  # the same order
    assert fields["entities.3"] == ["three", "text three"]  # 3 and "3" spell one name
    assert fields["entities.on"] == [1, 0]


def test_index_fields_unknown_meta_fields():
    post = {
        "title": "T",
        "body": [{"type": "paragraph", "text": "x"}],
        "meta": {
            "custom": "Value",
            "extra_list": ["a", 2],
            "extra_map": {"quality": 5, "colour": "red"},
            "flags": {"needs_human_review": 1, "new_flag": 1},
            "status": "sneaky",  # cannot shadow the review status
            "empty": None,
        },
    }
    fields = index_fields(post)
    assert fields["custom"] == "Value"
    assert fields["extra_list"] == ["a", 2]
    # keys of unknown mappings and unknown keys of known mappings are always dotted
    assert fields["extra_map.quality"] == 5
    assert fields["extra_map.colour"] == "red"
    assert "quality" not in fields
    assert fields["needs_human_review"] == 1
    assert fields["flags.new_flag"] == 1
    assert fields["meta.status"] == "sneaky"
    assert "empty" not in fields


# --------------------------------------------------------------------------- parse_query


def only(text: str):
    (term,) = parse_query(text).terms
    return term


def test_empty_query():
    assert parse_query("").is_empty
    assert parse_query("   ").terms == ()


def test_free_words_are_split_and_lowered():
    query = parse_query("Kubernets node.js")
    assert [(t.kind, t.value) for t in query.terms] == [
        (WORD, "kubernets"),
        (WORD, "node"),
        (WORD, "js"),
    ]
    assert query.words == ("kubernets", "node", "js")
    assert query.has_free_words


def test_field_term():
    term = only("stack:php")
    assert (term.kind, term.field, term.value, term.negated) == (FIELD, "stack", "php", False)


def test_field_term_is_case_insensitive():
    term = only("STACK:PHP")
    assert (term.field, term.value) == ("stack", "php")


def test_field_term_with_quoted_value():
    term = only('topic:"Handling background jobs / php"')
    assert (term.kind, term.field, term.value) == (FIELD, "topic", "handling background jobs / php")
    assert term.raw == 'topic:"Handling background jobs / php"'


def test_dotted_names_of_nested_fields():
    assert only("score.quality>=3").field == "quality"
    assert only("payload.source_id:alphanode-000357").field == "source_id"
    assert only("revision.status:reviewed").field == "revision.status"
    assert only("ai_outline.stack:php").field == "ai_outline.stack"
    assert only("entities.name:php").field == "entities.name"
    assert only("entities:php").field == "entities"


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "="])
def test_comparisons(op):
    term = only(f"quality{op}70")
    assert (term.kind, term.field, term.op, term.value) == (COMPARE, "quality", op, 70)


def test_comparison_on_a_nested_and_a_top_level_field():
    assert only("view_count>40000").value == 40000
    assert only("reading_time>=10").field == "reading_time"


def test_flag_term():
    term = only("flag:needs_human_review")
    assert (term.kind, term.field, term.value) == (FLAG, "needs_human_review", 1)


@pytest.mark.parametrize("status", ["pending", "approved", "rejected", "changes_requested"])
def test_status_term(status):
    term = only(f"status:{status}")
    assert (term.kind, term.value) == (STATUS, status)


def test_hint_and_changed_terms():
    assert (only("hint:placeholder_image").kind, only("hint:placeholder_image").value) == (
        HINT,
        "placeholder_image",
    )
    assert (only("changed:yes").kind, only("changed:yes").value) == (CHANGED, True)
    assert only("changed:no").value is False


def test_phrase_term():
    term = only('"Rollback Note"')
    assert (term.kind, term.value, term.position) == (PHRASE, "rollback note", 0)


def test_negation_of_every_kind():
    query = parse_query('-stack:php -flag:has_images -quality<70 -"a b" -word -status:approved')
    assert [t.negated for t in query.terms] == [True] * 6
    assert query.words == ()  # a negated word does not rank
    assert not query.has_free_words


def test_terms_are_anded_in_order_with_positions():
    query = parse_query('difficulty:advanced  -stack:php "x y" quality<75')
    assert [(t.kind, t.position) for t in query.terms] == [
        (FIELD, 0),
        (FIELD, 22),
        (PHRASE, 32),
        (COMPARE, 38),
    ]


@pytest.mark.parametrize(
    ("text", "message", "position", "term"),
    [
        ("bogus_field:x", "unknown field 'bogus_field' at position 0", 0, "bogus_field"),
        ("php -Bogus:x", "unknown field 'Bogus' at position 5", 5, "Bogus"),
        ("php x quality<", "expected a number after 'quality<' at position 6", 6, "quality<"),
        ("quality<abc", "expected a number after 'quality<' at position 0", 0, "quality<abc"),
        ("quality:high", "expected a number after 'quality:' at position 0", 0, "quality:high"),
        ("topic<3", "field 'topic' is not a number", 0, "topic<3"),
        ("status:done", "unknown status 'done' at position 0", 0, "status:done"),
        ("status>1", "expected 'status:'", 0, "status>1"),
        ("changed:maybe", "expected 'changed:yes' or 'changed:no'", 0, "changed:maybe"),
        ("flag:shiny", "unknown flag 'shiny' at position 0", 0, "flag:shiny"),
        ("stack:", "expected a value after 'stack:' at position 0", 0, "stack:"),
        ('php "rollback note', "unterminated quote at position 4", 4, '"rollback note'),
        ('topic:"a / b', "unterminated quote at position 6", 6, 'topic:"a / b'),
        ('""', "empty phrase at position 0", 0, '""'),
        ("php - x", "expected a term after '-' at position 4", 4, "-"),
        ('ab"c', "unexpected quote at position 2", 2, 'ab"c'),
    ],
)
def test_malformed_queries(text, message, position, term):
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    error = caught.value
    assert message in str(error)
    assert error.position == position
    assert error.term == term
    assert isinstance(error, ValueError)


def test_unknown_status_lists_the_statuses():
    with pytest.raises(QueryError, match="pending, approved, rejected, changes_requested"):
        parse_query("status:done")


def test_extra_fields_and_flags_from_the_posts():
    with pytest.raises(QueryError):
        parse_query("custom:x")
    assert only_with("custom:x", extra_fields=["custom"]).field == "custom"
    # an unknown field may be compared: its kind is not known
    assert only_with("custom>3", extra_fields=["custom"]).op == ">"
    assert only_with("flag:new_flag", extra_flags=["new_flag"]).field == "flags.new_flag"


def only_with(text: str, **extra):
    (term,) = parse_query(text, **extra).terms
    return term
