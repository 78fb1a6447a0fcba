"""The sanitiser that every post string passes through before display."""

from rich.console import Console

from tui.text import clean, clean_line, safe_text


def test_osc_title_sequence_is_removed_with_its_payload():
    assert clean("before\x1b]0;PWNED\x07after") == "beforeafter"
    assert clean("a\x1b]2;x\x1b\\b") == "ab"  # ST-terminated
    assert clean("a\x9d0;x\x9cb") == "ab"  # 8-bit OSC


def test_unterminated_osc_is_cut_to_the_end_of_its_line_only():
    assert clean("t\x1b]0;title\nnext line") == "t\nnext line"


def test_csi_sequences_are_removed():
    assert clean("\x1b[31mred\x1b[0m \x1b[2J\x1b[10;20H") == "red "
    assert clean("x\x9b2Jy") == "xy"


def test_other_controls_become_visible_symbols():
    assert clean("bell\x07 nul\x00 del\x7f") == "bell\u2407 nul\u2400 del\u2421"
    assert clean("c1\x85") == "c1\ufffd"
    assert clean("cr\ronly") == "cr\u240donly"


def test_newlines_and_tabs_are_kept_crlf_normalised():
    assert clean("one\r\ntwo\tthree") == "one\ntwo\tthree"
    assert clean_line("one\ntwo\tthree") == "one two three"


def test_markup_is_left_as_literal_text():
    hostile = "fixing [/] closing tags [link=file:///etc/passwd]x[/link] [bold red]x[/bold red]"
    text = safe_text(hostile)
    assert text.plain == hostile
    assert text.spans == []
    console = Console(width=200, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(text)
    assert console.export_text().strip() == hostile


def test_long_values_are_cut():
    assert clean("x" * 50, max_chars=10) == "x" * 10 + "…"
    assert clean(12345) == "12345"
