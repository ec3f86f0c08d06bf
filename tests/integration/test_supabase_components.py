"""The buckets, their policies and the reaper's schedule: made by the
migrations on a database that has Storage's and pg_cron's schemas (their
doubles, ``tests/doubles/supabase_schemas.py``), skipped with a notice on one
that has not."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bufdir_export.postgres.queries import Queries
from bufdir_export.tools.migrations import discover_migrations, migrate
from bufdir_export.tools.seed import apply_demo_seed
from tests.doubles.supabase_schemas import CRON, STORAGE
from tests.integration.contract import act_as, raises_sqlstate
from tests.support import ADMINS, ORGS

MIGRATION = "20261201000500_supabase_storage_and_schedule.sql"
NHF_COORDINATOR = uuid.UUID("00000000-0000-4000-b001-000000000002")
NHF_MEMBER = uuid.UUID("00000000-0000-4000-b001-000000000003")


def _migration_text() -> str:
    [found] = [m for m in discover_migrations() if m.path.name == MIGRATION]
    return found.path.read_text(encoding="utf-8")


async def _shim_only(conn: psycopg.AsyncConnection[Any], queries: Queries, empty: Path) -> None:
    """The roles a Supabase project has, as the shim makes them."""
    await migrate(conn, queries, directory=empty)


@pytest.fixture
async def project(
    empty_database: str, queries: Queries, tmp_path: Path
) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """Storage and pg_cron, a bucket made public by hand, then every migration
    and the demo data, with an object stored for each attachment and export."""
    async with await psycopg.AsyncConnection.connect(empty_database, autocommit=True) as conn:
        await _shim_only(conn, queries, tmp_path)
        await conn.execute(STORAGE)
        await conn.execute(CRON)
        await conn.execute(
            "insert into storage.buckets (id, name, public)"
            " values ('bufdir-exports', 'bufdir-exports', true)"
        )
        await migrate(conn, queries)
        await apply_demo_seed(conn)
        await conn.execute(
            "insert into storage.objects (bucket_id, name)"
            " select 'activity-attachments', storage_path from public.activity_attachments"
            " union all select 'bufdir-exports', o.id || '/' || gen_random_uuid() || '/r.xlsx'"
            " from public.organisations o"
        )
        yield conn


async def _names_seen(conn: psycopg.AsyncConnection[Any], user: uuid.UUID, bucket: str) -> set[str]:
    async with conn.transaction(force_rollback=True):
        await act_as(conn, "authenticated", user)
        cursor = await conn.execute(
            "select name from storage.objects where bucket_id = %s", [bucket]
        )
        return {name for (name,) in await cursor.fetchall()}


async def _attachments_readable(conn: psycopg.AsyncConnection[Any], user: uuid.UUID) -> set[str]:
    async with conn.transaction(force_rollback=True):
        await act_as(conn, "authenticated", user)
        cursor = await conn.execute("select storage_path from public.activity_attachments")
        return {path for (path,) in await cursor.fetchall()}


async def test_both_buckets_are_created_private_even_one_made_public_by_hand(
    project: psycopg.AsyncConnection[Any],
) -> None:
    cursor = await project.execute("select id, public from storage.buckets order by id")
    assert await cursor.fetchall() == [("activity-attachments", False), ("bufdir-exports", False)]


async def test_the_reaper_is_scheduled_every_minute_and_its_command_runs(
    project: psycopg.AsyncConnection[Any],
) -> None:
    cursor = await project.execute(
        "select schedule, command, username = current_user, database = current_database()"
        " from cron.job where jobname = 'bufdir-export-reaper'"
    )
    row = await cursor.fetchone()
    assert row is not None
    schedule, command, as_migrator, here = row
    assert (schedule, as_migrator, here) == ("* * * * *", True, True)
    await project.execute(command)  # as pg_cron runs it: the migrating role, this database


async def test_an_attachment_is_read_by_whoever_may_read_its_row_and_nobody_else(
    project: psycopg.AsyncConnection[Any],
) -> None:
    nhf = await _names_seen(project, ADMINS["nhf"], "activity-attachments")
    assert len(nhf) > 10
    assert {name.split("/")[0] for name in nhf} == {"nhf"}
    for user in (ADMINS["nhf"], NHF_COORDINATOR, NHF_MEMBER, ADMINS["hlf"]):
        seen = await _names_seen(project, user, "activity-attachments")
        assert seen == await _attachments_readable(project, user), user
    member = await _names_seen(project, NHF_MEMBER, "activity-attachments")
    assert member < nhf  # a member reads the attachments of what they recorded


async def test_nobody_signed_in_reads_an_export_file_and_anon_reads_nothing(
    project: psycopg.AsyncConnection[Any],
) -> None:
    for user in (ADMINS["nhf"], NHF_MEMBER):
        assert await _names_seen(project, user, "bufdir-exports") == set()
    async with project.transaction(force_rollback=True):
        await act_as(project, "anon")
        cursor = await project.execute("select count(*) from storage.objects")
        assert await cursor.fetchone() == (0,)


async def test_an_attachment_is_stored_for_an_activity_one_may_read_only(
    project: psycopg.AsyncConnection[Any],
) -> None:
    cursor = await project.execute(
        "select distinct on (o.slug) o.slug, a.id from public.activities a"
        " join public.organisations o on o.id = a.organisation_id"
        " where o.slug in ('nhf', 'hlf') order by o.slug, a.id"
    )
    first = {slug: str(activity) for slug, activity in await cursor.fetchall()}
    assert set(first) == {"nhf", "hlf"}
    insert = "insert into storage.objects (bucket_id, name) values (%s, %s)"

    async with project.transaction(force_rollback=True):
        await act_as(project, "authenticated", ADMINS["nhf"])
        await project.execute(insert, ["activity-attachments", f"nhf/{first['nhf']}/ny.pdf"])
    for bucket, name in [
        ("activity-attachments", f"hlf/{first['hlf']}/ny.pdf"),  # another organisation's
        ("activity-attachments", f"nhf/{first['hlf']}/ny.pdf"),  # its activity under our name
        ("activity-attachments", f"nhf/{uuid.uuid4()}/ny.pdf"),  # no such activity
        ("bufdir-exports", f"{ORGS['nhf']}/{uuid.uuid4()}/r.xlsx"),  # the runner's alone
    ]:
        async with project.transaction(force_rollback=True):
            await act_as(project, "authenticated", ADMINS["nhf"])
            with raises_sqlstate("42501"):
                await project.execute(insert, [bucket, name])


async def test_a_coordinator_removes_an_attachment_a_member_does_not(
    project: psycopg.AsyncConnection[Any],
) -> None:
    mine = sorted(await _names_seen(project, NHF_MEMBER, "activity-attachments"))
    assert mine
    delete = "delete from storage.objects where bucket_id = 'activity-attachments' and name = %s"
    for user, removed in [(NHF_MEMBER, 0), (NHF_COORDINATOR, 1)]:
        async with project.transaction(force_rollback=True):
            await act_as(project, "authenticated", user)
            cursor = await project.execute(delete, [mine[0]])
            assert cursor.rowcount == removed, user


async def test_without_storage_or_pg_cron_each_part_is_skipped_with_a_notice(
    empty_database: str, queries: Queries
) -> None:
    notices: list[str] = []
    async with await psycopg.AsyncConnection.connect(empty_database, autocommit=True) as conn:
        conn.add_notice_handler(lambda notice: notices.append(notice.message_primary or ""))
        await migrate(conn, queries)
        cursor = await conn.execute("select to_regnamespace('storage'), to_regnamespace('cron')")
        assert await cursor.fetchone() == (None, None)
    assert [n for n in notices if "Storage schema" in n or "pg_cron" in n] == [
        "no Storage schema here: the buckets bufdir-exports and activity-attachments "
        "are not created",
        "no Storage schema here: no policies on storage.objects are created",
        "pg_cron is not installed here: the reaper is not scheduled "
        "(every runner reaps on its own)",
    ]


async def test_a_role_that_may_not_create_policies_still_makes_private_buckets_and_is_warned(
    empty_database: str, queries: Queries, tmp_path: Path
) -> None:
    # As on a hosted project: storage.objects is not the migrating role's.
    notices: list[tuple[str, str]] = []
    async with await psycopg.AsyncConnection.connect(empty_database, autocommit=True) as conn:
        await _shim_only(conn, queries, tmp_path)
        await conn.execute(STORAGE)
        migrator = f"bufdir_test_migrator_{uuid.uuid4().hex[:8]}"
        await conn.execute(f"create role {migrator}")
        try:
            await conn.execute(
                f"grant usage on schema storage to {migrator};"
                f" grant select, insert, update on storage.buckets to {migrator}"
            )
            conn.add_notice_handler(
                lambda n: notices.append((n.severity_nonlocalized or "", n.message_primary or ""))
            )
            async with conn.transaction(force_rollback=True):
                await conn.execute(f"set local role {migrator}")
                await conn.execute(_migration_text())
                cursor = await conn.execute("select id, public from storage.buckets order by id")
                assert await cursor.fetchall() == [
                    ("activity-attachments", False),
                    ("bufdir-exports", False),
                ]
                cursor = await conn.execute(
                    "select count(*) from pg_policies where schemaname = 'storage'"
                )
                assert await cursor.fetchone() == (0,)
        finally:
            await conn.execute(f"drop owned by {migrator}; drop role {migrator}")
    warnings = [message for severity, message in notices if severity == "WARNING"]
    assert warnings == [
        "the policies of bucket activity-attachments were not created "
        "(must be owner of table objects): add them as docs/operating.md shows"
    ]
