"""The xlsx as a staff member reads and prints it: page setup, column widths
from the content, one font family, notes that wrap."""

from __future__ import annotations

import dataclasses
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from bufdir_export.report.sheet_writers import ReportInfo
from bufdir_export.report.xlsx_writer import XlsxRowWriter
from tests.support import activity, shipped_mapping

INFO = ReportInfo(
    title="Bufdir-rapport 2025 & vedlegg",
    organisation="Norges Blindeforbund",
    description="Eksport e1",
    export_id="e1",
    generated_at=datetime(2026, 1, 15, 12, 0),
)


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "r.xlsx"
    mapping = shipped_mapping("nhf")
    one = mapping.begin()
    rows = [
        one.map(activity(0, chapter_name="Blindeforbundet Trøndelag og Møre", county_code="50")),
        one.map(activity(1)),
    ]
    writer = XlsxRowWriter(path, mapping.columns, INFO)
    writer.write_rows(rows)
    writer.close(one.summary())
    return path


def _width(sheet: Worksheet, header: str) -> float:
    for cell in sheet[1]:
        if cell.value == header:
            return float(sheet.column_dimensions[cell.column_letter].width)
    raise AssertionError(f"no column {header!r}")


@pytest.mark.parametrize("name", ["Sammendrag", "Aktiviteter"])
def test_both_sheets_print_landscape_on_a4_one_page_wide_with_the_header_on_every_page(
    report: Path, name: str
) -> None:
    sheet = openpyxl.load_workbook(report)[name]
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9  # A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    # One page wide (1, the default, is left out of the file), as many tall as it takes.
    assert (sheet.page_setup.fitToWidth or 1, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.print_title_rows.replace("$", "") == "1:1"
    assert sheet.oddHeader.left.text == "&BBufdir-rapport 2025 && vedlegg"
    assert sheet.oddHeader.right.text == "Norges Blindeforbund"
    assert sheet.oddFooter.right.text == "Side &P av &N"
    assert sheet.oddFooter.left.text == name


def test_columns_are_as_wide_as_their_content_within_the_configured_width(report: Path) -> None:
    sheet = openpyxl.load_workbook(report)["Aktiviteter"]
    assert _width(sheet, "Lokallag") >= len("Blindeforbundet Trøndelag og Møre") - 9  # capped
    assert _width(sheet, "Lokallag") < 25  # the configuration's width for it, 24
    assert _width(sheet, "Kommunenr") >= len("Kommunenr") + 3  # the filter button too
    assert _width(sheet, "Dato") >= len("01.03.2025")
    summary = openpyxl.load_workbook(report)["Sammendrag"]
    assert _width(summary, "Lokallag") >= len("Blindeforbundet Trøndelag og Møre") + 1
    assert _width(summary, "År") >= len("2025")


@pytest.mark.parametrize("name", ["Sammendrag", "Aktiviteter"])
def test_numbers_and_their_headers_stand_right_text_left_each_a_step_from_the_edge(
    report: Path, name: str
) -> None:
    sheet = openpyxl.load_workbook(report)[name]
    numbers = {"Sammendrag": ("År", "Deltakere", "Timer"), "Aktiviteter": ("Dato", "Timer")}
    texts = {"Sammendrag": ("Fylkesnr", "Lokallag"), "Aktiviteter": ("Fylkesnr", "Årsak")}
    columns = {cell.value: cell.column for cell in sheet[1]}
    for header in numbers[name]:
        head, value = sheet.cell(1, columns[header]), sheet.cell(2, columns[header])
        assert (head.alignment.horizontal, head.alignment.indent) == ("right", 2), header
        assert (value.alignment.horizontal, value.alignment.indent) == ("right", 1), header
    for header in texts[name]:
        head, value = sheet.cell(1, columns[header]), sheet.cell(2, columns[header])
        for cell in (head, value):  # left: the default, or said
            assert cell.alignment.horizontal in (None, "left"), header
            assert cell.alignment.indent == 1, header


def test_one_font_family_throughout(report: Path) -> None:
    book = openpyxl.load_workbook(report)
    fonts = {
        cell.font.name
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    }
    assert fonts == {"Calibri"}
    summary = book["Sammendrag"]
    totals = next(row for row in summary.iter_rows() if row[0].value == "Totalt")
    assert all(cell.font.b for cell in totals)


def test_the_notes_wrap_in_a_merged_cell_and_their_rows_grow(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    mapping = shipped_mapping("nhf")
    one = mapping.begin()
    long_note = "Aktive likepersoner telles én gang hver. " * 12
    summary = dataclasses.replace(
        one.summary(), notes=[("Organisasjon", "Norges Blindeforbund"), ("Merknad", long_note)]
    )
    writer = XlsxRowWriter(path, mapping.columns, INFO)
    writer.write_rows([one.map(activity(0))])
    writer.close(summary)

    sheet = openpyxl.load_workbook(path)["Sammendrag"]
    rows = {
        row[0].value: row
        for row in sheet.iter_rows()
        if row[0].value in ("Organisasjon", "Merknad")
    }
    merged = {str(r) for r in sheet.merged_cells.ranges}
    for label, row in rows.items():
        number = row[0].row
        assert row[0].font.b, label
        assert f"B{number}:M{number}" in merged, label
        assert row[1].alignment.wrap_text, label
    assert rows["Merknad"][1].value == long_note
    assert sheet.column_dimensions["A"].width >= len("Organisasjon") + 1  # labels not cut
    short, tall = (sheet.row_dimensions[rows[k][0].row].height for k in ("Organisasjon", "Merknad"))
    assert tall > (short or 15)  # the default row height


def test_the_document_is_in_norwegian_bokmal(report: Path) -> None:
    with zipfile.ZipFile(report) as archive:
        core = archive.read("docProps/core.xml").decode()
    assert "<dc:language>nb-NO</dc:language>" in core
    assert openpyxl.load_workbook(report).properties.language == "nb-NO"
