"""``Store``: the local (TinyDB) store, the default backend. See storage/local/."""

from __future__ import annotations

from .local.store import LocalStore

Store = LocalStore

__all__ = ["Store"]
