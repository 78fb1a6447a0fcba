"""A 50 MB post and a post with 100,000 meta fields show a bounded prefix at once, say so,
and offer the rest (issue 14 item 11; the time it takes is in benchmarks/bigpost.py)."""

from __future__ import annotations

from dataclasses import replace

from textual.app import App

from storage import StoredPost
from tui.gateway import PostView
from tui.post_preparer import prepare_post
from tui.widgets.meta_pane import SHOWN_FIELDS
from tui.widgets.post_body import SHOWN_CHARS
from tui.widgets.post_panes import PostPanes

PARAGRAPH = "a sentence about rollbacks and caches that goes on. " * 20  # ~1 KB


def big_post(body_bytes: int = 0, meta_fields: int = 0) -> StoredPost:
    blocks = [{"type": "paragraph", "text": PARAGRAPH} for _ in range(body_bytes // 1040)]
    meta: dict = {"topic": "big / post", "reference": "anp-ref-999999-0001"}
    meta.update({f"extra_field_{n:06}": f"value {n}" for n in range(meta_fields)})
    return StoredPost(
        id="anp-ref-999999-0001",
        reference="anp-ref-999999-0001",
        title="a very big post",
        body=blocks,
        meta=meta,
        listed_similar=[],
        warnings=[],
        source={"path": "big.txt", "sha256": "0" * 64},
    )


def test_a_50_mb_body_is_prepared_as_a_bounded_prefix_that_says_so():
    post = big_post(body_bytes=50_000_000)
    assert sum(len(block["text"]) for block in post.body) > 49_000_000
    prepared = prepare_post(PostView(post, ()), 60, 40)
    shown = sum(len(block.get("text", "")) for block in prepared.body.blocks)
    assert shown <= SHOWN_CHARS
    assert not prepared.body.complete
    assert "press L to show the whole post" in prepared.body.more_note
    assert "of 50," in prepared.body.more_note or "of 49," in prepared.body.more_note
    text = "\n".join(strip.text for strip in prepared.body_lines)
    assert "showing the first" in text
    assert len(prepared.body_lines) < 3_000  # ~60k characters at 60 columns


def test_100000_meta_fields_show_the_first_ones_and_count_the_rest():
    post = big_post(meta_fields=100_000)
    prepared = prepare_post(PostView(post, ()), 60, 40)
    text = "\n".join(strip.text for strip in prepared.meta_lines)
    assert "extra field 000000" in text
    assert "extra field 099999" not in text
    assert f"… {100_002 - SHOWN_FIELDS:,} more fields" in text
    assert len(prepared.meta_lines) < 3 * SHOWN_FIELDS


def test_a_normal_post_is_shown_whole():
    post = big_post(body_bytes=20_000, meta_fields=10)
    prepared = prepare_post(PostView(post, ()), 60, 40)
    assert prepared.body.complete and prepared.body.more_note is None
    assert "more fields" not in "\n".join(s.text for s in prepared.meta_lines)


class PanesApp(App[None]):
    def compose(self):
        yield PostPanes(id="panes")


async def test_l_shows_the_whole_of_a_cut_post(settle):
    post = replace(big_post(body_bytes=200_000, meta_fields=SHOWN_FIELDS + 50))
    app = PanesApp()
    async with app.run_test(size=(120, 40)) as pilot:
        panes = app.query_one(PostPanes)
        body_width, meta_width = panes.widths
        view = PostView(post, ())
        panes.show_view(view, prepare_post(view, body_width, meta_width))
        await settle(pilot)
        assert "showing the first" in panes.body.text
        assert panes.meta.cut
        assert panes.show_whole()
        await settle(pilot)
        assert panes.body.content.complete
        assert "showing the first" not in panes.body.text
        assert "more fields" not in panes.meta.text
        assert "extra field 000249" in panes.meta.text
        assert not panes.show_whole()  # whole already
