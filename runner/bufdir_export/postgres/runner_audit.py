"""The audit record in PostgreSQL: the runner's guarded writes, through a connection pool."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any, LiteralString
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from .._errors import DatabaseUnavailable, ExportNotFound
from .._models import ErrorCode, ExportRecord, ExportScope, ExportStatus, ReportBasis
from ..core.lease import held
from ..core.observer import UNOBSERVED, Observer
from ..core.ports import ClaimedExport, GeneratedFile, SignedUrl
from ..core.retry import retry_transient
from ..core.sweep import StoredExport
from .error_translation import translate_error
from .queries import Queries

__all__ = ["PostgresAudit"]


class PostgresAudit:
    """:class:`~bufdir_export.core.ports.AuditService` on PostgreSQL, as runner ``runner_id``.

    Every write renews the lease, and :meth:`hold` renews it every
    ``watch_interval`` seconds while a step runs, which is also how a step
    learns within that time that its export was cancelled. Progress is written at most once per
    ``progress_interval`` seconds per export (and always when it is done).
    Each retried fault is told to ``observer``.
    """

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        queries: Queries,
        *,
        runner_id: str,
        lease: timedelta,
        progress_interval: float = 0.25,
        watch_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        observer: Observer = UNOBSERVED,
    ) -> None:
        self._pool = pool
        self._observer = observer
        self._queries = queries
        self._runner_id = runner_id
        self._lease_seconds = max(1, int(lease.total_seconds()))
        self._progress_interval = progress_interval
        self._watch_interval = watch_interval
        self._clock = clock
        self._last_progress: dict[UUID, float] = {}

    async def _row(self, query: LiteralString, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """One row of ``query``; a lost connection or a conflict is retried (a guarded
        write whose first try did commit then answers LeaseLost, and the export
        is left to its lease)."""

        async def once() -> dict[str, Any] | None:
            try:
                async with (
                    self._pool.connection() as conn,
                    conn.cursor(row_factory=dict_row) as cur,
                ):
                    await cur.execute(query, params)
                    row: dict[str, Any] | None = await cur.fetchone()
                    return row
            except psycopg.Error as error:
                raise translate_error(error) from error

        return await retry_transient(once, observer=self._observer)

    async def _rows(self, query: LiteralString, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row of ``query``, tried once (its callers run again on their own
        schedule: the reaper, the sweep, the purge)."""
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(query, params)
                rows: list[tuple[Any, ...]] = await cursor.fetchall()
                return rows
        except psycopg.Error as error:
            raise translate_error(error) from error

    async def _record(self, query: LiteralString, params: Mapping[str, Any]) -> ExportRecord:
        row = await self._row(query, params)
        if row is None:
            export_id = params["export_id"]
            raise ExportNotFound(f"export {export_id} does not exist", export_id=export_id)
        return ExportRecord.model_validate(row)

    def _held(self, export: ExportRecord) -> dict[str, Any]:
        # The claim's token is the attempt it counted: a write under an older
        # claim is refused (XB008), whichever worker of this runner makes it.
        return {"export_id": export.id, "runner_id": self._runner_id, "claim": export.attempts}

    async def claim(self) -> ClaimedExport | None:
        row = await self._row(
            self._queries["claim_export"],
            {"runner_id": self._runner_id, "lease_seconds": self._lease_seconds},
        )
        if row is None:
            return None
        scope = row.pop("scope")
        event_id, event_hash = row.pop("audit_event_id"), row.pop("audit_hash")
        count = row.pop("activity_count")
        basis = (
            None
            if scope is None
            else ReportBasis(
                scope=ExportScope(scope), audit_event_id=event_id, audit_hash=event_hash
            )
        )
        return ClaimedExport(ExportRecord.model_validate(row), basis, count)

    async def current(self, export_id: UUID) -> ExportRecord:
        return await self._record(self._queries["current_export"], {"export_id": export_id})

    async def advance(
        self, export: ExportRecord, to: ExportStatus, *, config_version: int | None = None
    ) -> ExportRecord:
        if config_version is not None and to is ExportStatus.GENERATING_FILE:
            return await self._record(
                self._queries["begin_generating_export"],
                {
                    **self._held(export),
                    "lease_seconds": self._lease_seconds,
                    "config_version": config_version,
                },
            )
        return await self._record(
            self._queries["advance_export"],
            {
                **self._held(export),
                "from_status": export.status.value,
                "to_status": to.value,
                "lease_seconds": self._lease_seconds,
            },
        )

    async def progress(self, export: ExportRecord, rows_done: int, rows_total: int) -> None:
        now = self._clock()
        last = self._last_progress.get(export.id)
        finished = rows_done >= rows_total
        if last is not None and now - last < self._progress_interval and not finished:
            return
        self._last_progress[export.id] = now
        await self._record(
            self._queries["heartbeat_export"],
            {
                **self._held(export),
                "lease_seconds": self._lease_seconds,
                "rows_done": rows_done,
                "rows_total": rows_total,
            },
        )

    async def heartbeat(self, export: ExportRecord) -> None:
        """Renew the lease without news of progress."""
        await self._record(
            self._queries["heartbeat_export"],
            {
                **self._held(export),
                "lease_seconds": self._lease_seconds,
                "rows_done": None,
                "rows_total": None,
            },
        )

    async def complete(
        self, export: ExportRecord, stored: GeneratedFile, file_path: str, url: SignedUrl
    ) -> ExportRecord:
        self._last_progress.pop(export.id, None)
        return await self._record(
            self._queries["complete_export"],
            {
                **self._held(export),
                "row_count": stored.row_count,
                "counted_days": stored.counted_days,
                "file_size_bytes": stored.size_bytes,
                "file_path": file_path,
                "file_sha256": stored.sha256,
                "download_url": url.url,
                "download_url_expires_at": url.expires_at,
            },
        )

    async def complete_empty(self, export: ExportRecord) -> ExportRecord:
        return await self._record(self._queries["complete_empty_export"], self._held(export))

    async def fail(self, export: ExportRecord, code: ErrorCode, message: str) -> ExportRecord:
        self._last_progress.pop(export.id, None)
        return await self._record(
            self._queries["fail_export"],
            {**self._held(export), "error_code": code.value, "error_message": message},
        )

    async def release(self, export: ExportRecord) -> None:
        """Give the export back (on shutdown): it is re-queued for another runner."""
        self._last_progress.pop(export.id, None)
        await self._record(self._queries["release_export"], self._held(export))

    async def defer(self, export: ExportRecord, delay: timedelta) -> ExportRecord:
        """Give the export back to the queue, not to be claimed for ``delay``."""
        self._last_progress.pop(export.id, None)
        return await self._record(
            self._queries["defer_export"],
            {**self._held(export), "delay_seconds": delay.total_seconds()},
        )

    async def reap(self, max_attempts: int) -> list[tuple[UUID, ExportStatus, ExportStatus]]:
        """Re-queue (or fail, once attempts are used up) exports whose lease expired."""
        rows = await self._rows(self._queries["reap_exports"], {"max_attempts": max_attempts})
        return [(row[0], ExportStatus(row[1]), ExportStatus(row[2])) for row in rows]

    async def stored_exports(self, export_ids: Sequence[UUID]) -> dict[UUID, StoredExport]:
        """:class:`~bufdir_export.core.sweep.ExportFiles`: status and file, by export."""
        rows = await self._rows(self._queries["stored_exports"], {"export_ids": list(export_ids)})
        return {row[0]: StoredExport(ExportStatus(row[1]), row[2]) for row in rows}

    async def expired_files(self, retention: timedelta, limit: int) -> list[tuple[UUID, str]]:
        """:class:`~bufdir_export.core.retention.ExpiredFiles`: whose files to delete."""
        rows = await self._rows(
            self._queries["expired_export_files"], {"retention": retention, "limit": limit}
        )
        return [(row[0], row[1]) for row in rows]

    async def record_file_deleted(self, export_id: UUID) -> None:
        await self._row(
            self._queries["record_file_deleted"],
            {"export_id": export_id, "runner_id": self._runner_id},
        )

    async def waiting(self) -> tuple[int, float]:
        """How many exports any runner could claim now, and how many seconds the
        longest-waiting of them has waited (0 when none waits)."""
        row = await self._row(self._queries["waiting_exports"], {})
        if row is None:  # an aggregate always has its row
            return 0, 0.0
        return int(row["waiting"]), float(row["oldest_seconds"])

    async def ping(self) -> None:
        """One statement through the pool, raising the database's error if it fails."""
        try:
            async with self._pool.connection() as conn:
                await conn.execute(self._queries["ping_database"])
        except psycopg.Error as error:
            raise translate_error(error) from error
        except PoolTimeout as error:
            raise DatabaseUnavailable("no connection to the database in time") from error

    def hold(self, export: ExportRecord) -> AbstractAsyncContextManager[None]:
        """Renew the lease every ``watch_interval`` seconds (a third of the lease at
        most) while the block runs; the block is stopped, with LeaseLost, once the
        export is found cancelled or claimed again."""
        period = max(0.05, min(self._watch_interval, self._lease_seconds / 3))
        return held(lambda: self.heartbeat(export), period=period, name=f"export {export.id}")
