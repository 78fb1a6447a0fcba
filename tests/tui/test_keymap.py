"""Binding ids, the keymap file, and the effective bindings the help screen lists."""

from tui.keymap import (
    BINDING_GROUPS,
    binding_ids,
    effective_bindings,
    load_keymap,
    normalize_key,
    parse_keymap,
)


def test_every_binding_has_an_id_and_a_description():
    for _, table in BINDING_GROUPS:
        for binding in table:
            assert binding.id, binding
            assert binding.description, binding
            assert binding.tooltip, binding


def test_issue_keys_are_bound_by_default():
    keys = {b.binding_id: set(b.keys) for b in effective_bindings({})}
    assert {"j", "down"} <= keys["next_post"] and {"k", "up"} <= keys["prev_post"]
    assert "g" in keys["first_post"] and "G" in keys["last_post"]
    assert keys["approve"] == {"a"} and keys["reject"] == {"x"}
    assert keys["request_changes"] == {"c"} and keys["note"] == {"n"}
    assert keys["undo"] == {"u"} and keys["tag"] == {"space"}
    assert keys["search"] == {"slash"} and keys["focus_similar"] == {"s"}
    assert keys["help"] == {"question_mark"} and keys["quit"] == {"q"}
    assert keys["command_palette"] == {"ctrl+p"} and keys["cycle_panes"] == {"tab"}
    assert keys["save_note"] == {"ctrl+s"} and keys["cancel_note"] == {"escape"}


def test_keymap_file_remaps_and_reports_problems(tmp_path):
    (tmp_path / "keymap.toml").write_text(
        '[keys]\napprove = "y"\nhelp = "?"\nnext_post = ["j", "ctrl+n"]\nbogus = "z"\nundo = 3\n'
    )
    loaded = load_keymap(tmp_path)
    assert loaded.keymap == {
        "approve": "y",
        "help": "question_mark",
        "next_post": "j,ctrl+n",
    }
    assert any("bogus" in problem for problem in loaded.problems)
    assert any(problem.startswith("undo") for problem in loaded.problems)
    keys = {b.binding_id: b.keys for b in effective_bindings(loaded.keymap)}
    assert keys["approve"] == ("y",)
    assert set(keys["next_post"]) == {"j", "ctrl+n"}


def test_top_level_keys_without_a_table_are_accepted():
    assert parse_keymap({"reject": "X"}).keymap == {"reject": "X"}


def test_invalid_toml_is_a_problem_not_an_exception(tmp_path):
    (tmp_path / "keymap.toml").write_text("[keys\napprove = ")
    loaded = load_keymap(tmp_path)
    assert loaded.keymap == {}
    assert "not valid TOML" in loaded.problems[0]


def test_missing_file_is_an_empty_keymap(tmp_path):
    assert load_keymap(tmp_path).keymap == {} and load_keymap(tmp_path).problems == []


def test_key_names_are_normalised_like_textual():
    assert normalize_key("/") == "slash"
    assert normalize_key("?") == "question_mark"
    assert normalize_key("G") == "G"
    assert normalize_key("ctrl+s") == "ctrl+s"


def test_ids_are_unique_across_tables():
    ids = [b.id for _, table in BINDING_GROUPS for b in table]
    assert len(ids) == len(set(ids)) == len(binding_ids())
