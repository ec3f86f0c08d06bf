"""The standard columns of the activity sheet, until an organisation configures its own.

One row per activity: typed values (dates as dates, hours and counts as
numbers, county and municipality numbers as text with their leading zeros).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ._models import ExportRecord
from ._ports import Activity, RowMapping

__all__ = ["StandardColumnMapper", "StandardColumns"]

_CONTACT = {"in_person": "Fysisk", "phone": "Telefon", "video": "Video", "digital": "Digitalt"}
_HUNDREDTH = Decimal("0.01")


class StandardColumns:
    """:class:`~bufdir_export._ports.RowMapping` with the standard columns."""

    headers: Sequence[str] = (
        "Aktivitets-ID",
        "Dato",
        "Fylkesnr",
        "Fylke",
        "Kommunenr",
        "Lokallag",
        "Likeperson",
        "Aktivitetstype",
        "Aktivitet",
        "Timer",
        "Deltakere",
        "Kontaktform",
        "I Norge",
    )

    def map(self, activity: Activity) -> Sequence[object]:
        return (
            str(activity.id),
            activity.activity_date,
            activity.county_code,
            activity.county_name,
            activity.municipality_number,
            activity.chapter_name,
            str(activity.peer_mentor_id),
            activity.activity_type_code,
            activity.activity_type_name,
            (Decimal(activity.duration_minutes) / 60).quantize(_HUNDREDTH),
            activity.participant_count,
            _CONTACT.get(activity.contact_method, activity.contact_method),
            "Ja" if activity.in_norway else "Nei",
        )


class StandardColumnMapper:
    """:class:`~bufdir_export._ports.ColumnMapper` giving every export the standard columns."""

    async def prepare(self, export: ExportRecord) -> RowMapping:
        return StandardColumns()
