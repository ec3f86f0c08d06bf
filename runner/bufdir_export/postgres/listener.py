"""Wake-ups from PostgreSQL: LISTEN on a dedicated autocommit connection.

The database notifies ``bufdir_export`` with an export id when an export is
inserted or re-queued. A notification is only a hint to look for work (the
claim decides), so a payload that is not an export id is logged and skipped,
and a notification lost while disconnected is made up for by ringing once
after every (re)connect and by the runner's polling.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any

import psycopg

from .queries import Queries

__all__ = ["PostgresListener"]

log = logging.getLogger(__name__)


class PostgresListener:
    """Calls ``ring()`` for each notification, reconnecting with backoff until cancelled."""

    def __init__(
        self,
        conninfo: str,
        queries: Queries,
        *,
        connect_timeout: float = 10.0,
        max_backoff: float = 5.0,
    ) -> None:
        self._conninfo = conninfo
        self._queries = queries
        self._connect_timeout = connect_timeout
        self._max_backoff = max_backoff
        self.connected = asyncio.Event()
        self.notifications = 0
        self.malformed = 0

    async def listen(self, ring: Callable[[], None]) -> None:
        backoff = 0.1
        while True:
            try:
                await self._session(ring)
            except psycopg.OperationalError as error:
                self.connected.clear()
                log.warning("listener: connection lost (%s); reconnecting", type(error).__name__)
            await asyncio.sleep(backoff)
            backoff = min(self._max_backoff, backoff * 2)

    async def _session(self, ring: Callable[[], None]) -> None:
        conn: psycopg.AsyncConnection[Any] = await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, connect_timeout=max(1, int(self._connect_timeout))
        )
        async with conn:
            await conn.execute(self._queries["listen_exports"])
            self.connected.set()
            ring()  # whatever was notified while we were away
            async for notify in conn.notifies():
                try:
                    uuid.UUID(notify.payload)
                except ValueError:
                    self.malformed += 1
                    log.warning("listener: ignored a notification that is not an export id")
                    continue
                self.notifications += 1
                ring()
