"""The demo: a fresh database, migrated and seeded, and an export requested per organisation."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg
from psycopg import sql

from ._db_errors import translate_error
from ._errors import PermissionDenied
from ._migrations import migrate
from ._queries import Queries, load_queries
from ._seed import apply_demo_seed
from ._server import open_server
from ._settings import Settings

__all__ = ["DemoReport", "run_demo"]

_PERIOD = (date(2025, 1, 1), date(2025, 12, 31))


@dataclass
class DemoReport:
    where: str
    migrations: list[str] = field(default_factory=list)
    organisations: list[tuple[Any, ...]] = field(default_factory=list)
    exports: list[tuple[Any, ...]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


async def _act_as(conn: psycopg.AsyncConnection[Any], queries: Queries, user_id: Any) -> None:
    claims = json.dumps({"sub": str(user_id), "role": "authenticated"})
    await conn.execute(queries["act_as_user"], {"claims": claims})


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
                await _act_as(conn, queries, user_id)
                cursor = await conn.execute(
                    queries["request_export"],
                    {
                        "organisation_id": organisation_id,
                        "period_start": _PERIOD[0],
                        "period_end": _PERIOD[1],
                        "format": "xlsx",
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
                    await _act_as(conn, queries, user_id)
                    await conn.execute(
                        queries["request_export"],
                        {
                            "organisation_id": other_id,
                            "period_start": _PERIOD[0],
                            "period_end": _PERIOD[1],
                            "format": "xlsx",
                        },
                    )
            except psycopg.Error as error:
                refused = translate_error(error)
                if not isinstance(refused, PermissionDenied):
                    raise refused from error
                report.refusals.append(f"a member of {slug} asking for {other_slug}: {refused}")
