"""Every (from, to) pair of statuses, as every role: allowed exactly per docs/design.md."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.integration.contract import (
    ALLOWED,
    IN_PROGRESS,
    STATUSES,
    TERMINAL,
    World,
    act_as,
    expire_lease,
    new_export,
    raises_sqlstate,
    update_to,
)

WRITERS = ("postgres", "service_role", "bufdir_export_runner")


async def _become(conn: psycopg.AsyncConnection[Any], role: str) -> str:
    """Act as a writer; returns the actor the event log should name."""
    if role == "postgres":
        return "role:postgres"
    if role == "bufdir_export_runner":
        await conn.execute("select set_config('bufdir_export.runner_id', 'runner-test', true)")
        await conn.execute("set local role bufdir_export_runner")
        return "runner:runner-test"
    await act_as(conn, role)
    return f"role:{role}"


async def _events(conn: psycopg.AsyncConnection[Any], export_id: Any) -> list[tuple[Any, ...]]:
    cursor = await conn.execute(
        "select from_status::text, to_status::text, actor from public.bufdir_export_audit_events"
        " where export_id = %s order by id",
        [export_id],
    )
    return list(await cursor.fetchall())


@pytest.mark.parametrize("role", WRITERS)
@pytest.mark.parametrize("from_status", STATUSES)
async def test_direct_updates_follow_the_transition_table(
    conn: psycopg.AsyncConnection[Any], world: World, role: str, from_status: str
) -> None:
    outcomes: dict[str, str] = {}
    for to_status in STATUSES:
        async with conn.transaction(force_rollback=True):
            export_id = await new_export(conn, world, from_status)
            if from_status in IN_PROGRESS and to_status == "initialised":
                await expire_lease(conn, export_id)
            before = await _events(conn, export_id)
            actor = await _become(conn, role)
            try:
                async with conn.transaction():
                    await conn.execute(update_to(to_status), {"id": export_id})
            except psycopg.Error as error:
                outcomes[to_status] = f"{error.sqlstate}: {error.diag.message_primary}"
                continue
            await conn.execute("reset role")
            new_events = (await _events(conn, export_id))[len(before) :]
            expected = [] if from_status == to_status else [(from_status, to_status, actor)]
            outcomes[to_status] = "ok" if new_events == expected else f"events {new_events}"

    for to_status, outcome in outcomes.items():
        if from_status in TERMINAL:
            assert outcome.startswith("XB003:"), (to_status, outcome)
            assert f"is {from_status}, a terminal status" in outcome
        elif from_status == to_status or (from_status, to_status) in ALLOWED:
            assert outcome == "ok", (to_status, outcome)
        else:
            assert outcome.startswith("XB001:"), (to_status, outcome)
            assert f"from {from_status} to {to_status} is not allowed" in outcome


@pytest.mark.parametrize("from_status", STATUSES)
async def test_authenticated_never_updates_and_cancels_only_unfinished(
    conn: psycopg.AsyncConnection[Any], world: World, from_status: str
) -> None:
    # A signed-in user (here the requester) cannot update the row at all...
    for to_status in STATUSES:
        async with conn.transaction(force_rollback=True):
            export_id = await new_export(conn, world, from_status)
            await act_as(conn, "authenticated", world.member_a)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                await conn.execute(update_to(to_status), {"id": export_id})
    # ...and moves it only to cancelled, through the function, when unfinished.
    async with conn.transaction(force_rollback=True):
        export_id = await new_export(conn, world, from_status)
        await act_as(conn, "authenticated", world.member_a)
        if from_status in TERMINAL:
            with raises_sqlstate("XB003"):
                await conn.execute("select public.cancel_bufdir_export(%s)", [export_id])
        else:
            await conn.execute("select public.cancel_bufdir_export(%s)", [export_id])
            await conn.execute("reset role")
            events = await _events(conn, export_id)
            assert events[-1] == (from_status, "cancelled", f"user:{world.member_a}")


async def test_requeue_is_refused_while_the_lease_runs(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    export_id = await new_export(conn, world, "generating_file")
    with raises_sqlstate("XB005") as raised:
        await conn.execute(update_to("initialised"), {"id": export_id})
    assert "cannot re-queue from generating_file while the lease" in str(raised[0])

    await expire_lease(conn, export_id)
    await conn.execute(update_to("initialised"), {"id": export_id})
    status = await (
        await conn.execute(
            "select status::text from public.bufdir_export_audit where id = %s", [export_id]
        )
    ).fetchone()
    assert status == ("initialised",)
