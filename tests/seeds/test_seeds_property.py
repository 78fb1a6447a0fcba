"""Property tests: whatever the input, the reader returns a Post or raises ParseError."""

from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import seeds
from seeds import ParseError, Post, decode, parse

SAMPLES = Path(seeds.__file__).parent / "samples"
SEED_LINES = sorted(
    {
        line
        for path in SAMPLES.glob("*.txt")
        for line in path.read_text(encoding="utf-8").split("\n")
    }
)
# Pieces that push the reader into its odd corners.
ODD_LINES = [
    "",
    " ",
    "\t",
    "|",
    "| |",
    "•",
    "  •",
    "    • :",
    "  • a:",
    "alphanode post meta",
    "Similar Posts",
    "x. image source:",
    ". image source: h",
    "image source:",
    "topic",
    "reading time",
    "reading timex",
    "score",
    "  • 99999999999999999999999",
    "}",
    "{",
    "\tx = 1",
    "@",
    "$",
    "SELECT",
    "for x in y:",
    "[bold]x[/bold]",
    "\x1b[31m",
    "\r",
    "\ufeff",
]
# Without line-end characters or a BOM of their own (for the line-end test).
CLEAN_ODD_LINES = [line for line in ODD_LINES if line not in ("\r", "\ufeff")]
BLOCK_TYPES = {"heading", "paragraph", "list", "image", "code"}

PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def check(text: str) -> None:
    try:
        post = parse(text, "prop.txt")
    except ParseError as error:
        assert error.path == "prop.txt"
        assert str(error).startswith("prop.txt: ")
        assert "\n" not in error.reason
        return
    assert isinstance(post, Post)
    assert isinstance(post.title, str) and post.title
    assert all(block["type"] in BLOCK_TYPES for block in post.body)
    assert all(isinstance(warning, str) for warning in post.warnings)
    assert all(isinstance(title, str) and title for title in post.listed_similar)
    assert post.id and len(post.sha256) == 64
    # The store writes posts with orjson: every post must serialise.
    orjson.dumps(post.to_dict())


@PROPERTY_SETTINGS
@given(st.text())
def test_random_text(text):
    check(text)


@PROPERTY_SETTINGS
@given(st.binary())
def test_random_bytes(data):
    try:
        text = decode(data, "prop.txt")
    except ParseError as error:
        assert error.path == "prop.txt"
        return
    check(text)


@PROPERTY_SETTINGS
@given(st.lists(st.sampled_from(SEED_LINES + ODD_LINES) | st.text(max_size=30), max_size=80))
def test_documents_made_of_seed_lines(lines):
    check("\n".join(lines))


@PROPERTY_SETTINGS
@given(
    st.lists(st.sampled_from(SEED_LINES + CLEAN_ODD_LINES), max_size=120),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_line_ends_do_not_change_the_post(lines, newline):
    text = "\n".join(lines)
    try:
        expected = parse(text).to_dict()
    except ParseError as error:
        try:
            parse(newline.join(lines))
        except ParseError as again:
            assert again.reason == error.reason
            return
        raise AssertionError("CRLF text parsed where LF text did not") from None
    assert parse("\ufeff" + newline.join(lines)).to_dict() == expected
