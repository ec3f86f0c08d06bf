"""The LISTEN connection: wakes on notifications, shrugs off bad payloads, comes back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import psycopg

from bufdir_export.postgres.listener import PostgresListener
from bufdir_export.postgres.queries import Queries


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(20):
        while not condition():  # noqa: ASYNC110 - the listener counts, it has no event per count
            await asyncio.sleep(0.02)


async def test_notifications_ring_bad_payloads_do_not_and_a_killed_connection_comes_back(
    database: str, queries: Queries, conn: psycopg.AsyncConnection[Any]
) -> None:
    rings = 0

    def ring() -> None:
        nonlocal rings
        rings += 1

    listener = PostgresListener(database, queries, max_backoff=0.2)
    task = asyncio.create_task(listener.listen(ring))
    try:
        await asyncio.wait_for(listener.connected.wait(), 20)
        assert rings == 1  # once on connecting: whatever came while away

        await conn.execute("select pg_notify('bufdir_export', 'not an export id')")
        await conn.execute("select pg_notify('bufdir_export', %s)", [str(uuid.uuid4())])
        await _until(lambda: listener.notifications == 1)
        assert listener.malformed == 1
        assert rings == 2

        killed = await (
            await conn.execute(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity"
                " where datname = current_database() and pid <> pg_backend_pid()"
                " and query ilike 'listen%%'"
            )
        ).fetchone()
        assert killed == (1,)
        await _until(lambda: rings == 3)  # reconnected, and looked again
        assert listener.connected.is_set()

        await conn.execute("select pg_notify('bufdir_export', %s)", [str(uuid.uuid4())])
        await _until(lambda: listener.notifications == 2)
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
