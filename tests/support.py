"""What unit and integration tests share: typed records built in memory."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from bufdir_export._models import ExportFormat, ExportRecord, ExportStatus

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def export_record(**changes: Any) -> ExportRecord:
    """An export held by a runner in querying_activities, with ``changes`` applied."""
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "organisation_id": uuid.uuid4(),
        "requested_by": uuid.uuid4(),
        "period_start": date(2025, 1, 1),
        "period_end": date(2025, 12, 31),
        "format": ExportFormat.XLSX,
        "include_attachments": False,
        "status": ExportStatus.QUERYING_ACTIVITIES,
        "attempts": 1,
        "runner_id": "runner-test",
        "lease_expires_at": NOW,
        "rows_done": None,
        "rows_total": None,
        "row_count": None,
        "file_size_bytes": None,
        "file_path": None,
        "download_url": None,
        "download_url_expires_at": None,
        "error_code": None,
        "error_message": None,
        "created_at": NOW,
        "updated_at": NOW,
        "completed_at": None,
    }
    values.update(changes)
    return ExportRecord(**values)
