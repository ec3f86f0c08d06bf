"""What unit and integration tests share: typed records built in memory."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bufdir_export._models import ExportFormat, ExportRecord, ExportScope, ExportStatus, ReportBasis
from bufdir_export.core.ports import Activity
from bufdir_export.report.config_checks import parse_column_config
from bufdir_export.report.mapping import ConfiguredMapping
from bufdir_export.report.plugins import PluginRegistry
from bufdir_export.tools.seed import DEMO_ORGANISATIONS, shipped_config

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

# The statuses of an export that runs without attachments, in order.
COMPLETED_WALK = [
    "initialised",
    "querying_activities",
    "mapping_columns",
    "generating_file",
    "storing_file",
    "completed",
]

# The demo seed's organisations, and the admin of each (supabase/seed.sql).
ORGS = {
    slug: uuid.UUID(f"00000000-0000-4000-a000-00000000000{n}")
    for n, slug in enumerate(DEMO_ORGANISATIONS, start=1)
}
ADMINS = {
    slug: uuid.UUID(f"00000000-0000-4000-b00{n}-000000000001")
    for n, slug in enumerate(DEMO_ORGANISATIONS, start=1)
}


# A report's basis as the database would give it: the organisation's scope,
# and the audit event it is made after.
BASIS = ReportBasis(scope=ExportScope.ORGANISATION, audit_event_id=7, audit_hash="ab" * 32)


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


def activity(n: int = 0, **changes: Any) -> Activity:
    """An NHF talk group that counts (90 minutes, 4 people, in person, in Oslo)."""
    values: dict[str, Any] = {
        "id": uuid.UUID(int=n + 1),
        "chapter_name": "NHF Oslo",
        "county_code": "03",
        "county_name": "Oslo",
        "municipality_number": "0301",
        "peer_mentor_id": uuid.UUID(int=10_000 + n % 7),
        "activity_type_code": "samtalegruppe",
        "activity_type_name": "Samtalegruppe",
        "activity_date": date(2025, 3, 1 + n % 28),
        "duration_minutes": 90,
        "participant_count": 4,
        "contact_method": "in_person",
        "in_norway": True,
    }
    values.update(changes)
    return Activity(**values)


def shipped_mapping(slug: str = "nhf", *, version: int | None = 1) -> ConfiguredMapping:
    """The mapping of a demo organisation's shipped configuration."""
    return ConfiguredMapping(
        parse_column_config(shipped_config(slug)),
        organisation_name=ORGANISATION_NAMES[slug],
        version=version,
        plugins=PluginRegistry.installed(),
    )


ORGANISATION_NAMES = {
    "nhf": "Norges Handikapforbund",
    "blindeforbundet": "Norges Blindeforbund",
    "hlf": "Hørselshemmedes Landsforbund",
}


def metric_samples(text: str | bytes) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus exposition, by name and labels, read by
    prometheus-client's own parser."""
    exposition = text.decode() if isinstance(text, bytes) else text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }
