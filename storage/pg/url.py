"""Where a PostgreSQL store is: its URL, shown without a password, and the connection.

libpq does the rest of the work: its environment variables (``PGHOST``, ``PGUSER``,
``PGPASSWORD``, ...) fill what the URL leaves out and ``~/.pgpass`` supplies passwords.
A password never reaches a message: ``redact`` is the one place that removes it, and every
error this package raises about a connection passes through it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

SCHEMES = ("postgresql://", "postgres://")

# a password in a URL (``://user:secret@``) or in a key=value conninfo (``password=secret``)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/?#@\s]*):[^@/\s]*@", re.I)
_KV_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)[^&\s#]*", re.I)
MASK = "***"


def is_postgres_url(location: object) -> bool:
    return isinstance(location, str) and location.lower().startswith(SCHEMES)


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every password in it replaced by ``***``: those of URLs and conninfo
    strings, and any of ``secrets`` (the password of the URL in use) found literally."""
    out = _URL_PASSWORD.sub(lambda m: f"{m['head']}:{MASK}@", text)
    out = _KV_PASSWORD.sub(lambda m: f"{m['head']}{MASK}", out)
    out = _QUERY_PASSWORD.sub(lambda m: f"{m['head']}{MASK}", out)
    for secret in secrets:
        if secret:
            out = out.replace(secret, MASK)
    return out


def password_of(url: str) -> str | None:
    """The password written in ``url`` (None when it has none)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return None
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    return password or query.get("password") or None


def display_url(url: str) -> str:
    """``url`` for messages: no password (in the user part or the query)."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            user, host = netloc.rsplit("@", 1)
            netloc = f"{user.split(':', 1)[0]}@{host}"
        shown = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    except ValueError:
        shown = url
    return redact(shown, password_of(url))
