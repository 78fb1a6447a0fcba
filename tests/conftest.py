"""PostgreSQL for the tests that need a server (tests/contract, tests/pg).

``$COPYDESK_TEST_PG``: the URL of a server where the tests may create databases (``.ci/run``
starts one); else a throwaway server of this session (``storage.pg.localserver``) when the
server binaries are here; else those tests skip, saying why. With ``CI=true`` they never
skip: a missing server fails them.
"""

from __future__ import annotations

import itertools
import os

import pytest

_counter = itertools.count()


def _no_server(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}")
    pytest.skip(f"no PostgreSQL server: {reason} (set COPYDESK_TEST_PG=postgresql://...)")


class PgServer:
    """A server to create test databases on: ``fresh()`` is a new migrated database."""

    def __init__(self, admin_url: str, local=None) -> None:
        self.admin_url = admin_url
        self.local = local  # the LocalServer when this session started it
        self._template: str | None = None
        self.worker = os.environ.get("PYTEST_XDIST_WORKER", "gw")

    def _admin(self):
        import psycopg

        return psycopg.connect(self.admin_url, autocommit=True)

    def url_of(self, name: str) -> str:
        """The admin URL with another database name (a postgresql:// URL, as --db takes)."""
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(self.admin_url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))

    def create(self, name: str, template: str | None = None) -> str:
        from psycopg import sql

        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            conn.execute(query)
        return self.url_of(name)

    def drop(self, name: str) -> None:
        from psycopg import sql

        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def fresh(self, *, migrated: bool = True) -> tuple[str, str]:
        """(name, url) of a new database, with the copydesk schema unless ``migrated`` is
        False."""
        from storage.pg import init_database

        name = f"copydesk_test_{self.worker}_{os.getpid()}_{next(_counter)}"
        if not migrated:
            return name, self.create(name)
        if self._template is None:
            template = f"copydesk_template_{self.worker}_{os.getpid()}"
            init_database(self.create(template))
            self._template = template
        return name, self.create(name, self._template)


@pytest.fixture(scope="session", autouse=True)
def _own_cache_dir(tmp_path_factory):
    """The team catalog cache (storage/pg/catalog_cache.py) of the tests, never the
    user's; child processes inherit it."""
    before = os.environ.get("COPYDESK_CACHE_DIR")
    os.environ["COPYDESK_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if before is None:
        os.environ.pop("COPYDESK_CACHE_DIR", None)
    else:
        os.environ["COPYDESK_CACHE_DIR"] = before


@pytest.fixture(scope="session")
def pg_server():
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _no_server("psycopg is not installed (pip install 'psycopg[binary]')")
    url = os.environ.get("COPYDESK_TEST_PG")
    if url:
        yield PgServer(url)
        return
    from storage.pg.localserver import LocalServer, ServerUnavailable

    try:
        local = LocalServer(settings={"fsync": "off"})
    except ServerUnavailable as exc:
        _no_server(str(exc))
    local.start()
    try:
        yield PgServer(local.url(), local)
    finally:
        local.stop()


@pytest.fixture
def pg_url(pg_server):
    """A fresh database with the copydesk schema, dropped after the test."""
    name, url = pg_server.fresh()
    yield url
    try:
        pg_server.drop(name)
    except Exception:  # noqa: BLE001 - a test that restarted or broke the server
        pass
