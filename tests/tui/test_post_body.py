"""The body pane renders in a worker: a huge body never blocks the UI thread."""

from __future__ import annotations

from textual.app import App

from tui.widgets.post_body import BodyContent, PostBody


class BodyApp(App[None]):
    def compose(self):
        yield PostBody(id="body")


def big_blocks(paragraphs: int) -> list[dict]:
    words = "cache index query rollback deploy metric owner expected result".split()
    blocks: list[dict] = []
    for index in range(paragraphs):
        text = " ".join(words[(index + i) % len(words)] for i in range(150))
        blocks.append({"type": "paragraph", "text": f"paragraph {index}: {text}."})
    blocks.append({"type": "code", "text": "\n".join(f"x_{i} = {i}" for i in range(700))})
    blocks.append({"type": "paragraph", "text": "the very last paragraph."})
    return blocks


async def test_big_body_renders_in_the_background_and_completely():
    blocks = big_blocks(300)  # about 300 KB of text
    app = BodyApp()
    async with app.run_test(size=(100, 30)) as pilot:
        body = app.query_one(PostBody)
        body.show_post(BodyContent("a big post", blocks, "python"))
        # show_post returned before the body was rendered: the work is in a worker
        assert body.rendering
        assert "the very last paragraph." not in body.text
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not body.rendering
        text = body.text
        assert text.startswith("a big post")
        assert "paragraph 299:" in text and "x_699 = 699" in text
        assert text.rstrip().endswith("the very last paragraph.")


async def test_a_newer_post_replaces_a_render_in_progress(settle):
    app = BodyApp()
    async with app.run_test(size=(100, 30)) as pilot:
        body = app.query_one(PostBody)
        body.show_post(BodyContent("first, big", big_blocks(300), "python"))
        body.show_post(
            BodyContent("second, small", [{"type": "paragraph", "text": "short."}], None)
        )
        await settle(pilot)
        assert body.text.startswith("second, small")
        assert "paragraph 1:" not in body.text


async def test_odd_blocks_do_not_break_the_body():
    app = BodyApp()
    async with app.run_test(size=(100, 30)) as pilot:
        body = app.query_one(PostBody)
        body.show_post(
            BodyContent("t", ["not a dict", {"type": "mystery", "text": "kept"}, {}], None)
        )
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "not a dict" in body.text and "kept" in body.text
