"""The report file: typed xlsx cells and Norwegian CSV, streamed, and never half-written."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.escape import unescape

from bufdir_export._errors import StepFailed
from bufdir_export._models import ExportFormat
from bufdir_export.core.ports import Activity, ColumnLayout, SummaryTable
from bufdir_export.report.file_generator import StreamingFileGenerator, report_file_name
from bufdir_export.report.sheet_writers import CsvRowWriter, ReportInfo, neutralise
from bufdir_export.report.xlsx_writer import XlsxRowWriter
from tests.support import BASIS, activity, export_record, shipped_mapping

HOSTILE = ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\tx", "\rx"]
INFO = ReportInfo(
    title="Bufdir-rapport 2025",
    organisation="Norges Handikapforbund",
    description="Eksport e1",
    export_id="e1",
    generated_at=datetime(2026, 1, 15, 12, 0),
)
TEXT = [ColumnLayout("Tekst")]
_activity = activity


def _rows_in(path: Path) -> int:
    """Rows of the file, the header included."""
    if path.suffix == ".csv":
        return len(path.read_bytes().decode("utf-8-sig").splitlines())
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return sum(1 for _ in workbook["Aktiviteter"].iter_rows(values_only=True))
    finally:
        workbook.close()


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def _stream(
    count: int, *, fail_at: int | None = None, odd_one: int | None = None
) -> AsyncIterator[Activity]:
    for n in range(count):
        if n == fail_at:
            raise RuntimeError("the stream broke")
        yield _activity(n, activity_type_code="ukjent") if n == odd_one else _activity(n)


def test_xlsx_cells_are_typed_and_the_header_frozen_and_filtered(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    mapping = shipped_mapping("nhf")
    headers = [column.header for column in mapping.columns]
    one = mapping.begin()
    writer = XlsxRowWriter(path, mapping.columns, INFO)
    writer.write_rows([one.map(_activity(0))])
    writer.close(one.summary())

    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Sammendrag", "Aktiviteter"]
    sheet = workbook["Aktiviteter"]
    assert [c.value for c in sheet[1]] == headers
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:P2"  # the header and the data rows
    row = dict(zip(headers, sheet[2], strict=True))
    assert isinstance(row["Dato"].value, datetime)
    assert row["Dato"].value.date() == date(2025, 3, 1)
    assert row["Dato"].number_format == "dd.mm.yyyy"
    assert row["Fylkesnr"].value == "03"
    assert row["Fylkesnr"].data_type == "s"
    assert row["Kommunenr"].value == "0301"
    assert row["Timer"].value == 1.5
    assert row["Timer"].data_type == "n"
    assert row["Timer"].number_format == "0.00"
    assert row["Deltakere"].value == 4
    assert row["I Norge"].value == "Ja"
    assert row["Tellende"].value == "Ja"
    assert row["Årsak"].value is None
    properties = workbook.properties
    assert properties.title == "Bufdir-rapport 2025"
    assert properties.subject == "Norges Handikapforbund"
    assert properties.language == "nb-NO"
    assert properties.created == datetime(2026, 1, 15, 12, 0)
    assert properties.creator == "bufdir-export"
    assert {p.name: p.value for p in workbook.custom_doc_props.props}["Eksport-ID"] == "e1"
    summary = workbook["Sammendrag"]
    assert summary.freeze_panes == "A2"
    assert summary.auto_filter.ref == "A1:M2"  # the chapters, not the totals row
    assert [c.value for c in summary[2]][:4] == [2025, "03", "Oslo", "NHF Oslo"]
    assert summary["A3"].value == "Totalt"
    assert summary["A3"].font.b


def test_text_that_looks_like_a_formula_stays_text_in_xlsx_and_csv(tmp_path: Path) -> None:
    xlsx, csv_path = tmp_path / "r.xlsx", tmp_path / "r.csv"
    for writer_class, path in ((XlsxRowWriter, xlsx), (CsvRowWriter, csv_path)):
        writer = writer_class(path, TEXT, INFO)
        writer.write_rows([[text] for text in HOSTILE])
        writer.close(None)

    sheet = openpyxl.load_workbook(xlsx)["Aktiviteter"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    # In xlsx the text is kept as it is, and the cell's quote prefix keeps it text.
    assert [c.data_type for c in cells] == ["s"] * len(HOSTILE)
    # (openpyxl leaves the XML escape of a carriage return, _x000D_, as it is)
    assert [unescape(c.value) for c in cells] == HOSTILE
    assert [c.quotePrefix for c in cells] == [True] * len(HOSTILE)
    text = csv_path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert [row[0] for row in rows[1:]] == [f"'{text}" for text in HOSTILE]
    assert neutralise("Oslo") == "Oslo"
    assert neutralise("1-2") == "1-2"


def test_csv_is_what_excel_in_norway_opens(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    columns = [
        ColumnLayout("Dato", kind="date"),
        ColumnLayout("Måned", kind="date", date_format="mm.yyyy"),
        ColumnLayout("Timer", kind="decimal", decimals=2),
        ColumnLayout("Lokallag"),
        ColumnLayout("Fylkesnr"),
        ColumnLayout("Deltakere", kind="integer"),
    ]
    writer = CsvRowWriter(path, columns, INFO)
    day = date(2025, 3, 1)
    writer.write_rows([[day, day, Decimal("1.5"), 'Lag; "Øst"', "03", 4]])
    writer.close(SummaryTable(columns=TEXT, rows=[["ignored"]], totals=["x"]))

    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows == [
        ["Dato", "Måned", "Timer", "Lokallag", "Fylkesnr", "Deltakere"],
        ["01.03.2025", "03.2025", "1,50", 'Lag; "Øst"', "03", "4"],
    ]


@pytest.mark.parametrize("file_format", [ExportFormat.XLSX, ExportFormat.CSV])
async def test_the_generator_streams_every_row_and_reports_progress(
    tmp_path: Path, file_format: ExportFormat
) -> None:
    export = export_record(format=file_format)
    seen: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        seen.append((done, total))

    generator = StreamingFileGenerator(tmp_path, batch_size=100)
    made = await generator.generate(
        export, shipped_mapping(), _stream(1_050), 1_050, progress, basis=BASIS
    )

    assert made.row_count == 1_050
    assert made.file_name == report_file_name(export) == f"bufdir-rapport-2025.{file_format}"
    assert made.size_bytes == made.path.stat().st_size
    assert seen[-1] == (1_050, 1_050)
    assert [done for done, _ in seen] == sorted({done for done, _ in seen})
    assert await asyncio.to_thread(_rows_in, made.path) == 1_051
    assert await asyncio.to_thread(_names, tmp_path) == [made.path.name]


async def test_the_file_names_its_organisation_period_export_and_time(tmp_path: Path) -> None:
    export = export_record()
    before = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    made = await StreamingFileGenerator(tmp_path).generate(
        export,
        shipped_mapping("nhf", version=3),
        _stream(10),
        10,
        _nothing,
        basis=BASIS,
    )

    workbook = openpyxl.load_workbook(made.path)
    properties = workbook.properties
    assert properties.subject == "Norges Handikapforbund"
    assert properties.title == "Bufdir-rapport, grunnlagsår 2025"
    assert {p.name: p.value for p in workbook.custom_doc_props.props}["Eksport-ID"] == str(
        export.id
    )
    assert str(export.id) in properties.description
    assert before <= properties.created <= datetime.now(UTC).replace(tzinfo=None)
    notes = {row[0]: row[1] for row in workbook["Sammendrag"].iter_rows(values_only=True)}
    assert notes["Organisasjon"] == "Norges Handikapforbund"
    assert notes["Periode"] == "01.01.2025-31.12.2025"
    assert notes["Kolonneoppsett"] == "versjon 3"


async def test_a_period_that_is_not_a_calendar_year_is_marked_as_such(tmp_path: Path) -> None:
    export = export_record(period_start=date(2024, 7, 1), period_end=date(2025, 6, 30))
    made = await StreamingFileGenerator(tmp_path).generate(
        export, shipped_mapping("nhf"), _stream(3), 3, _nothing, basis=BASIS
    )

    workbook = openpyxl.load_workbook(made.path)
    assert workbook.properties.title == "Bufdir-rapport 01.07.2024-30.06.2025"
    notes = {row[0]: row[1] for row in workbook["Sammendrag"].iter_rows(values_only=True)}
    assert "Grunnlagsår" not in notes
    assert notes["Periode"].startswith("01.07.2024-30.06.2025. Ikke et kalenderår")


async def _nothing(done: int, total: int) -> None:
    return None


@pytest.mark.parametrize("broken", ["mapping", "stream"])
async def test_a_failure_midway_propagates_and_leaves_no_file(tmp_path: Path, broken: str) -> None:
    generator = StreamingFileGenerator(tmp_path, batch_size=100)
    # mapping: an activity type the configuration gives no Bufdir category
    rows = _stream(2_000, odd_one=500) if broken == "mapping" else _stream(2_000, fail_at=700)

    with pytest.raises(StepFailed if broken == "mapping" else RuntimeError):
        await generator.generate(
            export_record(),
            shipped_mapping(),
            rows,
            2_000,
            _nothing,
            basis=BASIS,
        )

    assert await asyncio.to_thread(_names, tmp_path) == []


async def test_a_cancelled_generation_leaves_no_file(tmp_path: Path) -> None:
    started = asyncio.Event()

    async def endless() -> AsyncIterator[Activity]:
        n = 0
        while True:
            if n == 300:
                started.set()
            yield _activity(n)
            n += 1
            await asyncio.sleep(0)

    generator = StreamingFileGenerator(tmp_path, batch_size=100)
    task = asyncio.create_task(
        generator.generate(
            export_record(),
            shipped_mapping(),
            endless(),
            10**9,
            _nothing,
            basis=BASIS,
        )
    )
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await asyncio.to_thread(_names, tmp_path) == []


class SlowToClose:
    """The real xlsx writer, with a close that waits to be let go, and a record of overlaps."""

    def __init__(self) -> None:
        self.closing, self.let_go = threading.Event(), threading.Event()
        self.calls: list[str] = []
        self._busy = threading.Lock()
        self.overlapped = False
        self._writer: XlsxRowWriter | None = None

    def open(self, path: Path, columns: Sequence[ColumnLayout], info: ReportInfo) -> SlowToClose:
        self._writer = XlsxRowWriter(path, columns, info)
        return self

    def _call(self, name: str, call: Callable[[XlsxRowWriter], None]) -> None:
        assert self._writer is not None
        if not self._busy.acquire(blocking=False):
            self.overlapped = True
            self._busy.acquire()
        try:
            self.calls.append(name)
            call(self._writer)
        finally:
            self._busy.release()

    def write_rows(self, rows: Sequence[Sequence[object]]) -> None:
        self._call("write", lambda writer: writer.write_rows(rows))

    def close(self, summary: SummaryTable | None) -> None:
        def slow(writer: XlsxRowWriter) -> None:
            self.closing.set()
            self.let_go.wait()
            writer.close(summary)

        self._call("close", slow)

    def discard(self) -> None:
        self._call("discard", lambda writer: writer.discard())


async def test_a_cancellation_while_the_file_is_closed_discards_it_only_after(
    tmp_path: Path,
) -> None:
    writer = SlowToClose()
    generator = StreamingFileGenerator(
        tmp_path, batch_size=100, writers={ExportFormat.XLSX: writer.open}
    )
    task = asyncio.create_task(
        generator.generate(
            export_record(),
            shipped_mapping(),
            _stream(250),
            250,
            _nothing,
            basis=BASIS,
        )
    )
    assert await asyncio.to_thread(writer.closing.wait, 10)

    task.cancel()
    await asyncio.sleep(0.05)  # time enough for a discard in a second thread to begin
    writer.let_go.set()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert writer.calls == ["write", "write", "write", "close", "discard"]
    assert not writer.overlapped
    assert await asyncio.to_thread(_names, tmp_path) == []


async def test_the_event_loop_keeps_running_while_a_file_is_written(tmp_path: Path) -> None:
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    async def rows() -> AsyncIterator[Activity]:
        for n in range(20_000):
            yield _activity(n)

    tick_task = asyncio.create_task(ticker())
    generator = StreamingFileGenerator(tmp_path, batch_size=2_000)
    await generator.generate(
        export_record(), shipped_mapping(), rows(), 20_000, _nothing, basis=BASIS
    )
    done.set()
    await tick_task

    # The rows come from 20,000 loop steps of their own; with mapping and
    # writing on the loop the ticker would only run between batches.
    assert ticks > 1_000


def test_control_characters_in_text_never_break_the_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    writer = XlsxRowWriter(path, [ColumnLayout("Lokallag\x00")], INFO)
    writer.write_rows([["Lag\x01 Øst\x1f"], ["\x01=SUM(A1)"]])
    writer.close(None)

    sheet = openpyxl.load_workbook(path)["Aktiviteter"]
    cells = [row[0] for row in sheet.iter_rows()]
    assert [cell.value for cell in cells] == ["Lokallag", "Lag Øst", "=SUM(A1)"]
    assert [cell.data_type for cell in cells] == ["s", "s", "s"]
    assert cells[2].quotePrefix
