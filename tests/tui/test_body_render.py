"""Post body blocks to Rich renderables: headings, lists, images, code by language."""

import io

from rich.console import Console
from rich.syntax import Syntax

from tui.widgets.body_render import lexer_name, post_renderables


def render_text(renderables, width=80) -> str:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    for renderable in renderables:
        console.print(renderable)
    return console.export_text()


def test_code_language_maps_to_a_lexer_or_plain_text():
    assert lexer_name("php") == "php"
    assert lexer_name("python") == "python"
    assert lexer_name("shell") == "bash" and lexer_name("bash") == "bash"
    assert lexer_name("sql") == "sql" and lexer_name("go") == "go"
    assert lexer_name("yaml") == "yaml" and lexer_name("javascript") == "javascript"
    assert lexer_name("JS") == "javascript"
    assert lexer_name("klingon-script") == "text"
    assert lexer_name(None) == "text" and lexer_name("") == "text"


def test_blocks_render_as_readable_text():
    blocks = [
        {"type": "heading", "text": "production checks"},
        {"type": "paragraph", "text": "a paragraph with [bold]markup[/bold] kept."},
        {"type": "list", "items": ["capture the current behavior", "create a safe backup"]},
        {
            "type": "image",
            "caption": "jobs visual reference 1",
            "source": "loremflickr.com",
            "url": "https://loremflickr.com/1200/630/code",
        },
        {"type": "code", "text": "final class A {\n    public function b() {}\n}"},
    ]
    renderables = list(post_renderables("the title", blocks, "php"))
    text = render_text(renderables)
    assert "the title" in text
    assert "production checks" in text
    assert "a paragraph with [bold]markup[/bold] kept." in text
    assert "• capture the current behavior" in text
    assert "jobs visual reference 1" in text and "loremflickr.com" in text
    assert "https://loremflickr.com/1200/630/code" in text
    assert "final class A {" in text
    syntaxes = [r for r in renderables if isinstance(r, Syntax)]
    assert len(syntaxes) == 1 and syntaxes[0].lexer.name.lower() == "php"


def test_unknown_language_code_is_plain_text():
    renderables = list(post_renderables("t", [{"type": "code", "text": "x := 1"}], "nope"))
    syntax = next(r for r in renderables if isinstance(r, Syntax))
    assert syntax.lexer.name.lower() == "text only"


def test_long_paragraphs_and_code_are_cut_into_pieces():
    words = " ".join(["word"] * 10_000)  # 50,000 characters
    code = "\n".join(f"line_{i} = {i}" for i in range(1_000))
    renderables = list(
        post_renderables(
            "t",
            [{"type": "paragraph", "text": words}, {"type": "code", "text": code}],
            "python",
        )
    )
    paragraph_pieces = [r for r in renderables if getattr(r, "plain", "").startswith("word")]
    assert len(paragraph_pieces) > 5
    assert sum(len(p.plain.split()) for p in paragraph_pieces) == 10_000
    syntaxes = [r for r in renderables if isinstance(r, Syntax)]
    assert len(syntaxes) == 4
    assert [s.start_line for s in syntaxes] == [1, 301, 601, 901]
