"""A plain, readable rendering of one post for ``copydesk show`` (no Textual needed)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.syntax import Syntax
from rich.text import Text

from storage import StoredPost
from tui.text import clean, clean_line, clean_name


def render_post(post: StoredPost) -> RenderableType:
    parts: list[RenderableType] = [Text(clean_line(post.title), style="bold"), Text("")]
    for block in post.body:
        kind = block.get("type")
        if kind == "heading":
            parts.append(Text(clean_line(block.get("text", "")), style="bold underline"))
        elif kind == "list":
            for item in block.get("items", []):
                parts.append(Text("  • " + clean_line(item)))
        elif kind == "image":
            line = f"[image] {clean_line(block.get('caption', ''))} ({clean_line(block.get('source', ''))})"
            parts.append(Text(line, style="cyan"))
            if block.get("url"):
                parts.append(Text("        " + clean_line(block["url"]), style="dim"))
        elif kind == "code":
            language = str(block.get("language") or "text")
            parts.append(
                Padding(Syntax(clean(block.get("text", "")), language, theme="ansi_dark"), (0, 2))
            )
        else:
            parts.append(Text(clean(block.get("text", ""))))
        parts.append(Text(""))
    parts.append(Rule("meta"))
    for name, value in post.meta.items():
        # meta values are one line in a seed document; the reference is the post's id
        shown = (
            clean_name(value) if name == "reference" else clean_line(_flat(value), max_chars=None)
        )
        parts.append(Text(f"{clean_line(name)}: ", style="bold").append(shown))
    parts.append(Rule("review"))
    review = post.review
    status = review.status if review else "pending"
    parts.append(Text(f"id: {clean_name(post.id)}   status: {clean_line(status)}"))
    if review and review.note:
        parts.append(Text("note: " + clean(review.note)))
    if post.changed:
        parts.append(Text("changed since review", style="yellow"))
    for hint in post.hints:
        parts.append(
            Text(
                f"hint {clean_line(hint['code'])} ({clean_line(hint['severity'])}): "
                f"{clean_line(hint['message'])}"
            )
        )
    for warning in post.warnings:
        parts.append(Text("warning: " + clean_line(warning), style="yellow"))
    return Group(*parts)


def _flat(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_flat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_flat(v) for v in value)
    return str(value)
