"""Errors raised by the storage layer. Each has a one-line, user-facing ``str()``."""

from __future__ import annotations

from pathlib import Path


class StoreError(Exception):
    """Base class for every error the store reports to a user."""


class StoreCorruptError(StoreError):
    """A store file is damaged and could not be recovered from its backup."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class UnknownPostError(StoreError, KeyError):
    def __init__(self, post_id: str) -> None:
        self.post_id = post_id
        super().__init__(f"no post with id {post_id!r} in the store")

    def __str__(self) -> str:  # KeyError would quote the message again
        return self.args[0]


class InvalidStatusError(StoreError, ValueError):
    def __init__(self, status: str, allowed: tuple[str, ...]) -> None:
        self.status = status
        super().__init__(f"unknown status {status!r}; allowed: {', '.join(allowed)}")


class QueryError(ValueError):
    """A query that cannot be parsed; `position` is the 0-based offset of `term`. Lives
    here, not in query.py, so that catching it costs no import of the grammar."""

    def __init__(self, message: str, *, position: int, term: str, expected: str = "") -> None:
        text = f"{message} at position {position}"
        super().__init__(f"{text} (expected {expected})" if expected else text)
        self.message = message
        self.position = position
        self.term = term
