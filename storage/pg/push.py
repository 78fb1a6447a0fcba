"""``copydesk push FILE.json``: a local store's posts, decisions and saved views onto the
server. Safe to repeat: unchanged posts are skipped, a decision already there is an
agreement, and one that differs from the same reviewer's on the server is a conflict
(kept for ``copydesk conflicts``, the server's decision stays), as ``import-reviews``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from ..importer import AnalysedPost
from ..merge import MergeReport
from ..models import ImportReport, StoredPost
from ..query import index_fields
from ..similarity import features
from ..store import Store
from .store import PostgresStore

# near_duplicate hints are computed from the similarity index, never stored in a record
_DERIVED_HINTS = {"near_duplicate"}


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


def analysed_from_local(post: StoredPost) -> AnalysedPost:
    """A local post as the import's analysis would have made it from its file."""
    hints = [h for h in post.hints if h.get("code") not in _DERIVED_HINTS]
    record = {
        "id": post.id,
        "reference": post.reference,
        "title": post.title,
        "body": post.body,
        "meta": post.meta,
        "listed_similar": post.listed_similar,
        "warnings": post.warnings,
        "source": post.source,
        "hints": hints,
    }
    data = {k: record[k] for k in ("title", "body", "meta", "listed_similar", "warnings")}
    flags = post.meta.get("flags") if isinstance(post.meta.get("flags"), dict) else {}
    sha256 = str(post.source.get("sha256", ""))
    path = str(post.source.get("path", ""))
    row = {
        "id": post.id,
        "reference": post.reference or "",
        "title": post.title,
        "topic": str(post.meta.get("topic", "")),
        "needs_human_review": flags.get("needs_human_review") == 1,
        "hint_codes": [h["code"] for h in hints],
        "sha256": sha256,
        "path": path,
    }
    return AnalysedPost(
        path=path,
        id=post.id,
        sha256=sha256,
        record_json=orjson.dumps(record),
        row=row,
        fields=index_fields(data),
        features=features(data),
        warnings=[],
    )


def push(
    local: Store, server: PostgresStore, progress: Callable[[int, int], None] | None = None
) -> PushReport:
    ids = local.ids()
    analysed = []
    for done, post_id in enumerate(ids, 1):
        analysed.append(analysed_from_local(local.get(post_id)))
        if progress and (done % 500 == 0 or done == len(ids)):
            progress(done, len(ids))
    posts = ImportReport()
    if analysed:
        server.write_posts(analysed, posts)
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
    return PushReport(posts, merged, added)
