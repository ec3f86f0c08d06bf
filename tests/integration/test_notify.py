"""pg_notify('bufdir_export', <id>) on insert and on re-queue, seen through a real LISTEN."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.integration.contract import World, expire_lease, new_export, request_as, update_to


@pytest.fixture
async def listener(database: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
        await conn.execute("listen bufdir_export")
        yield conn


async def _payloads(listener: psycopg.AsyncConnection[Any], wait: float = 1.0) -> list[str]:
    """Every notification that arrives within ``wait`` seconds."""
    return [
        n.payload async for n in listener.notifies(timeout=wait) if n.channel == "bufdir_export"
    ]


async def test_an_insert_by_a_member_notifies_its_id_on_commit(
    conn: psycopg.AsyncConnection[Any], listener: psycopg.AsyncConnection[Any], world: World
) -> None:
    async with conn.transaction():
        export_id = await request_as(conn, world.member_a, world.org_a)
        # Not before the commit: a runner must never wake up for a row it cannot see yet.
        assert await _payloads(listener, wait=0.2) == []

    assert await _payloads(listener) == [str(export_id)]


async def test_a_requeue_notifies_and_other_transitions_do_not(
    conn: psycopg.AsyncConnection[Any], listener: psycopg.AsyncConnection[Any], world: World
) -> None:
    export_id = await new_export(conn, world, "generating_file")
    assert await _payloads(listener) == [str(export_id)]  # the insert

    await expire_lease(conn, export_id)
    await conn.execute(update_to("initialised"), {"id": export_id})
    await conn.execute(update_to("querying_activities"), {"id": export_id})
    await conn.execute(update_to("failed"), {"id": export_id})

    assert await _payloads(listener) == [str(export_id)]


async def test_a_rolled_back_insert_notifies_nobody(
    conn: psycopg.AsyncConnection[Any], listener: psycopg.AsyncConnection[Any], world: World
) -> None:
    async with conn.transaction(force_rollback=True):
        await new_export(conn, world)
    assert await _payloads(listener, wait=0.5) == []


async def test_an_export_s_own_channel_hears_each_status_and_progress_only(
    conn: psycopg.AsyncConnection[Any], database: str, world: World
) -> None:
    export_id = await new_export(conn, world)
    channel = f"bufdir_export:{export_id}"
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as watcher:
        await watcher.execute(sql.SQL("listen {}").format(sql.Identifier(channel)))
        other = await new_export(conn, world)  # another export's changes: not ours to hear
        await conn.execute(update_to("querying_activities"), {"id": other})

        await conn.execute(update_to("querying_activities"), {"id": export_id})
        await conn.execute(update_to("mapping_columns"), {"id": export_id})
        await conn.execute(update_to("generating_file"), {"id": export_id})
        progress = "update public.bufdir_export_audit set {} where id = %(id)s"
        await conn.execute(progress.format("rows_done = 10, rows_total = 100"), {"id": export_id})
        await conn.execute(progress.format("rows_done = 10, rows_total = 100"), {"id": export_id})
        await conn.execute(
            progress.format("lease_expires_at = now() + interval '1 minute'"), {"id": export_id}
        )
        await conn.execute(progress.format("rows_done = 100"), {"id": export_id})

        heard = [(n.channel, n.payload) async for n in watcher.notifies(timeout=1.0)]

    # Each status once, each change of progress once; a heartbeat with no news is silent.
    assert heard == [
        (channel, "querying_activities"),
        (channel, "mapping_columns"),
        (channel, "generating_file"),
        (channel, "generating_file"),
        (channel, "generating_file"),
    ]
