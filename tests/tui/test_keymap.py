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
    assert {"j", "down"} <= keys["list_down"] and {"k", "up"} <= keys["list_up"]
    assert "g" in keys["list_first"] and "G" in keys["list_last"]
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
        "list_down": "j,ctrl+n",  # an older keymap's id, still read
    }
    assert any("line 5: unknown binding id 'bogus'" in problem for problem in loaded.problems)
    assert any(problem.startswith("line 6: undo") for problem in loaded.problems)
    keys = {b.binding_id: b.keys for b in effective_bindings(loaded.keymap)}
    assert keys["approve"] == ("y",)
    assert set(keys["list_down"]) == {"j", "ctrl+n"}


def test_a_remap_lists_each_key_once():
    """Bug 7: after a remap the help listed every key twice (j, j, down, down)."""
    keys = {b.binding_id: b.keys for b in effective_bindings({"list_down": "j,down"})}
    assert keys["list_down"] == ("j", "down")


def test_an_invalid_key_name_is_a_problem_naming_the_line(tmp_path):
    (tmp_path / "keymap.toml").write_text(
        '[keys]\napprove = "y"\nundo = "ctrl+shift+alt+nonsense"\n'
    )
    loaded = load_keymap(tmp_path)
    assert "undo" not in loaded.keymap  # the default key stays
    assert loaded.keymap == {"approve": "y"}
    [problem] = loaded.problems
    assert problem.startswith("line 3: undo:") and "'ctrl+shift+alt+nonsense'" in problem
    assert {b.binding_id: b.keys for b in effective_bindings(loaded.keymap)}["undo"] == ("u",)


def test_a_colliding_remap_is_a_problem_naming_both_bindings(tmp_path):
    (tmp_path / "keymap.toml").write_text('[keys]\n\napprove = "x"\n')
    loaded = load_keymap(tmp_path)
    assert loaded.keymap == {"approve": "x"}
    [problem] = loaded.problems
    assert problem.startswith("line 3: approve = 'x' takes 'x' from reject")
    assert "no key" in problem


def test_moving_a_key_to_a_free_one_is_no_collision():
    # approve gives up "a", so reject may take it
    assert parse_keymap({"keys": {"approve": "y", "reject": "a"}}).problems == []
    assert parse_keymap({"keys": {"approve": "y"}}).problems == []


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
