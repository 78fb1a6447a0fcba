"""The panes about the current post: body (centre), meta box, review flags and Similar.

``PostPanes`` shows one post at a time in all four panes at once, so they never disagree:
``show_view`` (a post read through the gateway, with its lines rendered ahead when the
preparer has them), ``show_loading`` (every pane says the post is loading), and
``show_empty`` (no post: an empty list or zero search results).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical

from storage import Review
from tui.gateway import PostView
from tui.post_preparer import PreparedPost
from tui.text import clean_line
from tui.widgets.flags_pane import FlagsPane
from tui.widgets.meta_pane import MetaPane
from tui.widgets.post_body import PostBody, body_content
from tui.widgets.similar_pane import SimilarPane

SIMILAR_PENDING = "similar posts are still being computed"


class PostPanes(Horizontal):
    """Body, then a column of meta, flags and Similar (``#side``)."""

    DEFAULT_CSS = """
    PostPanes { width: 1fr; height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown_id: str | None = None  # the post every pane is about (None: none)
        self.view: PostView | None = None  # set once the post has loaded
        self.more_key = "L"
        self.changes_key = "R"  # the key of the changes since review (the flags pane says it)

    def compose(self) -> ComposeResult:
        yield PostBody(id="body")
        with Vertical(id="side"):
            yield MetaPane(id="meta")
            yield FlagsPane(id="flags")
            yield SimilarPane(id="similar")

    def on_mount(self) -> None:
        self.body.border_title = "Post"
        self.meta.border_title = "Meta"
        self.flags.border_title = "Review flags"
        self.similar.border_title = "Similar"

    @property
    def body(self) -> PostBody:
        return self.query_one(PostBody)

    @property
    def meta(self) -> MetaPane:
        return self.query_one(MetaPane)

    @property
    def flags(self) -> FlagsPane:
        return self.query_one(FlagsPane)

    @property
    def similar(self) -> SimilarPane:
        return self.query_one(SimilarPane)

    @property
    def side_panes(self) -> tuple[MetaPane, FlagsPane, SimilarPane]:
        return self.meta, self.flags, self.similar

    @property
    def widths(self) -> tuple[int, int]:
        """(body, meta) widths the panes render at: what the preparer renders ahead."""
        return self.body.render_width, self.meta.render_width

    @property
    def loaded(self) -> bool:
        """Every pane shows the post ``shown_id`` (not a loading note)."""
        return self.view is not None and self.view.id == self.shown_id

    # -- what the panes show ------------------------------------------------------------

    def show_view(self, view: PostView, prepared: PreparedPost | None = None) -> None:
        post = view.post
        self.shown_id, self.view = post.id, view
        # A Text, not a str: Textual reads a str border title as markup.
        self.body.border_title = Text(clean_line(post.reference or post.id, max_chars=80))
        if prepared is not None:
            self.body.show_lines(prepared.body, prepared.body_lines, prepared.body_width)
            self.meta.show_lines(prepared.meta, prepared.meta_lines, prepared.meta_width)
        else:
            language = (post.meta or {}).get("code_language")
            self.body.show_post(
                body_content(
                    post.title,
                    post.body or [],
                    language if isinstance(language, str) else None,
                    more_key=self.more_key,
                )
            )
            self.meta.show_meta(post.meta)
        self.show_review(post.review)
        if view.similar_pending:
            self.similar.show_message(SIMILAR_PENDING)
        else:
            self.similar.show_similar(view.similar)

    def show_review(self, review: Review | None) -> None:
        """The decision of the post shown changed (here or in another process)."""
        view = self.view
        if view is None:
            return
        post = view.post
        changed = review is not None and review.made_on_other_text(post.source.get("sha256", ""))
        flags = (post.meta or {}).get("flags")
        pending = post.hints_pending
        self.flags.show_flags(
            flags,
            review,
            post.hints,
            changed=changed,
            hints_pending=pending,
            changes_key=self.changes_key,
        )

    def show_loading(self, post_id: str, title: str) -> None:
        self.shown_id, self.view = post_id, None
        self.body.border_title = Text(clean_line(post_id, max_chars=80))
        self.body.show_message(f"loading {clean_line(title, max_chars=200)}…")
        self.meta.show_message("loading…")
        self.flags.show_text(Text("loading…", style="dim italic"))
        self.similar.show_message("loading…")

    def show_empty(self, message: str) -> None:
        """No post to show: every pane says so (never the previous post's panes)."""
        self.shown_id, self.view = None, None
        self.body.border_title = "Post"
        self.body.show_message(message)
        self.meta.show_message("no post")
        self.flags.show_text(Text("no post", style="dim italic"))
        self.similar.show_message("no post")

    def show_error(self, post_id: str, message: str) -> None:
        self.shown_id, self.view = post_id, None
        self.body.show_message(f"cannot load {clean_line(post_id)}: {clean_line(message)}")
        self.meta.show_message("")
        self.flags.show_text(Text(""))
        self.similar.show_message("")

    def show_whole(self) -> bool:
        """Render all of a long post's body and meta box (in workers). False when the
        post was shown whole already."""
        view = self.view
        if view is None:
            return False
        body, meta = self.body.content, view.post.meta or {}
        whole_body = body is None or body.complete
        if whole_body and not self.meta.cut:
            return False
        post = view.post
        language = meta.get("code_language")
        if not whole_body:
            self.body.show_post(
                body_content(
                    post.title,
                    post.body or [],
                    language if isinstance(language, str) else None,
                    whole=True,
                )
            )
        self.meta.show_meta(meta, every_field=True)
        return True
