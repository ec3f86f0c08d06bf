"""Typed views of the database's rows, and the result of one export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = [
    "MAX_PERIOD_DAYS",
    "PERIOD_FIRST_DAY",
    "PERIOD_LAST_DAY",
    "TERMINAL",
    "AuditEntry",
    "Caller",
    "ErrorCode",
    "ExportEvent",
    "ExportFailure",
    "ExportFormat",
    "ExportRecord",
    "ExportRequest",
    "ExportResult",
    "ExportScope",
    "ExportStatus",
    "ExportSuccess",
    "ExportUpdate",
    "ReportBasis",
    "base_year",
    "period_text",
    "result_of",
]


class ExportStatus(StrEnum):
    """``public.bufdir_export_status``."""

    INITIALISED = "initialised"
    QUERYING_ACTIVITIES = "querying_activities"
    MAPPING_COLUMNS = "mapping_columns"
    GENERATING_FILE = "generating_file"
    BUNDLING_ATTACHMENTS = "bundling_attachments"
    STORING_FILE = "storing_file"
    COMPLETED = "completed"
    COMPLETED_EMPTY = "completed_empty"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Mirrors bufdir_private.is_terminal() (tests/integration/test_contract_mirrors.py).
TERMINAL = frozenset(
    {
        ExportStatus.COMPLETED,
        ExportStatus.COMPLETED_EMPTY,
        ExportStatus.FAILED,
        ExportStatus.CANCELLED,
    }
)


class ExportScope(StrEnum):
    """What of its organisation an export holds: what its requester may read
    (mirrors ``bufdir_private.activity_scope()``)."""

    ORGANISATION = "organisation"  # a coordinator's or an admin's: every activity
    OWN = "own"  # a member's: the activities they recorded


@dataclass(frozen=True, slots=True)
class ReportBasis:
    """What a report is made from, as the database tells the runner before the
    first step: what the requester may read, and the export's last audit event
    then (its claim; the chain ties it to every request of the organisation
    before it, and the report names it, so that the file pins that history)."""

    scope: ExportScope
    audit_event_id: int
    audit_hash: str


class ExportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


class ErrorCode(StrEnum):
    """Why an export failed (``error_code``; mirrors the database's
    ``bufdir_export_audit_error_code_check``)."""

    FORBIDDEN = "forbidden"  # the requester no longer belongs to the organisation
    INVALID_CONFIG = "invalid_config"  # the organisation's column configuration is wrong
    QUERY_ERROR = "query_error"  # reading the activities failed
    GENERATION_ERROR = "generation_error"  # writing the file failed
    STORAGE_ERROR = "storage_error"  # storing the file or signing its URL failed
    RUNNER_LOST = "runner_lost"  # runners stopped renewing the lease, attempts used up
    INTERNAL = "internal"  # anything else: a bug


class ExportRecord(BaseModel):
    """One row of ``public.bufdir_export_audit``."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: UUID
    organisation_id: UUID
    requested_by: UUID
    period_start: date
    period_end: date
    format: ExportFormat
    include_attachments: bool
    status: ExportStatus
    attempts: int
    runner_id: str | None
    lease_expires_at: datetime | None
    rows_done: int | None
    rows_total: int | None
    row_count: int | None
    file_size_bytes: int | None
    file_path: str | None
    download_url: str | None
    download_url_expires_at: datetime | None
    error_code: ErrorCode | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    # Added with the counted days migration: absent in rows written before it.
    counted_days: int | None = None
    file_sha256: str | None = None
    # A waiting export given back after a Storage outage: not claimed before then.
    retry_at: datetime | None = None
    # The failed or cancelled export this one asks for again (public.retry_bufdir_export).
    retry_of: UUID | None = None


@dataclass(frozen=True, slots=True)
class ExportSuccess:
    """The export ended with its file (``completed``) or with nothing to report."""

    export_id: UUID
    status: Literal[ExportStatus.COMPLETED, ExportStatus.COMPLETED_EMPTY]
    row_count: int
    file_path: str | None
    file_size_bytes: int | None
    download_url: str | None
    download_url_expires_at: datetime | None
    counted_days: int | None = None  # activity days Bufdir counts in the file


@dataclass(frozen=True, slots=True)
class ExportFailure:
    """The export ended without a file: failed (with its code) or cancelled."""

    export_id: UUID
    status: Literal[ExportStatus.FAILED, ExportStatus.CANCELLED]
    error_code: ErrorCode | None
    error_message: str | None


# Match it exhaustively:
#   match result:
#       case ExportSuccess(): ...
#       case ExportFailure(): ...
#       case _: assert_never(result)
ExportResult = ExportSuccess | ExportFailure


def result_of(export: ExportRecord) -> ExportResult:
    """The result an export that has ended stands for."""
    match export.status:
        case ExportStatus.COMPLETED | ExportStatus.COMPLETED_EMPTY:
            return ExportSuccess(
                export_id=export.id,
                status=export.status,
                row_count=export.row_count or 0,
                file_path=export.file_path,
                file_size_bytes=export.file_size_bytes,
                download_url=export.download_url,
                download_url_expires_at=export.download_url_expires_at,
                counted_days=export.counted_days,
            )
        case ExportStatus.FAILED | ExportStatus.CANCELLED:
            return ExportFailure(
                export_id=export.id,
                status=export.status,
                error_code=export.error_code,
                error_message=export.error_message,
            )
    raise ValueError(f"export {export.id} is {export.status}: it has not ended")


# The period a request may cover, as the database's three period checks
# (order, length, bounds) define it: one Bufdir reporting year at most, leap
# years included, within 2000-2099.
MAX_PERIOD_DAYS = 366
PERIOD_FIRST_DAY = date(2000, 1, 1)
PERIOD_LAST_DAY = date(2099, 12, 31)


def period_text(period_start: date, period_end: date) -> str:
    """``01.01.2025-31.12.2025``: a period as the report and the command line show it."""
    return f"{period_start:%d.%m.%Y}-{period_end:%d.%m.%Y}"


def base_year(period_start: date, period_end: date) -> int | None:
    """The calendar year the period is, or None. Bufdir counts a calendar year,
    the base year (grunnlagsår), reported in the application the year after."""
    year = period_start.year
    if period_start == date(year, 1, 1) and period_end == date(year, 12, 31):
        return year
    return None


class ExportRequest(BaseModel):
    """What a client asks for: the only fields a client sets on a new export."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    organisation_id: UUID
    period_start: date
    period_end: date
    format: ExportFormat = ExportFormat.XLSX
    include_attachments: bool = False

    @model_validator(mode="after")
    def _one_reporting_year(self) -> Self:
        if self.period_end < self.period_start:
            raise ValueError(
                f"the period ends ({self.period_end}) before it starts ({self.period_start})"
            )
        if (self.period_end - self.period_start).days + 1 > MAX_PERIOD_DAYS:
            raise ValueError(
                f"the period {self.period_start}..{self.period_end} is longer than one year"
            )
        if self.period_start < PERIOD_FIRST_DAY or self.period_end > PERIOD_LAST_DAY:
            raise ValueError(
                f"the period {self.period_start}..{self.period_end} lies outside"
                f" {PERIOD_FIRST_DAY}..{PERIOD_LAST_DAY}"
            )
        return self


@dataclass(frozen=True, slots=True)
class Caller:
    """The signed-in user a client acts for: RLS decides what they may do."""

    user_id: UUID

    def claims(self) -> dict[str, Any]:
        """The JWT claims PostgREST would set for this user."""
        return {"sub": str(self.user_id), "role": "authenticated"}


class ExportEvent(BaseModel):
    """One row of ``public.bufdir_export_audit_events``: a status change."""

    model_config = ConfigDict(frozen=True)

    id: int
    export_id: UUID
    from_status: ExportStatus | None
    to_status: ExportStatus
    occurred_at: datetime
    actor: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ExportUpdate:
    """What a watcher sees: a status the export reached (each one, in order),
    or news of progress in the same status. ``record`` is the row as last read."""

    status: ExportStatus
    occurred_at: datetime
    record: ExportRecord

    @property
    def export_id(self) -> UUID:
        return self.record.id

    @property
    def progress(self) -> tuple[int, int] | None:
        """(rows done, rows total) while the current step counts rows."""
        done, total = self.record.rows_done, self.record.rows_total
        if done is None or total is None or self.status != self.record.status:
            return None
        return done, total


class AuditEntry(BaseModel):
    """An export's record as an auditor reads it: with its organisation's slug,
    and (when shown on its own) its whole event timeline."""

    model_config = ConfigDict(frozen=True)

    organisation: str
    export: ExportRecord
    events: tuple[ExportEvent, ...] = ()
    # When the export's file was deleted from storage, its retention ended.
    file_deleted_at: datetime | None = None
    # The column configuration version its latest claim generated the file with.
    column_config_version: int | None = None

    def timeline(self) -> list[tuple[ExportEvent, timedelta | None]]:
        """Each status change, with how long the export then stayed in that
        status (None for the last one: it is still there, or it is the end)."""
        following = [*(event.occurred_at for event in self.events[1:]), None]
        return [
            (event, None if until is None else until - event.occurred_at)
            for event, until in zip(self.events, following, strict=True)
        ]
