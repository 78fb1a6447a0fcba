"""``copydesk push FILE.json``: a local store's posts, decisions and saved views onto the
server. Safe to repeat: unchanged posts are skipped, a decision already there is an
agreement, and one that differs from the same reviewer's on the server is a conflict
(kept for ``copydesk conflicts``, the server's decision stays), as ``import-reviews``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..analysis import post_dict, post_row
from ..hints import compute_hints_many
from ..merge import MergeReport
from ..models import ImportReport, StoredPost
from ..query import index_fields
from ..similarity import features
from ..store import Store
from .importing import PostToStore
from .store import PostgresStore


@dataclass(slots=True)
class PushReport:
    posts: ImportReport
    decisions: MergeReport
    views_added: list[str] = field(default_factory=list)

    def summary(self) -> str:
        views = f"; {len(self.views_added)} views added" if self.views_added else ""
        return f"posts: {self.posts.summary()}; decisions: {self.decisions.summary()}{views}"

    def to_dict(self) -> dict:
        return {
            "posts": {
                "imported": self.posts.imported,
                "updated": self.posts.updated,
                "unchanged": self.posts.unchanged,
            },
            "decisions": self.decisions.to_dict(),
            "views_added": self.views_added,
            "summary": self.summary(),
        }


def post_from_local(post: StoredPost) -> PostToStore:
    """A local post as an import's analysis of its file would have made it: the record,
    then hints, query fields and features computed by the shared functions."""
    record = {
        "id": post.id,
        "reference": post.reference,
        "title": post.title,
        "body": post.body,
        "meta": post.meta,
        "listed_similar": post.listed_similar,
        "warnings": post.warnings,
        "source": {"sha256": str(post.source.get("sha256", ""))},
    }
    data = post_dict(record)
    (hints,) = compute_hints_many([data])
    return PostToStore(
        id=post.id,
        path=str(post.source.get("path", "")),
        file_sha256="",  # unknown here: a later import of the file compares its text
        record=record,
        hints=hints,
        row=post_row(record, tuple(h["code"] for h in hints)),
        fields=index_fields(data),
        features=features(data),
    )


def push(
    local: Store, server: PostgresStore, progress: Callable[[int, int], None] | None = None
) -> PushReport:
    ids = local.ids()
    posts: dict[str, PostToStore] = {}
    for done, post_id in enumerate(ids, 1):
        posts[post_id] = post_from_local(local.get(post_id))
        if progress and (done % 500 == 0 or done == len(ids)):
            progress(done, len(ids))
    report = ImportReport()
    if posts:
        server.write_posts(posts, report)
    decisions = [(post_id, review, 0) for post_id, review in local.reviews().items()]
    # their decisions merged locally but in conflict with ours are decisions too
    decisions += [(c.post_id, c.theirs, 0) for c in local.conflicts()]
    merged = server.merge_decisions(decisions, source=local.location)
    known = {v.name.lower() for v in server.views()}
    added = []
    for view in local.views():
        if not view.builtin and view.name.lower() not in known:
            server.save_view(view.name, view.query)
            added.append(view.name)
    return PushReport(report, merged, added)
