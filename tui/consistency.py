"""The consistency guard of the TUI: deciding a post against a near duplicate asks first.

The rule is ``storage.families.inconsistencies`` (the same as ``copydesk review`` without
``--force``): approving a post whose near duplicate is rejected or has changes requested,
or the reverse, contradicts that decision. The review screen and the Near duplicates
screen run the check on the store thread, in the hop that would save the decision (a
post found in conflict is not saved: the reviewer is asked, and a yes saves it in a
second hop). Only a post with near duplicates can be in conflict, and what the review
screen has read of a post says whether it has any (``may_conflict``), so the normal loop
makes no extra store call.

A bulk decision on tagged posts has its own confirm; when tagged posts have near
duplicates (their list rows carry the ``near_duplicate`` hint), that confirm also names the
near duplicates the decision would contradict (``bulk_conflicts``: other tagged posts are
decided alike, so they are left out).
"""

from __future__ import annotations

from collections.abc import Sequence

from storage import ReviewStore, Status
from storage.catalog import DerivedPendingError
from storage.families import Inconsistency, inconsistencies
from tui.gateway import PostView
from tui.text import clean_line, clean_name

__all__ = [
    "bulk_conflict_lines",
    "bulk_conflicts",
    "conflict_question",
    "conflicts",
    "may_conflict",
]

SHOWN = 3  # near duplicates named in the question; the rest are counted


def may_conflict(view: PostView | None) -> bool:
    """Whether deciding the post of ``view`` needs the check: it has near-duplicate hints,
    its hints are still being computed, or it was not read yet (None)."""
    if view is None:
        return True
    post = view.post
    return post.hints_pending or any(h.get("code") == "near_duplicate" for h in post.hints)


def conflicts(store: ReviewStore, post_id: str, status: Status) -> list[Inconsistency]:
    """On the store thread: the near duplicates that ``status`` on ``post_id`` would
    contradict (none while similarity is still being computed: nothing to check yet)."""
    try:
        return inconsistencies(store, post_id, status)
    except DerivedPendingError:
        return []


def conflict_question(post_id: str, status: Status, found: Sequence[Inconsistency]) -> str:
    """What the confirm asks: the post, the decision, and the near duplicates it would
    contradict with their decisions (ids and titles cleaned for the terminal)."""
    lines = [f"Mark {clean_name(post_id)} as {status.label} anyway?"]
    for item in found[:SHOWN]:
        title = clean_line(item.title, max_chars=200)
        lines.append(
            f'Its near duplicate {clean_name(item.post_id)} "{title}" '
            f"(score {item.score}) is {item.status.label}."
        )
    if len(found) > SHOWN:
        more = len(found) - SHOWN
        lines.append(f"… and {more} more near duplicate{'s' if more != 1 else ''} decided so.")
    return "\n".join(lines)


def bulk_conflicts(
    store: ReviewStore, post_ids: Sequence[str], status: Status, deciding: Sequence[str]
) -> dict[str, list[Inconsistency]]:
    """On the store thread: for each of ``post_ids`` the near duplicates ``status`` would
    contradict, leaving out the posts of ``deciding`` (decided the same way with it)."""
    left_out = set(deciding)
    found: dict[str, list[Inconsistency]] = {}
    for post_id in post_ids:
        against = [
            item for item in conflicts(store, post_id, status) if item.post_id not in left_out
        ]
        if against:
            found[post_id] = against
    return found


def bulk_conflict_lines(found: dict[str, list[Inconsistency]]) -> str:
    """The lines the bulk confirm adds: how many posts contradict a near duplicate, and the
    first few pairs (ids and titles cleaned)."""
    count = len(found)
    lines = [
        f"{count} of them contradict{'s' if count == 1 else ''} a near duplicate decided "
        "the other way:"
    ]
    pairs = [(post_id, item) for post_id, items in found.items() for item in items]
    for post_id, item in pairs[:SHOWN]:
        title = clean_line(item.title, max_chars=80)
        lines.append(
            f'{clean_name(post_id)}: its near duplicate {clean_name(item.post_id)} "{title}" '
            f"is {item.status.label}."
        )
    if len(pairs) > SHOWN:
        lines.append(f"… and {len(pairs) - SHOWN} more.")
    return "\n".join(lines)
