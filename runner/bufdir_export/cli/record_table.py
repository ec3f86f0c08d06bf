"""One export's record as the command line shows it (status, audit show)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from .._models import TERMINAL, AuditEntry, period_text
from .live_view import step_label

__all__ = ["record_table"]


def record_table(entry: AuditEntry) -> Table:
    """One export's record, a field a line, the empty ones left out."""
    e = entry.export
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    rows: list[tuple[str, Any]] = [
        ("export", e.id),
        ("organisation", f"{entry.organisation} ({e.organisation_id})"),
        ("requested by", e.requested_by),
        ("period", period_text(e.period_start, e.period_end)),
        ("format", f"{e.format}{' with attachments' if e.include_attachments else ''}"),
        ("status", e.status if e.status in TERMINAL else f"{e.status} ({step_label(e.status)})"),
        ("progress", f"{e.rows_done:,} / {e.rows_total:,} rows" if e.rows_total else None),
        ("attempts", e.attempts),
        ("runner", e.runner_id),
        (
            "configuration",
            f"version {entry.column_config_version}" if entry.column_config_version else None,
        ),
        ("rows", e.row_count),
        ("counted days", e.counted_days),
        ("bytes", e.file_size_bytes),
        ("file", e.file_path),
        ("download", e.download_url if entry.file_deleted_at is None else None),
        ("link expires", e.download_url_expires_at if entry.file_deleted_at is None else None),
        (
            "file deleted",
            f"{entry.file_deleted_at.astimezone()} (its retention ended): ask for it again"
            if entry.file_deleted_at
            else None,
        ),
        ("error", f"{e.error_code}: {e.error_message}" if e.error_code else None),
        ("asked at", e.created_at.astimezone()),
        ("ended at", e.completed_at.astimezone() if e.completed_at else None),
    ]
    for label, value in rows:
        if value is not None:
            table.add_row(label, str(value))
    return table
