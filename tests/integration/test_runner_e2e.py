"""The runner end to end, in this process: real database, real files, real HTTP downloads."""

from __future__ import annotations

import asyncio
import io
import uuid
import zipfile
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import openpyxl
import psycopg
from psycopg.rows import dict_row

from bufdir_export.storage.local_storage import LocalStorage
from bufdir_export.tools.activity_generator import generate_activities
from tests.integration.conftest import Running
from tests.integration.contract import request_as
from tests.support import ADMINS, COMPLETED_WALK, ORGS

TERMINAL = ("completed", "completed_empty", "failed", "cancelled")


async def wait_for_end(
    conn: psycopg.AsyncConnection[Any], export_ids: list[uuid.UUID], within: float = 90
) -> dict[uuid.UUID, dict[str, Any]]:
    async with asyncio.timeout(within):
        while True:
            async with conn.cursor(row_factory=dict_row) as cursor:
                await cursor.execute(
                    "select * from public.bufdir_export_audit where id = any(%s)", [export_ids]
                )
                rows = {row["id"]: row for row in await cursor.fetchall()}
            if all(rows[i]["status"] in TERMINAL for i in export_ids):
                return rows
            await asyncio.sleep(0.1)


async def activity_count(conn: psycopg.AsyncConnection[Any], org: uuid.UUID) -> int:
    row = await (
        await conn.execute(
            "select count(*) from public.activities where organisation_id = %s"
            " and activity_date between '2025-01-01' and '2025-12-31'",
            [org],
        )
    ).fetchone()
    assert row is not None
    return int(row[0])


async def upload_attachments(
    conn: psycopg.AsyncConnection[Any], storage: LocalStorage, org: uuid.UUID
) -> list[tuple[str, int]]:
    """Store what the app would have uploaded for the attachments of ``org``'s
    activities of 2025; their (storage path, size)."""
    rows = await (
        await conn.execute(
            "select t.storage_path, t.size_bytes from public.activity_attachments t"
            " join public.activities a on a.id = t.activity_id"
            " where t.organisation_id = %s"
            " and a.activity_date between '2025-01-01' and '2025-12-31'",
            [org],
        )
    ).fetchall()
    for path, size in rows:
        await storage.put_attachment(path, b"x" * size)
    return [(path, size) for path, size in rows]


async def download(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(url)


async def test_one_export_per_organisation_ends_completed_with_a_working_link(
    running: Running, conn: psycopg.AsyncConnection[Any]
) -> None:
    exports = {slug: await request_as(conn, ADMINS[slug], ORGS[slug]) for slug in ORGS}

    rows = await wait_for_end(conn, list(exports.values()))

    for slug, export_id in exports.items():
        row = rows[export_id]
        assert row["status"] == "completed", (slug, row["error_code"], row["error_message"])
        expected = await activity_count(conn, ORGS[slug])
        assert expected > 0
        assert row["row_count"] == expected
        assert row["file_path"] == f"{ORGS[slug]}/{export_id}/bufdir-rapport-2025.xlsx"
        assert row["rows_done"] == row["rows_total"] == expected
        response = await download(row["download_url"])
        assert response.status_code == 200
        assert len(response.content) == row["file_size_bytes"]
        workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        sheet = workbook["Aktiviteter"]
        # the header, then one row per activity
        assert sum(1 for _ in sheet.iter_rows(values_only=True)) == expected + 1
        # The audit record says how many activity days the file counts.
        summary = [list(r) for r in workbook["Sammendrag"].iter_rows(values_only=True)]
        days = summary[0].index("Sum tellende aktivitetsdager")
        totals = next(r for r in summary if r[0] == "Totalt")
        assert 0 < row["counted_days"] == totals[days] <= row["row_count"]
        assert row["download_url"].startswith(running.app.public_url)
        assert urlsplit(running.app.public_url).port not in (None, 0, 80)  # the port it took
        workbook.close()

    async with conn.cursor() as cursor:
        await cursor.execute(
            "select export_id, array_agg(to_status::text order by id)"
            " from public.bufdir_export_audit_events where export_id = any(%s)"
            " group by export_id",
            [list(exports.values())],
        )
        walks = dict(await cursor.fetchall())
    for export_id in exports.values():
        assert walks[export_id] == COMPLETED_WALK


async def test_csv_with_attachments_and_an_empty_period(
    running: Running, conn: psycopg.AsyncConnection[Any], tmp_path: Path
) -> None:
    assert running.app.local_storage is not None
    attachments = await upload_attachments(conn, running.app.local_storage, ORGS["hlf"])
    assert attachments

    bundled = await request_as(
        conn, ADMINS["hlf"], ORGS["hlf"], format="csv", include_attachments=True
    )
    async with conn.transaction():
        await conn.execute(
            "delete from public.activities where organisation_id = %s"
            " and activity_date between '2025-01-01' and '2025-12-31'",
            [ORGS["nhf"]],
        )
    empty = await request_as(conn, ADMINS["nhf"], ORGS["nhf"])

    rows = await wait_for_end(conn, [bundled, empty])

    row = rows[bundled]
    assert row["status"] == "completed", row["error_message"]
    assert row["file_path"].endswith("/bufdir-rapport-2025-med-vedlegg.zip")
    response = await download(row["download_url"])
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        report = archive.read("bufdir-rapport-2025.csv")
        assert report.startswith(b"\xef\xbb\xbf")
        assert len(report.decode("utf-8-sig").splitlines()) == row["row_count"] + 1
        assert sum(1 for name in archive.namelist() if name.startswith("vedlegg/")) == len(
            attachments
        )

    nothing = rows[empty]
    assert nothing["status"] == "completed_empty"
    assert nothing["row_count"] == nothing["counted_days"] == 0
    assert nothing["file_path"] is None
    assert nothing["download_url"] is None


async def test_a_requester_who_left_is_refused_and_a_missing_attachment_fails_cleanly(
    running: Running, conn: psycopg.AsyncConnection[Any]
) -> None:
    # The request and the leaving commit together: the runner sees both at once.
    async with conn.transaction():
        leaver = await request_as(conn, ADMINS["blindeforbundet"], ORGS["blindeforbundet"])
        await conn.execute("reset role")  # back from the member to the test's superuser
        await conn.execute(
            "delete from public.organisation_members where user_id = %s and organisation_id = %s",
            [ADMINS["blindeforbundet"], ORGS["blindeforbundet"]],
        )
    # No attachment files are stored: the bundle cannot be made.
    broken = await request_as(conn, ADMINS["hlf"], ORGS["hlf"], include_attachments=True)

    rows = await wait_for_end(conn, [leaver, broken])

    assert (rows[leaver]["status"], rows[leaver]["error_code"]) == ("failed", "forbidden")
    assert rows[leaver]["file_path"] is None
    assert rows[broken]["status"] == "failed"
    assert rows[broken]["error_code"] == "storage_error"
    assert "is missing" in rows[broken]["error_message"]
    assert rows[broken]["file_path"] is None
    assert not list((running.app.settings.storage_dir / "exports").rglob(f"*{broken}*"))


async def test_the_runner_recovers_when_its_connections_are_terminated(
    running: Running, conn: psycopg.AsyncConnection[Any]
) -> None:
    first = await request_as(conn, ADMINS["nhf"], ORGS["nhf"])
    await wait_for_end(conn, [first])

    killed = await (
        await conn.execute(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity"
            " where datname = current_database() and pid <> pg_backend_pid()"
        )
    ).fetchone()
    assert killed is not None
    assert killed[0] >= 2  # the LISTEN connection and the pool's
    after = [await request_as(conn, ADMINS[slug], ORGS[slug]) for slug in ORGS]

    rows = await wait_for_end(conn, after)

    assert [rows[i]["status"] for i in after] == ["completed"] * 3
    assert not running.task.done()


async def test_a_connection_terminated_mid_export_does_not_lose_it(
    running: Running, conn: psycopg.AsyncConnection[Any]
) -> None:
    await generate_activities(
        conn,
        organisation_slug="blindeforbundet",
        count=40_000,
        seed=11,
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
    )
    export_id = await request_as(conn, ADMINS["blindeforbundet"], ORGS["blindeforbundet"])
    async with asyncio.timeout(60):
        while True:  # the file is being written, from a cursor open on the server
            row = await (
                await conn.execute(
                    "select status::text, rows_done from public.bufdir_export_audit where id = %s",
                    [export_id],
                )
            ).fetchone()
            assert row is not None
            if row[0] == "generating_file" and (row[1] or 0) > 0:
                break
            await asyncio.sleep(0.02)

    await conn.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity"
        " where datname = current_database() and pid <> pg_backend_pid()"
    )
    rows = await wait_for_end(conn, [export_id], within=120)

    assert rows[export_id]["status"] == "completed", rows[export_id]["error_message"]
    assert rows[export_id]["row_count"] == await activity_count(conn, ORGS["blindeforbundet"])
    assert not running.task.done()
