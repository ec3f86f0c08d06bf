"""The runner's connection pool: autocommit, and a check only of connections
that sat idle long enough to have gone stale."""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

__all__ = ["IdleCheck", "runner_pool"]

Configure = Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]


class IdleCheck:
    """The pool's check of a connection as a client takes it.

    A connection given back less than ``window`` seconds ago answered then and
    is handed out as it is; an older one may have been closed meanwhile (a
    server restart, a pooler's idle timeout, a terminated backend) and is
    checked with an empty query first, the pool replacing it if that fails.
    A connection broken inside the window fails its first statement, which
    every caller retries on another connection (``core/retry``). So a runner
    working through exports sends no check at all, one round trip fewer for
    each of its statements.
    """

    def __init__(self, window: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window
        self._clock = clock
        self._returned: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = (
            weakref.WeakKeyDictionary()
        )

    async def check(self, conn: psycopg.AsyncConnection[Any]) -> None:
        returned = self._returned.pop(conn, None)
        if returned is not None and self._clock() - returned < self._window:
            return
        await AsyncConnectionPool.check_connection(conn)

    async def returned(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """The pool's ``reset``: the moment the connection came back."""
        self._returned[conn] = self._clock()


def runner_pool(
    conninfo: str,
    *,
    max_size: int,
    configure: Configure | None = None,
    timeout: float = 30.0,
    name: str = "bufdir-export",
    idle_check: IdleCheck | None = None,
) -> AsyncConnectionPool[Any]:
    """The pool a runner works through (not yet open).

    Autocommit: each of the runner's writes is one statement, one function of
    the runner API, committed when it returns, with no ``BEGIN`` and ``COMMIT``
    of its own on the wire (reading activities opens its transaction).
    """
    check = idle_check or IdleCheck()
    return AsyncConnectionPool(
        conninfo,
        kwargs={"autocommit": True},
        min_size=1,
        max_size=max_size,
        configure=configure,
        check=check.check,
        reset=check.returned,
        # A failed background reconnection gives up at once, with no backoff:
        # the next request for a connection opens a new one, so the first
        # statement after the database is back does not wait for a delay.
        reconnect_timeout=0,
        timeout=timeout,
        open=False,
        name=name,
    )
