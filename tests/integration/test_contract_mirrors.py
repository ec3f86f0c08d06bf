"""The database is the authority on the export contract; the Python models and the
Edge Function mirror parts of it. Each mirror is compared here with the migrated
database, so that a change on one side fails until the other follows."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from pydantic import ValidationError

from bufdir_export._models import (
    MAX_PERIOD_DAYS,
    PERIOD_FIRST_DAY,
    PERIOD_LAST_DAY,
    TERMINAL,
    ErrorCode,
    ExportFormat,
    ExportRecord,
    ExportRequest,
    ExportScope,
    ExportStatus,
)

EDGE_CONTRACT = json.loads(
    (
        Path(__file__).parents[2] / "supabase" / "functions" / "bufdir-export" / "contract.json"
    ).read_text(encoding="utf-8")
)
ORG = "a0000000-0000-4000-8000-00000000f001"
USER = "b0000000-0000-4000-8000-00000000f001"


async def _values(conn: psycopg.AsyncConnection[Any], query: str) -> list[Any]:
    return [row[0] for row in await (await conn.execute(query)).fetchall()]


async def _statuses_where(conn: psycopg.AsyncConnection[Any], function: str) -> set[str]:
    rows = await _values(
        conn,
        f"select s::text from unnest(enum_range(null::public.bufdir_export_status)) s"
        f" where bufdir_private.{function}(s)",
    )
    return set(rows)


async def test_the_statuses_are_the_enum_in_its_order(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    labels = await _values(
        conn, "select unnest(enum_range(null::public.bufdir_export_status))::text"
    )
    assert labels == [status.value for status in ExportStatus]


async def test_terminal_and_in_progress_are_the_databases(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    terminal = await _statuses_where(conn, "is_terminal")
    in_progress = await _statuses_where(conn, "is_in_progress")
    assert terminal == {status.value for status in TERMINAL}
    assert in_progress == {s.value for s in ExportStatus} - terminal - {"initialised"}


async def test_formats_and_error_codes_are_the_databases(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    formats = await _values(
        conn, "select unnest(enum_range(null::public.bufdir_export_format))::text"
    )
    check = await _values(
        conn,
        "select pg_get_constraintdef(oid) from pg_constraint"
        " where conname = 'bufdir_export_audit_error_code_check'",
    )
    assert formats == [f.value for f in ExportFormat] == EDGE_CONTRACT["formats"]
    assert len(check) == 1
    assert re.findall(r"'([a-z_]+)'::text", check[0]) == [code.value for code in ErrorCode]


async def test_the_scopes_are_the_databases(conn: psycopg.AsyncConnection[Any]) -> None:
    """What each role may read of its organisation: the model's scopes are the
    values activity_scope() gives, none for a non-member, the whole
    organisation from coordinator up."""
    rows = await (
        await conn.execute(
            "select r::text, bufdir_private.activity_scope(r)"
            " from unnest(enum_range(null::public.organisation_role)) r"
            " union all select 'none', bufdir_private.activity_scope(null)"
        )
    ).fetchall()
    by_role = dict(rows)
    assert by_role == {
        "member": ExportScope.OWN.value,
        "coordinator": ExportScope.ORGANISATION.value,
        "admin": ExportScope.ORGANISATION.value,
        "none": None,
    }
    assert {scope for scope in by_role.values() if scope} == {s.value for s in ExportScope}


async def test_the_runner_owns_the_columns_its_grant_names(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    owned = (await _values(conn, "select bufdir_private.runner_owned_columns()"))[0]
    granted = await _values(
        conn,
        "select column_name::text from information_schema.column_privileges"
        " where table_schema = 'public' and table_name = 'bufdir_export_audit'"
        " and grantee = 'bufdir_export_runner' and privilege_type = 'UPDATE'",
    )
    assert sorted(granted) == sorted(owned)
    assert EDGE_CONTRACT["runner_fields"] == owned


async def test_every_column_is_the_requests_the_databases_or_the_runners(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    columns = await _values(
        conn,
        "select column_name::text from information_schema.columns"
        " where table_schema = 'public' and table_name = 'bufdir_export_audit'",
    )
    request = EDGE_CONTRACT["request_fields"]
    parts = [request, EDGE_CONTRACT["database_fields"], EDGE_CONTRACT["runner_fields"]]
    assert sorted(name for part in parts for name in part) == sorted(columns)
    assert list(ExportRequest.model_fields) == request
    assert set(ExportRecord.model_fields) == set(columns)


def _period_cases() -> list[tuple[date, date]]:
    """Periods on each side of every bound the period rules draw."""
    period = EDGE_CONTRACT["period"]
    first, last = date.fromisoformat(period["first_day"]), date.fromisoformat(period["last_day"])
    longest = timedelta(days=period["max_days"] - 1)
    day = timedelta(days=1)
    return [
        (date(2025, 1, 1), date(2025, 12, 31)),
        (date(2025, 6, 1), date(2025, 6, 1)),
        (date(2025, 6, 2), date(2025, 6, 1)),  # ends before it starts
        (date(2024, 1, 1), date(2024, 12, 31)),  # a leap year: 366 days
        (date(2025, 1, 1), date(2025, 1, 1) + longest),
        (date(2025, 1, 1), date(2025, 1, 1) + longest + day),
        (first, first + day),
        (first - day, first + day),
        (last - day, last),
        (last - day, last + day),
    ]


async def _database_accepts(conn: psycopg.AsyncConnection[Any], start: date, end: date) -> bool:
    try:
        async with conn.transaction(force_rollback=True):
            await conn.execute(
                "insert into public.bufdir_export_audit"
                " (organisation_id, requested_by, period_start, period_end)"
                " values (%s, %s, %s, %s)",
                [ORG, USER, start, end],
            )
    except psycopg.errors.CheckViolation as refused:
        assert refused.diag.constraint_name is not None
        assert refused.diag.constraint_name.startswith("bufdir_export_audit_period_")
        return False
    return True


def _python_accepts(start: date, end: date) -> bool:
    try:
        ExportRequest(organisation_id=UUID(ORG), period_start=start, period_end=end)
    except ValidationError:
        return False
    return True


async def test_the_period_rules_are_the_databases(conn: psycopg.AsyncConnection[Any]) -> None:
    await conn.execute(
        "insert into auth.users (id, email) values (%s, 'mirror@test.example')", [USER]
    )
    await conn.execute(
        "insert into public.organisations (id, slug, name) values (%s, 'mirror', 'Mirror')", [ORG]
    )
    await conn.execute(
        "insert into public.organisation_members (organisation_id, user_id) values (%s, %s)",
        [ORG, USER],
    )
    verdicts = [
        (start, end, await _database_accepts(conn, start, end), _python_accepts(start, end))
        for start, end in _period_cases()
    ]
    assert [v for v in verdicts if v[2] != v[3]] == []
    assert sorted({v[2] for v in verdicts}) == [False, True]
    # The Edge Function reads its bounds from the contract file; the models hold theirs.
    assert EDGE_CONTRACT["period"] == {
        "first_day": PERIOD_FIRST_DAY.isoformat(),
        "last_day": PERIOD_LAST_DAY.isoformat(),
        "max_days": MAX_PERIOD_DAYS,
    }


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("status", "a new export starts as initialised"),
        ("counted_days", "counted_days is set by the runner"),
        ("completed_at", "completed_at is set by the database"),
    ],
)
async def test_a_client_naming_what_it_does_not_own_is_told_so(
    conn: psycopg.AsyncConnection[Any], field: str, message: str
) -> None:
    value = {"status": "'failed'", "counted_days": "3", "completed_at": "now()"}[field]
    with pytest.raises(psycopg.Error) as raised:
        await conn.execute(
            "insert into public.bufdir_export_audit (organisation_id, requested_by, period_start,"
            f" period_end, {field}) values (%s, %s, '2025-01-01', '2025-12-31', {value})",
            [ORG, USER],
        )
    assert raised.value.sqlstate == "XB004"
    assert message in (raised.value.diag.message_primary or "")
    assert raised.value.diag.column_name == field
