"""Typed views of the database's rows, and the result of one export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

__all__ = [
    "IN_PROGRESS",
    "TERMINAL",
    "ErrorCode",
    "ExportFailure",
    "ExportFormat",
    "ExportRecord",
    "ExportResult",
    "ExportStatus",
    "ExportSuccess",
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


TERMINAL = frozenset(
    {
        ExportStatus.COMPLETED,
        ExportStatus.COMPLETED_EMPTY,
        ExportStatus.FAILED,
        ExportStatus.CANCELLED,
    }
)
IN_PROGRESS = frozenset(ExportStatus) - TERMINAL - {ExportStatus.INITIALISED}


class ExportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


class ErrorCode(StrEnum):
    """Why an export failed (``error_code``; the database checks the same set)."""

    FORBIDDEN = "forbidden"  # the requester no longer belongs to the organisation
    INVALID_REQUEST = "invalid_request"  # the request cannot be served as asked
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
