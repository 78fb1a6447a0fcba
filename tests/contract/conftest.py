"""The contract suite: every test runs on both backends, the local TinyDB store in
tmp_path and the PostgreSQL store on a fresh database."""

from __future__ import annotations

import pytest

from storage import Store

BACKENDS = ("local", "postgresql")
REVIEWER = "contract-reviewer"


class Backend:
    def __init__(self, name: str, location: str) -> None:
        self.name = name
        self.location = location
        self.opened: list = []

    def open(self, reviewer: str | None = None):
        if self.name == "local":
            store = Store.open(self.location)
        else:
            from storage.pg import PostgresStore

            store = PostgresStore.open(self.location, reviewer=reviewer)
        self.opened.append(store)
        return store

    def close_all(self) -> None:
        for store in self.opened:
            store.close()


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path, monkeypatch):
    monkeypatch.setenv("COPYDESK_REVIEWER", REVIEWER)
    monkeypatch.setenv("COPYDESK_CONFIG_DIR", str(tmp_path / "config"))
    if request.param == "local":
        handle = Backend("local", str(tmp_path / "db.json"))
    else:
        handle = Backend("postgresql", request.getfixturevalue("pg_url"))
    yield handle
    handle.close_all()


@pytest.fixture
def store(backend):
    return backend.open()
