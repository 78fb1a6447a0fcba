"""The sanitiser that every post string passes through before display."""

from rich.console import Console

from tui.text import clean, clean_line, clean_name, json_for_terminal, safe_text


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


def test_bidi_reordering_controls_are_shown_as_escapes_everywhere():
    for char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        escape = f"\\u{ord(char):04x}"
        assert clean(f"a{char}b") == f"a{escape}b"
        assert clean_line(f"a{char}b") == f"a{escape}b"
        assert clean_name(f"a{char}b") == f"a{escape}b"


def test_marks_and_joiners_stay_in_text_but_show_in_one_line_places():
    body = "مرحبا\u200f 👩\u200d💻 \u200bword"
    assert clean(body) == body  # RTL marks and emoji joiners are needed in prose
    assert clean_line(body) == "مرحبا\\u200f 👩\\u200d💻 \\u200bword"
    for char in "\u200b\u200c\u200d\u200e\u200f\u061c\u2060\ufeff":
        assert clean_line(f"x{char}y") == f"x\\u{ord(char):04x}y"


def test_names_show_every_control_visibly_and_lose_nothing():
    assert clean_name("latin\x1b[2J.txt") == "latin\\x1b[2J.txt"
    assert clean_name("a\x1b]52;c;SGk=\x1b\\b") == "a\\x1b]52;c;SGk=\\x1b\\b"
    assert clean_name("c1\x9d0;t\x9c del\x7f nl\n") == "c1\\x9d0;t\\x9c del\\x7f nl\\n"
    assert clean_name("tag\U000e0041") == "tag\\U000e0041"
    assert clean_name(b"caf\xe9.txt") == "caf\\udce9.txt"  # not UTF-8: its byte, visibly
    assert clean_name("café-ü 日本 ok") == "café-ü 日本 ok"


def test_every_format_character_is_in_the_invisible_table():
    import unicodedata

    from tui.text import _INVISIBLE

    missing = [
        f"U+{code:04X}"
        for code in range(0x110000)
        if unicodedata.category(chr(code)) in ("Cf", "Zl", "Zp", "Cs")
        and not _INVISIBLE.match(chr(code))
    ]
    assert missing == []


def test_json_for_terminal_keeps_the_same_values():
    import json

    import orjson

    value = {"id": "a\x1b]0;t\x1b\\b\x7f\x9d\u202e\u200d\U000e0041 café", "n": [1, "x"]}
    raw = orjson.dumps(value)
    assert b"\xc2\x9d" in raw and b"\x7f" in raw  # orjson leaves C1 and DEL raw
    safe = json_for_terminal(raw)
    assert json.loads(safe) == value
    assert all(byte < 0x7F for byte in safe.replace("café".encode(), b""))
    assert b"\\u009d" in safe and b"\\u202e" in safe and b"\\udb40\\udc41" in safe
    plain = orjson.dumps({"a": "plain café"})
    assert json_for_terminal(plain) is plain
