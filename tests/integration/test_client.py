"""The Python client against a real database and a real runner."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest

from bufdir_export._errors import (
    ConfigurationError,
    DatabaseUnavailable,
    ExportFinished,
    ExportNotFound,
    PermissionDenied,
    UsageError,
    WaitTimedOut,
)
from bufdir_export._models import (
    Caller,
    ExportFailure,
    ExportFormat,
    ExportRequest,
    ExportStatus,
    ExportSuccess,
)
from bufdir_export.client.audit_log import PostgresAuditLog
from bufdir_export.client.export_client import PostgresExportClient
from bufdir_export.postgres.queries import Queries
from tests.integration.conftest import Running
from tests.support import ADMINS, ORGS

S = ExportStatus
YEAR_2025 = {"period_start": date(2025, 1, 1), "period_end": date(2025, 12, 31)}


def client_for(database: str, queries: Queries, user: uuid.UUID) -> PostgresExportClient:
    return PostgresExportClient(database, Caller(user), queries, poll_interval=0.2)


async def test_watch_yields_every_status_in_order_and_ends(
    running: Running, database: str, queries: Queries, conn: psycopg.AsyncConnection[Any]
) -> None:
    cursor = await conn.execute(
        "select storage_path, size_bytes from public.activity_attachments"
        " where organisation_id = %s",
        [ORGS["hlf"]],
    )
    for path, size in await cursor.fetchall():  # what the app would have uploaded
        await running.app.storage.put_attachment(path, b"x" * size)  # type: ignore[attr-defined]
    client = client_for(database, queries, ADMINS["hlf"])
    watch = await client.start_export(
        ExportRequest(organisation_id=ORGS["hlf"], include_attachments=True, **YEAR_2025)
    )

    updates = [update async for update in watch.watch()]

    statuses = [u.status for u in updates]
    distinct = [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s]
    assert distinct == [
        S.INITIALISED,
        S.QUERYING_ACTIVITIES,
        S.MAPPING_COLUMNS,
        S.GENERATING_FILE,
        S.BUNDLING_ATTACHMENTS,
        S.STORING_FILE,
        S.COMPLETED,
    ]
    assert all(u.export_id == watch.export_id for u in updates)
    assert updates[-1].record.status is S.COMPLETED
    times = [u.occurred_at for u in updates]
    assert times == sorted(times)
    # Progress, where reported, belongs to the status it was reported in.
    assert all(u.progress is None or u.progress[0] <= u.progress[1] for u in updates)

    result = await watch.result(timeout=30)  # an ended export answers at once
    assert isinstance(result, ExportSuccess)
    assert result.export_id == watch.export_id
    assert result.download_url is not None
    assert result.row_count == updates[-1].record.row_count


async def test_result_of_an_empty_period_and_of_a_csv(
    running: Running, database: str, queries: Queries
) -> None:
    client = client_for(database, queries, ADMINS["blindeforbundet"])
    empty = await client.start_export(
        ExportRequest(
            organisation_id=ORGS["blindeforbundet"],
            period_start=date(2001, 1, 1),
            period_end=date(2001, 12, 31),
        )
    )
    csv = await client.start_export(
        ExportRequest(organisation_id=ORGS["blindeforbundet"], format=ExportFormat.CSV, **YEAR_2025)
    )
    ended_empty, ended_csv = await asyncio.gather(empty.result(60), csv.result(60))
    assert isinstance(ended_empty, ExportSuccess)
    assert (ended_empty.status, ended_empty.row_count, ended_empty.download_url) == (
        S.COMPLETED_EMPTY,
        0,
        None,
    )
    assert isinstance(ended_csv, ExportSuccess)
    assert ended_csv.file_path is not None
    assert ended_csv.file_path.endswith(".csv")


async def test_a_user_of_another_organisation_is_refused_clearly(
    database: str, queries: Queries, conn: psycopg.AsyncConnection[Any]
) -> None:
    client = client_for(database, queries, ADMINS["nhf"])
    with pytest.raises(PermissionDenied, match="not a member") as refused:
        await client.start_export(ExportRequest(organisation_id=ORGS["hlf"], **YEAR_2025))
    assert refused.value.sqlstate == "42501"
    with pytest.raises(UsageError, match="no organisation 'hlf' among the user's"):
        await client.organisation_id("hlf")
    assert await client.organisation_id("nhf") == ORGS["nhf"]
    cursor = await conn.execute(
        "select count(*) from public.bufdir_export_audit where organisation_id = %s", [ORGS["hlf"]]
    )
    assert await cursor.fetchone() == (0,)


async def test_a_user_sees_only_what_rls_shows(
    database: str, queries: Queries, conn: psycopg.AsyncConnection[Any]
) -> None:
    """No runner here: the exports stay initialised, and others cannot look."""
    mine = client_for(database, queries, ADMINS["nhf"])
    watch = await mine.start_export(ExportRequest(organisation_id=ORGS["nhf"], **YEAR_2025))
    record = await mine.export(watch.export_id)
    assert (record.status, record.requested_by) == (S.INITIALISED, ADMINS["nhf"])

    stranger = client_for(database, queries, ADMINS["hlf"])
    with pytest.raises(ExportNotFound):
        await stranger.export(watch.export_id)
    with pytest.raises(ExportNotFound):
        await anext(stranger.follow(watch.export_id).watch())
    with pytest.raises(ExportNotFound):
        await stranger.cancel(watch.export_id)


async def test_cancel_ends_the_watch_and_a_second_cancel_is_refused(
    database: str, queries: Queries
) -> None:
    client = client_for(database, queries, ADMINS["nhf"])
    watch = await client.start_export(ExportRequest(organisation_id=ORGS["nhf"], **YEAR_2025))
    seen: list[ExportStatus] = []

    async def follow() -> None:
        async for update in client.follow(watch.export_id).watch():
            seen.append(update.status)

    following = asyncio.create_task(follow())
    await asyncio.sleep(0.3)  # the watcher is waiting on LISTEN by now, most likely
    cancelled = await client.cancel(watch.export_id)
    assert cancelled.status is S.CANCELLED
    await asyncio.wait_for(following, 30)
    assert seen == [S.INITIALISED, S.CANCELLED]

    result = await watch.result(timeout=5)
    assert isinstance(result, ExportFailure)
    assert result.status is S.CANCELLED
    with pytest.raises(ExportFinished):
        await client.cancel(watch.export_id)


async def test_result_times_out_while_no_runner_works(database: str, queries: Queries) -> None:
    client = client_for(database, queries, ADMINS["nhf"])
    watch = await client.start_export(ExportRequest(organisation_id=ORGS["nhf"], **YEAR_2025))
    with pytest.raises(WaitTimedOut, match=r"is still initialised after 0\.5 s") as waited:
        await watch.result(timeout=0.5)
    assert (waited.value.export_id, waited.value.status) == (watch.export_id, S.INITIALISED)


async def test_the_watch_reads_again_after_losing_its_connection(
    database: str, queries: Queries, conn: psycopg.AsyncConnection[Any]
) -> None:
    client = client_for(database, queries, ADMINS["nhf"])
    watch = await client.start_export(ExportRequest(organisation_id=ORGS["nhf"], **YEAR_2025))
    updates = watch.watch()
    assert (await anext(updates)).status is S.INITIALISED

    # Cut every other session off (the watcher's LISTEN among them).
    await conn.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity"
        " where datname = current_database() and pid <> pg_backend_pid()"
    )
    cancelled = await client.cancel(watch.export_id)
    assert cancelled.status is S.CANCELLED
    final = await asyncio.wait_for(anext(updates), 30)
    assert final.status is S.CANCELLED
    with pytest.raises(StopAsyncIteration):
        await anext(updates)


async def test_no_database_or_no_user_is_a_clear_error(queries: Queries, database: str) -> None:
    request = ExportRequest(organisation_id=ORGS["nhf"], **YEAR_2025)
    with pytest.raises(ConfigurationError, match="no database configured"):
        await PostgresExportClient(None, Caller(ADMINS["nhf"]), queries).start_export(request)
    with pytest.raises(ConfigurationError, match="signed-in user"):
        await PostgresExportClient(database, None, queries).start_export(request)
    unreachable = "postgresql://nobody:pw-not-shown@127.0.0.1:1/x?connect_timeout=1"
    with pytest.raises(DatabaseUnavailable) as lost:
        await PostgresExportClient(unreachable, Caller(ADMINS["nhf"]), queries).start_export(
            request
        )
    assert "pw-not-shown" not in str(lost.value)


async def test_the_audit_log_as_an_operator_and_as_a_user(
    database: str, queries: Queries, conn: psycopg.AsyncConnection[Any]
) -> None:
    nhf = await client_for(database, queries, ADMINS["nhf"]).start_export(
        ExportRequest(organisation_id=ORGS["nhf"], **YEAR_2025)
    )
    hlf_client = client_for(database, queries, ADMINS["hlf"])
    hlf = await hlf_client.start_export(ExportRequest(organisation_id=ORGS["hlf"], **YEAR_2025))
    await hlf_client.cancel(hlf.export_id)

    operator = PostgresAuditLog(database, None, queries)
    as_hlf = PostgresAuditLog(database, Caller(ADMINS["hlf"]), queries)

    assert [(e.organisation, e.export.id) for e in await operator.list()] == [
        ("hlf", hlf.export_id),
        ("nhf", nhf.export_id),
    ]
    assert [e.export.id for e in await operator.list(organisation="nhf")] == [nhf.export_id]
    assert [e.export.id for e in await operator.list(status=S.CANCELLED)] == [hlf.export_id]
    assert await operator.list(since=datetime(2999, 1, 1, tzinfo=UTC)) == []
    assert len(await operator.list(limit=1)) == 1
    assert [e.export.id for e in await as_hlf.list()] == [hlf.export_id]  # RLS

    shown = await as_hlf.show(hlf.export_id)
    assert [(e.from_status, e.to_status) for e in shown.events] == [
        (None, S.INITIALISED),
        (S.INITIALISED, S.CANCELLED),
    ]
    assert all(e.actor == f"user:{ADMINS['hlf']}" for e in shown.events)
    (first, stayed), (last, after) = shown.timeline()
    assert stayed == last.occurred_at - first.occurred_at
    assert after is None
    with pytest.raises(ExportNotFound):
        await as_hlf.show(nhf.export_id)
    with pytest.raises(ConfigurationError, match="no database configured"):
        await PostgresAuditLog(None, None, queries).list()
