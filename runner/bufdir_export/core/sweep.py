"""The sweep: removes stored objects that no completed export names.

A file is stored before its export completes, so a runner that dies, loses
its export, or fails to remove its file can leave one behind: the file of an
export that ended failed or cancelled, what a crash left of an upload, or the
file of a claim that lost its export to another. The pipeline removes its own
file when its export ends unfinished under its claim; the sweep catches the
rest. For each object in an export's folder (``<organisation>/<export>/``):

- the export is unfinished (waiting or in a step): kept, it may be storing
  that very file now;
- the export completed and names that path: kept, it is the report;
- anything else (failed, cancelled, completed empty, completed with another
  file, or no such export): removed.

Only the terminal statuses remove, and they are final, so a file kept or
removed stays rightly so whatever happens while the sweep runs. An object
outside every export's folder is not the product's to judge: it is counted
and left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from .._models import TERMINAL, ExportStatus
from .._paths import export_of_object
from .ports import Storage

__all__ = ["ExportFiles", "StoredExport", "SweepReport", "Sweeper", "is_orphan"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoredExport:
    """What the audit record says of an export whose folder holds an object."""

    status: ExportStatus
    file_path: str | None


class ExportFiles(Protocol):
    async def stored_exports(self, export_ids: Sequence[UUID]) -> Mapping[UUID, StoredExport]:
        """The status and file of each of these exports that exists."""
        ...


@dataclass(frozen=True, slots=True)
class SweepReport:
    removed: tuple[str, ...]  # or, in a dry run, would have been
    kept: int
    foreign: tuple[str, ...]  # outside every export's folder: left alone


def is_orphan(path: str, export: StoredExport | None) -> bool:
    """Whether the object at ``path``, in the folder of ``export``, is to be removed."""
    if export is None:
        return True
    if export.status not in TERMINAL:
        return False
    return not (export.status is ExportStatus.COMPLETED and export.file_path == path)


class Sweeper:
    """Walks the stored objects ``batch`` at a time and removes the orphans."""

    def __init__(self, storage: Storage, exports: ExportFiles, *, batch: int = 1000) -> None:
        self._storage = storage
        self._exports = exports
        self._batch = batch

    async def sweep(self, *, dry_run: bool = False) -> SweepReport:
        removed: list[str] = []
        foreign: list[str] = []
        kept = 0
        pending: list[tuple[str, UUID]] = []

        async def settle() -> None:
            nonlocal kept
            known = await self._exports.stored_exports(sorted({export for _, export in pending}))
            orphans = [path for path, export in pending if is_orphan(path, known.get(export))]
            kept += len(pending) - len(orphans)
            if orphans and not dry_run:
                await self._storage.delete(orphans)
            removed.extend(orphans)
            pending.clear()

        async for path in self._storage.export_paths():
            export = export_of_object(path)
            if export is None:
                foreign.append(path)
                continue
            pending.append((path, export))
            if len(pending) >= self._batch:
                await settle()
        if pending:
            await settle()
        for path in removed:
            log.info("sweep: %s %s", "would remove" if dry_run else "removed", path)
        return SweepReport(removed=tuple(removed), kept=kept, foreign=tuple(foreign))
