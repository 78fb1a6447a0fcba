"""A package's names loaded on first use (PEP 562): ``storage`` and ``storage.pg`` name
more than a one-post command needs, and their modules cost it ~0.1 s to import."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def names(
    package: str, table: Mapping[str, tuple[str, str]], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` for ``table`` (name ->
    (module relative to the package, attribute)); a name asked once is kept in
    ``namespace`` (the package's globals), so it is looked up only once."""

    def getattr_(name: str) -> Any:
        try:
            module, attribute = table[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(import_module(module, package), attribute)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted(set(namespace) | set(table))

    return getattr_, dir_
