"""Which PostgreSQL server to use: the configured one, or a private embedded one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from psycopg.conninfo import make_conninfo

from .._settings import Settings
from .embedded import EmbeddedPostgres

__all__ = ["DatabaseServer", "open_server"]


@dataclass(frozen=True)
class DatabaseServer:
    """A reachable server: ``conninfo(dbname)`` connects to one of its databases."""

    kind: Literal["configured", "embedded"]
    base_conninfo: str

    def conninfo(self, dbname: str | None = None) -> str:
        if dbname is None:
            return self.base_conninfo
        return make_conninfo(self.base_conninfo, dbname=dbname)


@asynccontextmanager
async def open_server(
    settings: Settings, *, durable: bool = False
) -> AsyncIterator[DatabaseServer]:
    """The configured database (``DATABASE_URL`` or ``PG*``), else a throwaway server
    started from the machine's PostgreSQL binaries and removed on exit (flushing
    every commit to disk where ``durable``)."""
    configured = settings.conninfo()
    if configured is not None:
        yield DatabaseServer("configured", configured)
        return
    async with EmbeddedPostgres(settings.pg_bindir, durable=durable) as embedded:
        yield DatabaseServer("embedded", embedded.conninfo())
