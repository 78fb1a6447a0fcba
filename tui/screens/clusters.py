"""Near duplicates: posts scoring at or above the near-duplicate threshold, in clusters.

Left, the clusters (biggest first, as ``Store.clusters`` gives them); right, the posts of
the highlighted cluster with their score against its first post. ``a`` / ``x`` / ``c``
decide every post of the cluster after a confirm (each post keeps its note: the rules of
``storage.session``, one durable write for the cluster, undone by ``u`` on the review
screen); ``enter`` on a post closes the view and asks the caller to open that post.

The clusters and their rows load through the gateway (a 100,000-post store holds about
2,000 of them); a decision updates the rows in place. The screen dismisses with a
:class:`ClustersResult`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from storage import PostSummary, ReviewStore, Status, StoreError
from storage.session import plural
from storage.similarity import NEAR_DUPLICATE_THRESHOLD, NEIGHBOURS_KEPT
from tui.gateway import StoreGateway
from tui.keymap import CLOSE_BINDINGS, CLUSTERS_BINDINGS, keys_for
from tui.screens.confirm import ConfirmScreen
from tui.text import clean_line
from tui.widgets.key_list import KeyList

MAX_CLUSTERS = 2000  # the largest clusters shown; a note says when there are more

STATUS_ORDER = (Status.PENDING, Status.APPROVED, Status.CHANGES_REQUESTED, Status.REJECTED)
STATUS_STYLES = {
    Status.PENDING: "dim",
    Status.APPROVED: "green",
    Status.REJECTED: "red",
    Status.CHANGES_REQUESTED: "yellow",
}


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
    """

    def __init__(self, gateway: StoreGateway, *, max_clusters: int = MAX_CLUSTERS) -> None:
        super().__init__(id="clusters")
        self._gateway = gateway
        self._max_clusters = max_clusters
        self.clusters: list[_Cluster] = []
        self.total_clusters = 0
        self.total_posts = 0
        self.loaded = False
        self.changed_ids: list[str] = []
        self._shown: int | None = None  # index of the cluster in the members list

    def compose(self):
        yield Static(Text("Looking for near-duplicate clusters…"), id="clusters-header")
        with Horizontal(id="clusters-body"):
            with Vertical(id="cluster-left"):
                yield Static(Text("Clusters, biggest first"), classes="cluster-pane-title")
                yield _Choices(id="cluster-list")
            with Vertical(id="cluster-side"):
                yield Static("", id="cluster-members-title", classes="cluster-pane-title")
                yield _Choices(id="cluster-members")
        yield Static("", id="clusters-empty")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#clusters-empty").display = False
        self.query_one("#cluster-list").focus()
        self._load()

    @property
    def cluster_list(self) -> OptionList:
        return self.query_one("#cluster-list", OptionList)

    @property
    def member_list(self) -> OptionList:
        return self.query_one("#cluster-members", OptionList)

    # -- loading ---------------------------------------------------------------------------

    @work(exclusive=True, group="clusters")
    async def _load(self) -> None:
        max_clusters = self._max_clusters
        try:
            loaded = await self._gateway.call(lambda store: read_clusters(store, max_clusters))
        except (StoreError, OSError) as exc:
            self._load_failed(str(exc))
            return
        self._show(loaded)

    def _load_failed(self, message: str) -> None:
        if not self.is_attached:
            return
        self.loaded = True
        self.query_one("#clusters-header", Static).update(
            Text(f"Could not read the near-duplicate clusters: {clean_line(message)}")
        )

    def _show(self, loaded: _Loaded) -> None:
        if not self.is_attached:
            return
        self.clusters = loaded.clusters
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
        options.add_options(Option(self._cluster_prompt(c)) for c in self.clusters)
        options.highlighted = 0
        self._show_members(0)

    def _keys(self, binding_id: str) -> str:
        keys = keys_for(binding_id, self.app.keymap_overrides)
        return "/".join(self.app.get_key_display(Binding(key, "")) for key in keys)

    def _update_header(self) -> None:
        count, posts = self.total_clusters, self.total_posts
        text = Text(
            f"{count:,} near-duplicate cluster{'s' if count != 1 else ''} · "
            f"{posts} post{'s' if posts != 1 else ''}"
        )
        if len(self.clusters) < count:
            text.append(f" (showing the {len(self.clusters)} largest)", style="yellow")
        hints = [
            ("cluster_open", "open"),
            ("cluster_switch_list", "clusters/posts"),
            ("cluster_approve", "approve all"),
            ("cluster_reject", "reject all"),
            ("cluster_request_changes", "changes all"),
            ("close", "back"),
        ]
        if not self.clusters:
            hints = hints[-1:]
        for binding_id, label in hints:
            text.append(f"  {self._keys(binding_id)} {label}", style="dim not bold")
        self.query_one("#clusters-header", Static).update(text)

    # -- rows ------------------------------------------------------------------------------

    @staticmethod
    def _cluster_prompt(cluster: _Cluster) -> Text:
        first = cluster.members[0]
        size = len(cluster.members)
        text = Text()
        text.append(f"{size} posts  ", style="bold")
        text.append(clean_line(first.title, max_chars=200) or clean_line(first.reference))
        summary = status_summary([m.status for m in cluster.members])
        text.append(f"\n  {summary}", style="dim")
        return text

    @staticmethod
    def _member_prompt(cluster: _Cluster, index: int) -> Text:
        member = cluster.members[index]
        status = Status(member.status)
        text = Text()
        text.append(status.mark, style=STATUS_STYLES[status])
        text.append(f" {clean_line(member.reference, max_chars=60)} ", style="dim")
        score = cluster.scores.get(member.id) if index else None
        text.append(f"{score:>3} " if score is not None else "    ", style="bold")
        text.append(clean_line(member.title, max_chars=200))
        return text

    def _show_members(self, index: int | None) -> None:
        options = self.member_list
        title = self.query_one("#cluster-members-title", Static)
        options.clear_options()
        self._shown = index
        if index is None or not 0 <= index < len(self.clusters):
            title.update("")
            return
        cluster = self.clusters[index]
        options.add_options(
            Option(self._member_prompt(cluster, i)) for i in range(len(cluster.members))
        )
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

    # -- actions ---------------------------------------------------------------------------

    def action_open_member(self) -> None:
        if self.cluster_list.has_focus:
            if self.current is not None:
                self.member_list.focus()
            return
        self._open(self.member_list.highlighted)

    def _open(self, index: int | None) -> None:
        cluster = self.clusters[self._shown] if self._shown is not None else None
        if cluster is None or index is None or not 0 <= index < len(cluster.members):
            return
        self.dismiss(ClustersResult(cluster.members[index].id, list(self.changed_ids)))

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
                self._decide(index, decided)

        self.app.push_screen(ConfirmScreen(question), callback=confirmed)

    @work(group="decide")
    async def _decide(self, index: int, status: Status) -> None:
        """Save ``status`` on every post of cluster ``index`` in one durable write, each post
        keeping its note (``u`` on the review screen undoes it)."""
        cluster = self.clusters[index]
        ids = [member.id for member in cluster.members]
        gateway = self._gateway
        try:
            outcome = await gateway.call(lambda store: gateway.decide(store, ids, status))
        except (StoreError, OSError) as exc:
            self.notify(str(exc), title="Could not save", severity="error", markup=False)
            return
        done = set(outcome.saved)
        cluster.members = [
            replace(m, status=status) if m.id in done else m for m in cluster.members
        ]
        for post_id in outcome.post_ids:
            if post_id not in self.changed_ids:
                self.changed_ids.append(post_id)
        self._refresh_rows(index)
        self.notify(outcome.message, markup=False, timeout=3)

    def _refresh_rows(self, index: int) -> None:
        """Update, in place, the rows of cluster ``index`` (a post is in one cluster)."""
        cluster = self.clusters[index]
        self.cluster_list.replace_option_prompt_at_index(index, self._cluster_prompt(cluster))
        if self._shown == index:
            members = self.member_list
            for position in range(len(cluster.members)):
                members.replace_option_prompt_at_index(
                    position, self._member_prompt(cluster, position)
                )

    def action_close(self) -> None:
        self.dismiss(ClustersResult(None, list(self.changed_ids)))
