"""A cancellation inside a step, on the real pipeline: database, files and local storage.

The export is cancelled by its requester, as the app does it, while the
runner is bundling or storing. Each storage call still does the real work; a
gate around it only holds the step at the moment under test.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bufdir_export._models import ExportFailure, ExportResult
from bufdir_export.core.pipeline import ExportPipeline
from bufdir_export.core.ports import GeneratedFile, SignedUrl
from bufdir_export.postgres.column_mapper import PostgresColumnMapper
from bufdir_export.postgres.queries import load_queries
from bufdir_export.postgres.runner_audit import PostgresAudit
from bufdir_export.report.bundler import ZipBundler
from bufdir_export.report.file_generator import StreamingFileGenerator
from bufdir_export.report.plugins import PluginRegistry
from bufdir_export.runner_app import RunnerApp
from bufdir_export.storage.local_storage import LocalStorage
from tests.integration.conftest import runner_settings
from tests.integration.contract import act_as, request_as
from tests.integration.test_runner_e2e import upload_attachments
from tests.support import ADMINS, ORGS

HANG = 60  # bounds a hang; no assertion depends on it


class GatedStorage:
    """Local storage; ``upload`` stores the file for real, then waits at the gate."""

    def __init__(self, real: LocalStorage, *, before: bool = False) -> None:
        self.real = real
        self.before = before  # wait before storing anything (an upload that stalls)
        self.at_gate = asyncio.Event()
        self.gate = asyncio.Event()
        self.uploads_finished = 0

    async def upload(self, path: str, file: GeneratedFile) -> None:
        if not self.before:
            await self.real.upload(path, file)
        self.at_gate.set()
        await self.gate.wait()
        if self.before:
            await self.real.upload(path, file)
        self.uploads_finished += 1

    async def sign(self, path: str, ttl: timedelta) -> SignedUrl:
        return await self.real.sign(path, ttl)

    async def delete(self, paths: Sequence[str]) -> None:
        await self.real.delete(paths)

    def export_paths(self) -> AsyncIterator[str]:
        return self.real.export_paths()


class SlowAttachments:
    """Every attachment read takes a while, as from a remote store."""

    def __init__(self, real: LocalStorage) -> None:
        self.real = real
        self.reads = 0
        self.first = asyncio.Event()

    async def read_attachment(self, storage_path: str) -> bytes:
        self.reads += 1
        self.first.set()
        await asyncio.sleep(0.1)
        return await self.real.read_attachment(storage_path)


@pytest.fixture
async def app(database: str, tmp_path: Path) -> AsyncIterator[RunnerApp]:
    app = RunnerApp(runner_settings(tmp_path, lease_seconds=30), database, serve_downloads=False)
    await app.open()
    try:
        yield app
    finally:
        await app.close()


def pipeline(
    app: RunnerApp, tmp_path: Path, storage: Any, attachments: Any, *, watch: float
) -> ExportPipeline:
    queries = load_queries()
    audit = PostgresAudit(
        app.pool, queries, runner_id="r", lease=timedelta(seconds=30), watch_interval=watch
    )
    work = tmp_path / "work"
    return ExportPipeline(
        audit=audit,
        activities=app.activities,
        mapper=PostgresColumnMapper(app.pool, queries, PluginRegistry.installed()),
        generator=StreamingFileGenerator(work),
        bundler=ZipBundler(app.activities, attachments, work),
        storage=storage,
        url_ttl=timedelta(days=1),
    )


async def cancel(conn: psycopg.AsyncConnection[Any], user: uuid.UUID, export: uuid.UUID) -> None:
    async with conn.transaction():
        await act_as(conn, "authenticated", user)
        await conn.execute("select public.cancel_bufdir_export(%s)", [export])


async def stored(app: RunnerApp) -> list[str]:
    assert app.local_storage is not None
    return [path async for path in app.local_storage.export_paths()]


def cancelled(result: ExportResult | None) -> bool:
    return isinstance(result, ExportFailure) and result.status.value == "cancelled"


async def test_an_export_cancelled_while_its_file_is_stored_leaves_no_file(
    app: RunnerApp, conn: psycopg.AsyncConnection[Any], tmp_path: Path
) -> None:
    assert app.local_storage is not None
    storage = GatedStorage(app.local_storage)
    # The lease keeper looks only every 10 s: the completion is what finds the
    # cancellation, after the file was stored.
    run = pipeline(app, tmp_path, storage, app.local_storage, watch=10)
    export = await request_as(conn, ADMINS["nhf"], ORGS["nhf"])

    running = asyncio.create_task(run.run_export())
    await asyncio.wait_for(storage.at_gate.wait(), HANG)
    assert len(await stored(app)) == 1  # stored, not yet completed
    await cancel(conn, ADMINS["nhf"], export)
    storage.gate.set()
    result = await asyncio.wait_for(running, HANG)

    assert cancelled(result)
    assert await stored(app) == []
    assert list((tmp_path / "work").iterdir()) == []


async def test_an_upload_under_way_is_stopped_by_a_cancellation(
    app: RunnerApp, conn: psycopg.AsyncConnection[Any], tmp_path: Path
) -> None:
    assert app.local_storage is not None
    storage = GatedStorage(app.local_storage, before=True)  # the upload stalls, never ends
    run = pipeline(app, tmp_path, storage, app.local_storage, watch=0.05)
    export = await request_as(conn, ADMINS["nhf"], ORGS["nhf"])

    running = asyncio.create_task(run.run_export())
    await asyncio.wait_for(storage.at_gate.wait(), HANG)
    await cancel(conn, ADMINS["nhf"], export)
    result = await asyncio.wait_for(running, HANG)  # the gate is never opened

    assert cancelled(result)
    assert storage.uploads_finished == 0
    assert await stored(app) == []


async def test_bundling_stops_between_attachments_once_cancelled(
    app: RunnerApp, conn: psycopg.AsyncConnection[Any], tmp_path: Path
) -> None:
    assert app.local_storage is not None
    rows = await upload_attachments(conn, app.local_storage, ORGS["hlf"])
    assert len(rows) >= 10
    attachments = SlowAttachments(app.local_storage)
    storage = GatedStorage(app.local_storage)
    run = pipeline(app, tmp_path, storage, attachments, watch=0.05)
    export = await request_as(
        conn, ADMINS["hlf"], ORGS["hlf"], format="csv", include_attachments=True
    )

    running = asyncio.create_task(run.run_export())
    await asyncio.wait_for(attachments.first.wait(), HANG)
    await cancel(conn, ADMINS["hlf"], export)
    result = await asyncio.wait_for(running, HANG)

    assert cancelled(result)
    assert attachments.reads < len(rows)  # it stopped before the last one
    assert not storage.at_gate.is_set()  # and never began to store
    assert list((tmp_path / "work").iterdir()) == []  # nor left its half-written zip
