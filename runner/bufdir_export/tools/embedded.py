"""A private, throwaway PostgreSQL server started from the machine's server binaries.

Used by the demo and the tests when no database is configured. It listens on
127.0.0.1 only, on a free port, with trust authentication for the local
superuser ``postgres``, and its data lives in a temporary directory removed on
:meth:`EmbeddedPostgres.close`. PostgreSQL refuses to run as root; when run as
root, the server runs as the ``postgres`` system user (or ``nobody``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg
from psycopg.conninfo import make_conninfo

from .._errors import EmbeddedPostgresError

__all__ = ["EmbeddedPostgres", "find_bindir"]

_SEARCH_GLOBS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/usr/local/pgsql/bin",
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
)
_REQUIRED = ("initdb", "postgres")
_START_TIMEOUT = 60.0

# Fast and throwaway: nothing here has to survive a power cut.
_SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "logical",
    "max_connections": "200",
    "shared_buffers": "128MB",
    "log_min_messages": "warning",
    "timezone": "UTC",
}
# As a real server runs: every commit flushed to disk before it returns.
_DURABLE_SETTINGS = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def _has_server(directory: Path) -> bool:
    return all((directory / name).is_file() for name in _REQUIRED)


def _version_key(directory: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", str(directory))) or (0,)


def find_bindir(configured: Path | None = None) -> Path:
    """The directory holding ``initdb`` and ``postgres``, newest version first."""
    if configured is not None:
        if _has_server(configured):
            return configured
        raise EmbeddedPostgresError(f"no initdb and postgres in the configured {configured}")
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        candidate = Path(found.stdout.strip())
        if found.returncode == 0 and _has_server(candidate):
            return candidate
    candidates = [
        Path(path)
        for pattern in _SEARCH_GLOBS
        for path in sorted(Path("/").glob(pattern.lstrip("/")))
        if _has_server(Path(path))
    ]
    initdb = shutil.which("initdb")
    if initdb and _has_server(Path(initdb).parent):
        candidates.append(Path(initdb).parent)
    if not candidates:
        raise EmbeddedPostgresError(
            "no PostgreSQL server binaries found: install the PostgreSQL server package, "
            "set BUFDIR_EXPORT_PG_BINDIR, or set DATABASE_URL"
        )
    return max(candidates, key=_version_key)


@dataclass(frozen=True)
class _Account:
    """The operating-system account the server runs as (None: the current one)."""

    uid: int | None
    gid: int | None

    @classmethod
    def for_server(cls) -> _Account:
        if os.geteuid() != 0:
            return cls(None, None)
        import pwd  # Unix only, like running the server as root: not at import time

        for name in ("postgres", "nobody"):
            with contextlib.suppress(KeyError):
                entry = pwd.getpwnam(name)
                return cls(entry.pw_uid, entry.pw_gid)
        raise EmbeddedPostgresError("running as root, and no postgres or nobody user to run as")

    def own(self, path: Path) -> None:
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class EmbeddedPostgres:
    """A PostgreSQL server of our own: ``async with EmbeddedPostgres() as server``.

    :meth:`stop` and :meth:`start` restart it on the same data (for fault
    tests); :meth:`close` stops it and removes its data. It runs with
    ``fsync`` and ``synchronous_commit`` off (nothing of it must survive a
    power cut), or with both on where ``durable`` (to measure what commits
    cost on a real server).
    """

    def __init__(
        self, bindir: Path | None = None, *, superuser: str = "postgres", durable: bool = False
    ) -> None:
        self._bindir = find_bindir(bindir)
        self._durable = durable
        self._superuser = superuser
        self._account = _Account.for_server()
        self._root = Path(tempfile.mkdtemp(prefix="bufdir-export-pg-"))
        self._account.own(self._root)
        self._data = self._root / "data"
        self._log = self._root / "server.log"
        self._port = _free_port()
        self._process: asyncio.subprocess.Process | None = None
        self._initialised = False

    @property
    def port(self) -> int:
        return self._port

    def conninfo(self, dbname: str = "postgres") -> str:
        """A libpq connection string for the superuser on ``dbname``."""
        return make_conninfo(host="127.0.0.1", port=self._port, user=self._superuser, dbname=dbname)

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _run(self, *args: str) -> None:
        process = await asyncio.create_subprocess_exec(
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=self._root,
            user=self._account.uid,
            group=self._account.gid,
            extra_groups=[] if self._account.uid is not None else None,
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            tail = output.decode(errors="replace").strip()[-2000:]
            raise EmbeddedPostgresError(f"{Path(args[0]).name} failed: {tail}")

    async def start(self) -> None:
        """Initialise the data directory (first time) and start the server."""
        if self._process is not None:
            return
        if not self._initialised:
            await self._run(
                str(self._bindir / "initdb"),
                "--pgdata",
                str(self._data),
                "--username",
                self._superuser,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--no-locale",
                "--no-sync",
            )
            self._initialised = True
        settings = {
            **_SERVER_SETTINGS,
            **(_DURABLE_SETTINGS if self._durable else {}),
            "port": str(self._port),
        }
        settings["unix_socket_directories"] = str(self._root)
        args = [str(self._bindir / "postgres"), "-D", str(self._data)]
        for name, value in settings.items():
            args += ["-c", f"{name}={value}"]
        log = self._log.open("ab")
        self._account.own(self._log)
        try:
            self._process = await asyncio.create_subprocess_exec(
                *args,
                stdout=log,
                stderr=log,
                cwd=self._root,
                user=self._account.uid,
                group=self._account.gid,
                extra_groups=[] if self._account.uid is not None else None,
                start_new_session=True,
            )
        finally:
            log.close()
        await self._wait_ready()

    async def _wait_ready(self) -> None:
        deadline = asyncio.get_running_loop().time() + _START_TIMEOUT
        while True:
            assert self._process is not None  # noqa: S101 - set by start()
            if self._process.returncode is not None:
                self._process = None
                raise EmbeddedPostgresError(f"the server exited at start: {self._log_tail()}")
            try:
                connection = await psycopg.AsyncConnection.connect(
                    self.conninfo(), connect_timeout=2
                )
            except psycopg.OperationalError:
                if asyncio.get_running_loop().time() > deadline:
                    raise EmbeddedPostgresError(
                        f"the server did not accept connections within {_START_TIMEOUT:.0f} s: "
                        f"{self._log_tail()}"
                    ) from None
                await asyncio.sleep(0.05)
            else:
                await connection.close()
                return

    def _log_tail(self) -> str:
        try:
            return self._log.read_text(errors="replace").strip()[-2000:]
        except OSError:
            return "(no server log)"

    async def stop(self, *, mode: signal.Signals = signal.SIGINT) -> None:
        """Stop the server: SIGINT is a fast shutdown, SIGQUIT an immediate one."""
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(mode)
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def close(self) -> None:
        """Stop the server and remove its data."""
        try:
            await self.stop()
        finally:
            shutil.rmtree(self._root, ignore_errors=True)
