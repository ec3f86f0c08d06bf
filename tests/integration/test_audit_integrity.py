"""Audit records are never deleted, truncated or rewritten, whoever asks."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.integration.contract import (
    TERMINAL,
    World,
    act_as,
    new_export,
    raises_sqlstate,
    request_as,
)

TABLES = ("public.bufdir_export_audit", "public.bufdir_export_audit_events")
# No role but the owner holds DELETE or TRUNCATE (42501); the owner meets the
# trigger (XB006). Either way, nothing is removed.
EXPECTED = {
    "postgres": "XB006",
    "service_role": "42501",
    "bufdir_export_runner": "42501",
    "authenticated": "42501",
    "anon": "42501",
}
REQUEST_FIELDS = {
    "organisation_id": "gen_random_uuid()",
    "requested_by": "gen_random_uuid()",
    "period_start": "date '2025-02-01'",
    "period_end": "date '2025-11-30'",
    "format": "'csv'",
    "include_attachments": "true",
}


async def _become(conn: psycopg.AsyncConnection[Any], role: str, world: World) -> None:
    if role in ("authenticated", "anon"):
        await act_as(conn, role, world.member_a if role == "authenticated" else None)
    elif role != "postgres":
        await conn.execute(f"set local role {role}")


async def _count(conn: psycopg.AsyncConnection[Any], table: str) -> int:
    row = await (await conn.execute(f"select count(*) from {table}")).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("role", EXPECTED)
@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("statement", ["delete from {table}", "truncate {table} cascade"])
async def test_delete_and_truncate_fail_for_every_role(
    conn: psycopg.AsyncConnection[Any], world: World, role: str, table: str, statement: str
) -> None:
    await new_export(conn, world, "completed")
    await new_export(conn, world, "querying_activities")
    before = await _count(conn, table)

    async with conn.transaction(force_rollback=True):
        await _become(conn, role, world)
        with raises_sqlstate(EXPECTED[role]):
            await conn.execute(statement.format(table=table))

    assert await _count(conn, table) == before


@pytest.mark.parametrize("role", EXPECTED)
@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("statement", ["delete from {table}", "truncate {table} cascade"])
async def test_the_trigger_holds_even_where_a_project_grants_everything(
    conn: psycopg.AsyncConnection[Any], world: World, role: str, table: str, statement: str
) -> None:
    """As after a project-wide `grant all on all tables in schema public to ...`."""
    await new_export(conn, world, "failed")
    before = await _count(conn, table)

    async with conn.transaction(force_rollback=True):
        await conn.execute(
            "grant all on all tables in schema public"
            " to service_role, bufdir_export_runner, authenticated, anon"
        )
        for policy in ("bufdir_export_audit", "bufdir_export_audit_events"):
            await conn.execute(
                f"create policy test_delete_all on public.{policy} for delete using (true)"
            )
        await _become(conn, role, world)
        with raises_sqlstate("XB006"):
            await conn.execute(statement.format(table=table))

    assert await _count(conn, table) == before


@pytest.mark.parametrize("table", TABLES)
async def test_delete_fails_even_with_replica_session_role(
    conn: psycopg.AsyncConnection[Any], world: World, table: str
) -> None:
    """session_replication_role = replica switches ordinary triggers off, not these."""
    await new_export(conn, world)
    async with conn.transaction(force_rollback=True):
        await conn.execute("set local session_replication_role = replica")
        with raises_sqlstate("XB006"):
            await conn.execute(f"delete from {table}")


@pytest.mark.parametrize("role", EXPECTED)
async def test_events_are_never_updated(
    conn: psycopg.AsyncConnection[Any], world: World, role: str
) -> None:
    await new_export(conn, world, "mapping_columns")
    async with conn.transaction(force_rollback=True):
        await _become(conn, role, world)
        with raises_sqlstate(EXPECTED[role]):
            await conn.execute(
                "update public.bufdir_export_audit_events set actor = 'someone else'"
            )


@pytest.mark.parametrize("role", ["postgres", "service_role"])
@pytest.mark.parametrize("field", REQUEST_FIELDS)
async def test_request_fields_never_change(
    conn: psycopg.AsyncConnection[Any], world: World, role: str, field: str
) -> None:
    export_id = await new_export(conn, world, "generating_file")
    async with conn.transaction(force_rollback=True):
        await _become(conn, role, world)
        with raises_sqlstate("XB002"):
            await conn.execute(
                f"update public.bufdir_export_audit set {field} = {REQUEST_FIELDS[field]}"
                " where id = %s",
                [export_id],
            )


@pytest.mark.parametrize("field", REQUEST_FIELDS)
async def test_the_runner_has_no_privilege_on_request_fields(
    conn: psycopg.AsyncConnection[Any], world: World, field: str
) -> None:
    export_id = await new_export(conn, world, "generating_file")
    async with conn.transaction(force_rollback=True):
        await conn.execute("set local role bufdir_export_runner")
        with raises_sqlstate("42501"):
            await conn.execute(
                f"update public.bufdir_export_audit set {field} = {REQUEST_FIELDS[field]}"
                " where id = %s",
                [export_id],
            )


@pytest.mark.parametrize("status", sorted(TERMINAL))
@pytest.mark.parametrize(
    "assignment",
    [
        "error_message = 'rewritten'",
        "download_url = 'http://elsewhere/'",
        "runner_id = 'other'",
        "status = status",
    ],
)
async def test_terminal_rows_never_change(
    conn: psycopg.AsyncConnection[Any], world: World, status: str, assignment: str
) -> None:
    export_id = await new_export(conn, world, status)
    before = await (
        await conn.execute(
            "select to_jsonb(e) from public.bufdir_export_audit e where id = %s", [export_id]
        )
    ).fetchone()

    with raises_sqlstate("XB003"):
        await conn.execute(
            f"update public.bufdir_export_audit set {assignment} where id = %s", [export_id]
        )

    after = await (
        await conn.execute(
            "select to_jsonb(e) from public.bufdir_export_audit e where id = %s", [export_id]
        )
    ).fetchone()
    assert after == before


async def test_every_transition_leaves_exactly_one_event_with_its_actor(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    export_id = await request_as(conn, world.member_a, world.org_a)
    async with conn.transaction():
        await conn.execute("select set_config('bufdir_export.runner_id', 'runner-7', true)")
        await conn.execute("set local role bufdir_export_runner")
        for status, extra in [
            (
                "querying_activities",
                ", runner_id = 'runner-7', attempts = 1,"
                " lease_expires_at = now() + interval '1 minute'",
            ),
            ("querying_activities", ", rows_total = 10, rows_done = 5"),  # no status change
            ("mapping_columns", ""),
        ]:
            await conn.execute(
                f"update public.bufdir_export_audit set status = '{status}'{extra} where id = %s",
                [export_id],
            )
    async with conn.transaction():
        await act_as(conn, "service_role")
        await conn.execute(
            "update public.bufdir_export_audit set status = 'failed', error_code = 'internal'"
            " where id = %s",
            [export_id],
        )

    events = await (
        await conn.execute(
            "select from_status::text, to_status::text, actor, detail->>'db_role'"
            " from public.bufdir_export_audit_events where export_id = %s order by id",
            [export_id],
        )
    ).fetchall()
    assert events == [
        (None, "initialised", f"user:{world.member_a}", "authenticated"),
        ("initialised", "querying_activities", "runner:runner-7", "bufdir_export_runner"),
        ("querying_activities", "mapping_columns", "runner:runner-7", "bufdir_export_runner"),
        ("mapping_columns", "failed", "role:service_role", "service_role"),
    ]
