"""What a client's front ends need, as small interfaces.

The UI controller and the command line know only these; the PostgreSQL
client implements them, and tests swap in fakes through the composition root
(:class:`bufdir_export.client.client_app.ClientApp`). Nothing here imports a
database driver.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Protocol
from uuid import UUID

from .._models import (
    AuditEntry,
    ExportRecord,
    ExportRequest,
    ExportResult,
    ExportStatus,
    ExportUpdate,
)

__all__ = ["AuditLog", "ExportService", "ExportWatch"]


class ExportWatch(Protocol):
    """One export a client started (or looks at), followed to its end."""

    @property
    def export_id(self) -> UUID: ...

    def watch(self) -> AsyncIterator[ExportUpdate]:
        """Every status the export reaches, in order, and news of its progress;
        ends after the terminal status."""
        ...

    async def result(self, timeout: float | None = None) -> ExportResult:  # noqa: ASYNC109
        """How the export ended; :class:`WaitTimedOut` after ``timeout`` seconds."""
        ...


class ExportService(Protocol):
    """Exports as the signed-in user sees them."""

    async def organisation_id(self, slug: str) -> UUID:
        """The id of one of the user's organisations."""
        ...

    async def start_export(self, request: ExportRequest) -> ExportWatch:
        """Ask for an export as the user; RLS decides whether they may."""
        ...

    def follow(self, export_id: UUID) -> ExportWatch:
        """Watch an export that already exists."""
        ...

    async def export(self, export_id: UUID) -> ExportRecord:
        """The export's record, if the user may see it (else ExportNotFound)."""
        ...

    async def cancel(self, export_id: UUID) -> ExportRecord:
        """Cancel the user's own unfinished export."""
        ...

    async def retry(self, export_id: UUID) -> ExportWatch:
        """Ask again for an export that failed or was cancelled: a new export with
        the same request, linked to it (NotRetryable when it cannot be retried)."""
        ...


class AuditLog(Protocol):
    """Export records and their timelines, for whoever may read them."""

    async def list(
        self,
        *,
        organisation: str | None = None,
        status: ExportStatus | None = None,
        since: datetime | None = None,
        limit: int = 50,
    ) -> list[AuditEntry]:
        """Newest first; entries carry no events."""
        ...

    async def show(self, export_id: UUID) -> AuditEntry:
        """One export with its whole event timeline."""
        ...
