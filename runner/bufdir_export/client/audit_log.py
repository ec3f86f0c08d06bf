"""Reading the audit log: export records and their event timelines.

As a signed-in user, RLS shows what they may see (their own exports; all of
their organisation's for its admin). Without one, the connection's own role
reads: an operator's or an auditor's view.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, LiteralString
from uuid import UUID

from psycopg.rows import dict_row

from .._errors import ExportNotFound
from .._models import AuditEntry, Caller, ExportEvent, ExportRecord, ExportStatus
from .._settings import require_conninfo
from ..postgres.acting import caller_session
from ..postgres.queries import Queries

__all__ = ["PostgresAuditLog"]


class PostgresAuditLog:
    """:class:`~bufdir_export.client.services.AuditLog` on a direct connection."""

    def __init__(
        self,
        conninfo: str | None,
        caller: Caller | None,
        queries: Queries,
        *,
        connect_timeout: float = 10.0,
    ) -> None:
        self._conninfo = conninfo
        self._caller = caller
        self._queries = queries
        self._connect_timeout = connect_timeout

    async def _rows(self, query: LiteralString, params: dict[str, Any]) -> list[dict[str, Any]]:
        async with (
            caller_session(
                require_conninfo(self._conninfo),
                self._queries,
                self._caller,
                connect_timeout=self._connect_timeout,
            ) as conn,
            conn.cursor(row_factory=dict_row) as cursor,
        ):
            await cursor.execute(query, params)
            return await cursor.fetchall()

    async def list(
        self,
        *,
        organisation: str | None = None,
        status: ExportStatus | None = None,
        since: datetime | None = None,
        limit: int = 50,
    ) -> list[AuditEntry]:
        rows = await self._rows(
            self._queries["list_exports"],
            {"organisation": organisation, "status": status, "since": since, "limit": limit},
        )
        return [_entry(row) for row in rows]

    async def show(self, export_id: UUID) -> AuditEntry:
        rows = await self._rows(self._queries["export_with_events"], {"export_id": export_id})
        if not rows:
            raise ExportNotFound(
                f"export {export_id} not found (or not yours to see)", export_id=export_id
            )
        return _entry(rows[0])


def _entry(row: dict[str, Any]) -> AuditEntry:
    organisation = row.pop("organisation")
    deleted = row.pop("file_deleted_at", None)
    version = row.pop("column_config_version", None)
    events = tuple(ExportEvent.model_validate(event) for event in row.pop("events", []))
    return AuditEntry(
        organisation=organisation,
        export=ExportRecord.model_validate(row),
        events=events,
        file_deleted_at=deleted,
        column_config_version=version,
    )
