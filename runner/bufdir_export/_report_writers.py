"""Row writers for the report file, one per format, both streaming to disk.

- xlsx: openpyxl's write-only mode (rows go to disk as they come; lxml makes
  it fast), one sheet ``Aktiviteter`` with a frozen, filtered header row.
- CSV as Excel in Norway reads it: UTF-8 with BOM, ``;``, CRLF, decimal
  comma, ``dd.mm.yyyy``.

In xlsx, control characters (which the format cannot hold) are dropped. In
both, text that a spreadsheet would take for a formula (starting with
``=``, ``+``, ``-``, ``@``, tab or carriage return) is written with a leading
apostrophe, so it stays text (OWASP "CSV injection").
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

__all__ = ["CsvRowWriter", "ReportInfo", "RowWriter", "XlsxRowWriter", "neutralise"]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "dd.mm.yyyy"
SHEET = "Aktiviteter"


def neutralise(text: str) -> str:
    """Text that can never be read as a formula."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


@dataclass(frozen=True)
class ReportInfo:
    """What the file says about itself (document properties)."""

    title: str
    description: str


class RowWriter(Protocol):
    def write_rows(self, rows: Sequence[Sequence[object]]) -> None: ...
    def close(self) -> None:
        """Finish the file."""
        ...

    def discard(self) -> None:
        """Give up: release what the writer holds, and remove the file."""
        ...


class XlsxRowWriter:
    def __init__(self, path: Path, headers: Sequence[str], info: ReportInfo) -> None:
        self._path = path
        self._workbook = Workbook(write_only=True)
        self._workbook.properties.title = info.title
        self._workbook.properties.description = info.description
        self._workbook.properties.creator = "bufdir-export"
        sheet = self._workbook.create_sheet(SHEET)
        assert isinstance(sheet, WriteOnlyWorksheet)  # noqa: S101 - write-only mode
        self._sheet = sheet
        self._width = len(headers)
        layout: Any = sheet  # write-only sheets take these before the first row; untyped
        for number, header in enumerate(headers, start=1):
            letter = get_column_letter(number)
            layout.column_dimensions[letter].width = max(10, min(40, len(header) + 4))
        sheet.freeze_panes = "A2"
        layout.auto_filter.ref = f"A1:{get_column_letter(max(1, self._width))}1"
        bold = Font(bold=True)
        heading = []
        for header in headers:
            cell = WriteOnlyCell(sheet, value=neutralise(ILLEGAL_CHARACTERS_RE.sub("", header)))
            cell.font = bold
            heading.append(cell)
        sheet.append(heading)

    def write_rows(self, rows: Sequence[Sequence[object]]) -> None:
        sheet = self._sheet
        for row in rows:
            sheet.append([self._cell(value) for value in row])

    def _cell(self, value: object) -> object:
        if isinstance(value, str):
            # Control characters have no place in a cell (openpyxl refuses them).
            return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
        if isinstance(value, date):
            as_date: Any = value  # a date is stored as a date; the stubs say datetime
            cell = WriteOnlyCell(self._sheet, value=as_date)
            cell.number_format = DATE_FORMAT
            return cell
        return value

    def close(self) -> None:
        self._workbook.save(self._path)

    def discard(self) -> None:
        # Saving is the only public way to end a write-only sheet and remove
        # openpyxl's own temporary file; the result is then deleted.
        with contextlib.suppress(Exception):
            self._workbook.save(self._path)
        self._path.unlink(missing_ok=True)


class CsvRowWriter:
    def __init__(self, path: Path, headers: Sequence[str], info: ReportInfo) -> None:
        del info  # a CSV file has no place for it
        self._path = path
        self._file: IO[str] = path.open("w", encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._file, delimiter=";", lineterminator="\r\n")
        self._csv.writerow([neutralise(header) for header in headers])

    def write_rows(self, rows: Sequence[Sequence[object]]) -> None:
        self._csv.writerows([[_csv_text(value) for value in row] for row in rows])

    def close(self) -> None:
        self._file.close()

    def discard(self) -> None:
        self._file.close()
        self._path.unlink(missing_ok=True)


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, bool):
        return "Ja" if value else "Nei"
    if isinstance(value, Decimal | float):
        return str(value).replace(".", ",")
    return str(value)
