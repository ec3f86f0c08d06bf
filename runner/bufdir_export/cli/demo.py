"""The demo: a fresh database, migrated and seeded, a runner, and an export asked
for by each organisation's admin through the Python client, followed live."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import psycopg
from psycopg import sql
from pydantic import SecretStr
from rich.console import Console, Group

from .._errors import PermissionDenied
from .._models import Caller, ExportFormat, ExportRecord, ExportRequest
from .._settings import Settings
from ..client.client_app import ClientApp
from ..postgres.chain_reader import OrganisationChain, verify_chains
from ..postgres.queries import Queries, load_queries
from ..runner_app import RunnerApp
from ..tools.database_choice import open_server
from ..tools.migrations import migrate
from ..tools.seed import apply_demo_seed
from .live_view import ExportView, live

__all__ = ["DemoReport", "DemoResult", "run_demo"]

_PERIOD = (date(2025, 1, 1), date(2025, 12, 31))
# What each organisation asks for: (format, include attachments).
_ASKS = {
    "nhf": (ExportFormat.XLSX, False),
    "blindeforbundet": (ExportFormat.CSV, False),
    "hlf": (ExportFormat.XLSX, True),
}
_WITHIN_SECONDS = 120


@dataclass(frozen=True)
class DemoResult:
    organisation: str
    asked: str
    record: ExportRecord
    download: str  # what fetching the link gave


@dataclass
class DemoReport:
    where: str
    migrations: list[str] = field(default_factory=list)
    organisations: list[tuple[Any, ...]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    results: list[DemoResult] = field(default_factory=list)
    files_in: str = ""
    chains: list[OrganisationChain] = field(default_factory=list)


async def run_demo(
    settings: Settings,
    console: Console,
    *,
    keep: bool = False,
    on_ready: Callable[[DemoReport], None] = lambda _: None,
) -> DemoReport:
    """Run the demo. ``on_ready`` is called once the database is migrated and
    seeded; then ``console`` shows the exports live while they run."""
    queries = load_queries()
    name = f"bufdir_export_demo_{secrets.token_hex(4)}"
    async with open_server(settings) as server:
        report = DemoReport(where=f"{server.kind} server, database {name}")
        async with await psycopg.AsyncConnection.connect(
            server.conninfo(), autocommit=True
        ) as admin:
            await admin.execute(
                sql.SQL(queries["create_database"]).format(name=sql.Identifier(name))
            )
            try:
                demo_settings = _settings_for(settings, server.conninfo(name), name)
                admins = await _prepare(server.conninfo(name), queries, report)
                await _refusal(demo_settings, queries, report)
                on_ready(report)
                await _run_exports(demo_settings, queries, admins, report, console)
                # As an auditor would, last: the trail the exports left holds.
                async with await psycopg.AsyncConnection.connect(server.conninfo(name)) as conn:
                    report.chains = await verify_chains(conn, queries)
            finally:
                if not keep or server.kind == "embedded":
                    await admin.execute(
                        sql.SQL(queries["drop_database"]).format(name=sql.Identifier(name))
                    )
    return report


def _settings_for(settings: Settings, conninfo: str, name: str) -> Settings:
    return settings.model_copy(
        update={
            "database_url": SecretStr(conninfo),
            "storage_backend": "local",
            "storage_dir": settings.storage_dir / name,
            "signing_secret": SecretStr(secrets.token_urlsafe(32)),
            "download_base_url": "http://127.0.0.1:0",
            "runner_id": "demo-runner",
            "concurrency": 3,
            "poll_interval_seconds": 0.5,
            "watch_poll_interval_seconds": 0.5,
        }
    )


async def _prepare(conninfo: str, queries: Queries, report: DemoReport) -> list[tuple[Any, ...]]:
    """Migrate and seed; each organisation's admin, with the organisation."""
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        migrated = await migrate(conn, queries)
        report.migrations = [f"{m.version}_{m.name}" for m in migrated.applied]
        await apply_demo_seed(conn)
        report.organisations = list(
            await (await conn.execute(queries["organisation_summary"])).fetchall()
        )
        cursor = await conn.execute(queries["organisation_members_by_role"], {"role": "admin"})
        return list(await cursor.fetchall())


async def _refusal(settings: Settings, queries: Queries, report: DemoReport) -> None:
    """The database, not the client, decides who may ask: a member of one
    organisation asking for another's report is refused."""
    conninfo = settings.required_conninfo()
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        outsider = await (await conn.execute(queries["member_and_foreign_organisation"])).fetchone()
    if outsider is None:
        return
    slug, user_id, other_slug, other_id = outsider
    client = ClientApp(settings, Caller(user_id), queries=queries)
    try:
        await client.exports.start_export(
            ExportRequest(organisation_id=other_id, period_start=_PERIOD[0], period_end=_PERIOD[1])
        )
    except PermissionDenied as refused:
        report.refusals.append(f"a member of {slug} asking for {other_slug}: {refused}")


async def _run_exports(
    settings: Settings,
    queries: Queries,
    admins: list[tuple[Any, ...]],
    report: DemoReport,
    console: Console,
) -> None:
    """A runner on the demo database; each admin asks for an export and watches it."""
    conninfo = settings.required_conninfo()
    report.files_in = str(settings.storage_dir / "exports")
    runner = RunnerApp(settings, conninfo, queries=queries)
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        # The app would have uploaded these; the demo stores stand-ins of the same size.
        cursor = await conn.execute(queries["attachments_of_organisation"], {"slug": "hlf"})
        for path, size in await cursor.fetchall():
            if runner.local_storage is not None:
                await runner.local_storage.put_attachment(path, b"%" * int(size))
    await runner.open()
    running = asyncio.create_task(runner.runner.run())
    try:
        views: list[ExportView] = []
        follows = []
        for slug, organisation_id, user_id in admins:
            file_format, attachments = _ASKS.get(slug, (ExportFormat.XLSX, False))
            client = ClientApp(settings, Caller(user_id), queries=queries)
            watch = await client.exports.start_export(
                ExportRequest(
                    organisation_id=organisation_id,
                    period_start=_PERIOD[0],
                    period_end=_PERIOD[1],
                    format=file_format,
                    include_attachments=attachments,
                )
            )
            asked = f"{file_format}{' + vedlegg' if attachments else ''}"
            view = ExportView(
                f"{slug} · {asked} · {watch.export_id}", include_attachments=attachments
            )
            views.append(view)
            follows.append((slug, asked, watch, view))

        async def follow(watch: Any, view: ExportView) -> None:
            async for update in watch.watch():
                view.update(update)

        with live(Group(*views), console):
            async with asyncio.timeout(_WITHIN_SECONDS):
                await asyncio.gather(*(follow(watch, view) for _, _, watch, view in follows))
        async with httpx.AsyncClient() as http:
            for slug, asked, _, view in follows:
                assert view.record is not None  # noqa: S101 - every watch ended
                download = await _check_download(http, view.record)
                report.results.append(DemoResult(slug, asked, view.record, download))
    finally:
        runner.runner.stop()
        await running
        await runner.close()


async def _check_download(http: httpx.AsyncClient, record: ExportRecord) -> str:
    if record.download_url is None:
        return "-"
    response = await http.get(record.download_url)
    same = response.status_code == 200 and len(response.content) == record.file_size_bytes
    return f"HTTP {response.status_code}, {'same size' if same else 'WRONG SIZE'}"
