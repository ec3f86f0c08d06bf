"""Which xlsx writer: the candidates on the same 100,000 typed rows, each in a
process of its own (so its peak RSS is its own), three runs each.

    .venv/bin/python -m bench.xlsx_writers [--json bench/results/xlsx_writers.json]

Every writer writes what the report needs: text ids and codes (leading zeros
kept), dates shown dd.mm.yyyy, whole numbers, decimals shown 0.00, booleans.
Rows are made as they are written where the library streams; a library that
takes the whole sheet at once gets a list, and its RSS shows it. Each file is
read back with openpyxl: the row count, a date cell that is a date, a decimal
that is a number, a county code that kept its zero.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bench._harness import Report, arguments, median

HEADERS = [
    "Aktivitets-ID", "Lokallag", "Fylkesnr", "Kommunenr", "Aktivitetstype", "Dato",
    "Varighet (min)", "Timer", "Deltakere", "Kontaktform", "I Norge",
]  # fmt: skip
DATE_COLUMN, HOURS_COLUMN, COUNTY_COLUMN = 5, 7, 2


CHAPTERS = ("Oslo", "Bergen", "Tromsø", "Bodø", "Ålesund")
COUNTIES = ("03", "11", "15", "18", "31", "46", "50", "55")
TYPES = ("Samtalegruppe", "Aktivitetsgruppe", "Oppsøkende", "Likepersonskurs")
MINUTES = (30, 45, 60, 90, 120, 180)
CONTACTS = ("Fysisk oppmøte", "Video", "Telefon")


def rows(count: int) -> Iterator[list[Any]]:
    """The same ``count`` rows every time, and in bench/xlsx_writers_deno.ts:
    both draw from the same xorshift32 sequence, value by value."""
    state = 2025

    def draw() -> int:
        nonlocal state
        state ^= (state << 13) & 0xFFFFFFFF
        state ^= state >> 17
        state ^= (state << 5) & 0xFFFFFFFF
        return state

    def pick(values: tuple[Any, ...]) -> Any:
        return values[draw() % len(values)]

    first_day = date(2025, 1, 1).toordinal()
    for _ in range(count):
        hex_id = "".join(f"{draw():08x}" for _ in range(4))
        minutes = pick(MINUTES)
        yield [
            "-".join((hex_id[:8], hex_id[8:12], hex_id[12:16], hex_id[16:20], hex_id[20:])),
            f"NHF {pick(CHAPTERS)}",
            pick(COUNTIES),
            f"{301 + draw() % 5399:04d}",
            pick(TYPES),
            date.fromordinal(first_day + draw() % 365),
            minutes,
            round(minutes / 60, 2),
            1 + draw() % 19,
            pick(CONTACTS),
            draw() % 100 < 97,
        ]


def openpyxl_write_only(path: Path, count: int) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Aktiviteter")
    sheet.append(HEADERS)

    def typed(value: Any, number_format: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = number_format
        return cell

    for row in rows(count):
        row[DATE_COLUMN] = typed(row[DATE_COLUMN], "dd.mm.yyyy")
        row[HOURS_COLUMN] = typed(row[HOURS_COLUMN], "0.00")
        sheet.append(row)
    book.save(path)


def xlsxwriter_constant_memory(path: Path, count: int) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Aktiviteter")
    date_format = book.add_format({"num_format": "dd.mm.yyyy"})
    hours_format = book.add_format({"num_format": "0.00"})
    sheet.write_row(0, 0, HEADERS)
    for r, row in enumerate(rows(count), start=1):
        for c, value in enumerate(row):
            if c == DATE_COLUMN:
                sheet.write_datetime(
                    r, c, datetime.combine(value, datetime.min.time()), date_format
                )
            elif c == HOURS_COLUMN:
                sheet.write_number(r, c, value, hours_format)
            elif isinstance(value, str):
                sheet.write_string(r, c, value)
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            else:
                sheet.write_number(r, c, value)
    book.close()


def pyexcelerate_whole_sheet(path: Path, count: int) -> None:
    from pyexcelerate import Style, Workbook
    from pyexcelerate.Format import Format

    data = [HEADERS, *rows(count)]
    book = Workbook()
    sheet = book.new_sheet("Aktiviteter", data=data)
    sheet.set_col_style(DATE_COLUMN + 1, Style(format=Format("dd.mm.yyyy")))
    sheet.set_col_style(HOURS_COLUMN + 1, Style(format=Format("0.00")))
    book.save(str(path))


def rustpy_xlsxwriter_records(path: Path, count: int) -> None:
    import rustpy_xlsxwriter

    def number_format(pattern: str) -> Any:
        chosen = rustpy_xlsxwriter.Format()
        chosen.set_num_format(pattern)
        return chosen

    records = [dict(zip(HEADERS, row, strict=True)) for row in rows(count)]
    rustpy_xlsxwriter.write_worksheet(
        records,
        str(path),
        sheet_name="Aktiviteter",
        column_formats={
            HEADERS[DATE_COLUMN]: number_format("dd.mm.yyyy"),
            HEADERS[HOURS_COLUMN]: number_format("0.00"),
        },
    )


DENO_SCRIPT = Path(__file__).with_name("xlsx_writers_deno.ts")


def deno() -> str:
    """The deno binary: on PATH, or the PyPI package's beside this interpreter."""
    found = shutil.which("deno") or shutil.which("deno", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit("no deno: install the PyPI package deno (the dev extra has it)")
    return found


def under_deno(writer: str) -> Callable[[Path, int], dict[str, float]]:
    """A writer of bench/xlsx_writers_deno.ts, run by Deno with its npm package."""

    def run(path: Path, count: int) -> dict[str, float]:
        done = subprocess.run(  # noqa: S603 - the deno binary, this repository's script
            [deno(), "run", "-A", str(DENO_SCRIPT), writer, str(count), str(path)],
            capture_output=True, text=True, check=False, env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"deno {writer} failed: {done.stderr.strip()[-2000:]}")
        figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        return figures

    return run


DENO_WRITERS: dict[str, tuple[Callable[[Path, int], dict[str, float]], str]] = {
    "exceljs 4.4 streaming (Deno)": (
        under_deno("exceljs"),
        "streams (WorkbookWriter), as an Edge Function would",
    ),
    "SheetJS 0.18 (Deno)": (under_deno("sheetjs"), "makes the whole sheet in memory"),
}

WRITERS: dict[str, tuple[Callable[[Path, int], None], str]] = {
    "openpyxl write-only + lxml": (openpyxl_write_only, "streams; the product's writer"),
    "XlsxWriter constant_memory": (xlsxwriter_constant_memory, "streams, row by row"),
    "pyexcelerate": (pyexcelerate_whole_sheet, "takes the whole sheet at once"),
    "rustpy-xlsxwriter": (rustpy_xlsxwriter_records, "takes all records at once (Rust)"),
}


def check(path: Path, count: int) -> None:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    sheet = book["Aktiviteter"]
    seen = 0
    for n, row in enumerate(sheet.iter_rows(values_only=True)):
        if n == 1:
            if not isinstance(row[DATE_COLUMN], datetime):
                raise SystemExit(f"{path.name}: the date is {row[DATE_COLUMN]!r}")
            if not isinstance(row[HOURS_COLUMN], int | float):
                raise SystemExit(f"{path.name}: the hours are {row[HOURS_COLUMN]!r}")
            if not (isinstance(row[COUNTY_COLUMN], str) and len(row[COUNTY_COLUMN]) == 2):
                raise SystemExit(f"{path.name}: the county code is {row[COUNTY_COLUMN]!r}")
        seen += 1
    book.close()
    if seen != count + 1:
        raise SystemExit(f"{path.name}: {seen - 1} rows, not {count}")


def one(name: str, count: int, path: Path) -> None:
    """In a process of its own: write, and print seconds and peak RSS as JSON."""
    write, _ = WRITERS[name]
    began = time.perf_counter()
    write(path, count)
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak}))


def main() -> None:
    args = arguments(__doc__ or "")
    count = 20_000 if args.quick else 100_000
    runs = 1 if args.quick else 3
    report = Report("xlsx_writers", "python -m bench.xlsx_writers")
    table = []
    with tempfile.TemporaryDirectory() as work:
        for name, how in [(n, w[1]) for n, w in (*WRITERS.items(), *DENO_WRITERS.items())]:
            measured = []
            path = Path(work) / f"{name.split()[0].lower()}.xlsx"
            for _ in range(runs):
                if name in DENO_WRITERS:
                    measured.append(DENO_WRITERS[name][0](path, count))
                    continue
                command = [sys.executable, "-m", "bench.xlsx_writers", "--one", name]
                done = subprocess.run(  # noqa: S603 - this interpreter, this module
                    [*command, str(count), str(path)], capture_output=True, text=True, check=True
                )
                measured.append(json.loads(done.stdout))
            check(path, count)
            seconds = median([m["seconds"] for m in measured])
            rss = max(m["peak_rss_mb"] for m in measured)
            report.figures[name] = {
                "rows_per_s": count / seconds,
                "seconds_median": seconds,
                "peak_rss_mb": rss,
                "file_bytes": path.stat().st_size,
                "how": how,
            }
            table.append([name, count / seconds, rss, path.stat().st_size, how])
    report.figures["rows"] = count
    report.table(
        f"xlsx writers, {count:,} typed rows (median of {runs})",
        ["writer", "rows/s", "peak RSS MiB", "bytes", "how"],
        table,
    )
    report.show(args.json)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--one":
        one(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
    else:
        main()
