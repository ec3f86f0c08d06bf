"""Retention: the files of completed exports are deleted from storage once
their retention period has ended, and the deletion is recorded (by export,
when, by whom) in the audit trail. The records and their events stay.

A file is recorded as deleted only after the store confirmed the delete; a
store that fails leaves the rest for the next purge, and a purge that is run
twice deletes nothing twice (a missing file is no error to the store, and a
second record of the same export changes nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol
from uuid import UUID

from .ports import Storage

__all__ = ["ExpiredFiles", "PurgeReport", "Purger"]


class ExpiredFiles(Protocol):
    async def expired_files(self, retention: timedelta, limit: int) -> Sequence[tuple[UUID, str]]:
        """Up to ``limit`` completed exports whose file is stored still though
        they completed more than ``retention`` ago: (export id, file path),
        the oldest first."""
        ...

    async def record_file_deleted(self, export_id: UUID) -> None:
        """Record that the export's file was deleted from storage."""
        ...


@dataclass(frozen=True, slots=True)
class PurgeReport:
    deleted: list[tuple[UUID, str]] = field(default_factory=list)


class Purger:
    """Deletes the files whose retention ended, ``batch`` at a time."""

    def __init__(
        self, storage: Storage, files: ExpiredFiles, retention: timedelta, *, batch: int = 100
    ) -> None:
        if retention <= timedelta(0):
            raise ValueError("a retention period is longer than nothing (0 keeps files: no purger)")
        self._storage = storage
        self._files = files
        self._retention = retention
        self._batch = batch

    async def purge(self) -> PurgeReport:
        report = PurgeReport()
        while True:
            expired = list(await self._files.expired_files(self._retention, self._batch))
            if not expired:
                return report
            await self._storage.delete([path for _, path in expired])
            for export_id, path in expired:
                await self._files.record_file_deleted(export_id)
                report.deleted.append((export_id, path))
            if len(expired) < self._batch:
                return report
