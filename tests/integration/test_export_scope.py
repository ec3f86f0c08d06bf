"""An export holds no more than its requester may read.

For every seeded user and every organisation: the request is refused at insert
(not a member), or the finished file's rows and attachments are exactly the
activities and attachments that user can SELECT in the period, themselves, at
the moment the export runs: all of the organisation's for a coordinator or an
admin, the ones they recorded for a plain member.
"""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from typing import Any

import openpyxl
import psycopg
import pytest

from tests.integration.conftest import Running
from tests.integration.contract import act_as, request_as
from tests.integration.test_runner_e2e import wait_for_end
from tests.support import ORGS

SCOPE_NOTES = {
    "organisation": "Alle organisasjonens aktiviteter i perioden",
    "own": "Bare aktivitetene bestilleren selv har registrert",
}


async def _readable(
    conn: psycopg.AsyncConnection[Any], user: uuid.UUID, org: uuid.UUID
) -> tuple[int, set[str]]:
    """What ``user`` can SELECT of ``org``'s 2025: activities, and attachment ids."""
    async with conn.transaction(force_rollback=True):
        await act_as(conn, "authenticated", user)
        activities = await (
            await conn.execute(
                "select count(*) from public.activities where organisation_id = %s"
                " and activity_date between '2025-01-01' and '2025-12-31'",
                [org],
            )
        ).fetchone()
        attachments = await (
            await conn.execute(
                "select t.id::text from public.activity_attachments t"
                " join public.activities a on a.id = t.activity_id"
                " where t.organisation_id = %s"
                " and a.activity_date between '2025-01-01' and '2025-12-31'",
                [org],
            )
        ).fetchall()
    assert activities is not None
    return int(activities[0]), {row[0] for row in attachments}


async def test_every_users_export_holds_exactly_what_they_may_read(
    running: Running, conn: psycopg.AsyncConnection[Any]
) -> None:
    users = await (
        await conn.execute(
            "select u.id, coalesce(m.role::text, 'none'), o.id"
            " from auth.users u cross join public.organisations o"
            " left join public.organisation_members m"
            "   on m.user_id = u.id and m.organisation_id = o.id"
            " where o.id = any(%s) order by u.email, o.slug",
            [list(ORGS.values())],
        )
    ).fetchall()
    assert running.app.local_storage is not None
    for path, size in await (
        await conn.execute("select storage_path, size_bytes from public.activity_attachments")
    ).fetchall():
        await running.app.local_storage.put_attachment(path, b"x" * size)
    asked: dict[uuid.UUID, tuple[uuid.UUID, str, uuid.UUID]] = {}
    refused = 0
    for user, role, org in users:
        if role == "none":
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                await request_as(conn, user, org, format="csv", include_attachments=True)
            refused += 1
            continue
        export_id = await request_as(conn, user, org, format="csv", include_attachments=True)
        asked[export_id] = (user, role, org)

    rows = await wait_for_end(conn, list(asked), within=180)

    roles_seen = set()
    smaller = 0
    for export_id, (user, role, org) in asked.items():
        row = rows[export_id]
        assert row["status"] in ("completed", "completed_empty"), row["error_message"]
        readable, attachment_ids = await _readable(conn, user, org)
        everything, _ = await _readable(conn, _an_admin_of(users, org), org)
        scope = "own" if role == "member" else "organisation"
        roles_seen.add(role)
        assert row["row_count"] == readable
        if row["status"] == "completed_empty":
            assert readable == 0
            continue
        path = running.app.local_storage.export_file(row["file_path"])
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            report = archive.read(next(n for n in names if n.endswith(".csv")))
        lines = list(csv.reader(io.StringIO(report.decode("utf-8-sig")), delimiter=";"))
        # vedlegg/<activity id>/<attachment id>-<file name>
        zipped = {name.split("/")[2][:36] for name in names if name.startswith("vedlegg/")}
        assert len(lines) - 1 == readable
        assert zipped == attachment_ids
        if scope == "own":
            smaller += readable < everything
        assert row["counted_days"] is not None
    assert refused > 0
    assert roles_seen == {"member", "coordinator", "admin"}
    assert smaller > 0  # some member's own export is smaller than the organisation's


def _an_admin_of(users: list[tuple[Any, ...]], org: uuid.UUID) -> uuid.UUID:
    admin: uuid.UUID = next(user for user, role, of in users if of == org and role == "admin")
    return admin


async def test_the_report_says_which_scope_it_holds(
    running: Running, conn: psycopg.AsyncConnection[Any]
) -> None:
    member, admin = await (
        await conn.execute(
            "select (select user_id from public.organisation_members m"
            "         where m.organisation_id = %(org)s and m.role = 'member'"
            "         and exists (select 1 from public.activities a"
            "                     where a.recorded_by = m.user_id) order by user_id limit 1),"
            "       (select user_id from public.organisation_members m"
            "         where m.organisation_id = %(org)s and m.role = 'admin' limit 1)",
            {"org": ORGS["hlf"]},
        )
    ).fetchone()  # type: ignore[misc]
    exports = {
        "own": await request_as(conn, member, ORGS["hlf"]),
        "organisation": await request_as(conn, admin, ORGS["hlf"]),
    }
    rows = await wait_for_end(conn, list(exports.values()))
    assert running.app.local_storage is not None
    for scope, export_id in exports.items():
        path = running.app.local_storage.export_file(rows[export_id]["file_path"])
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            sheet = book["Sammendrag"]
            notes = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
        finally:
            book.close()
        assert notes["Omfang"].startswith(SCOPE_NOTES[scope])
