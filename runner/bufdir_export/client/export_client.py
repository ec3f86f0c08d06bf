"""The Python client: exports asked for and watched as the signed-in user.

Every statement runs as the caller (see :mod:`bufdir_export.postgres.acting`), so the
database decides, exactly as it does for an app going through PostgREST: the
organisation comes from the request, the user from the caller, and RLS checks
that the one belongs to the other.

A watch LISTENs on the export's own channel (``bufdir_export:<id>``) and reads
the row and its new events when woken, or every ``poll_interval`` seconds
when no notification comes (a notification is only a hint). Statuses come
from the event log, so a watcher sees every status in order however quickly
they follow each other. A lost connection is made again, a few times.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, LiteralString
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from .._errors import (
    ConfigurationError,
    DatabaseUnavailable,
    ExportNotFound,
    PermissionDenied,
    UsageError,
    WaitTimedOut,
)
from .._models import (
    TERMINAL,
    Caller,
    ExportEvent,
    ExportRecord,
    ExportRequest,
    ExportResult,
    ExportStatus,
    ExportUpdate,
    result_of,
)
from .._settings import require_conninfo
from ..postgres.acting import act_as_user, caller_session
from ..postgres.error_translation import translate_error
from ..postgres.queries import Queries

__all__ = ["PostgresExportClient", "PostgresExportWatch"]

# How often a watch makes its connection again before it gives up.
_RECONNECTS = 5


@dataclass(frozen=True)
class _Database:
    """Where and as whom a client works."""

    conninfo: str
    caller: Caller
    queries: Queries
    connect_timeout: float

    def session(self) -> AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]:
        return caller_session(
            self.conninfo, self.queries, self.caller, connect_timeout=self.connect_timeout
        )

    async def one(self, query: LiteralString, params: Mapping[str, Any]) -> dict[str, Any] | None:
        async with self.session() as conn, conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(query, params)
            row: dict[str, Any] | None = await cursor.fetchone()
            return row

    async def listening(self, export_id: UUID) -> psycopg.AsyncConnection[Any]:
        """An autocommit connection LISTENing on the export's channel."""
        conn = await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, connect_timeout=max(1, round(self.connect_timeout))
        )
        try:
            channel = sql.Identifier(f"bufdir_export:{export_id}")
            await conn.execute(sql.SQL(self.queries["listen_export"]).format(channel=channel))
        except BaseException:
            await conn.close()
            raise
        return conn

    async def read(
        self, conn: psycopg.AsyncConnection[Any], export_id: UUID, after_event: int
    ) -> tuple[ExportRecord, list[ExportEvent]]:
        """The export and its events after ``after_event``, in one snapshot."""
        async with conn.transaction(), conn.cursor(row_factory=dict_row) as cursor:
            await act_as_user(conn, self.queries, self.caller)
            await cursor.execute(
                self.queries["watch_export"], {"export_id": export_id, "after_event": after_event}
            )
            row = await cursor.fetchone()
        if row is None:
            raise ExportNotFound(
                f"export {export_id} not found among the user's", export_id=export_id
            )
        events = [ExportEvent.model_validate(event) for event in row.pop("new_events")]
        return ExportRecord.model_validate(row), events


class PostgresExportClient:
    """:class:`~bufdir_export.client.services.ExportService` on a direct connection.

    Constructing it connects to nothing; each call opens what it needs.
    """

    def __init__(
        self,
        conninfo: str | None,
        caller: Caller | None,
        queries: Queries,
        *,
        poll_interval: float = 2.0,
        connect_timeout: float = 10.0,
    ) -> None:
        self._conninfo = conninfo
        self._caller = caller
        self._queries = queries
        self._poll_interval = poll_interval
        self._connect_timeout = connect_timeout

    def _database(self) -> _Database:
        if self._caller is None:
            raise ConfigurationError("a client acts for a signed-in user: name one")
        return _Database(
            require_conninfo(self._conninfo), self._caller, self._queries, self._connect_timeout
        )

    async def organisation_id(self, slug: str) -> UUID:
        row = await self._database().one(self._queries["organisation_by_slug"], {"slug": slug})
        if row is None:
            # Unknown, or not one of the user's: the same answer.
            raise UsageError(f"no organisation {slug!r} among the user's")
        return UUID(str(row["id"]))

    async def start_export(self, request: ExportRequest) -> PostgresExportWatch:
        database = self._database()
        try:
            row = await database.one(self._queries["request_export"], request.model_dump())
        except PermissionDenied as error:
            # The insert policy asks one thing the client controls: membership.
            raise PermissionDenied(
                f"the user may not request an export for organisation {request.organisation_id}:"
                " they are not a member of it",
                sqlstate=error.sqlstate,
                constraint=error.constraint,
            ) from error
        assert row is not None  # noqa: S101 - insert ... returning
        return PostgresExportWatch(database, UUID(str(row["id"])), self._poll_interval)

    def follow(self, export_id: UUID) -> PostgresExportWatch:
        return PostgresExportWatch(self._database(), export_id, self._poll_interval)

    async def export(self, export_id: UUID) -> ExportRecord:
        row = await self._database().one(self._queries["current_export"], {"export_id": export_id})
        if row is None:
            raise ExportNotFound(
                f"export {export_id} not found among the user's", export_id=export_id
            )
        return ExportRecord.model_validate(row)

    async def cancel(self, export_id: UUID) -> ExportRecord:
        row = await self._database().one(self._queries["cancel_export"], {"export_id": export_id})
        assert row is not None  # noqa: S101 - the function returns the row or raises
        return ExportRecord.model_validate(row)

    async def retry(self, export_id: UUID) -> PostgresExportWatch:
        database = self._database()
        row = await database.one(self._queries["retry_export"], {"export_id": export_id})
        assert row is not None  # noqa: S101 - the function returns the row or raises
        return PostgresExportWatch(database, UUID(str(row["id"])), self._poll_interval)


class PostgresExportWatch:
    """One export, followed through LISTEN with a polling fallback."""

    def __init__(self, database: _Database, export_id: UUID, poll_interval: float) -> None:
        self._database = database
        self._export_id = export_id
        self._poll_interval = poll_interval

    @property
    def export_id(self) -> UUID:
        return self._export_id

    def __repr__(self) -> str:
        return f"PostgresExportWatch({self._export_id})"

    async def watch(self) -> AsyncIterator[ExportUpdate]:
        last_event = 0
        last_seen: tuple[ExportStatus, int | None, int | None] | None = None
        failures = 0
        while True:
            try:
                async with await self._database.listening(self._export_id) as conn:
                    while True:
                        record, events = await self._database.read(
                            conn, self._export_id, last_event
                        )
                        failures = 0
                        for event in events:
                            last_event = event.id
                            yield ExportUpdate(event.to_status, event.occurred_at, record)
                        seen = (record.status, record.rows_done, record.rows_total)
                        if not events and seen != last_seen:
                            yield ExportUpdate(record.status, record.updated_at, record)
                        last_seen = seen
                        if record.status in TERMINAL:
                            return
                        async for _ in conn.notifies(timeout=self._poll_interval, stop_after=1):
                            pass
            except psycopg.Error as error:
                translated = translate_error(error)
                failures += 1
                if not isinstance(translated, DatabaseUnavailable) or failures > _RECONNECTS:
                    raise translated from error
                await asyncio.sleep(min(2.0, 0.1 * 2**failures))

    async def result(self, timeout: float | None = None) -> ExportResult:  # noqa: ASYNC109
        last: ExportUpdate | None = None
        try:
            async with asyncio.timeout(timeout):
                async for update in self.watch():
                    last = update
        except TimeoutError:
            status = None if last is None else last.record.status
            raise WaitTimedOut(
                f"export {self._export_id} is still {status or 'unread'} after {timeout:g} s",
                export_id=self._export_id,
                status=status,
            ) from None
        assert last is not None  # noqa: S101 - a watch ends only at a terminal status
        return result_of(last.record)
