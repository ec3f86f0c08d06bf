"""The runner's SQL functions: claim with SKIP LOCKED, and writes guarded by runner and status."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from tests.integration.contract import World, act_as, expire_lease, new_export, raises_sqlstate
from tests.support import COMPLETED_WALK

LEASE = 60


async def _as_runner(conn: psycopg.AsyncConnection[Any]) -> None:
    await conn.execute("set local role bufdir_export_runner")


async def _claim(conn: psycopg.AsyncConnection[Any], runner: str) -> tuple[Any, ...] | None:
    async with conn.transaction():
        await _as_runner(conn)
        cursor = await conn.execute(
            "select id, status::text, runner_id, attempts, lease_expires_at > now()"
            " from bufdir_private.claim_bufdir_export(%s, %s)",
            [runner, LEASE],
        )
        return await cursor.fetchone()


async def _call(
    conn: psycopg.AsyncConnection[Any],
    function: str,
    export_id: uuid.UUID,
    runner: str,
    *rest: Any,
    claim: int = 1,
) -> tuple[Any, ...]:
    """``function(export_id, runner, claim, *rest)`` as the runner role."""
    args = [export_id, runner, claim, *rest]
    placeholders = ", ".join(["%s"] * len(args))
    async with conn.transaction():
        await _as_runner(conn)
        cursor = await conn.execute(
            f"select status::text, runner_id from bufdir_private.{function}({placeholders})",
            args,
        )
        row = await cursor.fetchone()
    assert row is not None
    return row


async def _events(
    conn: psycopg.AsyncConnection[Any], export_id: uuid.UUID
) -> list[tuple[Any, ...]]:
    cursor = await conn.execute(
        "select to_status::text, actor from public.bufdir_export_audit_events"
        " where export_id = %s order by id",
        [export_id],
    )
    return list(await cursor.fetchall())


async def test_claim_takes_the_oldest_waiting_export_once(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    first = await new_export(conn, world)
    second = await new_export(conn, world)

    one = await _claim(conn, "runner-1")
    two = await _claim(conn, "runner-2")
    none = await _claim(conn, "runner-3")

    assert one == (first, "querying_activities", "runner-1", 1, True)
    assert two == (second, "querying_activities", "runner-2", 1, True)
    assert none is None
    assert (await _events(conn, first))[-1] == ("querying_activities", "runner:runner-1")


async def test_concurrent_claims_skip_each_others_rows(
    database: str, conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    exports = {await new_export(conn, world) for _ in range(2)}
    async with (
        await psycopg.AsyncConnection.connect(database) as a,
        await psycopg.AsyncConnection.connect(database) as b,
    ):
        # Both transactions stay open: the first's row lock is held while the second claims.
        await _as_runner(a)
        await _as_runner(b)
        row_a = await (
            await a.execute("select id from bufdir_private.claim_bufdir_export('a', 60)")
        ).fetchone()
        row_b = await (
            await b.execute("select id from bufdir_private.claim_bufdir_export('b', 60)")
        ).fetchone()
        await a.commit()
        await b.commit()
    assert row_a is not None
    assert row_b is not None
    assert {row_a[0], row_b[0]} == exports


async def test_a_held_export_moves_on_and_completes(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    export_id = await new_export(conn, world)
    await _claim(conn, "r")
    for from_status, to_status in [
        ("querying_activities", "mapping_columns"),
        ("mapping_columns", "generating_file"),
        ("generating_file", "storing_file"),
    ]:
        assert await _call(
            conn, "advance_bufdir_export", export_id, "r", from_status, to_status, LEASE
        ) == (to_status, "r")
    await _call(conn, "heartbeat_bufdir_export", export_id, "r", LEASE, 5, 10)
    progress = await (
        await conn.execute(
            "select rows_done, rows_total from public.bufdir_export_audit where id = %s",
            [export_id],
        )
    ).fetchone()
    assert progress == (5, 10)

    done = await _call(
        conn,
        "complete_bufdir_export",
        export_id,
        "r",
        10,
        2048,
        f"{world.org_a}/{export_id}/report.xlsx",
        "http://localhost/d",
        "2030-01-01T00:00:00Z",
        7,
        "ab" * 32,
    )

    assert done == ("completed", "r")
    assert [status for status, _ in await _events(conn, export_id)] == COMPLETED_WALK


async def test_empty_and_failed_endings(conn: psycopg.AsyncConnection[Any], world: World) -> None:
    empty = await new_export(conn, world)
    await _claim(conn, "r")
    assert await _call(conn, "complete_empty_bufdir_export", empty, "r") == ("completed_empty", "r")

    broken = await new_export(conn, world)
    await _claim(conn, "r")
    await _call(
        conn, "advance_bufdir_export", broken, "r", "querying_activities", "mapping_columns", LEASE
    )
    assert await _call(
        conn, "fail_bufdir_export", broken, "r", "invalid_config", "column 'Dato': no such field"
    ) == ("failed", "r")
    row = await (
        await conn.execute(
            "select error_code, error_message from public.bufdir_export_audit where id = %s",
            [broken],
        )
    ).fetchone()
    assert row == ("invalid_config", "column 'Dato': no such field")


async def test_another_runner_or_a_cancelled_export_is_never_overwritten(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    export_id = await new_export(conn, world)
    await _claim(conn, "owner")

    with raises_sqlstate("XB008") as stolen:
        await _call(
            conn,
            "advance_bufdir_export",
            export_id,
            "thief",
            "querying_activities",
            "mapping_columns",
            LEASE,
        )
    assert "runner thief (claim 1) no longer holds export" in str(stolen[0])

    async with conn.transaction():
        await act_as(conn, "authenticated", world.member_a)
        await conn.execute("select public.cancel_bufdir_export(%s)", [export_id])
    for function, args in [
        ("advance_bufdir_export", ("querying_activities", "mapping_columns", LEASE)),
        ("heartbeat_bufdir_export", (LEASE, 1, 2)),
        ("fail_bufdir_export", ("internal", "late")),
        ("complete_empty_bufdir_export", ()),
    ]:
        with raises_sqlstate("XB008") as late:
            await _call(conn, function, export_id, "owner", *args)
        assert "it is cancelled" in str(late[0])


async def test_a_runner_whose_export_was_reaped_cannot_write_it(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    export_id = await new_export(conn, world)
    await _claim(conn, "slow")
    await expire_lease(conn, export_id)
    reaped = await (
        await conn.execute("select * from bufdir_private.reap_bufdir_exports(3)")
    ).fetchall()
    assert reaped == [(export_id, "querying_activities", "initialised")]

    with raises_sqlstate("XB008"):
        await _call(conn, "heartbeat_bufdir_export", export_id, "slow", LEASE, None, None)
    again = await _claim(conn, "fast")
    assert again is not None
    assert again[:4] == (export_id, "querying_activities", "fast", 2)


async def test_a_stale_worker_of_the_same_runner_is_fenced_off(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    """Every worker of one runner process shares its runner id: the claim's own
    number, not the runner id, tells the stale worker from the current one."""
    export_id = await new_export(conn, world)
    first = await _claim(conn, "host-1")
    await expire_lease(conn, export_id)
    await conn.execute("select * from bufdir_private.reap_bufdir_exports(3)")
    second = await _claim(conn, "host-1")
    assert first is not None
    assert second is not None
    assert (first[3], second[3]) == (1, 2)

    for function, args in [
        ("advance_bufdir_export", ("querying_activities", "mapping_columns", LEASE)),
        ("heartbeat_bufdir_export", (LEASE, 1, 2)),
        ("fail_bufdir_export", ("internal", "stale")),
        ("complete_empty_bufdir_export", ()),
        ("release_bufdir_export", ()),
        ("defer_bufdir_export", (30.0,)),
    ]:
        with raises_sqlstate("XB008") as stale:
            await _call(conn, function, export_id, "host-1", *args, claim=1)
        assert "under claim 2" in str(stale[0])
    assert await _call(
        conn, "advance_bufdir_export", export_id, "host-1",
        "querying_activities", "mapping_columns", LEASE, claim=2,
    ) == ("mapping_columns", "host-1")  # fmt: skip
    events = await (
        await conn.execute(
            "select to_status::text, actor, detail ->> 'attempts'"
            " from public.bufdir_export_audit_events where export_id = %s order by id",
            [export_id],
        )
    ).fetchall()
    assert events[-1] == ("mapping_columns", "runner:host-1", "2")


async def test_the_reaper_fails_an_export_out_of_attempts(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    export_id = await new_export(conn, world)
    for attempt in range(3):
        await _claim(conn, f"r{attempt}")
        await expire_lease(conn, export_id)
        await conn.execute("select * from bufdir_private.reap_bufdir_exports(3)")
    row = await (
        await conn.execute(
            "select status::text, error_code, attempts from public.bufdir_export_audit"
            " where id = %s",
            [export_id],
        )
    ).fetchone()
    assert row == ("failed", "runner_lost", 3)


async def test_release_gives_the_export_back_and_wakes_runners(
    database: str, conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    export_id = await new_export(conn, world)
    await _claim(conn, "leaving")
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as listener:
        await listener.execute("listen bufdir_export")
        released = await _call(conn, "release_bufdir_export", export_id, "leaving")
        payloads = [n.payload async for n in listener.notifies(timeout=1.0)]
    assert released == ("initialised", None)
    assert payloads == [str(export_id)]


async def test_a_deferred_export_waits_for_its_retry_time_and_the_claim_clears_it(
    database: str, conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    later = await new_export(conn, world)
    await _claim(conn, "outage")
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as listener:
        await listener.execute("listen bufdir_export")
        deferred = await _call(conn, "defer_bufdir_export", later, "outage", 3600.0)
        payloads = [n.payload async for n in listener.notifies(timeout=1.0)]
    assert deferred == ("initialised", None)
    assert payloads == [str(later)]
    waiting = await (
        await conn.execute(
            "select retry_at - now() between interval '59 minutes' and interval '61 minutes'"
            " from public.bufdir_export_audit where id = %s",
            [later],
        )
    ).fetchone()
    assert waiting == (True,)
    assert await _claim(conn, "other") is None  # the only waiting export is not due

    newer = await new_export(conn, world)
    claimed = await _claim(conn, "other")
    assert claimed is not None
    assert claimed[0] == newer  # a later request goes first

    third = await new_export(conn, world)
    await _call(conn, "defer_bufdir_export", newer, "other", 0.0)
    first = await _claim(conn, "third")
    assert first is not None
    assert first[0] == newer  # due at once, and older than the third request
    row = await (
        await conn.execute(
            "select retry_at, attempts from public.bufdir_export_audit where id = %s", [newer]
        )
    ).fetchone()
    assert row == (None, 2)
    after = await _claim(conn, "third")
    assert after is not None
    assert after[0] == third


async def test_a_delay_must_be_given_and_not_negative(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    export_id = await new_export(conn, world)
    await _claim(conn, "r")
    for delay in (-1.0, None):
        with raises_sqlstate("22023"):
            await _call(conn, "defer_bufdir_export", export_id, "r", delay)


async def test_only_the_runner_and_service_role_may_call_them(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    for role in ("authenticated", "anon"):
        async with conn.transaction(force_rollback=True):
            await act_as(conn, role, world.member_a if role == "authenticated" else None)
            with raises_sqlstate("42501"):
                await conn.execute("select bufdir_private.claim_bufdir_export('me', 60)")
