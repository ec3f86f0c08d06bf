"""The pipeline's collaborators, as small interfaces.

The orchestrator (:mod:`bufdir_export.core.pipeline`) knows only these; the
PostgreSQL, file and storage adapters implement them, and unit tests use
fakes. Nothing here imports a database driver.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal, Protocol
from uuid import UUID

from .._models import ErrorCode, ExportRecord, ExportResult, ExportStatus, ReportBasis

__all__ = [
    "Activity",
    "ActivitySource",
    "Attachment",
    "AttachmentBundler",
    "AttachmentStore",
    "AuditService",
    "CellKind",
    "ClaimedExport",
    "ColumnLayout",
    "ColumnMapper",
    "FileGenerator",
    "GeneratedFile",
    "MappingPass",
    "Pipeline",
    "Progress",
    "Reaper",
    "RowMapping",
    "SignedUrl",
    "Storage",
    "SummaryTable",
    "Wakeups",
]

# Called by a generator now and then: (rows done, rows total).
Progress = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Activity:
    """One activity as the report sees it: no note, no name, no address."""

    id: UUID
    chapter_name: str
    county_code: str
    county_name: str
    municipality_number: str
    peer_mentor_id: UUID
    activity_type_code: str
    activity_type_name: str
    activity_date: date
    duration_minutes: int
    participant_count: int
    contact_method: str
    in_norway: bool
    # Whether the same peer mentor has an activity of the same type on the same
    # date in another chapter of the export (None: not known). The source
    # computes it over the whole export, so that a rule about such copies
    # needs to remember only them, not every activity.
    same_day_in_other_chapter: bool | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file attached to one of the export's activities."""

    id: UUID
    activity_id: UUID
    storage_path: str
    file_name: str
    content_type: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class GeneratedFile:
    """A finished file on local disk, ready to be stored."""

    path: Path
    file_name: str
    content_type: str
    size_bytes: int
    row_count: int
    counted_days: int | None = None  # activity days Bufdir counts, where known
    sha256: str | None = None  # of the file's bytes, hex


@dataclass(frozen=True, slots=True)
class SignedUrl:
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimedExport:
    """An export as its claim found it, read in the claim's call, after it."""

    export: ExportRecord
    # What the report is made from; None when the requester is no longer a member.
    basis: ReportBasis | None
    # The export's activities; None when they were not counted with the claim
    # (the querying step counts them).
    activity_count: int | None


class AuditService(Protocol):
    """Every write to the audit record, each guarded by runner and expected status.

    A write that finds the export no longer held (re-queued after a lost
    lease, or cancelled by its requester) raises :class:`~bufdir_export.LeaseLost`.
    """

    async def claim(self) -> ClaimedExport | None:
        """Claim the oldest waiting export, if one waits."""
        ...

    async def current(self, export_id: UUID) -> ExportRecord: ...

    async def advance(
        self, export: ExportRecord, to: ExportStatus, *, config_version: int | None = None
    ) -> ExportRecord:
        """The next status; the move to generating_file names the configuration
        version the file is generated with (recorded for this claim)."""
        ...

    async def progress(self, export: ExportRecord, rows_done: int, rows_total: int) -> None: ...
    async def complete(
        self, export: ExportRecord, stored: GeneratedFile, file_path: str, url: SignedUrl
    ) -> ExportRecord: ...
    async def complete_empty(self, export: ExportRecord) -> ExportRecord: ...
    async def fail(self, export: ExportRecord, code: ErrorCode, message: str) -> ExportRecord: ...
    async def release(self, export: ExportRecord) -> None: ...
    async def defer(self, export: ExportRecord, delay: timedelta) -> ExportRecord:
        """Give ``export`` back to the queue, not to be claimed before ``delay`` passed."""
        ...

    def hold(self, export: ExportRecord) -> AbstractAsyncContextManager[None]:
        """Keep the lease of ``export`` renewed while the block runs."""
        ...


class ActivitySource(Protocol):
    """The organisation's activities in the export's period, streamed."""

    async def count(self, export: ExportRecord) -> int: ...
    def stream(self, export: ExportRecord) -> AsyncIterator[Activity]: ...
    def attachments(self, export: ExportRecord) -> AsyncIterator[Attachment]: ...


CellKind = Literal["text", "date", "integer", "decimal"]


@dataclass(frozen=True, slots=True)
class ColumnLayout:
    """One column of a sheet: what its cells hold and how they are shown.

    ``date_format`` is one of ``dd.mm.yyyy``, ``yyyy-mm-dd`` and ``mm.yyyy``;
    ``decimals`` the places a decimal column shows; ``width`` the most
    characters the column may be wide (a sheet sizes it by its content).
    """

    header: str
    kind: CellKind = "text"
    decimals: int = 0
    date_format: str = "dd.mm.yyyy"
    width: int = 40


@dataclass(frozen=True, slots=True)
class SummaryTable:
    """The summary sheet: one row per group, a totals row, and notes under it."""

    columns: Sequence[ColumnLayout]
    rows: Sequence[Sequence[object]]
    totals: Sequence[object]
    notes: Sequence[tuple[str, str]] = ()


class MappingPass(Protocol):
    """One pass over an export's activities, in the report's order."""

    def map(self, activity: Activity) -> Sequence[object]:
        """The row of the activity sheet; raises StepFailed(invalid_config) when
        the configuration cannot map it."""
        ...

    def summary(self) -> SummaryTable:
        """The summary of every row mapped so far."""
        ...

    @property
    def counted(self) -> int:
        """How many of the rows mapped so far count as an activity day."""
        ...


class RowMapping(Protocol):
    """An organisation's column configuration, compiled for one export."""

    @property
    def columns(self) -> Sequence[ColumnLayout]: ...
    @property
    def organisation_name(self) -> str: ...
    @property
    def version(self) -> int | None:
        """The configuration's stored version (None when it was never stored)."""
        ...

    def begin(self) -> MappingPass:
        """A fresh pass: a retried file starts from empty sums."""
        ...


class ColumnMapper(Protocol):
    async def prepare(self, export: ExportRecord) -> RowMapping: ...


class FileGenerator(Protocol):
    async def generate(
        self,
        export: ExportRecord,
        mapping: RowMapping,
        rows: AsyncIterator[Activity],
        total: int,
        progress: Progress,
        *,
        basis: ReportBasis,
    ) -> GeneratedFile:
        """The report of ``rows``; its notes say what it holds (``basis.scope``)
        and name the audit event it was made after."""
        ...


class AttachmentBundler(Protocol):
    """Packs the report and the activities' attachments into one file."""

    async def bundle(self, export: ExportRecord, report: GeneratedFile) -> GeneratedFile: ...


class Storage(Protocol):
    """Where finished files go, and who may fetch them: a private store and signed URLs.

    An upload stopped by a cancellation leaves the file whole or not at all.
    """

    async def upload(self, path: str, file: GeneratedFile) -> None: ...
    async def sign(self, path: str, ttl: timedelta) -> SignedUrl: ...
    async def delete(self, paths: Sequence[str]) -> None:
        """Remove these export files; one that is not there is no error."""
        ...

    def export_paths(self) -> AsyncIterator[str]:
        """The path of every object stored under the exports prefix."""
        ...


class AttachmentStore(Protocol):
    """Where the app keeps the activities' attachments."""

    async def read_attachment(self, storage_path: str) -> bytes: ...


# The runner's collaborators ---------------------------------------------------


class Pipeline(Protocol):
    async def run_export(self) -> ExportResult | None:
        """Claim one waiting export and run it to its end; None when none was claimed
        or it was lost on the way."""
        ...


class Reaper(Protocol):
    async def reap(self, max_attempts: int) -> list[tuple[UUID, ExportStatus, ExportStatus]]:
        """Re-queue or fail exports whose lease expired: (id, from, to) of each."""
        ...


class Wakeups(Protocol):
    async def listen(self, ring: Callable[[], None]) -> None:
        """Call ``ring()`` whenever there may be new work; runs until cancelled."""
        ...
