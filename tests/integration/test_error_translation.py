"""Database errors become the package's exceptions, by SQLSTATE and constraint name."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from bufdir_export import (
    ConfigVersionKept,
    DatabaseError,
    DatabaseUnavailable,
    ExportFinished,
    ExportNotFound,
    InvalidTransition,
    LeaseNotExpired,
    NotRetryable,
    PermissionDenied,
    RunnerOwnedColumn,
    TooManyExports,
    ValueRejected,
)
from bufdir_export.postgres.error_translation import translate_error
from bufdir_export.postgres.queries import Queries
from tests.integration.contract import World, act_as, new_export, update_to


async def _translated(conn: psycopg.AsyncConnection[Any], statement: str, params: Any) -> Exception:
    try:
        async with conn.transaction():
            await conn.execute(statement, params)
    except psycopg.Error as error:
        return translate_error(error)
    raise AssertionError("the statement succeeded")


async def test_contract_errors_become_their_own_exceptions(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    initialised = await new_export(conn, world)
    running = await new_export(conn, world, "mapping_columns")
    done = await new_export(conn, world, "completed")

    transition = await _translated(conn, update_to("completed"), {"id": initialised})
    requeue = await _translated(conn, update_to("initialised"), {"id": running})
    finished = await _translated(conn, update_to("failed"), {"id": done})
    forged = await _translated(
        conn,
        "insert into public.bufdir_export_audit"
        " (organisation_id, requested_by, period_start, period_end, status)"
        " values (%s, %s, '2025-01-01', '2025-12-31', 'completed')",
        [world.org_a, world.member_a],
    )
    period = await _translated(
        conn,
        "insert into public.bufdir_export_audit"
        " (organisation_id, requested_by, period_start, period_end)"
        " values (%s, %s, '2025-12-31', '2025-01-01')",
        [world.org_a, world.member_a],
    )

    assert isinstance(transition, InvalidTransition)
    assert transition.sqlstate == "XB001"
    assert "from initialised to completed" in str(transition)
    assert isinstance(requeue, LeaseNotExpired)
    assert isinstance(finished, ExportFinished)
    assert isinstance(forged, RunnerOwnedColumn)
    assert isinstance(period, ValueRejected)
    assert period.constraint == "bufdir_export_audit_period_order_check"


async def test_rls_refusal_is_permission_denied(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    try:
        async with conn.transaction():
            await act_as(conn, "authenticated", world.outsider)
            await conn.execute(
                "insert into public.bufdir_export_audit (organisation_id, period_start, period_end)"
                " values (%s, '2025-01-01', '2025-12-31')",
                [world.org_a],
            )
    except psycopg.Error as error:
        refused = translate_error(error)
    else:
        pytest.fail("an outsider requested an export")
    assert isinstance(refused, PermissionDenied)
    assert refused.sqlstate == "42501"


async def test_an_unreachable_server_is_unavailable_and_says_no_password() -> None:
    conninfo = "host=127.0.0.1 port=1 user=someone password=sekrit-password connect_timeout=2"
    with pytest.raises(psycopg.OperationalError) as raised:
        await psycopg.AsyncConnection.connect(conninfo)
    translated = translate_error(raised.value)
    assert isinstance(translated, DatabaseUnavailable)
    assert "sekrit-password" not in str(translated)


async def test_a_missing_export_is_not_a_database_error(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    """XB007 says the export is not among the caller's: ExportNotFound, like a read
    that found no row, so that ``except DatabaseError`` catches refusals only."""
    theirs = await new_export(conn, world)
    try:
        async with conn.transaction():
            await act_as(conn, "authenticated", world.member_a2)
            await conn.execute("select public.cancel_bufdir_export(%s)", [theirs])
    except psycopg.Error as error:
        missing = translate_error(error)
    else:
        pytest.fail("a user cancelled another user's export")
    assert isinstance(missing, ExportNotFound)
    assert not isinstance(missing, DatabaseError)
    assert missing.sqlstate == "XB007"


async def test_changing_a_saved_column_configuration_is_config_version_kept(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    kept = await _translated(
        conn,
        'update public.bufdir_column_configs set config = config || \'{"description": "x"}\''
        " where id = (select id from public.bufdir_column_configs limit 1)",
        None,
    )
    assert isinstance(kept, ConfigVersionKept)
    assert kept.sqlstate == "XB009"


async def test_too_many_unfinished_exports_is_its_own_exception(
    conn: psycopg.AsyncConnection[Any], world: World, queries: Queries
) -> None:
    await conn.execute(queries["set_request_limit"], {"limit": 2})
    for _ in range(2):
        await new_export(conn, world)
    refused = await _translated(
        conn,
        "insert into public.bufdir_export_audit"
        " (organisation_id, requested_by, period_start, period_end)"
        " values (%s, %s, '2025-01-01', '2025-12-31')",
        [world.org_a, world.member_a],
    )
    assert isinstance(refused, TooManyExports)
    assert refused.sqlstate == "XB010"
    assert "already has 2 unfinished exports, and at most 2" in str(refused)


async def test_a_retry_that_cannot_be_is_its_own_exception_race_included(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    waiting = await new_export(conn, world)
    ended = await new_export(conn, world, status="cancelled")
    try:
        async with conn.transaction():
            await act_as(conn, "authenticated", world.member_a)
            await conn.execute("select public.retry_bufdir_export(%s)", [waiting])
    except psycopg.Error as error:
        early = translate_error(error)
    await conn.execute(
        "insert into public.bufdir_export_audit"
        " (organisation_id, requested_by, period_start, period_end, retry_of)"
        " values (%s, %s, '2025-01-01', '2025-12-31', %s)",
        [world.org_a, world.member_a, ended],
    )
    # The trigger's own check would say so first; past it, the unique index does.
    await conn.execute(
        "alter table public.bufdir_export_audit disable trigger bufdir_export_audit_check_retry"
    )
    raced = await _translated(
        conn,
        "insert into public.bufdir_export_audit"
        " (organisation_id, requested_by, period_start, period_end, retry_of)"
        " values (%s, %s, '2025-01-01', '2025-12-31', %s)",
        [world.org_a, world.member_a, ended],
    )

    assert isinstance(early, NotRetryable)
    assert early.sqlstate == "XB011"
    assert "only a failed or cancelled export can be retried" in str(early)
    assert isinstance(raced, NotRetryable)
    assert raced.constraint == "bufdir_export_audit_retry_of_key"
