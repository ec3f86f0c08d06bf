"""The demo: a fresh database, migrated and seeded, and an export requested per organisation."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import psycopg
from psycopg import sql
from pydantic import SecretStr

from ._acting import act_as_user
from ._app import RunnerApp
from ._db_errors import translate_error
from ._errors import PermissionDenied
from ._migrations import migrate
from ._queries import Queries, load_queries
from ._seed import apply_demo_seed
from ._server import open_server
from ._settings import Settings

_ENDED = ("completed", "completed_empty", "failed", "cancelled")

__all__ = ["DemoReport", "run_demo"]

_PERIOD = (date(2025, 1, 1), date(2025, 12, 31))
# What each organisation asks for: (format, include attachments).
_ASKS = {"nhf": ("xlsx", False), "blindeforbundet": ("csv", False), "hlf": ("xlsx", True)}


@dataclass
class DemoReport:
    where: str
    migrations: list[str] = field(default_factory=list)
    organisations: list[tuple[Any, ...]] = field(default_factory=list)
    exports: list[tuple[Any, ...]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    # (organisation, what was asked, status, rows, bytes, seconds, download, file)
    results: list[tuple[Any, ...]] = field(default_factory=list)
    files_in: str = ""


async def run_demo(settings: Settings, *, keep: bool = False) -> DemoReport:
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
                await _demo_in(server.conninfo(name), queries, report)
                await _run_exports(server.conninfo(name), settings, queries, report, name)
            finally:
                if not keep or server.kind == "embedded":
                    await admin.execute(
                        sql.SQL(queries["drop_database"]).format(name=sql.Identifier(name))
                    )
    return report


async def _demo_in(conninfo: str, queries: Queries, report: DemoReport) -> None:
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        migrated = await migrate(conn, queries)
        report.migrations = [f"{m.version}_{m.name}" for m in migrated.applied]
        await apply_demo_seed(conn)
        report.organisations = list(
            await (await conn.execute(queries["organisation_summary"])).fetchall()
        )

        admins = await (
            await conn.execute(queries["organisation_members_by_role"], {"role": "admin"})
        ).fetchall()
        for slug, organisation_id, user_id in admins:
            async with conn.transaction():
                await act_as_user(conn, queries, user_id)
                cursor = await conn.execute(
                    queries["request_export"],
                    {
                        "organisation_id": organisation_id,
                        "period_start": _PERIOD[0],
                        "period_end": _PERIOD[1],
                        "format": _ASKS.get(slug, ("xlsx", False))[0],
                        "include_attachments": _ASKS.get(slug, ("xlsx", False))[1],
                    },
                )
                export_id, status = await cursor.fetchone() or (None, None)
                events = await (
                    await conn.execute(queries["export_event_count"], {"export_id": export_id})
                ).fetchone()
            report.exports.append(
                (
                    slug,
                    export_id,
                    f"{_PERIOD[0]:%d.%m.%Y}-{_PERIOD[1]:%d.%m.%Y}",
                    status,
                    events[0] if events else 0,
                )
            )

        # The database, not the client, decides who may ask: a member of one
        # organisation asking for another's report is refused.
        outsider = await (await conn.execute(queries["member_and_foreign_organisation"])).fetchone()
        if outsider is not None:
            slug, user_id, other_slug, other_id = outsider
            try:
                async with conn.transaction():
                    await act_as_user(conn, queries, user_id)
                    await conn.execute(
                        queries["request_export"],
                        {
                            "organisation_id": other_id,
                            "period_start": _PERIOD[0],
                            "period_end": _PERIOD[1],
                            "format": "xlsx",
                            "include_attachments": False,
                        },
                    )
            except psycopg.Error as error:
                refused = translate_error(error)
                if not isinstance(refused, PermissionDenied):
                    raise refused from error
                report.refusals.append(f"a member of {slug} asking for {other_slug}: {refused}")


async def _run_exports(
    conninfo: str, settings: Settings, queries: Queries, report: DemoReport, name: str
) -> None:
    """Start a runner on the demo database and watch the requested exports end."""
    storage_dir = settings.storage_dir / name
    demo_settings = settings.model_copy(
        update={
            "storage_backend": "local",
            "storage_dir": storage_dir,
            "signing_secret": SecretStr(secrets.token_urlsafe(32)),
            "download_base_url": "http://127.0.0.1:0",
            "runner_id": "demo-runner",
            "concurrency": 3,
            "poll_interval_seconds": 0.5,
        }
    )
    report.files_in = str(storage_dir / "exports")
    app = RunnerApp(demo_settings, conninfo, queries=queries)
    local = app.local_storage
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        # The app would have uploaded these; the demo stores stand-ins of the same size.
        cursor = await conn.execute(queries["attachments_of_organisation"], {"slug": "hlf"})
        for path, size in await cursor.fetchall():
            if local is not None:
                await local.put_attachment(path, b"%" * int(size))
        await app.open()
        running = asyncio.create_task(app.runner.run())
        try:
            export_ids = [row[1] for row in report.exports]
            outcomes = await _until_ended(conn, queries, export_ids, within=120)
            async with httpx.AsyncClient() as http:
                for row in outcomes:
                    report.results.append(await _result(http, row))
        finally:
            app.runner.stop()
            await running
            await app.close()


async def _until_ended(
    conn: psycopg.AsyncConnection[Any], queries: Queries, export_ids: list[Any], within: float
) -> list[tuple[Any, ...]]:
    async with asyncio.timeout(within):
        while True:
            cursor = await conn.execute(queries["export_outcomes"], {"export_ids": export_ids})
            rows = list(await cursor.fetchall())
            if all(row[4] in _ENDED for row in rows):
                return rows
            await asyncio.sleep(0.1)


async def _result(http: httpx.AsyncClient, row: tuple[Any, ...]) -> tuple[Any, ...]:
    (slug, _id, file_format, attachments, status, rows, size, seconds, path, url, code, message) = (
        row
    )
    asked = f"{file_format}{' + vedlegg' if attachments else ''}"
    download = "-"
    if url is not None:
        response = await http.get(url)
        ok = response.status_code == 200 and len(response.content) == size
        download = f"HTTP {response.status_code}, {'same size' if ok else 'WRONG SIZE'}"
    ending = status if code is None else f"{status} ({code}: {message})"
    return (slug, asked, ending, rows, size, f"{seconds:.2f} s", download, path or "-")
