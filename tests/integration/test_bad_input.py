"""Bad requests get a clear error with its SQLSTATE or constraint name, and write nothing."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from tests.integration.contract import World, act_as, raises_sqlstate

BASE = {"period_start": "2025-01-01", "period_end": "2025-12-31"}

# (what is wrong, the fields sent, SQLSTATE, constraint or column named)
CASES = [
    (
        "period ends before it starts",
        {"period_start": "2025-06-01", "period_end": "2025-05-31"},
        "23514",
        "bufdir_export_audit_period_order_check",
    ),
    (
        "period of 367 days",
        {"period_start": "2024-01-01", "period_end": "2025-01-01"},
        "23514",
        "bufdir_export_audit_period_length_check",
    ),
    (
        "period before 2000",
        {"period_start": "1999-12-01", "period_end": "2000-01-31"},
        "23514",
        "bufdir_export_audit_period_bounds_check",
    ),
    ("not a date", {"period_start": "2025-02-30"}, "22008", None),
    ("unknown format", {"format": "pdf"}, "22P02", None),
    ("status set by the client", {"status": "completed"}, "XB004", "status"),
    (
        "download URL set by the client",
        {"download_url": "https://evil.example/x"},
        "XB004",
        "download_url",
    ),
    ("runner set by the client", {"runner_id": "me"}, "XB004", "runner_id"),
    ("attempts set by the client", {"attempts": 5}, "XB004", "attempts"),
    ("error set by the client", {"error_code": "internal"}, "XB004", "error_code"),
]


async def _count(conn: psycopg.AsyncConnection[Any]) -> int:
    row = await (await conn.execute("select count(*) from public.bufdir_export_audit")).fetchone()
    assert row is not None
    return int(row[0])


async def _insert(conn: psycopg.AsyncConnection[Any], fields: dict[str, Any]) -> None:
    columns = ", ".join(fields)
    values = ", ".join(f"%({name})s" for name in fields)
    await conn.execute(
        f"insert into public.bufdir_export_audit ({columns}) values ({values})", fields
    )


@pytest.mark.parametrize("as_role", ["authenticated", "service_role"])
@pytest.mark.parametrize(("case", "fields", "sqlstate", "named"), CASES, ids=[c[0] for c in CASES])
async def test_a_bad_request_is_refused_and_writes_nothing(
    conn: psycopg.AsyncConnection[Any],
    world: World,
    as_role: str,
    case: str,
    fields: dict[str, Any],
    sqlstate: str,
    named: str | None,
) -> None:
    before = await _count(conn)
    request = {"organisation_id": world.org_a, **BASE, **fields}
    if as_role == "service_role":
        request["requested_by"] = world.member_a

    async with conn.transaction(force_rollback=True):
        await act_as(conn, as_role, world.member_a if as_role == "authenticated" else None)
        with raises_sqlstate(sqlstate) as raised:
            await _insert(conn, request)

    diag = raised[0].diag
    if named is not None:
        assert named in (diag.constraint_name, diag.column_name), (
            diag.constraint_name,
            diag.column_name,
        )
    assert await _count(conn) == before


async def test_an_unknown_organisation_is_named_as_such(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    before = await _count(conn)
    unknown = uuid.uuid4()
    async with conn.transaction(force_rollback=True):
        await act_as(conn, "service_role")
        with raises_sqlstate(
            "23503", constraint="bufdir_export_audit_organisation_id_fkey"
        ) as raised:
            await _insert(
                conn, {"organisation_id": unknown, "requested_by": world.member_a, **BASE}
            )
    assert f"organisation {unknown} does not exist" in str(raised[0])
    assert await _count(conn) == before


async def test_a_request_without_a_requester_is_refused(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    async with conn.transaction(force_rollback=True):
        await act_as(conn, "service_role")
        with raises_sqlstate("23502") as raised:
            await _insert(conn, {"organisation_id": world.org_a, **BASE})
    assert raised[0].diag.column_name == "requested_by"


async def test_a_full_leap_year_is_accepted(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    async with conn.transaction():
        await act_as(conn, "authenticated", world.member_a)
        await _insert(
            conn,
            {
                "organisation_id": world.org_a,
                "period_start": "2024-01-01",
                "period_end": "2024-12-31",
            },
        )
