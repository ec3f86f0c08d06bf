"""The export contract as the tests see it: the transition table, a small world of two
organisations, and ways to act as each role."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from bufdir_export._models import TERMINAL as MODEL_TERMINAL
from bufdir_export._models import ExportRecord, ExportStatus

# The statuses as the models mirror them (test_contract_mirrors.py checks the
# mirror against the database); the transition table below is the one of
# docs/design.md, written out here independently of the migration that
# enforces it.
STATUSES = tuple(status.value for status in ExportStatus)
TERMINAL = frozenset(status.value for status in MODEL_TERMINAL)
IN_PROGRESS = frozenset(STATUSES) - TERMINAL - {"initialised"}
ALLOWED = frozenset(
    {
        ("initialised", "querying_activities"),
        ("initialised", "failed"),
        ("initialised", "cancelled"),
        ("querying_activities", "mapping_columns"),
        ("querying_activities", "completed_empty"),
        ("querying_activities", "failed"),
        ("querying_activities", "cancelled"),
        ("mapping_columns", "generating_file"),
        ("mapping_columns", "failed"),
        ("mapping_columns", "cancelled"),
        ("generating_file", "bundling_attachments"),
        ("generating_file", "storing_file"),
        ("generating_file", "failed"),
        ("generating_file", "cancelled"),
        ("bundling_attachments", "storing_file"),
        ("bundling_attachments", "failed"),
        ("bundling_attachments", "cancelled"),
        ("storing_file", "completed"),
        ("storing_file", "failed"),
        ("storing_file", "cancelled"),
    }
    # re-queue by the reaper, once the lease has expired
    | {(status, "initialised") for status in IN_PROGRESS}
)

# The shortest legal walk from a new export to each status.
PATHS: Mapping[str, tuple[str, ...]] = {
    "initialised": (),
    "querying_activities": ("querying_activities",),
    "mapping_columns": ("querying_activities", "mapping_columns"),
    "generating_file": ("querying_activities", "mapping_columns", "generating_file"),
    "bundling_attachments": (
        "querying_activities",
        "mapping_columns",
        "generating_file",
        "bundling_attachments",
    ),
    "storing_file": ("querying_activities", "mapping_columns", "generating_file", "storing_file"),
    "completed": (
        "querying_activities",
        "mapping_columns",
        "generating_file",
        "storing_file",
        "completed",
    ),
    "completed_empty": ("querying_activities", "completed_empty"),
    "failed": ("failed",),
    "cancelled": ("cancelled",),
}

# What a writer sets together with each status, so that only the transition
# rule can refuse the update (the row's own checks are satisfied).
_PAYLOAD: Mapping[str, str] = {
    "initialised": "runner_id = null, lease_expires_at = null",
    "querying_activities": (
        "runner_id = 'runner-test', attempts = attempts + 1,"
        " lease_expires_at = now() + interval '5 minutes'"
    ),
    "completed": (
        "row_count = 3, file_size_bytes = 100,"
        " file_path = organisation_id || '/' || id || '/r.xlsx', file_sha256 = repeat('ab', 32),"
        " download_url = 'http://localhost/x', download_url_expires_at = now() + interval '1 day'"
    ),
    "completed_empty": "row_count = 0",
    "failed": "error_code = 'internal', error_message = 'test failure'",
}


def update_to(status: str) -> str:
    """An UPDATE of one export (``%(id)s``) to ``status`` with what that status needs."""
    payload = _PAYLOAD.get(status)
    extra = f", {payload}" if payload else ""
    return f"update public.bufdir_export_audit set status = '{status}'{extra} where id = %(id)s"


@dataclass(frozen=True)
class World:
    org_a: uuid.UUID
    org_b: uuid.UUID
    member_a: uuid.UUID  # plain member of A
    member_a2: uuid.UUID  # another plain member of A
    coordinator_a: uuid.UUID
    admin_a: uuid.UUID
    admin_b: uuid.UUID
    member_ab: uuid.UUID  # plain member of both A and B
    outsider: uuid.UUID  # signed in, member of nothing


async def act_as(
    conn: psycopg.AsyncConnection[Any], role: str, user: uuid.UUID | None = None
) -> None:
    """Within the current transaction, become ``role`` (and ``user``, as PostgREST does)."""
    claims = {"role": role} if user is None else {"sub": str(user), "role": role}
    await conn.execute("select set_config('request.jwt.claims', %s, true)", [json.dumps(claims)])
    await conn.execute("select set_config('role', %s, true)", [role])


async def new_export(
    conn: psycopg.AsyncConnection[Any], world: World, status: str = "initialised", **request: Any
) -> uuid.UUID:
    """An export requested by ``member_a`` for A, walked (as postgres) to ``status``."""
    fields = {
        "organisation_id": world.org_a,
        "requested_by": world.member_a,
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        **request,
    }
    columns = ", ".join(fields)
    placeholders = ", ".join(f"%({name})s" for name in fields)
    cursor = await conn.execute(
        f"insert into public.bufdir_export_audit ({columns}) values ({placeholders}) returning id",
        fields,
    )
    row = await cursor.fetchone()
    assert row is not None
    export_id: uuid.UUID = row[0]
    for step in PATHS[status]:
        await conn.execute(update_to(step), {"id": export_id})
    return export_id


async def held_by(conn: psycopg.AsyncConnection[Any], export_id: uuid.UUID) -> tuple[Any, ...]:
    """The export's (status, runner_id, attempts)."""
    row = await (
        await conn.execute(
            "select status::text, runner_id, attempts from public.bufdir_export_audit"
            " where id = %s",
            [export_id],
        )
    ).fetchone()
    assert row is not None
    return tuple(row)


async def expire_lease(conn: psycopg.AsyncConnection[Any], export_id: uuid.UUID) -> None:
    await conn.execute(
        "update public.bufdir_export_audit set lease_expires_at = now() - interval '1 second'"
        " where id = %(id)s",
        {"id": export_id},
    )


async def request_as(
    conn: psycopg.AsyncConnection[Any], user: uuid.UUID | None, org: uuid.UUID, **extra: Any
) -> uuid.UUID:
    """As ``user`` (anon when None), request an export for ``org`` (the year 2025
    unless ``extra`` says otherwise); its id.

    Runs in a transaction of its own, or a savepoint of the caller's."""
    fields = {"organisation_id": org, "period_start": "2025-01-01", "period_end": "2025-12-31"}
    fields |= extra
    statement = (
        f"insert into public.bufdir_export_audit ({', '.join(fields)})"
        f" values ({', '.join(f'%({name})s' for name in fields)}) returning id"
    )
    async with conn.transaction():
        await act_as(conn, "authenticated" if user else "anon", user)
        row = await (await conn.execute(statement, fields)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


async def stored_export(
    conn: psycopg.AsyncConnection[Any], user: uuid.UUID, org: uuid.UUID, **extra: Any
) -> ExportRecord:
    """The record of an export ``user`` requested for ``org`` (see :func:`request_as`)."""
    export_id = await request_as(conn, user, org, **extra)
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute("select * from public.bufdir_export_audit where id = %s", [export_id])
        row = await cursor.fetchone()
    return ExportRecord.model_validate(row)


@contextlib.contextmanager
def raises_sqlstate(
    sqlstate: str, *, constraint: str | None = None
) -> Iterator[list[psycopg.Error]]:
    """Expect a database error with this SQLSTATE (and constraint name, if given)."""
    caught: list[psycopg.Error] = []
    try:
        yield caught
    except psycopg.Error as error:
        caught.append(error)
        assert error.sqlstate == sqlstate, f"expected {sqlstate}, got {error.sqlstate}: {error}"
        if constraint is not None:
            assert error.diag.constraint_name == constraint, error.diag.constraint_name
    else:
        raise AssertionError(f"expected SQLSTATE {sqlstate}, but the statement succeeded")
