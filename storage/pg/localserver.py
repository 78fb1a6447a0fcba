"""A throwaway PostgreSQL server on this machine, for the tests, the benchmarks and trying
the team desk out: ``initdb`` into a temporary directory, ``pg_ctl start`` on a free
127.0.0.1 port (and a unix socket in that directory), ``pg_ctl stop`` at the end.

As root, the server runs as the ``postgres`` user (``runuser``; PostgreSQL refuses root),
so the directory is handed to that user. Nothing here is used by a store.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SERVER_USER = "postgres"


class ServerUnavailable(RuntimeError):
    """No PostgreSQL server binaries here (the reason says what was looked for)."""


def find_bindir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``: $COPYDESK_PG_BINDIR, Debian's
    versioned folder (newest first), or the PATH."""
    explicit = os.environ.get("COPYDESK_PG_BINDIR")
    candidates = [explicit] if explicit else []
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: _version_key(p), reverse=True
    )
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise ServerUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) in $COPYDESK_PG_BINDIR, "
        "/usr/lib/postgresql/*/bin or on the PATH; `apt-get install -y postgresql`"
    )


def _version_key(path: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in Path(path).parent.name.split("."))
    except ValueError:
        return (0,)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalServer:
    """``start()`` it, use ``url(dbname)``, ``create_database(name)``, ``stop()`` it."""

    settings: dict[str, str] = field(default_factory=dict)  # postgres -c NAME=VALUE
    bindir: Path = field(default_factory=find_bindir)
    root: Path | None = None
    port: int = 0

    @property
    def datadir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        assert self.root is not None
        return self.root / "server.log"

    def _as_server_user(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        if os.geteuid() == 0:
            args = ["runuser", "-u", SERVER_USER, "--", *args]
        return subprocess.run(args, check=True, capture_output=True, text=True, **kw)

    def start(self) -> LocalServer:
        self.root = Path(tempfile.mkdtemp(prefix="copydesk-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, SERVER_USER, SERVER_USER)
        self._as_server_user(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                SERVER_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        self.port = free_port()
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.root),
            "max_connections": "100",
            **self.settings,
        }
        self._pg_ctl("start", "-w", "-t", "60", "-o", _options(options), "-l", str(self.logfile))
        return self

    def _pg_ctl(self, *args: str) -> None:
        try:
            self._as_server_user([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *args])
        except subprocess.CalledProcessError as exc:
            log = self.logfile.read_text(errors="replace")[-2000:] if self.root else ""
            raise RuntimeError(f"pg_ctl {args[0]} failed: {exc.stderr}\n{log}") from exc

    def restart(self) -> None:
        # -l again: without it the new server's output goes to our pipe, held open forever
        self._pg_ctl("restart", "-w", "-m", "fast", "-t", "60", "-l", str(self.logfile))

    def stop(self) -> None:
        if self.root is None:
            return
        try:
            self._pg_ctl("stop", "-w", "-m", "fast", "-t", "60")
        except RuntimeError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _options(settings: dict[str, str]) -> str:
    return " ".join(f"-c {name}={_quote(value)}" for name, value in settings.items())


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'" if any(c in value for c in " '\"") else value
