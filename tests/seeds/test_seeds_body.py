"""Body blocks: heading, paragraph, list, image, code; odd and hostile bodies."""

from pathlib import Path

import seeds
from seeds import parse, read_file

DATA = Path(__file__).parent.parent / "data"
SAMPLES = Path(seeds.__file__).parent / "samples"


def body(text: str) -> list[dict]:
    return parse("the title\n\n" + text).body


def test_tab_indented_code_keeps_its_tabs():
    post = read_file(DATA / "tab_code.txt")
    assert post.body == [
        {
            "type": "paragraph",
            "text": "the handler below is indented with tabs, as gofmt writes it.",
        },
        {
            "type": "code",
            "language": "go",
            "text": (
                "func health(w http.ResponseWriter, r *http.Request) {\n"
                '\tif r.Method != "GET" {\n'
                "\t\tw.WriteHeader(405)\n"
                "\t\treturn\n"
                "\t}\n"
                '\tw.Write([]byte("ok"))\n'
                "}"
            ),
        },
    ]


def test_code_split_by_blank_lines_is_one_block_with_the_blank_lines_kept():
    blocks = body("def a():\n    return 1\n\n\nx = a()\nprint(x)\n\nfinal notes\n")
    assert blocks == [
        {"type": "code", "text": "def a():\n    return 1\n\n\nx = a()\nprint(x)"},
        {"type": "heading", "text": "final notes"},
    ]


def test_code_after_a_paragraph_is_a_new_block():
    blocks = body("run these two commands first.\n\nsudo apt update\nsudo apt upgrade -y\n")
    assert blocks == [
        {"type": "paragraph", "text": "run these two commands first."},
        {"type": "code", "text": "sudo apt update\nsudo apt upgrade -y"},
    ]


def test_sentence_glued_to_code_is_split_off():
    blocks = body(
        "restart the service and check its state:\nsystemctl restart app\n"
        "systemctl status app\nthat is all it takes.\n"
    )
    assert blocks == [
        {"type": "paragraph", "text": "restart the service and check its state:"},
        {"type": "code", "text": "systemctl restart app\nsystemctl status app"},
        {"type": "paragraph", "text": "that is all it takes."},
    ]


def test_prose_is_not_mistaken_for_code():
    lines = [
        "monitoring should answer simple questions quickly: is the service up, is it slow, "
        "are jobs failing, and did the last deployment change anything.",
        "set the value to something sensible (for example 30 seconds) and write it down.",
        "git history should explain why a change was made, not only what changed.",
        "use $HOME sparingly; prefer explicit paths in scripts.",
    ]
    blocks = body("\n\n".join(lines))
    assert blocks == [{"type": "paragraph", "text": line} for line in lines]


def test_headings_are_short_plain_lines():
    # Some start with a command name: still headings, since nothing after it is shell-like.
    headings = [
        "production checks",
        "git workflow",
        "docker basics",
        "why this matters",
        "tail latency",
        "ssh hardening",
        "service boundaries",
        "nginx configuration",
        "find the slow query",
        "npm scripts",
    ]
    blocks = body("\n\n".join(headings) + "\n\nthis one is a sentence.\n")
    assert blocks == [{"type": "heading", "text": text} for text in headings] + [
        {"type": "paragraph", "text": "this one is a sentence."}
    ]


def test_code_shapes_are_recognised():
    samples = [
        "<?php echo $name; ?>",
        "SELECT id, title FROM posts WHERE reviewed = false;",
        "ALTER TABLE posts ADD COLUMN reviewed boolean",
        "docker compose up -d",
        "git pull --rebase",
        "npm install",
        "curl -I https://example.com",
        "@pytest.fixture",
        "import os",
        "const app = express()",
        "for item in items:",
        "server {",
        "}",
        "    pass",
        "$ ls -la /var/log",
        "ssh deploy@host",
        "tail -f /var/log/app.log",
        "cat app.log",
        "git status",
        'echo "done"',
    ]
    for sample in samples:
        assert body(sample + "\n") == [{"type": "code", "text": sample}], sample


def test_list_and_image_pairs_may_follow_a_block_directly():
    text = (
        "a paragraph about images.\n"
        "  • one\n"
        "  • two\n"
        "cats visual reference 1\n"
        "cats visual reference 1. image source: placehold.co\n"
        "cats visual reference 2\n"
        "cats visual reference 2. image source: unsplash\n"
        "  • three\n"
    )
    assert body(text) == [
        {"type": "paragraph", "text": "a paragraph about images."},
        {"type": "list", "items": ["one", "two"]},
        {"type": "image", "caption": "cats visual reference 1", "source": "placehold.co"},
        {"type": "image", "caption": "cats visual reference 2", "source": "unsplash"},
        {"type": "list", "items": ["three"]},
    ]


def test_image_url_comes_from_image_sources_by_caption():
    text = (
        "t\n\ncats visual reference 1\ncats visual reference 1. image source: placehold.co\n\n"
        "dogs visual reference 2\ndogs visual reference 2. image source: unsplash\n\n"
        "alphanode post meta\nimage sources\n"
        "    • source: placehold.co\n"
        "    • url: https://placehold.co/600x400?text=cats\n"
        "    • caption: cats visual reference 1\n"
    )
    images = parse(text).body
    assert images[0]["url"] == "https://placehold.co/600x400?text=cats"
    assert "url" not in images[1]  # no image_sources entry with that caption


def test_lone_image_source_line_is_an_image():
    assert body("cats visual reference 3. image source: dummyimage.com\n") == [
        {"type": "image", "caption": "cats visual reference 3", "source": "dummyimage.com"},
    ]
    # A sentence that merely mentions an image source stays prose.
    assert body("the image source: unknown to all of us.\n") == [
        {"type": "paragraph", "text": "the image source: unknown to all of us."},
    ]


def test_stray_artefact_lines_in_the_body_are_ignored():
    blocks = body("first paragraph here.\n| |\n\n|\n\nsecond paragraph here.\n")
    assert blocks == [
        {"type": "paragraph", "text": "first paragraph here."},
        {"type": "paragraph", "text": "second paragraph here."},
    ]


def test_bullets_of_any_indent_form_one_list():
    assert body("•a\n  • b\n    • c\n\t• d\n") == [
        {"type": "list", "items": ["a", "b", "c", "d"]},
    ]


def test_wrapped_prose_is_one_paragraph():
    blocks = body("this paragraph was wrapped\nover three short lines\nby an editor.\n")
    assert blocks == [
        {
            "type": "paragraph",
            "text": "this paragraph was wrapped\nover three short lines\nby an editor.",
        }
    ]


def test_heading_glued_to_its_paragraph():
    assert body("final notes\nkeep the notes close to the code.\n") == [
        {"type": "heading", "text": "final notes"},
        {"type": "paragraph", "text": "keep the notes close to the code."},
    ]


def test_cjk_and_emoji_text():
    post = read_file(DATA / "cjk_emoji.txt")
    assert post.title == "バックグラウンドジョブの処理 🚀 guide"
    assert post.body == [
        {"type": "heading", "text": "本番環境の確認"},
        {
            "type": "paragraph",
            "text": "これは日本語の段落です。キューとクーロンは冪等であるべきです。",
        },
        {"type": "list", "items": ["備份 💾", "测试 ✅"]},
        {"type": "code", "text": 'echo "héllo wörld 🌍"'},
    ]
    assert post.meta["topic"] == "后台任务 / php 🐘"
    assert post.meta["stack"] == ["php", "日本語"]


def test_markup_and_escape_sequences_are_kept_literally():
    post = read_file(DATA / "hostile_markup.txt")
    assert post.title == "[bold red]not markup[/bold red] \x1b[31mred\x1b[0m title"
    assert post.body == [
        {
            "type": "paragraph",
            "text": (
                "see [link=file:///etc/passwd]this link[/link] and "
                "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07 here, which must stay text."
            ),
        },
        {"type": "heading", "text": "[bold]heading in brackets[/bold]"},
    ]
    assert post.meta["topic"] == "[red]topic[/red] \x1b[2J"
    assert post.meta["notes"] == ["[link=file:///etc/passwd]x[/link]"]


def big_document(megabytes: float) -> tuple[str, int]:
    """Seed 002 with its body repeated to the given size, and its expected block count."""
    text = (SAMPLES / "002_9e41a7032fcd7300.txt").read_text(encoding="utf-8")
    head, meta = text.split("\nalphanode post meta\n")
    assert head.startswith("| |\n\nproduction checklist")
    title, body_text = head.removeprefix("| |\n\n").split("\n", 1)
    copies = int(megabytes * 1_000_000 / len(body_text)) + 1
    blocks_per_copy = len(parse(text).body)
    return title + "\n\n" + (body_text + "\n\n") * copies + "alphanode post meta\n" + meta, (
        blocks_per_copy * copies
    )


def test_two_megabyte_document():
    text, expected_blocks = big_document(2)
    assert len(text.encode()) > 2_000_000
    post = parse(text)
    assert len(post.body) == expected_blocks
    assert post.warnings == []
    assert sum(b["type"] == "image" for b in post.body) == 5 * (expected_blocks // 19)
    assert all(b.get("url", "").startswith("https://") for b in post.body if b["type"] == "image")


def test_hostile_documents_parse():
    # Sizes of issue 9: each must return a Post (speed is measured in benchmarks).
    ten_mb_line = parse("title\n\n" + "word " * 2_000_000)
    assert len(ten_mb_line.body) == 1 and ten_mb_line.body[0]["type"] == "paragraph"

    many_lines = parse("title\n\n" + "a line of plain words\n" * 100_000)
    assert len(many_lines.body) == 1
    assert many_lines.body[0]["text"].count("\n") == 99_999

    long_title = parse("t" * 5000 + "\n\nbody.\n")
    assert long_title.title == "t" * 5000

    deep = "".join(" " * depth + "x = 1\n" for depth in range(0, 3000, 3))
    deep_post = parse("title\n\n" + deep + "\n" + " " * 1_000_000 + "y\n")
    assert [b["type"] for b in deep_post.body] == ["code"]
    assert deep_post.body[0]["text"].endswith(" " * 1_000_000 + "y")

    code_lines = parse("title\n\n" + "x = 1;\n\n" * 50_000)
    assert len(code_lines.body) == 1
    assert code_lines.body[0]["text"].count("x = 1;") == 50_000

    marker_words = parse("title\n\n" + "not the alphanode post meta line\n" * 50_000)
    assert any("no meta box" in w for w in marker_words.warnings)
