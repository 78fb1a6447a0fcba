"""The render shortcuts are held equal to the plain versions: the post list's cached lines
and partial repaints, and virtual sizes set without a layout."""

from __future__ import annotations

from tui.widgets.post_list import PostList


def _segments(strip) -> list[tuple[str, object]]:
    return [(segment.text, segment.style) for segment in strip]


def _lines(post_list: PostList) -> list[list[tuple[str, object]]]:
    post_list._base_style = post_list.rich_style
    height = post_list.scrollable_content_region.height
    return [_segments(post_list.render_line(y)) for y in range(height)]


async def test_cached_list_lines_equal_lines_rendered_afresh(many_store, make_app, settle):
    app = make_app(many_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        post_list = app.screen.post_list
        for keys in (["j", "j", "space"], ["pagedown", "k"], ["end"], ["home", "j"]):
            await pilot.press(*keys)
            await settle(pilot)
            cached = _lines(post_list)
            post_list._lines.clear()  # the plain version: every line rendered again
            assert _lines(post_list) == cached


async def test_partial_repaint_shows_what_a_full_repaint_shows(many_store, make_app, settle):
    """A cursor move repaints only the two rows it changes: what is on screen afterwards
    is what a repaint of the whole list shows."""
    app = make_app(many_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        post_list = app.screen.post_list
        for _ in range(3):
            await pilot.press("j")
        await settle(pilot)
        shown = [strip.text for strip in post_list.render_lines(post_list.size.region)]
        post_list.refresh()  # the plain version: the whole widget repainted
        await pilot.pause()
        assert [strip.text for strip in post_list.render_lines(post_list.size.region)] == shown


async def test_virtual_size_without_layout_gives_the_scroll_limits_a_layout_gives(
    many_store, make_app, settle
):
    app = make_app(many_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        body = app.screen.panes.body
        lines = len(body._lines)
        height = body.scrollable_content_region.height
        assert body.virtual_size.height == lines
        assert body.max_scroll_y == max(0, lines - height)
        assert body.vertical_scrollbar.window_virtual_size == lines
        body.refresh(layout=True)  # the plain version: a layout of the screen
        await pilot.pause()
        assert body.max_scroll_y == max(0, lines - height)
        assert body.vertical_scrollbar.window_virtual_size == lines
