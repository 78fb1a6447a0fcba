"""Key bindings: ids, default keys, descriptions, and the user's remapping file.

Every binding has an ``id``. A reviewer can move any of them to other keys in
``keymap.toml`` in the copydesk config dir (``$COPYDESK_CONFIG_DIR``, else
``platformdirs.user_config_dir("copydesk")``)::

    # keymap.toml
    [keys]
    approve = "y"            # one key
    next_post = "j,down,ctrl+n"   # several keys, comma separated

The tables below are the ``BINDINGS`` of the app, screens and widgets, so the
help screen and the command palette, which read them, always match what the
keys do (with the keymap applied through Textual's own ``BindingsMap``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from textual.binding import Binding, BindingsMap
from textual.keys import _character_to_key

from storage import config_dir as storage_config_dir

KEYMAP_FILE = "keymap.toml"

APP_BINDINGS = [
    Binding("q", "quit", "Quit", tooltip="Quit copydesk (decisions are already saved)", id="quit"),
    Binding("question_mark", "help", "Help", tooltip="List every key binding", id="help"),
    Binding(
        "ctrl+p",
        "command_palette",
        "Palette",
        tooltip="Run any action by name",
        show=False,
        priority=True,
        id="command_palette",
    ),
]

REVIEW_BINDINGS = [
    Binding(
        "j,down", "next_post", "Next", tooltip="Move to the next post", show=False, id="next_post"
    ),
    Binding(
        "k,up",
        "prev_post",
        "Previous",
        tooltip="Move to the previous post",
        show=False,
        id="prev_post",
    ),
    Binding(
        "g,home",
        "first_post",
        "First",
        tooltip="Move to the first post",
        show=False,
        id="first_post",
    ),
    Binding(
        "G,end", "last_post", "Last", tooltip="Move to the last post", show=False, id="last_post"
    ),
    Binding(
        "pagedown",
        "page_down",
        "Page down",
        tooltip="Move a page down the list",
        show=False,
        id="page_down",
    ),
    Binding(
        "pageup", "page_up", "Page up", tooltip="Move a page up the list", show=False, id="page_up"
    ),
    Binding(
        "tab",
        "cycle_panes",
        "Next pane",
        tooltip="Focus the next pane",
        show=False,
        id="cycle_panes",
    ),
    Binding(
        "shift+tab",
        "cycle_panes_back",
        "Previous pane",
        tooltip="Focus the previous pane",
        show=False,
        id="cycle_panes_back",
    ),
    Binding(
        "a",
        "decide('approved')",
        "Approve",
        tooltip="Approve this post (or all tagged posts) and move to the next pending",
        id="approve",
    ),
    Binding(
        "x",
        "decide('rejected')",
        "Reject",
        tooltip="Reject this post (or all tagged posts) and move to the next pending",
        id="reject",
    ),
    Binding(
        "c",
        "decide('changes_requested')",
        "Changes",
        tooltip="Request changes on this post (or all tagged posts), move to the next pending",
        id="request_changes",
    ),
    Binding("n", "note", "Note", tooltip="Write or edit the review note of this post", id="note"),
    Binding("u", "undo", "Undo", tooltip="Undo the last decision", id="undo"),
    Binding("space", "tag", "Tag", tooltip="Tag or untag this post for a bulk decision", id="tag"),
    Binding("slash", "search", "Search", tooltip="Filter the list as you type", id="search"),
    Binding(
        "s",
        "focus_similar",
        "Similar",
        tooltip="Focus the Similar pane (enter there jumps to a post)",
        show=False,
        id="focus_similar",
    ),
    Binding(
        "m",
        "toggle_side",
        "Side panes",
        tooltip="Show or hide the meta, flags and Similar panes",
        show=False,
        id="toggle_side",
    ),
    Binding(
        "d",
        "compare",
        "Compare",
        tooltip="Compare this post side by side with the highlighted (else the top) similar post",
        id="compare",
    ),
    Binding(
        "v",
        "views",
        "Views",
        tooltip="Pick a view: needs review, by status, saved queries, near duplicates, conflicts",
        id="views",
    ),
    Binding(
        "ctrl+s",
        "save_view",
        "Save view",
        tooltip="Save the current search query as a named view",
        show=False,
        id="save_view",
    ),
    Binding(
        "D",
        "near_duplicates",
        "Near duplicates",
        tooltip="List near-duplicate clusters; decide a whole cluster at once",
        show=False,
        id="near_duplicates",
    ),
    Binding(
        "C",
        "conflicts",
        "Conflicts",
        tooltip="Settle decisions that differ from a merged colleague's",
        show=False,
        id="conflicts",
    ),
    Binding(
        "e",
        "export",
        "Export",
        tooltip="Export review notes (md, csv, json, jsonl) of the current view or all posts",
        id="export",
    ),
]

POST_LIST_BINDINGS = [
    Binding(
        "enter",
        "open_post",
        "Read",
        tooltip="Focus the body of this post",
        show=False,
        id="open_post",
    ),
]

SEARCH_BINDINGS = [
    Binding(
        "escape",
        "clear_search",
        "Clear",
        tooltip="Clear the search and show all posts",
        id="clear_search",
    ),
]

NOTE_BINDINGS = [
    Binding("ctrl+s", "save_note", "Save", tooltip="Save the note", priority=True, id="save_note"),
    Binding("escape", "cancel_note", "Cancel", tooltip="Close without saving", id="cancel_note"),
]

CONFIRM_BINDINGS = [
    Binding("y,enter", "confirm", "Yes", tooltip="Apply the bulk decision", id="confirm"),
    Binding("n,escape", "cancel", "No", tooltip="Keep things as they are", id="cancel"),
]

SIMILAR_BINDINGS = [
    Binding(
        "enter",
        "select",
        "Open",
        tooltip="Jump to the highlighted similar post",
        show=False,
        id="open_similar",
    ),
]

COMPARE_BINDINGS = [
    Binding(
        "tab",
        "switch_side",
        "Other side",
        tooltip="Move between the two posts of the comparison",
        id="compare_switch_side",
    ),
    Binding(
        "n",
        "next_shared",
        "Next shared",
        tooltip="Scroll to the next passage both posts share",
        id="compare_next_shared",
    ),
    Binding(
        "N,p",
        "prev_shared",
        "Prev shared",
        tooltip="Scroll to the previous passage both posts share",
        id="compare_prev_shared",
    ),
    Binding(
        "escape,q,d",
        "close_compare",
        "Close",
        tooltip="Back to the review screen",
        id="compare_close",
    ),
]

CLUSTERS_BINDINGS = [
    Binding(
        "enter",
        "open_member",
        "Open",
        tooltip="Open the highlighted post in the review screen",
        id="cluster_open",
    ),
    Binding(
        "tab",
        "switch_list",
        "Clusters/posts",
        tooltip="Move between the cluster list and the posts of a cluster",
        id="cluster_switch_list",
    ),
    Binding(
        "a",
        "decide_cluster('approved')",
        "Approve all",
        tooltip="Approve every post of this cluster (after a confirm)",
        id="cluster_approve",
    ),
    Binding(
        "x",
        "decide_cluster('rejected')",
        "Reject all",
        tooltip="Reject every post of this cluster (after a confirm)",
        id="cluster_reject",
    ),
    Binding(
        "c",
        "decide_cluster('changes_requested')",
        "Changes all",
        tooltip="Request changes on every post of this cluster (after a confirm)",
        id="cluster_request_changes",
    ),
    Binding(
        "escape,q",
        "close_clusters",
        "Close",
        tooltip="Back to the review screen",
        id="cluster_close",
    ),
]

VIEWS_BINDINGS = [
    Binding("enter", "open_view", "Open", tooltip="Show the highlighted view", id="view_open"),
    Binding(
        "delete,backspace",
        "delete_view",
        "Delete",
        tooltip="Delete the highlighted saved view (built-in views stay)",
        id="view_delete",
    ),
    Binding("escape,q,v", "close_views", "Close", tooltip="Close the views list", id="view_close"),
]

NAME_BINDINGS = [
    Binding("escape", "cancel_name", "Cancel", tooltip="Close without saving", id="name_cancel"),
]

EXPORT_BINDINGS = [
    Binding(
        "ctrl+s",
        "export",
        "Export",
        tooltip="Write the export file",
        priority=True,
        id="export_write",
    ),
    Binding(
        "escape", "cancel_export", "Cancel", tooltip="Close without exporting", id="export_cancel"
    ),
]

CONFLICTS_BINDINGS = [
    Binding(
        "o",
        "keep('ours')",
        "Keep ours",
        tooltip="Settle: keep our decision",
        id="conflict_keep_ours",
    ),
    Binding(
        "t",
        "keep('theirs')",
        "Keep theirs",
        tooltip="Settle: replace our decision with theirs",
        id="conflict_keep_theirs",
    ),
    Binding(
        "escape",
        "close_conflicts",
        "Close",
        tooltip="Back to the review screen",
        id="conflict_close",
    ),
]

HELP_BINDINGS = [
    Binding(
        "escape,q,question_mark",
        "close_help",
        "Close",
        tooltip="Close the help screen",
        id="close_help",
    ),
]

# Where each table applies, in the order the help screen lists them.
BINDING_GROUPS: list[tuple[str, list[Binding]]] = [
    ("Review", REVIEW_BINDINGS),
    ("Post list", POST_LIST_BINDINGS),
    ("Search box", SEARCH_BINDINGS),
    ("Similar pane", SIMILAR_BINDINGS),
    ("Application", APP_BINDINGS),
    ("Note editor", NOTE_BINDINGS),
    ("Bulk confirm", CONFIRM_BINDINGS),
    ("Views list", VIEWS_BINDINGS),
    ("View name", NAME_BINDINGS),
    ("Compare", COMPARE_BINDINGS),
    ("Near duplicates", CLUSTERS_BINDINGS),
    ("Conflicts", CONFLICTS_BINDINGS),
    ("Export dialog", EXPORT_BINDINGS),
    ("Help screen", HELP_BINDINGS),
]


def binding_ids() -> set[str]:
    return {b.id for _, table in BINDING_GROUPS for b in table if b.id}


def default_config_dir() -> Path:
    """``$COPYDESK_CONFIG_DIR``, else ``platformdirs.user_config_dir("copydesk")``
    (the same directory as the store's ``config.toml``)."""
    return storage_config_dir()


@dataclass
class LoadedKeymap:
    keymap: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def parse_keymap(data: Mapping[str, object]) -> LoadedKeymap:
    """Check a parsed TOML document; bad entries become problems, good ones are kept."""
    result = LoadedKeymap()
    known = binding_ids()
    section = data.get("keys", data)
    if not isinstance(section, Mapping):
        result.problems.append('[keys] must be a table of binding_id = "key"')
        return result
    for binding_id, value in section.items():
        if binding_id == "keys" and section is data:
            continue
        if binding_id not in known:
            result.problems.append(f"unknown binding id {binding_id!r}")
            continue
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            value = ",".join(value)
        if not isinstance(value, str) or not value.strip():
            result.problems.append(f'{binding_id}: expected a key string such as "y"')
            continue
        keys = [key.strip() for key in value.split(",")]
        if any(not key or " " in key for key in keys):
            result.problems.append(f"{binding_id}: bad key list {value!r}")
            continue
        result.keymap[binding_id] = ",".join(normalize_key(key) for key in keys)
    return result


def normalize_key(key: str) -> str:
    """``?`` -> ``question_mark``, ``/`` -> ``slash``: the names Textual matches keys on.

    Same rule as ``App.set_keymap`` applies (``textual.keys._character_to_key``).
    """
    if len(key) != 1:
        return key
    return _character_to_key(key)


def load_keymap(config_dir: Path | None = None) -> LoadedKeymap:
    """Read ``keymap.toml`` from ``config_dir``; a missing file is an empty keymap."""
    path = (config_dir or default_config_dir()) / KEYMAP_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return LoadedKeymap()
    except OSError as error:
        return LoadedKeymap(problems=[f"cannot read {path}: {error.strerror}"])
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return LoadedKeymap(problems=[f"{path} is not valid TOML: {error}"])
    return parse_keymap(data)


@dataclass(frozen=True)
class BoundKey:
    """One binding as it is after the keymap: for the help screen and the palette."""

    group: str
    binding_id: str
    keys: tuple[str, ...]
    action: str
    description: str
    tooltip: str


def effective_bindings(keymap: Mapping[str, str]) -> list[BoundKey]:
    """Every binding with the keys it has once ``keymap`` is applied, in help order."""
    result: list[BoundKey] = []
    for group, table in BINDING_GROUPS:
        bindings_map = BindingsMap(table)
        bindings_map.apply_keymap(dict(keymap))
        keys_by_id: dict[str, list[str]] = {}
        for key, binding in bindings_map:
            keys_by_id.setdefault(binding.id or binding.action, []).append(key)
        for binding in _unique_by_id(table):
            binding_id = binding.id or binding.action
            result.append(
                BoundKey(
                    group=group,
                    binding_id=binding_id,
                    keys=tuple(keys_by_id.get(binding_id, ())),
                    action=binding.action,
                    description=binding.description,
                    tooltip=binding.tooltip,
                )
            )
    return result


def keys_for(binding_id: str, keymap: Mapping[str, str]) -> tuple[str, ...]:
    """The keys bound to ``binding_id`` once ``keymap`` is applied."""
    for bound in effective_bindings(keymap):
        if bound.binding_id == binding_id:
            return bound.keys
    return ()


def _unique_by_id(table: Iterable[Binding]) -> list[Binding]:
    seen: set[str] = set()
    unique = []
    for binding in table:
        binding_id = binding.id or binding.action
        if binding_id not in seen:
            seen.add(binding_id)
            unique.append(binding)
    return unique
