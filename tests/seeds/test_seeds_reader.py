"""Reading files: encodings, line ends, per-file errors, ids, the Post API."""

import hashlib
import pickle
from pathlib import Path

import pytest

import seeds
from seeds import ParseError, Post, decode, parse, read_file

DATA = Path(__file__).parent.parent / "data"
SEED_000 = Path(seeds.__file__).parent / "samples" / "000_d88866b715cabc30.txt"


def test_crlf_and_bom_give_the_same_post_as_lf(tmp_path):
    lf = SEED_000.read_bytes()
    assert b"\r" not in lf
    crlf_bom = tmp_path / "crlf_bom.txt"
    crlf_bom.write_bytes(b"\xef\xbb\xbf" + lf.replace(b"\n", b"\r\n"))
    expected = read_file(SEED_000)
    post = read_file(crlf_bom)
    assert post.to_dict() == expected.to_dict()
    assert post.sha256 == expected.sha256 == hashlib.sha256(lf).hexdigest()
    # The PHP code keeps no stray \r.
    code = [b for b in post.body if b["type"] == "code"][0]["text"]
    assert "\r" not in code and code.startswith("final class health_check {\n    public")


def test_lone_carriage_returns_are_line_ends():
    post = parse("old mac title\r\rparagraph one is here.\r\rfinal notes\r")
    assert post.title == "old mac title"
    assert post.body == [
        {"type": "paragraph", "text": "paragraph one is here."},
        {"type": "heading", "text": "final notes"},
    ]


def test_bom_in_text_is_stripped():
    assert parse("\ufefftitle\n\nbody text here.").title == "title"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.txt", "empty file"),
        ("whitespace.txt", "empty file"),
        ("binary.bin", "binary file (contains NUL bytes)"),
        ("latin1.txt", "not UTF-8 text (invalid byte 0xe9 at offset 3; save it as UTF-8)"),
    ],
)
def test_unreadable_files_raise_parse_error_naming_file_and_reason(name, reason):
    path = DATA / name
    with pytest.raises(ParseError) as caught:
        read_file(path)
    error = caught.value
    assert error.path == str(path)
    assert error.reason == reason
    assert str(error) == f"{path}: {reason}"


def test_utf16_file_is_named_as_such(tmp_path):
    path = tmp_path / "utf16.txt"
    path.write_bytes("title\n\nbody.\n".encode("utf-16"))
    with pytest.raises(ParseError, match=r"utf16\.txt: UTF-16 text, not UTF-8"):
        read_file(path)


def test_missing_file_and_directory_are_parse_errors(tmp_path):
    with pytest.raises(ParseError) as caught:
        read_file(tmp_path / "nope.txt")
    assert caught.value.reason == "cannot read: No such file or directory"
    with pytest.raises(ParseError) as caught:
        read_file(tmp_path)
    assert caught.value.reason == "a directory, not a regular file"
    assert str(caught.value) == f"{tmp_path}: a directory, not a regular file"


def test_invalid_byte_offset_is_the_real_offset():
    data = "héllo\n".encode() + b"\n\xff tail"
    with pytest.raises(ParseError) as caught:
        decode(data, "x.txt")
    assert caught.value.reason == (
        f"not UTF-8 text (invalid byte 0xff at offset {len('héllo'.encode()) + 2}; "
        "save it as UTF-8)"
    )


def test_nul_in_text_and_empty_text_are_errors():
    with pytest.raises(ParseError, match=r"^<string>: binary file \(contains NUL bytes\)$"):
        parse("title\n\x00\n")
    with pytest.raises(ParseError, match="^doc: empty file$"):
        parse(" \n\t\n", "doc")
    with pytest.raises(ParseError, match="^<string>: empty file$"):
        parse("")


def test_document_of_only_artefact_lines_has_no_title():
    with pytest.raises(ParseError, match="^a.txt: no title$"):
        parse("| |\n\n|\n", "a.txt")


def test_document_starting_with_the_meta_box_has_no_title():
    with pytest.raises(ParseError) as caught:
        parse("alphanode post meta\ntopicx\n")
    assert caught.value.reason.startswith("no title")


def test_id_falls_back_to_sha256_of_normalized_text():
    text = "a title\n\nsome body text here.\n"
    post = parse(text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert post.reference is None
    assert post.sha256 == digest
    assert post.id == "doc-" + digest[:12]
    assert parse(text.replace("\n", "\r\n")).id == post.id


def test_read_file_and_parse_agree():
    text = SEED_000.read_text(encoding="utf-8")
    assert parse(text, str(SEED_000)).to_dict() == read_file(SEED_000).to_dict()
    assert decode(SEED_000.read_bytes(), "x") == text


def test_post_and_parse_error_pickle_for_worker_processes():
    post = read_file(SEED_000)
    again = pickle.loads(pickle.dumps(post))
    assert isinstance(again, Post)
    assert again.to_dict() == post.to_dict() and again.sha256 == post.sha256
    error = pickle.loads(pickle.dumps(ParseError("f.txt", "empty file")))
    assert (error.path, error.reason, str(error)) == ("f.txt", "empty file", "f.txt: empty file")


def test_to_dict_has_exactly_the_architecture_keys():
    post = read_file(DATA / "similar_posts.txt")
    assert post.to_dict() == {
        "title": "a post that lists related posts",
        "body": [{"type": "paragraph", "text": "short body paragraph for the test."}],
        "meta": {"topic": "similar posts", "reference": "anp-ref-000003-0003"},
        "listed_similar": [
            "handling background jobs in php: maintenance guide",
            "field notes on handling background jobs for python services",
        ],
        "warnings": [post.warnings[0]],
    }
    assert post.warnings[0].startswith("missing meta fields: summary, ai_outline")


def test_similar_posts_without_trailing_newline_and_with_titles():
    post = parse("t\n\nbody.\n\nalphanode post meta\ntopicx\n\nSimilar Posts\none\n| |\ntwo")
    assert post.listed_similar == ["one", "two"]
    assert parse("t\n\nalphanode post meta\ntopicx\nSimilar Posts").listed_similar == []


def test_similar_posts_without_meta_box():
    post = parse("t\n\nbody text here.\n\nSimilar Posts\nother post")
    assert post.body == [{"type": "paragraph", "text": "body text here."}]
    assert post.listed_similar == ["other post"]
    assert post.meta == {}
    assert any("no meta box" in warning for warning in post.warnings)
