"""The consistency guard on the review screen, and a keep made in the Near duplicates
screen as seen (and undone) from the review screen (issue 18).

The store: a synthesized corpus of FAMILY_CORPUS_SIZE posts (more than the list shows)
with a planted family of near copies (tests/tui/tui_support.py ``build_family_store``).
"""

from __future__ import annotations

import pytest
from textual.widgets import Static
from tui_support import FAMILY_COPIES, build_family_store, copy_store_files

import tui.decision_flow
from storage import Status, Store
from storage.families import duplicate_note, keep
from tui.screens.clusters import ClustersScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.review import ReviewScreen

SIZE = (120, 40)
KEYS = {Status.APPROVED: "a", Status.REJECTED: "x", Status.CHANGES_REQUESTED: "c"}


@pytest.fixture(scope="module")
def family_template(tmp_path_factory):
    return build_family_store(tmp_path_factory.mktemp("guard"))


@pytest.fixture
def family(family_template, tmp_path):
    """(store, the source post's id, its copies' ids)."""
    db, source, copies = family_template
    with Store.open(copy_store_files(db, tmp_path / "store")) as store:
        yield store, source, copies


@pytest.fixture
def checks(monkeypatch):
    """Each post the review screen ran the consistency check on."""
    seen: list[str] = []
    real = tui.decision_flow.conflicts

    def counted(store, post_id, status):
        seen.append(post_id)
        return real(store, post_id, status)

    monkeypatch.setattr(tui.decision_flow, "conflicts", counted)
    return seen


async def _review_on(app, pilot, settle, post_id: str) -> ReviewScreen:
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, ReviewScreen)
    assert screen.post_list.row_count > screen.post_list.rows_per_page
    screen.jump_to(post_id)
    await settle(pilot)
    assert screen.post_list.highlighted_id == post_id
    return screen


def _question(app) -> str:
    return str(app.screen.query_one("#confirm-question", Static).content)


@pytest.mark.parametrize(
    ("decided", "deciding"),
    [
        (Status.REJECTED, Status.APPROVED),
        (Status.CHANGES_REQUESTED, Status.APPROVED),
        (Status.APPROVED, Status.REJECTED),
        (Status.APPROVED, Status.CHANGES_REQUESTED),
    ],
)
async def test_deciding_against_a_decided_near_copy_asks_naming_it(
    family, make_app, settle, decided, deciding
):
    store, source, copies = family
    store.set_review(copies[0], decided, "decided first")
    before = store.reviews()
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _review_on(app, pilot, settle, source)
        await pilot.press(KEYS[deciding])
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        question = _question(app)
        title = store.summary(copies[0]).title
        assert question.startswith(f"Mark {source} as {deciding.label} anyway?")
        assert f'Its near duplicate {copies[0]} "{title}"' in question
        assert question.endswith(f"is {decided.label}.")
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen
        assert store.reviews() == before  # nothing saved
        assert screen.post_list.highlighted_id == source  # the cursor waited
        assert screen.post_list.status_of_id(source) is Status.PENDING
        assert screen.flash == f"Nothing saved: {source} is as it was"
        await pilot.press(KEYS[deciding])
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
        assert store.review(source).status == deciding
        assert store.review(copies[0]).status == decided
        assert screen.post_list.status_of_id(source) is deciding
        assert screen.post_list.highlighted_id != source  # on to the next pending post


async def test_deciding_alike_or_against_a_duplicate_rejection_does_not_ask(
    family, make_app, settle, checks
):
    store, source, copies = family
    keep(store, copies[0])  # copies[0] approved, every other member rejected as a duplicate
    store.set_review(copies[2], "approved", "approved anyway")  # the keep's line is gone
    assert store.review(source).note == duplicate_note(copies[0])
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _review_on(app, pilot, settle, copies[1])
        # rejecting copies[1] again keeps its note: still a rejection as a duplicate
        await pilot.press("x")
        await settle(pilot)
        assert app.screen is screen
        assert store.review(copies[1]).note == duplicate_note(copies[0])
        screen.jump_to(copies[1])
        await settle(pilot)
        # changes requested on it contradicts the approved copies[0] and copies[2]
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert copies[0] in _question(app) and copies[2] in _question(app)
        await pilot.press("escape")
        await settle(pilot)
        assert store.review(copies[1]).status == "rejected"  # unchanged
        # approving the source, rejected as a duplicate: its copies are approved or
        # rejected as duplicates (no side), so nothing to ask
        screen.jump_to(source)
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert app.screen is screen
        assert store.review(source).status == "approved"
        assert checks == [copies[1], copies[1], source]


async def test_a_post_without_near_duplicates_is_decided_without_a_check(
    family, make_app, settle, checks
):
    store, source, copies = family
    family_ids = {source, *copies}
    lone = next(
        row.id
        for row in store.search("", limit=None)
        if row.id not in family_ids and "near_duplicate" not in row.hint_codes
    )
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _review_on(app, pilot, settle, lone)
        await pilot.press("a")
        await settle(pilot)
        assert app.screen is screen
        assert store.review(lone).status == "approved"
        assert checks == []  # no store call for the check at all
        screen.jump_to(copies[3])  # has near duplicates, none decided: checked, no question
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert app.screen is screen
        assert store.review(copies[3]).status == "rejected"
        assert checks == [copies[3]]
        assert screen.post_list.highlighted_id != copies[3]


async def test_a_keep_in_near_duplicates_shows_in_the_list_and_u_there_undoes_it(
    family, make_app, settle
):
    store, source, copies = family
    members = sorted([source, *copies])
    store.set_review(copies[4], "changes_requested", "fix the intro")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _review_on(app, pilot, settle, copies[6])
        await pilot.press("a")  # an older step than the keep (copies[6] approved)
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)  # copies[4] has changes requested
        await pilot.press("y")
        await settle(pilot)
        assert store.review(copies[6]).status == "approved"
        before = {post_id: store.review(post_id) for post_id in members}
        await pilot.press("D")
        await settle(pilot)
        clusters = app.screen
        assert isinstance(clusters, ClustersScreen)
        await pilot.press("tab", "K")
        await settle(pilot)
        keeper = clusters.highlighted_member.id
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        post_list = screen.post_list
        for post_id in members:
            expected = Status.APPROVED if post_id == keeper else Status.REJECTED
            assert store.review(post_id).status == expected
            assert post_list.status_of_id(post_id) is expected
        await pilot.press("u")  # the keep, in one step: not the older approval
        await settle(pilot)
        assert {post_id: store.review(post_id) for post_id in members} == before
        assert store.review(copies[6]).status == "approved"
        assert post_list.status_of_id(copies[4]) is Status.CHANGES_REQUESTED
        assert post_list.status_of_id(keeper) is Status.PENDING
        assert (
            screen.flash == f"Undid keeping {keeper}: {FAMILY_COPIES + 1} posts back as they were"
        )


async def test_the_bulk_confirm_names_the_near_duplicates_it_would_contradict(
    family, make_app, settle
):
    store, source, copies = family
    store.set_review(copies[0], "rejected", "thin")
    store.set_review(copies[2], "approved", "")  # tagged below: decided with the others
    before = store.reviews()
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _review_on(app, pilot, settle, copies[1])
        post_list = screen.post_list
        await pilot.press("space")
        for post_id in (copies[2], source):
            screen.jump_to(post_id)
            await settle(pilot)
            await pilot.press("space")
        await settle(pilot)
        assert set(post_list.tagged_ids) == {copies[1], copies[2], source}
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        question = _question(app)
        # the approved copies[2] is tagged (decided with them), and rejecting agrees with
        # the rejected copies[0]: nothing to add
        assert question == "Mark 3 tagged posts as rejected?"
        await pilot.press("n")
        await settle(pilot)
        assert store.reviews() == before
        await pilot.press("a")
        await settle(pilot)
        question = _question(app)
        assert question.startswith("Mark 3 tagged posts as approved?\n3 of them contradict")
        title = store.summary(copies[0]).title[:40]
        assert f'its near duplicate {copies[0]} "{title}' in question
        assert f"near duplicate {copies[2]}" not in question  # tagged: left out
        assert question.count(f"near duplicate {copies[0]}") == 3
        await pilot.press("n")
        await settle(pilot)
        assert store.reviews() == before
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        for post_id in (copies[1], copies[2], source):
            assert store.review(post_id).status == "approved"
        assert store.review(copies[0]).status == "rejected"
        assert post_list.tagged_ids == []
