"""The xlsx report, streamed by XlsxWriter in ``constant_memory`` mode.

Rows go to disk as they come (each sheet's rows to a file of its own, in
order), so memory does not follow the size of the report. Sheet
``Sammendrag`` is first and is written last, from the summary; sheet
``Aktiviteter`` holds one row per activity.

What a reader gets, on screen and on paper:

- cells typed by their column: dates as dates in the column's format,
  decimals with their places, codes as text (leading zeros kept);
- text a spreadsheet would take for a formula kept as it is and shown as
  text by the cell's quote prefix (the data keeps no apostrophe);
- one font family (the workbook's Calibri) for body, headers and totals;
- column widths from the header and the longest value, at most the column's
  configured width (40 characters when none is configured); numbers and
  dates right, text left, each a step in from the cell's edge (so a count
  beside a word, or a year beside a code, never reads as one), and each
  header aligned as its values;
- the header row frozen, a filter over the data rows (never the totals row);
- both sheets printed on A4 landscape, one page wide, the header row repeated
  on every page, the report's title in the page header and page numbers in
  the footer;
- the document's language Norwegian Bokmål (``nb-NO``), its title, subject
  (the organisation), description, keywords and creation time, and the
  export id and the audit head as custom properties.

Characters XML cannot hold (control characters, U+FFFE, U+FFFF) are dropped.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlsxwriter import Workbook
from xlsxwriter.core import Core
from xlsxwriter.packager import Packager

from ..core.ports import ColumnLayout, SummaryTable
from .sheet_writers import (
    ACTIVITY_SHEET,
    AUDIT_HEAD_PROPERTY,
    EXPORT_ID_PROPERTY,
    FORMULA_STARTS,
    SUMMARY_SHEET,
    ReportInfo,
    cell_text,
)

__all__ = ["LANGUAGE", "XlsxRowWriter"]

LANGUAGE = "nb-NO"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LEAST_WIDTH = 6
# A header's text plus its filter button.
_HEADER_EXTRA = 3
_A4 = 9


class _Core(Core):  # type: ignore[misc]  # XlsxWriter is untyped
    """core.xml with the document's language, which XlsxWriter does not write."""

    def _write_cp_content_status(self) -> None:
        super()._write_cp_content_status()
        self._xml_data_element("dc:language", LANGUAGE)


class _Packager(Packager):  # type: ignore[misc]
    def _write_core_file(self) -> None:
        core = _Core()
        core._set_properties(self.workbook.doc_properties)
        core._set_xml_writer(self._filename("docProps/core.xml"))
        core._assemble_xml_file()


class _Workbook(Workbook):  # type: ignore[misc]
    """XlsxWriter's workbook, packaged with :class:`_Core` (its documented hook)."""

    def _get_packager(self) -> Packager:
        return _Packager()


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _header_text(text: str) -> str:
    """Page header and footer text: ``&`` starts a code there."""
    return text.replace("&", "&&")


class _Sheet:
    """One worksheet being written: its columns' formats and widths so far."""

    def __init__(
        self, book: XlsxRowWriter, sheet: Any, name: str, columns: Sequence[ColumnLayout]
    ) -> None:
        self.sheet = sheet
        self.columns = columns
        self.row = 0
        self.widths = [len(column.header) + _HEADER_EXTRA for column in columns]
        self._cells = [book.cell_writer(column, bold=False) for column in columns]
        self._bold_cells = [book.cell_writer(column, bold=True) for column in columns]
        for number, column in enumerate(columns):
            header = book.format(
                {"bold": True, "bottom": 1, "valign": "top"} | _header_alignment(column)
            )
            self.sheet.write_string(0, number, _clean(column.header), header)
        self.row = 1
        sheet.freeze_panes(1, 0)
        sheet.set_landscape()
        sheet.set_paper(_A4)
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(0)
        sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        title, organisation = _header_text(book.info.title), _header_text(book.info.organisation)
        sheet.set_header(f"&L&B{title}&R{organisation}")
        sheet.set_footer(f"&L{_header_text(name)}&RSide &P av &N")

    def write(self, values: Sequence[object], *, bold: bool = False) -> None:
        cells = self._bold_cells if bold else self._cells
        row, sheet, widths = self.row, self.sheet, self.widths
        for number, (cell, value) in enumerate(zip(cells, values, strict=True)):
            shown = cell(sheet, row, number, value)
            if shown > widths[number]:
                widths[number] = shown
        self.row = row + 1

    def finish(self, data_rows: int) -> list[int]:
        """Widths, and the filter over the header and ``data_rows`` rows under
        it; the widths set."""
        last = max(0, len(self.columns) - 1)
        widths = []
        for number, column in enumerate(self.columns):
            width = max(_LEAST_WIDTH, min(column.width, self.widths[number] + 1))
            self.sheet.set_column(number, number, width)
            widths.append(width)
        self.sheet.autofilter(0, 0, data_rows, last)
        return widths


CellWriter = Callable[[Any, int, int, object], int]

# Numbers and dates stand right, text left, each indented one step from the
# cell's edge, so that a number beside a text (a year beside a code, a count
# beside a word) never reads as one with it. A header stands as its column's
# values do, one step further in on the right to clear its filter button.
_RIGHT: dict[str, object] = {"align": "right", "indent": 1}
_LEFT: dict[str, object] = {"indent": 1}
_NUMBER_GAP = 2  # the width the indent takes, in characters


def _is_right_aligned(column: ColumnLayout) -> bool:
    return column.kind in ("date", "decimal", "integer")


def _header_alignment(column: ColumnLayout) -> dict[str, object]:
    return {"align": "right", "indent": 2} if _is_right_aligned(column) else _LEFT


class XlsxRowWriter:
    def __init__(self, path: Path, columns: Sequence[ColumnLayout], info: ReportInfo) -> None:
        self._path = path
        self.info = info
        # XlsxWriter's own temporary files, in a folder of this file's.
        self._scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
        self.workbook = _Workbook(
            str(path),
            {
                "constant_memory": True,
                "tmpdir": str(self._scratch),
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        self._formats: dict[tuple[tuple[str, object], ...], Any] = {}
        self.workbook.set_properties(
            {
                "title": info.title,
                "subject": info.organisation,
                "comments": info.description,
                "keywords": "Bufdir; likepersonsaktiviteter",
                "author": "bufdir-export",
                "created": info.generated_at.replace(tzinfo=None),
            }
        )
        self.workbook.set_custom_property(EXPORT_ID_PROPERTY, info.export_id)
        if info.audit_head:
            self.workbook.set_custom_property(AUDIT_HEAD_PROPERTY, info.audit_head)
        # Sammendrag is the first sheet a reader sees; it is written at the end.
        self._summary_sheet = self.workbook.add_worksheet(SUMMARY_SHEET)
        activities = self.workbook.add_worksheet(ACTIVITY_SHEET)
        self._activities = _Sheet(self, activities, ACTIVITY_SHEET, columns)
        self._rows = 0

    def format(self, properties: dict[str, object]) -> Any:
        """One format per set of properties (XlsxWriter would store duplicates)."""
        key = tuple(sorted(properties.items()))
        found = self._formats.get(key)
        if found is None:
            found = self._formats[key] = self.workbook.add_format(properties)
        return found

    def cell_writer(self, column: ColumnLayout, *, bold: bool) -> CellWriter:
        """How a value of ``column`` is written: the width it takes, in characters.
        A value that is not of the column's kind is written as text."""
        style: dict[str, object] = {"bold": True, "top": 1} if bold else {}
        write_text = self._text_writer(style)
        if column.kind == "date":
            shown = len(column.date_format) + _NUMBER_GAP
            dated = self.format(style | _RIGHT | {"num_format": column.date_format})

            def write_date(sheet: Any, row: int, col: int, value: object) -> int:
                if isinstance(value, date):
                    sheet.write_datetime(row, col, value, dated)
                    return shown
                return write_text(sheet, row, col, value)

            return write_date
        if column.kind in ("decimal", "integer"):
            places = column.decimals if column.kind == "decimal" else 0
            pattern = "0." + "0" * places if places else None
            number = self.format(style | _RIGHT | ({"num_format": pattern} if pattern else {}))

            def write_number(sheet: Any, row: int, col: int, value: object) -> int:
                if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
                    return write_text(sheet, row, col, value)
                sheet.write_number(row, col, float(value), number)
                return len(f"{value:.{places}f}") + _NUMBER_GAP

            return write_number
        return write_text

    def _text_writer(self, style: dict[str, object]) -> CellWriter:
        style = style | _LEFT
        plain = self.format(style)
        quoted = self.format(style | {"quote_prefix": True})

        def write_text(sheet: Any, row: int, col: int, value: object) -> int:
            if value is None:
                sheet.write_blank(row, col, None, plain)
                return 0
            text = _clean(value if isinstance(value, str) else cell_text(value))
            sheet.write_string(row, col, text, quoted if text.startswith(FORMULA_STARTS) else plain)
            return len(text) + 1

        return write_text

    def write_rows(self, rows: Sequence[Sequence[object]]) -> None:
        sheet = self._activities
        for row in rows:
            sheet.write(row)
        self._rows += len(rows)

    def close(self, summary: SummaryTable | None) -> None:
        try:
            self._activities.finish(self._rows)
            if summary is not None:
                self._write_summary(summary)
            self.workbook.close()
        finally:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def _write_summary(self, summary: SummaryTable) -> None:
        sheet = _Sheet(self, self._summary_sheet, SUMMARY_SHEET, summary.columns)
        for values in summary.rows:
            sheet.write(values)
        sheet.write(summary.totals, bold=True)
        for heading, _ in summary.notes:  # the notes' labels stand in the first column
            sheet.widths[0] = max(sheet.widths[0], len(heading) + 1)
        widths = sheet.finish(len(summary.rows))
        if not summary.notes:
            return
        label = self.format({"bold": True, "valign": "top"})
        text = self.format({"text_wrap": True, "valign": "top"})
        last = max(1, len(summary.columns) - 1)
        # A merged cell does not grow with its text: each row is given the
        # lines its note takes across the merged width.
        across = max(1, sum(widths[1 : last + 1]))
        row = sheet.row + 1
        for heading, note in summary.notes:
            cleaned = _clean(note)
            lines = max(1, -(-len(cleaned) // across) + cleaned.count("\n"))
            sheet.sheet.set_row(row, 15 * lines)
            sheet.sheet.write_string(row, 0, _clean(heading), label)
            sheet.sheet.merge_range(row, 1, row, last, cleaned, text)
            row += 1

    def discard(self) -> None:
        # Closing is the only way to make XlsxWriter let go of its files.
        with contextlib.suppress(Exception):
            self.workbook.close()
        self._path.unlink(missing_ok=True)
        shutil.rmtree(self._scratch, ignore_errors=True)
