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

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from textual.binding import Binding, BindingsMap
from textual.keys import Keys, _character_to_key

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

# Every list (posts, views, conflicts, clusters, similar) moves with the same keys: these
# bindings sit on each list widget (where they win over a ScrollView's own scroll keys)
# and on the review screen's panes (so that j/k move the post list from the body too).
LIST_BINDINGS = [
    Binding(
        "j,down", "cursor_down", "Down", tooltip="Move down the list", show=False, id="list_down"
    ),
    Binding("k,up", "cursor_up", "Up", tooltip="Move up the list", show=False, id="list_up"),
    Binding(
        "g,home", "first", "First", tooltip="Move to the first row", show=False, id="list_first"
    ),
    Binding(
        "G,end",
        "last",
        "Last",
        tooltip="Move to the last row (the post list loads every row)",
        show=False,
        id="list_last",
    ),
    Binding(
        "pagedown",
        "page_down",
        "Page down",
        tooltip="Move a page down",
        show=False,
        id="list_page_down",
    ),
    Binding(
        "pageup", "page_up", "Page up", tooltip="Move a page up", show=False, id="list_page_up"
    ),
]

# Ids of older keymaps, still read.
RENAMED_IDS = {
    "next_post": "list_down",
    "prev_post": "list_up",
    "first_post": "list_first",
    "last_post": "list_last",
    "page_down": "list_page_down",
    "page_up": "list_page_up",
    "compare_close": "close",
    "cluster_close": "close",
    "view_close": "close",
    "conflict_close": "close",
    "close_help": "close",
}

# One rule for every sub-screen (help, views, conflicts, clusters, compare): escape or q
# goes back to the review screen. Dialogs with a text field close on escape only.
CLOSE_BINDINGS = [
    Binding("escape,q", "close", "Close", tooltip="Back to the review screen", id="close"),
]

# On the review screen's panes (the list, the body, the side panes): moving between them,
# and what acts on the post list whichever pane has focus.
PANES_BINDINGS = [
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
    Binding("space", "tag", "Tag", tooltip="Tag or untag this post for a bulk decision", id="tag"),
    Binding(
        "U", "untag_all", "Untag all", tooltip="Untag every tagged post", show=False, id="untag_all"
    ),
    Binding(
        "L",
        "show_whole",
        "Whole post",
        tooltip="Show all of a long post (its body and meta box are cut at first)",
        show=False,
        id="show_whole",
    ),
]

REVIEW_BINDINGS = [
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
    Binding("u", "undo", "Undo", tooltip="Undo the last decision, note or keep", id="undo"),
    Binding("slash", "search", "Search", tooltip="Filter the list as you type", id="search"),
    Binding(
        "ctrl+o",
        "travel(-1)",
        "Back",
        tooltip="Back to where you were before a jump or a view switch",
        show=False,
        id="back",
    ),
    Binding(
        "ctrl+f",
        "travel(1)",
        "Forward",
        tooltip="Forward again after ctrl+o (a terminal sends tab for ctrl+i)",
        show=False,
        id="forward",
    ),
    Binding(
        "d",
        "open('compare')",
        "Compare",
        tooltip="Compare this post side by side with the highlighted (else the top) similar post",
        id="compare",
    ),
    Binding(
        "v",
        "open('views')",
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
        "open('near_duplicates')",
        "Near duplicates",
        tooltip="Near-duplicate clusters: keep one and reject the rest, decide post by post or all",
        show=False,
        id="near_duplicates",
    ),
    Binding(
        "C",
        "open('conflicts')",
        "Conflicts",
        tooltip="Settle decisions that differ from a merged colleague's",
        show=False,
        id="conflicts",
    ),
    Binding(
        "e",
        "open('export')",
        "Export",
        tooltip="Export review notes (md, csv, json, jsonl) of the current view or all posts",
        id="export",
    ),
    Binding(
        "R",
        "open('changes_since_review')",
        "What changed",
        tooltip="What changed in this post (Δ) since its decision: the reviewed text against "
        "the current one, block by block",
        show=False,
        id="changes_since_review",
    ),
    Binding(
        "B",
        "open('boilerplate')",
        "Boilerplate",
        tooltip="Repeated passages: sentences and paragraphs many posts repeat (a template's "
        "boilerplate); enter lists their posts",
        show=False,
        id="boilerplate",
    ),
    Binding(
        "H",
        "open('hints_report')",
        "Hints report",
        tooltip="How the posts with each hint were decided, against the posts without it; "
        "enter lists a hint's posts",
        show=False,
        id="hints_report",
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
    Binding(
        "y,enter",
        "confirm",
        "Yes",
        tooltip="Go ahead (a bulk decision, a keep, a decision against a near duplicate)",
        id="confirm",
    ),
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
        "d",
        "close",
        "Close",
        tooltip="Close the comparison (d again)",
        show=False,
        id="compare_toggle",
    ),
]

# The Near duplicates screen. a / x / c on the cluster list decide the whole cluster; on
# the post list (CLUSTER_POST_BINDINGS, which sit on that list) they decide one post.
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
        tooltip="On the cluster list: approve every post of this cluster (after a confirm)",
        id="cluster_approve",
    ),
    Binding(
        "x",
        "decide_cluster('rejected')",
        "Reject all",
        tooltip="On the cluster list: reject every post of this cluster (after a confirm)",
        id="cluster_reject",
    ),
    Binding(
        "c",
        "decide_cluster('changes_requested')",
        "Changes all",
        tooltip="On the cluster list: request changes on every post of this cluster (confirm)",
        id="cluster_request_changes",
    ),
    Binding(
        "u",
        "undo",
        "Undo",
        tooltip="Undo the last step (a keep, a decision or a note: the review screen's u too)",
        id="cluster_undo",
    ),
]

# On the post list of the Near duplicates screen: one post at a time.
CLUSTER_POST_BINDINGS = [
    Binding(
        "a",
        "screen.decide_post('approved')",
        "Approve",
        tooltip="Approve the highlighted post of the cluster (only this one)",
        id="cluster_post_approve",
    ),
    Binding(
        "x",
        "screen.decide_post('rejected')",
        "Reject",
        tooltip="Reject the highlighted post of the cluster (only this one)",
        id="cluster_post_reject",
    ),
    Binding(
        "c",
        "screen.decide_post('changes_requested')",
        "Changes",
        tooltip="Request changes on the highlighted post of the cluster (only this one)",
        id="cluster_post_changes",
    ),
    Binding(
        "K",
        "screen.keep",
        "Keep",
        tooltip="Keep the highlighted post: approve it, reject the rest of the cluster as its "
        "duplicates (after a confirm; u undoes it)",
        id="clusters_keep",
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
    Binding(
        "v",
        "close",
        "Close",
        tooltip="Close the views list (v again)",
        show=False,
        id="views_toggle",
    ),
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
]

# The changes since review: the diff scrolls with the list keys (j/k, g/G, page keys).
CHANGES_BINDINGS = [
    Binding(
        "R",
        "close",
        "Close",
        tooltip="Close the changes since review (R again)",
        show=False,
        id="changes_toggle",
    ),
]

BOILERPLATE_BINDINGS = [
    Binding(
        "enter",
        "open_passage",
        "Show posts",
        tooltip="Close and list the posts holding the highlighted passage (a phrase query)",
        id="boilerplate_open",
    ),
]

HINTS_REPORT_BINDINGS = [
    Binding(
        "enter",
        "open_hint",
        "Show posts",
        tooltip="Close and list the posts carrying the highlighted hint (hint:CODE)",
        id="hints_report_open",
    ),
]

HELP_BINDINGS = [
    Binding(
        "question_mark",
        "close",
        "Close",
        tooltip="Close the help screen (? again)",
        show=False,
        id="help_toggle",
    ),
]

# Where each table applies, in the order the help screen lists them.
BINDING_GROUPS: list[tuple[str, list[Binding]]] = [
    ("Review", REVIEW_BINDINGS),
    ("Every list", LIST_BINDINGS),
    ("Review panes", PANES_BINDINGS),
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
    ("Cluster posts", CLUSTER_POST_BINDINGS),
    ("Conflicts", CONFLICTS_BINDINGS),
    ("What changed", CHANGES_BINDINGS),
    ("Boilerplate", BOILERPLATE_BINDINGS),
    ("Hints report", HINTS_REPORT_BINDINGS),
    ("Export dialog", EXPORT_BINDINGS),
    ("Help screen", HELP_BINDINGS),
    ("Every sub-screen", CLOSE_BINDINGS),
]

# Groups whose keys are live at the same time (a key bound twice among them acts once).
LIVE_TOGETHER: list[set[str]] = [
    {"Review", "Every list", "Review panes", "Post list", "Application"},
    {"Similar pane", "Every list", "Review panes", "Review", "Application"},
    {"Views list", "Every list", "Every sub-screen", "Application"},
    {"Conflicts", "Every list", "Every sub-screen", "Application"},
    {"Near duplicates", "Every list", "Every sub-screen", "Application"},
    {"Cluster posts", "Near duplicates", "Every list", "Every sub-screen", "Application"},
    {"Compare", "Every sub-screen", "Application"},
    {"What changed", "Every list", "Every sub-screen", "Application"},
    {"Boilerplate", "Every list", "Every sub-screen", "Application"},
    {"Hints report", "Every list", "Every sub-screen", "Application"},
    {"Help screen", "Every sub-screen", "Application"},
    {"Bulk confirm"},
    {"Note editor"},
    {"Export dialog"},
    {"View name"},
    {"Search box"},
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


MODIFIERS = {"ctrl", "shift", "alt", "meta", "super", "hyper"}
# Named keys Textual reports (textual.keys.Keys without modifiers, and a few aliases).
NAMED_KEYS = {
    key.value for key in Keys if "+" not in key.value and not key.value.startswith("<")
} | {"space", "enter", "tab", "backspace", "escape", "delete", "insert"}
# The names of printable ASCII characters (``?`` is ``question_mark``).
CHARACTER_NAMES = {_character_to_key(chr(code)) for code in range(33, 127)}


def valid_key(key: str) -> bool:
    """``j``, ``G``, ``ctrl+s``, ``shift+tab``, ``question_mark``: a key Textual can report.
    ``ctrl+shift+alt+nonsense`` is not."""
    *modifiers, name = key.split("+")
    if any(modifier not in MODIFIERS for modifier in modifiers):
        return False
    if len(modifiers) != len(set(modifiers)):
        return False
    return len(name) == 1 or name in NAMED_KEYS or name in CHARACTER_NAMES


def _line_of(text: str, binding_id: str) -> int | None:
    """The line of ``binding_id = ...`` in the TOML text (1-based), for messages."""
    pattern = re.compile(rf"^\s*[\"']?{re.escape(binding_id)}[\"']?\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def parse_keymap(data: Mapping[str, object], text: str = "") -> LoadedKeymap:
    """Check a parsed TOML document (``text``: its source, to name lines); bad entries
    and collisions become problems, good entries are kept."""
    result = LoadedKeymap()
    known = binding_ids()
    section = data.get("keys", data)
    if not isinstance(section, Mapping):
        result.problems.append('[keys] must be a table of binding_id = "key"')
        return result

    def where(binding_id: str) -> str:
        line = _line_of(text, binding_id)
        return f"line {line}: " if line is not None else ""

    for binding_id, value in section.items():
        if binding_id == "keys" and section is data:
            continue
        target = RENAMED_IDS.get(binding_id, binding_id)
        if target not in known:
            result.problems.append(f"{where(binding_id)}unknown binding id {binding_id!r}")
            continue
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            value = ",".join(value)
        if not isinstance(value, str) or not value.strip():
            result.problems.append(
                f'{where(binding_id)}{binding_id}: expected a key string such as "y"'
            )
            continue
        keys = [key.strip() for key in value.split(",")]
        if any(not key or " " in key for key in keys):
            result.problems.append(f"{where(binding_id)}{binding_id}: bad key list {value!r}")
            continue
        bad = [key for key in keys if not valid_key(normalize_key(key))]
        if bad:
            result.problems.append(
                f"{where(binding_id)}{binding_id}: {bad[0]!r} is not a key name "
                "(e.g. j, G, ctrl+s, shift+tab, f5, question_mark); the default keys stay"
            )
            continue
        result.keymap[target] = ",".join(dict.fromkeys(normalize_key(key) for key in keys))
    for problem in collisions(result.keymap):
        binding_id = problem[0]
        result.problems.append(f"{where(binding_id)}{problem[1]}")
    return result


def collisions(keymap: Mapping[str, str]) -> list[tuple[str, str]]:
    """(remapped id, message) for each key the keymap takes from another binding that is
    live at the same time: that binding loses the key."""
    if not keymap:
        return []
    bound = effective_bindings(keymap)
    defaults = {(b.group, b.binding_id): b.keys for b in effective_bindings({})}
    by_group: dict[str, list[BoundKey]] = {}
    for item in bound:
        by_group.setdefault(item.group, []).append(item)
    found: dict[tuple[str, str], str] = {}
    for groups in LIVE_TOGETHER:
        owner: dict[str, BoundKey] = {}
        for group in groups:
            for item in by_group.get(group, ()):
                if item.binding_id in keymap:
                    for key in item.keys:
                        owner.setdefault(key, item)
        for group in groups:
            for item in by_group.get(group, ()):
                if item.binding_id in keymap:
                    continue
                for key in defaults.get((item.group, item.binding_id), ()):
                    taker = owner.get(key)
                    if taker is None or taker.binding_id == item.binding_id:
                        continue
                    left = [k for k in item.keys if k not in owner]
                    rest = ", ".join(left) if left else "no key: add one for it"
                    found[(taker.binding_id, item.binding_id)] = (
                        f"{taker.binding_id} = {keymap[taker.binding_id]!r} takes {key!r} "
                        f"from {item.binding_id}, which keeps {rest}"
                    )
    return [(taker, message) for (taker, _), message in found.items()]


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
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return LoadedKeymap(problems=[f"{path} is not valid TOML: {error}"])
    return parse_keymap(data, text)


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
            keys = keys_by_id.setdefault(binding.id or binding.action, [])
            if key not in keys:  # a binding of two default keys holds the remap twice
                keys.append(key)
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
