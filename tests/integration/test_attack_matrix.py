"""Every role against every operation on every table, and every function: the
allow/deny matrix, checked cell by cell and printed in the test report.

Each cell runs in a transaction of its own that is rolled back, as the role
(and, for signed-in users, their JWT claims, as PostgREST sets them). The
target is always organisation A's data (NHF in the demo seed). A cell is:

- ``ok``: the statement ran and touched (or returned) A's row;
- ``hidden``: it ran, but RLS showed it no row of A, so it touched nothing;
- ``denied``: 42501, a missing grant or an RLS check that refused the row;
- ``<SQLSTATE>``: another rule said no (XB006 append-only, XB007 not yours,
  23503 a foreign key, 0A000 truncate of a referenced table...).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from bufdir_export.tools.seed import shipped_config
from tests.support import ADMINS, ORGS

ROLES = ("anon", "stranger", "member", "coordinator", "admin", "admin_b", "runner", "service")
NHF_USER = "00000000-0000-4000-b001-00000000000{}"
STRANGER = uuid.UUID("00000000-0000-4000-b0ff-000000000001")
USERS: dict[str, uuid.UUID | None] = {
    "anon": None,
    "stranger": STRANGER,
    "member": uuid.UUID(NHF_USER.format(3)),
    "coordinator": uuid.UUID(NHF_USER.format(2)),
    "admin": ADMINS["nhf"],
    "admin_b": ADMINS["hlf"],
    "runner": None,
    "service": None,
}
DB_ROLE = {
    "anon": "anon",
    "runner": "bufdir_export_runner",
    "service": "service_role",
}

T = "public"
# (table or function, operation) -> (statement, the expected cell of each role in ROLES)
MATRIX: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    # organisations: members read theirs; only the backend writes.
    ("organisations", "select"): (
        f"select id from {T}.organisations where id = %(a)s",
        ("denied", "hidden", "ok", "ok", "ok", "hidden", "ok", "ok"),
    ),
    ("organisations", "insert"): (
        f"insert into {T}.organisations (slug, name) values ('matrix', 'M') returning id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    ),
    ("organisations", "update"): (
        f"update {T}.organisations set name = name where id = %(a)s returning id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    ),
    ("organisations", "delete"): (
        f"delete from {T}.organisations where id = %(a)s returning id",
        # its exports refuse (on delete restrict) before the cascade reaches its
        # configuration versions, which are kept too (XB006)
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "23503"),
    ),
    ("organisations", "truncate"): (
        f"truncate {T}.organisations",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    # organisation_members: your own row; an admin sees the organisation's.
    ("organisation_members", "select"): (
        f"select user_id from {T}.organisation_members where organisation_id = %(a)s"
        " and user_id = %(admin)s",
        ("denied", "hidden", "hidden", "hidden", "ok", "hidden", "ok", "ok"),
    ),
    ("organisation_members", "insert"): (
        f"insert into {T}.organisation_members (organisation_id, user_id, role)"
        " values (%(a)s, %(stranger)s, 'admin') returning user_id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    ),
    ("organisation_members", "update"): (
        f"update {T}.organisation_members set role = 'admin' where organisation_id = %(a)s"
        " and user_id = %(member)s returning user_id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    ),
    ("organisation_members", "delete"): (
        f"delete from {T}.organisation_members where organisation_id = %(a)s"
        " and user_id = %(admin)s returning user_id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    ),
    ("organisation_members", "truncate"): (
        f"truncate {T}.organisation_members",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    # counties: reference data.
    ("counties", "select"): (
        f"select code from {T}.counties where code = '03'",
        ("denied", "ok", "ok", "ok", "ok", "ok", "ok", "ok"),
    ),
    ("counties", "insert"): (
        f"insert into {T}.counties (code, name) values ('98', 'Test') returning code",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    ),
    ("counties", "update"): (
        f"update {T}.counties set name = 'Oslo!' where code = '03' returning code",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    ),
    ("counties", "delete"): (
        f"delete from {T}.counties where code = '03' returning code",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "23503"),
    ),
    ("counties", "truncate"): (
        f"truncate {T}.counties",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    # local_chapters and activity_types: members read; admins add and rename.
    ("local_chapters", "select"): (
        f"select id from {T}.local_chapters where id = %(chapter)s",
        ("denied", "hidden", "ok", "ok", "ok", "hidden", "ok", "ok"),
    ),
    ("local_chapters", "insert"): (
        f"insert into {T}.local_chapters (organisation_id, name, county_code,"
        " municipality_number) values (%(a)s, 'NHF Matrix', '03', '0301') returning id",
        ("denied", "denied", "denied", "denied", "ok", "denied", "denied", "ok"),
    ),
    ("local_chapters", "update"): (
        f"update {T}.local_chapters set name = name || ' x' where id = %(chapter)s returning id",
        ("denied", "hidden", "hidden", "hidden", "ok", "hidden", "denied", "ok"),
    ),
    ("local_chapters", "delete"): (
        f"delete from {T}.local_chapters where id = %(chapter)s returning id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "23503"),
    ),
    ("local_chapters", "truncate"): (
        f"truncate {T}.local_chapters",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    ("activity_types", "select"): (
        f"select id from {T}.activity_types where id = %(type)s",
        ("denied", "hidden", "ok", "ok", "ok", "hidden", "ok", "ok"),
    ),
    ("activity_types", "insert"): (
        f"insert into {T}.activity_types (organisation_id, code, name)"
        " values (%(a)s, 'matrix', 'Matrix') returning id",
        ("denied", "denied", "denied", "denied", "ok", "denied", "denied", "ok"),
    ),
    ("activity_types", "update"): (
        f"update {T}.activity_types set name = name || ' x' where id = %(type)s returning id",
        ("denied", "hidden", "hidden", "hidden", "ok", "hidden", "denied", "ok"),
    ),
    ("activity_types", "delete"): (
        f"delete from {T}.activity_types where id = %(type)s returning id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "23503"),
    ),
    ("activity_types", "truncate"): (
        f"truncate {T}.activity_types",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    # activities: a member their own; coordinators and admins the organisation's.
    ("activities", "select"): (
        f"select id from {T}.activities where id = %(activity)s",
        # the runner reads them only through an export's view
        ("denied", "hidden", "ok", "ok", "ok", "hidden", "denied", "ok"),
    ),
    ("activities", "select note"): (
        f"select note from {T}.activities where id = %(activity)s",
        ("denied", "hidden", "ok", "ok", "ok", "hidden", "denied", "ok"),
    ),
    ("activities", "select report columns"): (
        f"select id, activity_date, duration_minutes from {T}.activities where id = %(activity)s",
        # the runner reads them only through an export's view
        ("denied", "hidden", "ok", "ok", "ok", "hidden", "denied", "ok"),
    ),
    ("activities", "insert"): (
        f"insert into {T}.activities (organisation_id, chapter_id, activity_type_id,"
        " peer_mentor_id, activity_date, duration_minutes, participant_count, contact_method)"
        " values (%(a)s, %(chapter)s, %(type)s, gen_random_uuid(), '2025-05-05', 60, 4,"
        " 'in_person') returning id",
        ("denied", "denied", "ok", "ok", "ok", "denied", "denied", "ok"),
    ),
    ("activities", "update"): (
        f"update {T}.activities set duration_minutes = 61 where id = %(activity)s returning id",
        ("denied", "hidden", "ok", "ok", "ok", "hidden", "denied", "ok"),
    ),
    ("activities", "delete"): (
        f"delete from {T}.activities where id = %(activity)s returning id",
        ("denied", "hidden", "hidden", "ok", "ok", "hidden", "denied", "ok"),
    ),
    ("activities", "truncate"): (
        f"truncate {T}.activities",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    # activity_attachments: where the activity is visible.
    ("activity_attachments", "select"): (
        f"select id from {T}.activity_attachments where id = %(attachment)s",
        # the runner reads them only through an export's view
        ("denied", "hidden", "ok", "ok", "ok", "hidden", "denied", "ok"),
    ),
    ("activity_attachments", "insert"): (
        f"insert into {T}.activity_attachments (organisation_id, activity_id, storage_path,"
        " file_name, size_bytes) values (%(a)s, %(activity)s, 'nhf/matrix.pdf', 'matrix.pdf', 1)"
        " returning id",
        ("denied", "denied", "ok", "ok", "ok", "denied", "denied", "ok"),
    ),
    ("activity_attachments", "update"): (
        f"update {T}.activity_attachments set file_name = 'x.pdf' where id = %(attachment)s"
        " returning id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    ),
    ("activity_attachments", "delete"): (
        f"delete from {T}.activity_attachments where id = %(attachment)s returning id",
        ("denied", "hidden", "hidden", "ok", "ok", "hidden", "denied", "ok"),
    ),
    ("activity_attachments", "truncate"): (
        f"truncate {T}.activity_attachments",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    # bufdir_column_configs: coordinators and admins read; admins add versions.
    ("bufdir_column_configs", "select"): (
        f"select id from {T}.bufdir_column_configs where organisation_id = %(a)s",
        ("denied", "hidden", "hidden", "ok", "ok", "hidden", "ok", "ok"),
    ),
    ("bufdir_column_configs", "insert"): (
        f"insert into {T}.bufdir_column_configs (organisation_id, config, is_active)"
        " values (%(a)s, %(config)s, false) returning id",
        ("denied", "denied", "denied", "denied", "ok", "denied", "denied", "ok"),
    ),
    ("bufdir_column_configs", "update"): (
        f"update {T}.bufdir_column_configs set is_active = not is_active"
        " where organisation_id = %(a)s returning id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    ),
    ("bufdir_column_configs", "delete"): (
        f"delete from {T}.bufdir_column_configs where organisation_id = %(a)s returning id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "XB006"),
    ),
    ("bufdir_column_configs", "truncate"): (
        f"truncate {T}.bufdir_column_configs",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    # bufdir_export_audit: ask as yourself for your organisation; the requester
    # and the organisation's admins read; the runner moves it; nobody deletes.
    # anon may select the id (Realtime checks a change by it) and sees no row.
    # bufdir_column_config_activations: read as the versions are; written by the trigger only.
    ("bufdir_column_config_activations", "select"): (
        f"select id from {T}.bufdir_column_config_activations where organisation_id = %(a)s",
        ("denied", "hidden", "hidden", "ok", "ok", "hidden", "denied", "ok"),
    ),
    ("bufdir_column_config_activations", "insert"): (
        f"insert into {T}.bufdir_column_config_activations (organisation_id, version, actor)"
        " values (%(a)s, 1, 'user:matrix') returning id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    ("bufdir_column_config_activations", "update"): (
        f"update {T}.bufdir_column_config_activations set actor = 'user:matrix'"
        " where organisation_id = %(a)s returning id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    ("bufdir_column_config_activations", "delete"): (
        f"delete from {T}.bufdir_column_config_activations where organisation_id = %(a)s"
        " returning id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    ("bufdir_column_config_activations", "truncate"): (
        f"truncate {T}.bufdir_column_config_activations",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    # bufdir_export_config_versions: read with the export; written by the runner's function only.
    ("bufdir_export_config_versions", "select"): (
        f"select count(*) >= 0 from {T}.bufdir_export_config_versions",
        ("denied", "ok", "ok", "ok", "ok", "ok", "ok", "ok"),
    ),
    ("bufdir_export_config_versions", "insert"): (
        f"insert into {T}.bufdir_export_config_versions (export_id, claim, version)"
        " values (%(export)s, 1, 1) returning export_id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    # bufdir_export_file_deletions: read with the export; written by the runner's function only.
    ("bufdir_export_file_deletions", "select"): (
        f"select count(*) >= 0 from {T}.bufdir_export_file_deletions",
        ("denied", "ok", "ok", "ok", "ok", "ok", "ok", "ok"),
    ),
    ("bufdir_export_file_deletions", "insert"): (
        f"insert into {T}.bufdir_export_file_deletions (export_id, file_path, actor)"
        " values (%(export)s, 'x', 'user:matrix') returning export_id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    ("bufdir_export_file_deletions", "delete"): (
        f"delete from {T}.bufdir_export_file_deletions returning export_id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    ("bufdir_export_audit", "select"): (
        f"select id from {T}.bufdir_export_audit where id = %(export)s",
        ("hidden", "hidden", "ok", "hidden", "ok", "hidden", "ok", "ok"),
    ),
    ("bufdir_export_audit", "insert"): (
        f"insert into {T}.bufdir_export_audit (organisation_id, period_start, period_end)"
        " values (%(a)s, '2025-01-01', '2025-12-31') returning id",
        ("denied", "denied", "ok", "ok", "ok", "denied", "denied", "23502"),
    ),
    ("bufdir_export_audit", "update"): (
        f"update {T}.bufdir_export_audit set error_message = 'forged'"
        " where id = %(export)s returning id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "ok", "ok"),
    ),
    ("bufdir_export_audit", "update request"): (
        f"update {T}.bufdir_export_audit set organisation_id = %(b)s"
        " where id = %(export)s returning id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "XB002"),
    ),
    ("bufdir_export_audit", "delete"): (
        f"delete from {T}.bufdir_export_audit where id = %(export)s returning id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    ("bufdir_export_audit", "truncate"): (
        f"truncate {T}.bufdir_export_audit",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    ("bufdir_export_audit_events", "select"): (
        f"select id from {T}.bufdir_export_audit_events where export_id = %(export)s",
        ("denied", "hidden", "ok", "hidden", "ok", "hidden", "ok", "ok"),
    ),
    ("bufdir_export_audit_events", "insert"): (
        f"insert into {T}.bufdir_export_audit_events (export_id, to_status, actor)"
        " values (%(export)s, 'completed', 'forged') returning id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    ("bufdir_export_audit_events", "update"): (
        f"update {T}.bufdir_export_audit_events set actor = 'forged'"
        " where export_id = %(export)s returning id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    ("bufdir_export_audit_events", "delete"): (
        f"delete from {T}.bufdir_export_audit_events where export_id = %(export)s returning id",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    ("bufdir_export_audit_events", "truncate"): (
        f"truncate {T}.bufdir_export_audit_events",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied"),
    ),
    # functions
    ("activate_bufdir_column_config()", "call"): (
        # an admin of A (or the backend); version 1 is A's active one
        "select version from public.activate_bufdir_column_config(%(a)s, 1)",
        ("denied", "denied", "denied", "denied", "ok", "denied", "denied", "ok"),
    ),
    ("cancel_bufdir_export()", "call"): (
        "select id from public.cancel_bufdir_export(%(export)s)",
        # the requester (member), or an admin of the export's organisation
        ("denied", "XB007", "ok", "XB007", "ok", "XB007", "denied", "XB007"),
    ),
    ("retry_bufdir_export()", "call"): (
        "select id from public.retry_bufdir_export(%(export)s)",
        # whoever may see it (the requester, an admin of A); it is still waiting (XB011);
        # service_role asks as nobody (requested_by is required)
        ("denied", "XB007", "XB011", "XB007", "XB011", "XB007", "denied", "23502"),
    ),
    ("export_was_retried()", "call"): (
        "select bufdir_private.export_was_retried(%(export)s) is not null",
        ("denied", "ok", "ok", "ok", "ok", "ok", "denied", "ok"),
    ),
    ("claim_bufdir_export()", "call"): (
        "select id from bufdir_private.claim_bufdir_export('matrix', 60)",
        ("denied", "denied", "denied", "denied", "denied", "denied", "ok", "ok"),
    ),
    ("claim_bufdir_export_for_run()", "call"): (
        "select (c.export).id from bufdir_private.claim_bufdir_export_for_run('matrix', 60) c",
        ("denied", "denied", "denied", "denied", "denied", "denied", "ok", "ok"),
    ),
    ("begin_generating_bufdir_export()", "call"): (
        "select id from bufdir_private.begin_generating_bufdir_export(%(export)s, 'matrix', 1,"
        " 60, 1)",
        ("denied", "denied", "denied", "denied", "denied", "denied", "XB008", "XB008"),
    ),
    ("record_export_file_deleted()", "call"): (
        # the runner's (or the backend's); A's export is still waiting: no file to delete
        "select bufdir_private.record_export_file_deleted(%(export)s, 'matrix') is not null",
        ("denied", "denied", "denied", "denied", "denied", "denied", "XB007", "XB007"),
    ),
    ("advance_bufdir_export()", "call"): (
        "select id from bufdir_private.advance_bufdir_export(%(export)s, 'matrix', 1,"
        " 'querying_activities', 'mapping_columns', 60)",
        ("denied", "denied", "denied", "denied", "denied", "denied", "XB008", "XB008"),
    ),
    ("fail_bufdir_export()", "call"): (
        "select id from bufdir_private.fail_bufdir_export(%(export)s, 'matrix', 1,"
        " 'internal', 'x')",
        ("denied", "denied", "denied", "denied", "denied", "denied", "XB008", "XB008"),
    ),
    ("reap_bufdir_exports()", "call"): (
        "select count(*) >= 0 from bufdir_private.reap_bufdir_exports(3)",
        ("denied", "denied", "denied", "denied", "denied", "denied", "ok", "ok"),
    ),
    ("is_member()", "call"): (
        "select bufdir_private.is_member(%(a)s, %(admin)s)",
        ("denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    ),
    ("column_config_problem()", "call"): (
        "select coalesce(bufdir_private.column_config_problem(%(a)s, %(config)s), 'valid')",
        ("denied", "denied", "denied", "denied", "denied", "denied", "ok", "ok"),
    ),
}

_report: list[str] = []


def matrix_report() -> Iterator[str]:
    """The observed matrix, for the test report (see conftest)."""
    yield from _report


@pytest.fixture
async def targets(conn: psycopg.AsyncConnection[Any]) -> dict[str, Any]:
    """Organisation A's rows that the cells aim at (made as postgres)."""
    await conn.execute(
        "insert into auth.users (id, email) values (%s, 'stranger@test.example')", [STRANGER]
    )

    async def one(query: str, *params: Any) -> Any:
        row = await (await conn.execute(query, params)).fetchone()
        assert row is not None, query
        return row[0]

    a = ORGS["nhf"]
    member = USERS["member"]
    chapter = await one(
        "select id from public.local_chapters where organisation_id = %s limit 1", a
    )
    kind = await one("select id from public.activity_types where organisation_id = %s limit 1", a)
    activity = await one(
        "insert into public.activities (organisation_id, chapter_id, activity_type_id,"
        " peer_mentor_id, activity_date, duration_minutes, participant_count, contact_method,"
        " note, recorded_by) values (%s, %s, %s, gen_random_uuid(), '2025-03-03', 60, 4,"
        " 'in_person', 'a private note', %s) returning id",
        a, chapter, kind, member,
    )  # fmt: skip
    attachment = await one(
        "insert into public.activity_attachments (organisation_id, activity_id, storage_path,"
        " file_name, size_bytes) values (%s, %s, 'nhf/a.pdf', 'a.pdf', 3) returning id",
        a, activity,
    )  # fmt: skip
    export = await one(
        "insert into public.bufdir_export_audit (organisation_id, requested_by, period_start,"
        " period_end) values (%s, %s, '2025-01-01', '2025-12-31') returning id",
        a, member,
    )  # fmt: skip
    return {
        "a": a,
        "b": ORGS["hlf"],
        "admin": ADMINS["nhf"],
        "member": member,
        "stranger": STRANGER,
        "chapter": chapter,
        "type": kind,
        "activity": activity,
        "attachment": attachment,
        "export": export,
        "config": Jsonb(shipped_config("nhf")),
    }


async def _cell(
    conn: psycopg.AsyncConnection[Any], role: str, statement: str, params: dict[str, Any]
) -> str:
    user = USERS[role]
    db_role = DB_ROLE.get(role, "authenticated")
    claims = {"role": db_role} if user is None else {"sub": str(user), "role": db_role}
    try:
        async with conn.transaction(force_rollback=True):
            await conn.execute(
                "select set_config('request.jwt.claims', %s, true), set_config('role', %s, true)",
                [json.dumps(claims), db_role],
            )
            cursor = await conn.execute(statement, params)  # type: ignore[arg-type]
            if cursor.description is None:
                return "ok"  # truncate
            rows = await cursor.fetchall()
    except psycopg.Error as error:
        return "denied" if error.sqlstate == "42501" else str(error.sqlstate)
    return "ok" if rows and rows[0][0] not in (None, 0, False) else "hidden"


async def test_every_role_against_every_operation(
    conn: psycopg.AsyncConnection[Any], targets: dict[str, Any]
) -> None:
    observed: dict[tuple[str, str], tuple[str, ...]] = {}
    for key, (statement, _) in MATRIX.items():
        observed[key] = tuple([await _cell(conn, role, statement, targets) for role in ROLES])
    _report[:] = _table(observed)
    wrong = [
        f"{table} {operation} as {role}: expected {want}, got {got}"
        for (table, operation), (_, expected) in MATRIX.items()
        for role, want, got in zip(ROLES, expected, observed[(table, operation)], strict=True)
        if want != got
    ]
    assert wrong == [], "\n".join(["", *wrong, *_report])


def _table(observed: dict[tuple[str, str], tuple[str, ...]]) -> list[str]:
    width = max(len(f"{t} {o}") for t, o in observed) + 2
    lines = ["".ljust(width) + "".join(role.ljust(12) for role in ROLES)]
    for (table, operation), cells in observed.items():
        lines.append(f"{table} {operation}".ljust(width) + "".join(c.ljust(12) for c in cells))
    return lines
