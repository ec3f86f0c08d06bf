"""The runner's pool checks only connections idle past the window: a terminated
backend is caught at checkout after it, and found by the first statement
within it (which every caller retries)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from bufdir_export.postgres.pool import IdleCheck, runner_pool


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def _terminate(conn: psycopg.AsyncConnection[Any], pid: int) -> None:
    # With a timeout, it returns once the backend has gone.
    row = await (await conn.execute("select pg_terminate_backend(%s, 10000)", [pid])).fetchone()
    assert row == (True,)


async def test_a_connection_idle_past_the_window_is_checked_and_replaced(
    database: str, conn: psycopg.AsyncConnection[Any]
) -> None:
    clock = Clock()
    async with runner_pool(
        database, max_size=1, name="idle", idle_check=IdleCheck(1.0, clock)
    ) as pool:
        async with pool.connection() as first:
            pid = first.info.backend_pid
        await _terminate(conn, pid)
        clock.now += 1.5

        async with pool.connection() as second:
            row = await (await second.execute("select 1")).fetchone()

        assert row == (1,)
        assert second.info.backend_pid != pid


async def test_a_connection_back_within_the_window_is_handed_out_unchecked(
    database: str, conn: psycopg.AsyncConnection[Any]
) -> None:
    clock = Clock()
    async with runner_pool(
        database, max_size=1, name="recent", idle_check=IdleCheck(1.0, clock)
    ) as pool:
        async with pool.connection() as first:
            pid = first.info.backend_pid
        await _terminate(conn, pid)
        clock.now += 0.5

        async with pool.connection() as second:
            assert second.info.backend_pid == pid  # handed out with no round trip
            with pytest.raises(psycopg.OperationalError):
                await second.execute("select 1")
        # The broken one is dropped on its way back; the next is new.
        async with pool.connection() as third:
            assert await (await third.execute("select 1")).fetchone() == (1,)
