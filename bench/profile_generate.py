"""Where the file step's time goes: a pyinstrument profile of mapping and
writing (the work the runner does in its writer thread) over generated
activities already read from the database, for xlsx and for CSV.

    .venv/bin/python -m bench.profile_generate [--rows 50000]

Prints each format's profile (the frames that hold most of the time) and the
share of mapping in it. It reads the database once, before the profile.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from pyinstrument import Profiler

from bench._harness import NHF, NHF_ADMIN, bench_database, console, runner_pool
from bufdir_export._models import Caller, ExportFormat, ExportRecord
from bufdir_export.postgres.acting import act_as_user
from bufdir_export.postgres.activities import PostgresActivities
from bufdir_export.postgres.column_mapper import PostgresColumnMapper
from bufdir_export.postgres.queries import Queries, load_queries
from bufdir_export.report.file_generator import _write
from bufdir_export.report.plugins import PluginRegistry
from bufdir_export.report.sheet_writers import CsvRowWriter, ReportInfo
from bufdir_export.report.xlsx_writer import XlsxRowWriter
from bufdir_export.tools.activity_generator import generate_activities

PERIOD = (date(2032, 1, 1), date(2032, 12, 31))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    rows = parser.parse_args().rows
    queries = load_queries()
    async with bench_database() as conninfo:
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            await generate_activities(
                conn, organisation_slug="nhf", count=rows, seed=7,
                period_start=PERIOD[0], period_end=PERIOD[1],
            )  # fmt: skip

            export = await _export(conn, queries)

        async with runner_pool(conninfo) as pool:
            mapping = await PostgresColumnMapper(pool, queries, PluginRegistry.installed()).prepare(
                export
            )
            activities = [a async for a in PostgresActivities(pool, queries).stream(export)]
    info = ReportInfo("profile", "NHF", "profile", str(export.id), datetime.now(UTC), "")
    with tempfile.TemporaryDirectory() as work:
        for name, writer_class in (("xlsx", XlsxRowWriter), ("csv", CsvRowWriter)):
            writer = writer_class(Path(work) / f"profile.{name}", list(mapping.columns), info)
            mapping_pass = mapping.begin()
            profiler = Profiler(interval=0.0005)
            profiler.start()
            for start in range(0, len(activities), 2_000):
                _write(writer, mapping_pass, activities[start : start + 2_000])
            writer.close(mapping_pass.summary())
            profiler.stop()
            console.rule(f"{name}: {len(activities):,} rows")
            console.print(profiler.output_text(unicode=True, show_all=False, short_mode=True))


async def _export(conn: psycopg.AsyncConnection[Any], queries: Queries) -> ExportRecord:
    """An export NHF's admin asks for: the runner reads activities only through one."""
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cursor:
        await act_as_user(conn, queries, Caller(NHF_ADMIN))
        await cursor.execute(
            queries["request_export"],
            {
                "organisation_id": NHF,
                "period_start": PERIOD[0],
                "period_end": PERIOD[1],
                "format": ExportFormat.XLSX.value,
                "include_attachments": False,
            },
        )
        row = await cursor.fetchone()
    return ExportRecord.model_validate(row)


if __name__ == "__main__":
    asyncio.run(main())
