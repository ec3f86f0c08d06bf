"""The activities of an export, read from PostgreSQL through a server-side cursor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool

from .._models import ExportRecord
from ..core.observer import UNOBSERVED, Observer
from ..core.ports import Activity, Attachment
from ..core.retry import retry_transient
from .error_translation import translate_error
from .queries import Queries

__all__ = ["PostgresActivities"]


class PostgresActivities:
    """:class:`~bufdir_export.core.ports.ActivitySource` on PostgreSQL.

    Rows arrive ``batch_size`` at a time from a named (server-side) cursor, so
    memory does not grow with the export.
    """

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        queries: Queries,
        *,
        batch_size: int = 2_000,
        observer: Observer = UNOBSERVED,
    ) -> None:
        self._pool = pool
        self._queries = queries
        self._batch_size = batch_size
        self._observer = observer

    @staticmethod
    def _params(export: ExportRecord) -> dict[str, Any]:
        return {"export_id": export.id}

    async def count(self, export: ExportRecord) -> int:
        async def once() -> int:
            try:
                async with self._pool.connection() as conn:
                    cursor = await conn.execute(
                        self._queries["count_activities"], self._params(export)
                    )
                    row = await cursor.fetchone()
            except psycopg.Error as error:
                raise translate_error(error) from error
            return int(row[0]) if row else 0

        return await retry_transient(once, observer=self._observer)

    async def stream(self, export: ExportRecord) -> AsyncIterator[Activity]:
        try:
            async with (
                self._pool.connection() as conn,
                conn.transaction(),  # a server-side cursor lives in a transaction
                conn.cursor(
                    name=f"activities_{export.id.hex}", row_factory=class_row(Activity)
                ) as cursor,
            ):
                cursor.itersize = self._batch_size
                await cursor.execute(self._queries["stream_activities"], self._params(export))
                async for activity in cursor:
                    yield activity
        except psycopg.Error as error:
            raise translate_error(error) from error

    async def attachments(self, export: ExportRecord) -> AsyncIterator[Attachment]:
        try:
            async with (
                self._pool.connection() as conn,
                conn.cursor(row_factory=class_row(Attachment)) as cursor,
            ):
                await cursor.execute(self._queries["list_attachments"], self._params(export))
                async for attachment in cursor:
                    yield attachment
        except psycopg.Error as error:
            raise translate_error(error) from error
