"""What the report's row writers share, and the CSV writer.

A writer per format streams rows to disk: :mod:`.xlsx_writer` for xlsx, and
here :class:`CsvRowWriter`, CSV as Excel in Norway reads it: UTF-8 with BOM,
``;``, CRLF, decimal comma, ``dd.mm.yyyy``. A CSV file holds one table: the
activities.

Text that a spreadsheet would take for a formula (starting with ``=``,
``+``, ``-``, ``@``, tab or carriage return, :data:`FORMULA_STARTS`) stays
text (OWASP "CSV injection"): in CSV it is written with a leading apostrophe
(:func:`neutralise`), since a CSV cell has nothing else to say so; in xlsx
the cell's quote prefix says it and the text is kept as it is.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Protocol

from ..core.memo import BoundedMemo
from ..core.ports import ColumnLayout, SummaryTable

__all__ = [
    "ACTIVITY_SHEET",
    "AUDIT_HEAD_PROPERTY",
    "EXPORT_ID_PROPERTY",
    "FORMULA_STARTS",
    "SUMMARY_SHEET",
    "CsvRowWriter",
    "ReportInfo",
    "RowWriter",
    "cell_text",
    "neutralise",
]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ACTIVITY_SHEET = "Aktiviteter"
# The custom document property (and the note) naming the event the report was made after.
AUDIT_HEAD_PROPERTY = "Revisjonsspor"
# The custom document property naming the export.
EXPORT_ID_PROPERTY = "Eksport-ID"
SUMMARY_SHEET = "Sammendrag"
_STRFTIME = {"dd.mm.yyyy": "%d.%m.%Y", "yyyy-mm-dd": "%Y-%m-%d", "mm.yyyy": "%m.%Y"}


def neutralise(text: str) -> str:
    """Text that can never be read as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class ReportInfo:
    """What the file says about itself (document properties)."""

    title: str
    organisation: str
    description: str
    export_id: str
    generated_at: datetime
    # The audit event the report was made after (its export's claim), by id and hash.
    audit_head: str = ""


class RowWriter(Protocol):
    def write_rows(self, rows: Sequence[Sequence[object]]) -> None: ...
    def close(self, summary: SummaryTable | None) -> None:
        """Finish the file (with the summary sheet, where the format has one)."""
        ...

    def discard(self) -> None:
        """Give up: release what the writer holds, and remove the file."""
        ...


def cell_text(value: object) -> str:
    """A value of a text column as text: Ja/Nei, Norwegian dates, else str()."""
    if isinstance(value, bool):
        return "Ja" if value else "Nei"
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)


# CSV ----------------------------------------------------------------------------------


def _csv_function(column: ColumnLayout) -> Callable[[object], str]:
    if column.kind == "date":
        pattern = _STRFTIME[column.date_format]

        def day(value: object) -> str:
            return value.strftime(pattern) if isinstance(value, date) else cell_text(value or "")

        return _remembered(day)
    if column.kind == "decimal":
        places = column.decimals

        def decimal(value: object) -> str:
            if value is None:
                return ""
            return f"{value:.{places}f}".replace(".", ",")

        return _remembered(decimal)
    if column.kind == "integer":
        return lambda value: "" if value is None else str(value)
    return _csv_text


def _remembered(format_cell: Callable[[object], str]) -> Callable[[object], str]:
    """``format_cell`` for a column of few distinct values (dates of a year,
    hours): each value is formatted once (a bounded memory)."""
    known: BoundedMemo[str] = BoundedMemo(_REMEMBERED_VALUES)
    known_text = known.get

    def cell(value: object) -> str:
        text = known_text(value)
        return known.remember(value, format_cell(value)) if text is None else text

    return cell


_REMEMBERED_VALUES = 4_096


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if value.__class__ is str:  # the common case, without the type tests of _text
        return neutralise(value)
    return neutralise(cell_text(value))


class CsvRowWriter:
    def __init__(self, path: Path, columns: Sequence[ColumnLayout], info: ReportInfo) -> None:
        del info  # a CSV file has no place for it
        self._path = path
        self._cells = [_csv_function(column) for column in columns]
        self._file: IO[str] = path.open("w", encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._file, delimiter=";", lineterminator="\r\n")
        self._csv.writerow([neutralise(column.header) for column in columns])

    def write_rows(self, rows: Sequence[Sequence[object]]) -> None:
        cells = self._cells
        self._csv.writerows(
            [[cell(value) for cell, value in zip(cells, row, strict=True)] for row in rows]
        )

    def close(self, summary: SummaryTable | None) -> None:
        del summary  # one table per CSV file: the activities
        self._file.close()

    def discard(self) -> None:
        self._file.close()
        self._path.unlink(missing_ok=True)
