"""The query language's plain specification: which posts a query finds, in which order.

Written for clarity, not speed: every post is tried against every term with the term's
own ``matches`` (storage/terms.py). ``storage.search_index.SearchIndex`` answers the same
question fast; tests/storage/test_query_spec.py holds the two equal on random corpora and
queries.

* A post is found when it matches every term of the query.
* With positive free words the posts found are ranked, best first: a post's score is the
  sum over those words of its score for each (``FreeWord.score_in``: its best word, exact
  > prefix > substring > typo, a topic or summary word below a title word). Ties, and
  every query without free words, follow the queue order: ``queue_key``, then id.
* A query may name the fields of the field table (storage.query.KNOWN_FIELDS) and the
  fields and flags the posts hold a value for (storage.query.extra_names); any other name
  is a QueryError.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .query import Query, extra_names, parse_query
from .terms import FreeWord, PostFacts

__all__ = ["PostFacts", "has_value", "parse", "search"]


def has_value(value: Any) -> bool:
    """Whether a field value is one a query could name: not None, not "", and not a list
    of nothing but ""."""
    if value is None or value == "":
        return False
    if isinstance(value, list | tuple):
        return any(item != "" for item in value)
    return True


def parse(posts: Iterable[PostFacts], text: str) -> Query:
    """``text`` parsed knowing the unknown fields and flags of ``posts``."""
    names = {name for post in posts for name, value in post.fields.items() if has_value(value)}
    fields, flags = extra_names(names)
    return parse_query(text, extra_fields=fields, extra_flags=flags)


def search(posts: Sequence[PostFacts], query: str | Query) -> list[str]:
    """The ids of the posts ``query`` finds, in the order described above."""
    if isinstance(query, str):
        query = parse(posts, query)
    found = [post for post in posts if all(term.matches(post) for term in query.terms)]
    found.sort(key=lambda post: (post.queue_key, post.id))
    words = [t for t in query.terms if isinstance(t, FreeWord) and not t.negated]
    if words:
        found.sort(key=lambda post: -sum(word.score_in(post) or 0 for word in words))
    return [post.id for post in found]
