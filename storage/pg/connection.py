"""One client's connection to the server: connect, reconnect after the server went away,
LISTEN for wake-ups, and errors as one line without a password."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg

from ..errors import StoreError
from .schema import CHANNEL
from .url import display_url, password_of, redact

T = TypeVar("T")

CONNECT_TIMEOUT_S = 10
# How long an operation keeps trying to reach a server that went away (a restart).
RECONNECT_FOR_S = 30.0
_BACKOFF_S = (0.05, 0.1, 0.2, 0.5, 1.0)


class ConnectionLost(StoreError):
    """The server went away and did not come back within ``RECONNECT_FOR_S``."""


class NotSavedError(StoreError):
    """A write that the server did not acknowledge: it was not saved."""


def _is_connection_failure(exc: BaseException, conn: psycopg.Connection | None) -> bool:
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return conn is None or conn.closed or conn.broken
    # the server shutting down (pg_ctl restart) cancels sessions with 57P01 etc.
    return isinstance(exc, psycopg.errors.AdminShutdown | psycopg.errors.CrashShutdown)


# How long opening a store waits for a server that says it is starting up or shutting
# down (SQLSTATE 57P03: a restart under way) before it reports that it cannot connect.
STARTING_WAIT_S = 15.0


# What a server says while it restarts (57P01 admin shutdown, 57P03 cannot connect now);
# on a failed connect psycopg often has no SQLSTATE, only the server's message.
_RESTARTING_STATES = {"57P01", "57P03"}
_RESTARTING_TEXTS = (
    "the database system is shutting down",
    "the database system is starting up",
    "terminating connection due to administrator command",
    "server closed the connection unexpectedly",  # a connect racing the shutdown
)


def _server_restarting(exc: psycopg.Error) -> bool:
    text = str(exc)
    return getattr(exc, "sqlstate", None) in _RESTARTING_STATES or any(
        known in text for known in _RESTARTING_TEXTS
    )


class Link:
    """A psycopg connection (autocommit) that comes back after the server restarts."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.location = display_url(url)
        self._password = password_of(url)
        self._conn: psycopg.Connection | None = None
        self.woken = True  # a notification arrived (or the link is new): refresh
        self.reconnects = 0
        # set from another thread when the app quits: no more waiting for the server
        self._giving_up = threading.Event()

    def give_up(self) -> None:
        """Waits for the server end now, and later ones do not start (``ConnectionLost``);
        a link that is up goes on working."""
        self._giving_up.set()

    def error_text(self, exc: BaseException) -> str:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return redact(text, self._password, self.url)

    def connect(self) -> psycopg.Connection:
        deadline = time.monotonic() + STARTING_WAIT_S
        restarting = False  # the server said it is going down or coming up
        while True:
            try:
                conn = psycopg.connect(
                    self.url,
                    autocommit=True,
                    connect_timeout=CONNECT_TIMEOUT_S,
                    application_name="copydesk",
                )
                conn.add_notify_handler(self._notified)
                try:
                    conn.execute(f"LISTEN {CHANNEL}")
                except psycopg.Error:
                    conn.close()  # the server went down right after letting us in
                    raise
                break
            except psycopg.Error as exc:
                # a restart: "shutting down", then refused, then "starting up"
                restarting = restarting or _server_restarting(exc)
                if restarting and time.monotonic() < deadline:
                    if not self._giving_up.wait(0.2):
                        continue
                message = f"{self.location}: cannot connect ({self.error_text(exc)})"
                raise StoreError(message) from None
            except ValueError as exc:  # a malformed URL
                message = f"{self.location}: bad database URL ({self.error_text(exc)})"
                raise StoreError(message) from None
        self._conn = conn
        self.woken = True
        return conn

    def _notified(self, _notify: psycopg.Notify) -> None:
        self.woken = True

    @property
    def conn(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            return self.connect()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def drain(self) -> bool:
        """Read notifications waiting on the socket (no round trip); True when woken."""
        conn = self._conn
        if conn is not None and not conn.closed:
            # libpq directly: read what the socket holds, pop the notifications (those
            # that came during a query went to the handler already)
            pgconn = conn.pgconn
            try:
                pgconn.consume_input()
                while pgconn.notifies() is not None:
                    self.woken = True
            except psycopg.Error:
                self.woken = True  # a broken link: the next query reconnects
        woken, self.woken = self.woken, False
        return woken

    def reconnect(self, deadline: float) -> psycopg.Connection:
        self.close()
        attempt = 0
        while True:
            if self._giving_up.is_set():
                raise ConnectionLost(f"{self.location}: the server went away (not waited for)")
            try:
                conn = self.connect()
                self.reconnects += 1
                return conn
            except StoreError as exc:
                if time.monotonic() >= deadline:
                    raise ConnectionLost(
                        f"{self.location}: the server went away and did not come back "
                        f"within {RECONNECT_FOR_S:.0f}s ({exc})"
                    ) from None
                self._giving_up.wait(_BACKOFF_S[min(attempt, len(_BACKOFF_S) - 1)])
                attempt += 1

    def run(self, op: Callable[[psycopg.Connection], T], *, retry: bool = True) -> T:
        """``op(conn)``; when the server went away, reconnect and (``retry``) run it again.
        Without ``retry`` the failure is raised after reconnecting (the caller decides
        what an unacknowledged write means)."""
        deadline = time.monotonic() + RECONNECT_FOR_S
        while True:
            conn = self.conn
            try:
                return op(conn)
            except psycopg.Error as exc:
                if not _is_connection_failure(exc, conn):
                    raise
                self.reconnect(deadline)
                if not retry:
                    raise
