"""Near duplicates: posts scoring at or above the near-duplicate threshold, in clusters.

Left, the clusters (biggest first, as ``Store.clusters`` gives them); right, the posts of
the highlighted cluster with their score against its first post, and below them a preview
of the highlighted post's body (read through the gateway in an exclusive worker, so a
reviewer can read before deciding).

Keys act on what the focused list holds:

- on the cluster list, ``a`` / ``x`` / ``c`` decide every post of the cluster after a
  confirm (each post keeps its note: the rules of ``storage.session``, one durable write);
- on the post list, ``a`` / ``x`` / ``c`` decide the highlighted post only (asking first
  when that contradicts a near duplicate already decided: ``tui.consistency``), and ``K``
  keeps it: after a confirm naming it and how many posts will be rejected, the keeper is
  approved and every other member rejected as its duplicate (``storage.families.keep``,
  one write);
- ``u`` undoes the last step, in one write: the session's undo stack, shared with the
  review screen, so ``u`` there does not undo an older step over a keep made here;
- ``enter`` on a post closes the view and asks the caller to open that post.

The clusters and their rows load through the gateway (a 100,000-post store holds about
2,000 of them); a decision updates the rows in place. The screen dismisses with a
:class:`ClustersResult` whose ``changed_ids`` holds every post a step here changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from storage import PostSummary, Review, ReviewStore, Status, StoreError
from storage.session import plural
from storage.similarity import NEAR_DUPLICATE_THRESHOLD, NEIGHBOURS_KEPT
from tui.cluster_decisions import ClusterDecisions
from tui.gateway import StoreGateway
from tui.keymap import CLOSE_BINDINGS, CLUSTER_POST_BINDINGS, CLUSTERS_BINDINGS, keys_for
from tui.screens.confirm import ConfirmScreen
from tui.status_style import status_style
from tui.text import clean_line, clean_name
from tui.widgets.body_render import body_prefix
from tui.widgets.key_list import KeyList
from tui.widgets.post_body import BodyContent, PostBody

MAX_CLUSTERS = 2000  # the largest clusters shown; a note says when there are more
# Characters of a body the preview shows (a few screens of the pane); enter opens the rest.
PREVIEW_CHARS = 6_000

STATUS_ORDER = (Status.PENDING, Status.APPROVED, Status.CHANGES_REQUESTED, Status.REJECTED)


@dataclass
class ClustersResult:
    """What the view closed with: ``open_id`` is the post the reviewer pressed enter on
    (None when the view was closed), ``changed_ids`` every post whose decision changed."""

    open_id: str | None
    changed_ids: list[str] = field(default_factory=list)


@dataclass
class _Cluster:
    members: list[PostSummary]  # in ReviewStore.clusters order (first = the reference post)
    scores: dict[str, int]  # score against the first member, when store.similar has it


@dataclass
class _Loaded:
    clusters: list[_Cluster]
    total_clusters: int
    total_posts: int


class _Choices(KeyList):
    """An OptionList that leaves ``enter`` to the screen's ``open_member`` binding, so the
    key acts once and the footer shows it. A mouse click still selects."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "select":
            return False
        return super().check_action(action, parameters)


class _Members(_Choices):
    """The posts of the shown cluster: the keys that decide one post sit here, so they act
    (and the footer shows them) only while this list has focus."""

    BINDINGS: ClassVar = [*_Choices.BINDINGS, *CLUSTER_POST_BINDINGS]


class _Preview(PostBody):
    """The highlighted post's body; never focused (the lists keep the keys)."""

    can_focus = False
    wanted: str | None = None  # the post to show; a read of another one is dropped

    def clear(self) -> None:
        self.wanted = None
        self.show_message("")

    @work(exclusive=True, group="preview")
    async def load(self, gateway: StoreGateway, post_id: str) -> None:
        """Read the post (the gateway's cache first) and render its first characters."""
        self.wanted = post_id
        try:
            view = await gateway.view(post_id)
        except (StoreError, OSError) as exc:
            if self.is_attached and self.wanted == post_id:
                self.show_message(f"cannot read {clean_name(post_id)}: {clean_line(str(exc))}")
            return
        if self.is_attached and self.wanted == post_id:
            post = view.post
            language = (post.meta or {}).get("code_language")
            self.show_post(preview_content(post.title, post.body, language))


def preview_content(
    title: str, blocks: Sequence[Mapping[str, object]], language: object
) -> BodyContent:
    """The first ``PREVIEW_CHARS`` characters of a body, with a line when there is more."""
    prefix = body_prefix(blocks, PREVIEW_CHARS)
    code_language = language if isinstance(language, str) else None
    note = None
    if not prefix.complete:
        note = (
            f"… the first {prefix.shown_chars:,} of {prefix.total_chars:,} characters: "
            "open the post (enter) to read all of it"
        )
    return BodyContent(title, prefix.blocks, code_language, note)


def cluster_prompt(cluster: _Cluster) -> Text:
    first = cluster.members[0]
    text = Text()
    text.append(f"{len(cluster.members)} posts  ", style="bold")
    text.append(clean_line(first.title, max_chars=200) or clean_line(first.reference))
    summary = status_summary([m.status for m in cluster.members])
    text.append(f"\n  {summary}", style="dim")
    return text


def member_prompt(cluster: _Cluster, index: int) -> Text:
    member = cluster.members[index]
    status = Status(member.status)
    text = Text()
    text.append(status.mark, style=status_style(status))
    text.append(f" {clean_line(member.reference, max_chars=60)} ", style="dim")
    score = cluster.scores.get(member.id) if index else None
    text.append(f"{score:>3} " if score is not None else "    ", style="bold")
    text.append(clean_line(member.title, max_chars=200))
    return text


def status_summary(statuses: Sequence[str]) -> str:
    """``"2 pending · 1 approved"``: the count of each status present, in a fixed order."""
    counts = Counter(Status(status) for status in statuses)
    return " · ".join(
        f"{counts[status]} {status.label}" for status in STATUS_ORDER if counts[status]
    )


def read_clusters(store: ReviewStore, max_clusters: int) -> _Loaded:
    """On the store thread: the ``max_clusters`` largest clusters, their rows and scores."""
    all_clusters = store.clusters()
    total_posts = sum(len(ids) for ids in all_clusters)
    clusters = []
    for ids in all_clusters[:max_clusters]:
        members = []
        for post_id in ids:
            try:
                members.append(store.summary(post_id))
            except StoreError:  # gone since the clusters were read
                continue
        if not members:
            continue
        try:
            similar = store.similar(members[0].id, NEIGHBOURS_KEPT)
        except StoreError:
            similar = []
        clusters.append(_Cluster(members, {other.id: other.score for other in similar}))
    return _Loaded(clusters, len(all_clusters), total_posts)


class ClustersScreen(Screen[ClustersResult]):
    """``ClustersScreen(gateway)``; dismisses with a :class:`ClustersResult`."""

    BINDINGS: ClassVar = [*CLOSE_BINDINGS, *CLUSTERS_BINDINGS]

    DEFAULT_CSS = """
    ClustersScreen #clusters-header { height: auto; padding: 0 1; text-style: bold; }
    ClustersScreen #clusters-body { height: 1fr; }
    ClustersScreen #cluster-left { width: 45%; height: 1fr; }
    ClustersScreen #cluster-side { width: 55%; height: 1fr; }
    ClustersScreen .cluster-pane-title { height: 1; padding: 0 1; color: $text-muted; }
    ClustersScreen _Choices { height: 1fr; }
    ClustersScreen #clusters-empty { height: 1fr; padding: 1 2; }
    ClustersScreen _Choices { text-wrap: nowrap; text-overflow: ellipsis; }
    ClustersScreen #cluster-members { height: auto; max-height: 40%; }
    ClustersScreen #cluster-preview { height: 1fr; }
    ClustersScreen #clusters-flash { height: auto; padding: 0 1; color: $warning; }
    """

    def __init__(self, gateway: StoreGateway, *, max_clusters: int = MAX_CLUSTERS) -> None:
        super().__init__(id="clusters")
        self.gateway = gateway
        self.decisions = ClusterDecisions(self)
        self._max_clusters = max_clusters
        self.clusters: list[_Cluster] = []
        self.total_clusters = 0
        self.total_posts = 0
        self.loaded = False
        self.changed_ids: list[str] = []
        self._shown: int | None = None  # index of the cluster in the members list
        self._cluster_of: dict[str, int] = {}  # post id -> index of its cluster
        self.preview_id: str | None = None  # the post the preview shows (or loads)
        self.cluster_list: _Choices
        self.member_list: _Members
        self.preview: _Preview

    def compose(self):
        yield Static(Text("Looking for near-duplicate clusters…"), id="clusters-header")
        yield Static("", id="clusters-flash")
        with Horizontal(id="clusters-body"):
            with Vertical(id="cluster-left"):
                yield Static(Text("Clusters, biggest first"), classes="cluster-pane-title")
                yield _Choices(id="cluster-list")
            with Vertical(id="cluster-side"):
                yield Static("", id="cluster-members-title", classes="cluster-pane-title")
                yield _Members(id="cluster-members")
                yield Static("", id="cluster-preview-title", classes="cluster-pane-title")
                yield _Preview(id="cluster-preview")
        yield Static("", id="clusters-empty")
        yield Footer()

    def on_mount(self) -> None:
        self.cluster_list = self.query_one("#cluster-list", _Choices)
        self.member_list = self.query_one("#cluster-members", _Members)
        self.preview = self.query_one("#cluster-preview", _Preview)
        self.query_one("#clusters-empty").display = False
        self.query_one("#clusters-flash").display = False
        self.query_one("#cluster-list").focus()
        self._load()

    @property
    def flash(self) -> str:
        """What the last step did (shown under the header)."""
        return str(self.query_one("#clusters-flash", Static).content)

    def say(self, message: str) -> None:
        """Show what a step did under the header, and as a notification."""
        flash = self.query_one("#clusters-flash", Static)
        flash.update(Text(message))
        flash.display = bool(message)
        if message:
            self.notify(message, markup=False, timeout=4)

    # -- loading ---------------------------------------------------------------------------

    @work(exclusive=True, group="clusters")
    async def _load(self) -> None:
        max_clusters = self._max_clusters
        try:
            loaded = await self.gateway.call(lambda store: read_clusters(store, max_clusters))
        except (StoreError, OSError) as exc:
            if self.is_attached:
                self.loaded = True
                self.query_one("#clusters-header", Static).update(
                    Text(f"Could not read the near-duplicate clusters: {clean_line(str(exc))}")
                )
            return
        self._show(loaded)

    def _show(self, loaded: _Loaded) -> None:
        if not self.is_attached:
            return
        self.clusters = loaded.clusters
        self._cluster_of = {
            member.id: index
            for index, cluster in enumerate(self.clusters)
            for member in cluster.members
        }
        self.total_clusters = loaded.total_clusters
        self.total_posts = loaded.total_posts
        self.loaded = True
        self._update_header()
        if not self.clusters:
            self.query_one("#clusters-body").display = False
            empty = self.query_one("#clusters-empty", Static)
            empty.update(
                Text(
                    "No near duplicates: no two posts score above the threshold "
                    f"({NEAR_DUPLICATE_THRESHOLD} of 100).",
                    style="bold",
                )
            )
            empty.display = True
            return
        options = self.cluster_list
        options.clear_options()
        options.add_options(Option(cluster_prompt(c)) for c in self.clusters)
        options.highlighted = 0
        self._show_members(0)

    def key_display(self, binding_id: str) -> str:
        keys = keys_for(binding_id, self.app.keymap_overrides)
        return "/".join(self.app.get_key_display(Binding(key, "")) for key in keys)

    def _update_header(self) -> None:
        count, posts = self.total_clusters, self.total_posts
        text = Text(
            f"{count:,} near-duplicate cluster{'s' if count != 1 else ''} · "
            f"{posts:,} post{'s' if posts != 1 else ''}"
        )
        if len(self.clusters) < count:
            text.append(f" (showing the {len(self.clusters)} largest)", style="yellow")
        if self.member_list.has_focus:
            deciding = [
                ("cluster_post_approve", "approve"),
                ("cluster_post_reject", "reject"),
                ("cluster_post_changes", "changes"),
                ("clusters_keep", "keep one"),
            ]
        else:
            deciding = [
                ("cluster_approve", "approve all"),
                ("cluster_reject", "reject all"),
                ("cluster_request_changes", "changes all"),
            ]
        hints = [
            ("cluster_open", "open"),
            ("cluster_switch_list", "clusters/posts"),
            *deciding,
            ("cluster_undo", "undo"),
            ("close", "back"),
        ]
        if not self.clusters:
            hints = hints[-1:]
        for binding_id, label in hints:
            text.append(f"  {self.key_display(binding_id)} {label}", style="dim not bold")
        self.query_one("#clusters-header", Static).update(text)

    def _show_members(self, index: int | None) -> None:
        options = self.member_list
        title = self.query_one("#cluster-members-title", Static)
        options.clear_options()
        self._shown = index
        if index is None or not 0 <= index < len(self.clusters):
            title.update("")
            self._preview(None)
            return
        cluster = self.clusters[index]
        options.add_options(Option(member_prompt(cluster, i)) for i in range(len(cluster.members)))
        options.highlighted = 0
        title.update(
            Text(
                f"{len(cluster.members)} posts · scores against "
                f"{clean_line(cluster.members[0].reference, max_chars=60)}"
            )
        )

    @property
    def current(self) -> _Cluster | None:
        index = self.cluster_list.highlighted
        if index is None or not 0 <= index < len(self.clusters):
            return None
        return self.clusters[index]

    @on(OptionList.OptionHighlighted, "#cluster-list")
    def _cluster_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != self._shown:
            self._show_members(event.option_index)

    @on(OptionList.OptionSelected, "#cluster-list")
    def _cluster_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_index != self._shown:
            self._show_members(event.option_index)
        self.member_list.focus()

    @on(OptionList.OptionSelected, "#cluster-members")
    def _member_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._open(event.option_index)

    @on(OptionList.OptionHighlighted, "#cluster-members")
    def _member_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        member = self.highlighted_member
        self._preview(member.id if member is not None else None)

    def on_descendant_focus(self) -> None:
        if self.loaded:
            self._update_header()  # the deciding keys follow the focused list

    # -- the preview -----------------------------------------------------------------------

    def _preview(self, post_id: str | None) -> None:
        if post_id == self.preview_id:
            return
        self.preview_id = post_id
        title = self.query_one("#cluster-preview-title", Static)
        if post_id is None:
            title.update("")
            self.preview.clear()
            return
        title.update(Text(f"Preview of {clean_name(post_id, max_chars=60)} · enter opens it"))
        self.preview.load(self.gateway, post_id)

    @property
    def shown_members(self) -> list[PostSummary]:
        """The posts of the cluster in the post list (none: no cluster shown)."""
        return self.clusters[self._shown].members if self._shown is not None else []

    @property
    def highlighted_member(self) -> PostSummary | None:
        """The post highlighted in the post list (None: no cluster shown)."""
        index, members = self.member_list.highlighted, self.shown_members
        return members[index] if index is not None and 0 <= index < len(members) else None

    # -- actions ---------------------------------------------------------------------------

    def action_open_member(self) -> None:
        if self.cluster_list.has_focus:
            if self.current is not None:
                self.member_list.focus()
            return
        self._open(self.member_list.highlighted)

    def _open(self, index: int | None) -> None:
        members = self.shown_members
        if index is None or not 0 <= index < len(members):
            return
        self.dismiss(ClustersResult(members[index].id, list(self.changed_ids)))

    def action_switch_list(self) -> None:
        if self.cluster_list.has_focus and self.current is not None:
            self.member_list.focus()
        else:
            self.cluster_list.focus()

    def action_decide_cluster(self, status: str) -> None:
        index = self.cluster_list.highlighted
        cluster = self.current
        if cluster is None or index is None:
            message = "Still loading the clusters." if not self.loaded else "No cluster here."
            self.notify(message, severity="warning", markup=False, timeout=3)
            return
        decided = Status(status)
        question = (
            f"Mark {plural(len(cluster.members), 'post')} of this cluster as {decided.label}?"
        )

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.decisions.decide_cluster(index, decided)

        self.app.push_screen(ConfirmScreen(question), callback=confirmed)

    def _no_post(self) -> bool:
        """Say why there is no post to act on; True when there is none."""
        if self.highlighted_member is not None:
            return False
        message = "Still loading the clusters." if not self.loaded else "No post here."
        self.notify(message, severity="warning", markup=False, timeout=3)
        return True

    def action_decide_post(self, status: str) -> None:
        """Decide the highlighted post of the cluster only."""
        if self._no_post():
            return
        member = self.highlighted_member
        assert member is not None
        self.decisions.decide_post(member.id, Status(status))

    def action_keep(self) -> None:
        """Keep the highlighted post: approve it, reject the rest of its cluster."""
        if self._no_post():
            return
        member = self.highlighted_member
        assert member is not None
        self.decisions.keep(member)

    def action_undo(self) -> None:
        self.decisions.undo()

    def apply_statuses(self, statuses: Mapping[str, Status | Review | None]) -> None:
        """New statuses (a status, a review, or None: undecided) into the rows, in place;
        the posts count as changed for the review screen."""
        touched: set[int] = set()
        for post_id, value in statuses.items():
            if post_id not in self.changed_ids:
                self.changed_ids.append(post_id)
            index = self._cluster_of.get(post_id)
            if index is None:
                continue
            if value is None:
                status = Status.PENDING
            elif isinstance(value, Review):
                status = Status(value.status)
            else:
                status = value
            cluster = self.clusters[index]
            cluster.members = [
                replace(m, status=status) if m.id == post_id else m for m in cluster.members
            ]
            touched.add(index)
        for index in sorted(touched):
            self._refresh_rows(index)

    def _refresh_rows(self, index: int) -> None:
        """Update, in place, the rows of cluster ``index`` (a post is in one cluster)."""
        cluster = self.clusters[index]
        self.cluster_list.replace_option_prompt_at_index(index, cluster_prompt(cluster))
        if self._shown == index:
            members = self.member_list
            for position in range(len(cluster.members)):
                members.replace_option_prompt_at_index(position, member_prompt(cluster, position))

    def action_close(self) -> None:
        self.dismiss(ClustersResult(None, list(self.changed_ids)))
