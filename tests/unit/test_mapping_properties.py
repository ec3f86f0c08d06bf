"""Properties, for any input hypothesis can think of:

- any activity row maps, under each shipped configuration, to a full row,
  counted or with its reason, and the summary adds up to the rows;
- no text ever becomes a formula, in xlsx or CSV, whatever it starts with;
- Norwegian letters survive both formats exactly.
"""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.escape import unescape

from bufdir_export.core.ports import Activity, ColumnLayout
from bufdir_export.report.column_config import CONTACT_METHODS
from bufdir_export.report.mapping import ConfiguredMapping
from bufdir_export.report.sheet_writers import CsvRowWriter, ReportInfo
from bufdir_export.report.xlsx_writer import XlsxRowWriter
from bufdir_export.tools.seed import DEMO_ORGANISATIONS, shipped_config
from tests.support import shipped_mapping

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
INFO = ReportInfo(
    title="t", organisation="o", description="d", export_id="e", generated_at=datetime(2026, 1, 1)
)
MAPPINGS: dict[str, ConfiguredMapping] = {
    slug: shipped_mapping(slug) for slug in DEMO_ORGANISATIONS
}
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

any_text = st.text(st.characters(codec="utf-8"), max_size=40)
hostile_text = st.one_of(
    any_text,
    # what XML cannot hold, among other text
    st.lists(
        st.one_of(any_text, st.sampled_from(["\x00", "\x0b", "\x1f", "\ufffe", "\uffff"]))
    ).map("".join),
    st.builds(lambda start, rest: start + rest, st.sampled_from(FORMULA_STARTS), any_text),
    st.sampled_from(['=HYPERLINK("http://x")', "@SUM(A1:A9)", "+47 22 00 00 00", "-5 grader"]),
)
norwegian = st.text(st.sampled_from("abcæøåÆØÅ éüÉ'-.,;\"0123456789"), min_size=1, max_size=40)


def activities(slug: str) -> st.SearchStrategy[Activity]:
    return st.builds(
        Activity,
        id=st.uuids(),
        chapter_name=hostile_text,
        county_code=st.from_regex(r"\A[0-9]{2}\Z"),
        county_name=hostile_text,
        municipality_number=st.from_regex(r"\A[0-9]{4}\Z"),
        peer_mentor_id=st.uuids(),
        activity_type_code=st.sampled_from(sorted(shipped_config(slug)["categories"])),
        activity_type_name=hostile_text,
        activity_date=st.dates(date(2000, 1, 1), date(2099, 12, 31)),
        duration_minutes=st.integers(1, 1440),
        participant_count=st.integers(0, 10_000),
        contact_method=st.sampled_from(CONTACT_METHODS),
        in_norway=st.booleans(),
    )


def _write_both(columns: list[ColumnLayout], rows: list[list[object]], folder: Path) -> tuple[
    list[list[openpyxl.cell.cell.Cell]], list[list[str]]
]:  # fmt: skip
    xlsx, csv_path = folder / "r.xlsx", folder / "r.csv"
    for writer_class, path in ((XlsxRowWriter, xlsx), (CsvRowWriter, csv_path)):
        writer = writer_class(path, columns, INFO)
        writer.write_rows(rows)
        writer.close(None)
    sheet = openpyxl.load_workbook(xlsx)["Aktiviteter"]
    cells = [list(row) for row in sheet.iter_rows(min_row=2)]
    text = csv_path.read_bytes().decode("utf-8-sig")
    fields = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))[1:]
    return cells, fields


def _never_a_formula(cells: list[list[openpyxl.cell.cell.Cell]], fields: list[list[str]]) -> None:
    for row in cells:
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str) and unescape(cell.value).startswith(FORMULA_STARTS):
                assert cell.quotePrefix, cell.value  # shown as text, never evaluated
    for csv_row in fields:
        for field in csv_row:
            assert not field.startswith(FORMULA_STARTS), field


@given(data=st.data())
@PROPERTY
def test_any_activity_maps_under_each_shipped_configuration(data: st.DataObject) -> None:
    slug = data.draw(st.sampled_from(DEMO_ORGANISATIONS))
    mapping = MAPPINGS[slug]
    rows = data.draw(st.lists(activities(slug), min_size=1, max_size=15))
    one_pass = mapping.begin()
    mapped = [list(one_pass.map(row)) for row in rows]

    headers = [column.header for column in mapping.columns]
    counted = 0
    for row in mapped:
        assert len(row) == len(headers)
        cells = dict(zip(headers, row, strict=True))
        assert cells["Tellende"] in ("Ja", "Nei")
        assert (cells["Årsak"] is None) == (cells["Tellende"] == "Ja")
        counted += cells["Tellende"] == "Ja"
    summary = one_pass.summary()
    totals = dict(zip([c.header for c in summary.columns], summary.totals, strict=True))
    assert totals["Sum tellende aktivitetsdager"] == counted
    assert totals["Ikke tellende"] == len(rows) - counted

    with tempfile.TemporaryDirectory() as folder:
        cells, fields = _write_both(list(mapping.columns), mapped, Path(folder))
    assert len(cells) == len(fields) == len(rows)
    _never_a_formula(cells, fields)


@given(texts=st.lists(hostile_text, min_size=1, max_size=20))
@PROPERTY
def test_hostile_text_stays_text_in_both_formats(texts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        cells, fields = _write_both([ColumnLayout("Tekst")], [[t] for t in texts], Path(folder))
    _never_a_formula(cells, fields)


@given(texts=st.lists(norwegian, min_size=1, max_size=20))
@PROPERTY
def test_norwegian_letters_survive_both_formats_byte_for_byte(texts: list[str]) -> None:
    safe = [t for t in texts if not t.startswith(FORMULA_STARTS)]
    with tempfile.TemporaryDirectory() as folder:
        cells, _ = _write_both([ColumnLayout("Tekst")], [[t] for t in safe], Path(folder))
        raw = (Path(folder) / "r.csv").read_bytes()
    assert [row[0].value for row in cells] == safe
    expected = "\r\n".join(["Tekst", *(_csv_quoted(t) for t in safe)]) + "\r\n"
    assert raw == b"\xef\xbb\xbf" + expected.encode("utf-8")


def _csv_quoted(text: str) -> str:
    """A field as the csv module writes it with ``;`` (quoted when it must be)."""
    if any(ch in text for ch in ';"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text
