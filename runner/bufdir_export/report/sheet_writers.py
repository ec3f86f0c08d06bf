"""Row writers for the report file, one per format, both streaming to disk.

- xlsx: openpyxl's write-only mode (rows go to disk as they come; lxml makes
  it fast). Sheet ``Sammendrag`` (first, written last) and sheet
  ``Aktiviteter``; each header row frozen and filtered, columns sized, cells
  typed by their column: dates as dates in the column's format, decimals
  with their places, codes as text (leading zeros kept).
- CSV as Excel in Norway reads it: UTF-8 with BOM, ``;``, CRLF, decimal
  comma, ``dd.mm.yyyy``. A CSV file holds one table: the activities.

In xlsx, characters the format cannot hold (control characters, U+FFFE,
U+FFFF) are dropped. In
both, text that a spreadsheet would take for a formula (starting with
``=``, ``+``, ``-``, ``@``, tab or carriage return) is written with a leading
apostrophe, so it stays text (OWASP "CSV injection").
"""

from __future__ import annotations

import contextlib
import csv
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from ..core.ports import ColumnLayout, SummaryTable

__all__ = [
    "ACTIVITY_SHEET",
    "AUDIT_HEAD_PROPERTY",
    "SUMMARY_SHEET",
    "CsvRowWriter",
    "ReportInfo",
    "RowWriter",
    "XlsxRowWriter",
    "neutralise",
]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ACTIVITY_SHEET = "Aktiviteter"
# The custom document property (and the note) naming the event the report was made after.
AUDIT_HEAD_PROPERTY = "Revisjonsspor"
SUMMARY_SHEET = "Sammendrag"
_STRFTIME = {"dd.mm.yyyy": "%d.%m.%Y", "yyyy-mm-dd": "%Y-%m-%d", "mm.yyyy": "%m.%Y"}
_BOLD = Font(bold=True)
# What XML 1.0 cannot hold: control characters but tab, newline and carriage
# return, and the two non-characters U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def neutralise(text: str) -> str:
    """Text that can never be read as a formula."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


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


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "Ja" if value else "Nei"
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)


# xlsx ---------------------------------------------------------------------------------

Cell = Callable[[object], object]


def _number_format(column: ColumnLayout) -> str | None:
    if column.kind == "date":
        return column.date_format
    if column.kind == "decimal":
        return "0." + "0" * column.decimals if column.decimals else "0"
    return None


def _xlsx_text(value: object) -> object:
    if value is None:
        return None
    # Control characters have no place in a cell (openpyxl refuses them).
    return neutralise(_NOT_XML.sub("", value if isinstance(value, str) else _text(value)))


class XlsxRowWriter:
    def __init__(self, path: Path, columns: Sequence[ColumnLayout], info: ReportInfo) -> None:
        self._path = path
        self._workbook = Workbook(write_only=True)
        properties = self._workbook.properties
        properties.title = info.title
        properties.subject = info.organisation
        properties.description = info.description
        properties.identifier = info.export_id
        properties.keywords = "Bufdir; likepersonsaktiviteter"
        properties.creator = "bufdir-export"
        properties.created = info.generated_at.replace(tzinfo=None)
        if info.audit_head:
            workbook: Any = self._workbook  # custom_doc_props: untyped in the stubs
            workbook.custom_doc_props.append(
                StringProperty(name=AUDIT_HEAD_PROPERTY, value=info.audit_head)
            )
        # Sammendrag is the first sheet a reader sees; it is written at the end.
        self._summary_sheet = self._sheet(SUMMARY_SHEET)
        self._sheet_ = self._sheet(ACTIVITY_SHEET)
        self._cells = [self._cell_function(column) for column in columns]
        _lay_out(self._sheet_, columns, rows=None)
        self._sheet_.append(_header_row(self._sheet_, columns))

    def _sheet(self, title: str) -> WriteOnlyWorksheet:
        sheet = self._workbook.create_sheet(title)
        assert isinstance(sheet, WriteOnlyWorksheet)  # noqa: S101 - write-only mode
        return sheet

    def _cell_function(self, column: ColumnLayout) -> Cell:
        number_format = _number_format(column)
        if column.kind == "text":
            return _xlsx_text
        if number_format is None:
            return lambda value: value
        sheet = self._sheet_

        def formatted(value: object) -> object:
            if value is None:
                return None
            as_value: Any = value  # a date is stored as a date; the stubs say datetime
            cell = WriteOnlyCell(sheet, value=as_value)
            cell.number_format = number_format
            return cell

        return formatted

    def write_rows(self, rows: Sequence[Sequence[object]]) -> None:
        sheet, cells = self._sheet_, self._cells
        for row in rows:
            sheet.append([cell(value) for cell, value in zip(cells, row, strict=True)])

    def close(self, summary: SummaryTable | None) -> None:
        if summary is not None:
            self._write_summary(summary)
        self._workbook.save(self._path)

    def _write_summary(self, summary: SummaryTable) -> None:
        sheet = self._summary_sheet
        _lay_out(sheet, summary.columns, rows=len(summary.rows))
        sheet.append(_header_row(sheet, summary.columns))
        formats = [_number_format(column) for column in summary.columns]
        for row in summary.rows:
            sheet.append(_summary_cells(sheet, row, formats, bold=False))
        sheet.append(_summary_cells(sheet, summary.totals, formats, bold=True))
        if summary.notes:
            sheet.append([])
        for label, text in summary.notes:
            label_text: Any = _xlsx_text(label)
            heading = WriteOnlyCell(sheet, value=label_text)
            heading.font = _BOLD
            sheet.append([heading, _xlsx_text(text)])

    def discard(self) -> None:
        # Saving is the only public way to end a write-only sheet and remove
        # openpyxl's own temporary file; the result is then deleted.
        with contextlib.suppress(Exception):
            self._workbook.save(self._path)
        self._path.unlink(missing_ok=True)


def _lay_out(sheet: WriteOnlyWorksheet, columns: Sequence[ColumnLayout], rows: int | None) -> None:
    """Widths, a frozen header, and a filter (write-only sheets take these first)."""
    layout: Any = sheet  # untyped in the stubs
    for number, column in enumerate(columns, start=1):
        layout.column_dimensions[get_column_letter(number)].width = column.width
    sheet.freeze_panes = "A2"
    last = get_column_letter(max(1, len(columns)))
    layout.auto_filter.ref = f"A1:{last}{1 + (rows or 0)}"


def _header_row(sheet: WriteOnlyWorksheet, columns: Sequence[ColumnLayout]) -> list[object]:
    heading: list[object] = []
    for column in columns:
        header: Any = _xlsx_text(column.header)
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = _BOLD
        heading.append(cell)
    return heading


def _summary_cells(
    sheet: WriteOnlyWorksheet, row: Sequence[object], formats: Sequence[str | None], *, bold: bool
) -> list[object]:
    cells: list[object] = []
    for value, number_format in zip(row, formats, strict=True):
        shown: Any = value if not isinstance(value, str) else _xlsx_text(value)
        cell = WriteOnlyCell(sheet, value=shown)
        if number_format is not None and value is not None:
            cell.number_format = number_format
        if bold:
            cell.font = _BOLD
        cells.append(cell)
    return cells


# CSV ----------------------------------------------------------------------------------


def _csv_function(column: ColumnLayout) -> Callable[[object], str]:
    if column.kind == "date":
        pattern = _STRFTIME[column.date_format]

        def day(value: object) -> str:
            return value.strftime(pattern) if isinstance(value, date) else _text(value or "")

        return day
    if column.kind == "decimal":
        places = column.decimals

        def decimal(value: object) -> str:
            if value is None:
                return ""
            return f"{value:.{places}f}".replace(".", ",")

        return decimal
    if column.kind == "integer":
        return lambda value: "" if value is None else str(value)
    return _csv_text


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if value.__class__ is str:  # the common case, without the type tests of _text
        return neutralise(value)
    return neutralise(_text(value))


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
