"""Large exports and memory: 10,000 and 100,000 activities as xlsx and 1,000,000
as CSV, each through a fresh runner process, beside the bare writer on the
same rows.

    .venv/bin/python -m bench.large_exports [--json bench/results/large_exports.json]

For each size:
- the pipeline: rows per second from claim to `completed`, the time of each
  step (from the events), and the runner process's peak RSS (VmHWM);
- mapping alone: the organisation's configuration over the same rows, in this
  process, rows per second of `map()` only;
- the bare writer: the same library in the same mode (XlsxWriter in
  constant_memory mode, or the csv module) writing the same rows read from
  the database with the same query and cursor, with no mapping, no summary,
  no audit around it; for xlsx also openpyxl in write-only mode, the
  product's writer before XlsxWriter.
The ratio pipeline/bare is measured side by side in the same run. Each file
is opened and its rows counted before anything is reported.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from bench._harness import (
    NHF,
    NHF_ADMIN,
    Report,
    arguments,
    bare_write,
    bench_database,
    check_rows,
    runner_pool,
    start_runner,
)
from bufdir_export._models import (
    Caller,
    ExportFormat,
    ExportRecord,
    ExportRequest,
    ExportStatus,
    ExportSuccess,
)
from bufdir_export.client.export_client import PostgresExportClient
from bufdir_export.postgres.activities import PostgresActivities
from bufdir_export.postgres.column_mapper import PostgresColumnMapper
from bufdir_export.postgres.queries import Queries, load_queries
from bufdir_export.report.plugins import PluginRegistry
from bufdir_export.tools.activity_generator import generate_activities

STEPS = ("querying_activities", "mapping_columns", "generating_file", "storing_file")
STEP_TIMES = """
select v.from_status::text, extract(epoch from v.occurred_at - p.occurred_at)::float8
from public.bufdir_export_audit_events v
join public.bufdir_export_audit_events p
  on p.export_id = v.export_id and p.to_status = v.from_status
where v.export_id = %s and v.from_status <> 'initialised'
"""


async def main() -> None:
    args = arguments(__doc__ or "")
    xlsx, csv_ = ExportFormat.XLSX, ExportFormat.CSV
    sizes = (
        [(2_000, xlsx), (20_000, xlsx), (50_000, csv_)]
        if args.quick
        else [(10_000, xlsx), (100_000, xlsx), (1_000_000, csv_)]
    )
    report = Report("large_exports", "python -m bench.large_exports")
    queries = load_queries()
    rows = []
    async with bench_database() as conninfo:
        for n, (size, file_format) in enumerate(sizes):
            year = 2032 + n
            period = (date(year, 1, 1), date(year, 12, 31))
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await generate_activities(
                    conn, organisation_slug="nhf", count=size, seed=n,
                    period_start=period[0], period_end=period[1],
                )  # fmt: skip
                await conn.execute("vacuum analyze public.activities")
            with tempfile.TemporaryDirectory() as work_dir:
                work = Path(work_dir)
                pipeline = await _pipeline(conninfo, queries, work, size, file_format, period)
                mapping = await _mapping(conninfo, queries, pipeline["record"])
                bare = await bare_write(conninfo, queries, work, pipeline["record"])
                openpyxl_bare = (
                    await bare_write(
                        conninfo, queries, work, pipeline["record"], library="openpyxl"
                    )
                    if file_format is xlsx
                    else None
                )
            figures = {
                "rows": size,
                "format": str(file_format),
                "pipeline_rows_per_s": size / pipeline["seconds"],
                "pipeline_seconds": pipeline["seconds"],
                "steps_s": pipeline["steps"],
                "mapping_rows_per_s": size / mapping,
                "bare_rows_per_s": size / bare,
                "bare_seconds": bare,
                "pipeline_over_bare": (size / pipeline["seconds"]) / (size / bare),
                "openpyxl_bare_rows_per_s": None if openpyxl_bare is None else size / openpyxl_bare,
                "pipeline_over_openpyxl_bare": (
                    None if openpyxl_bare is None else openpyxl_bare / pipeline["seconds"]
                ),
                "runner_peak_rss_mb": pipeline["rss"],
                "file_bytes": pipeline["record"].file_size_bytes,
            }
            report.figures[f"{size}_{file_format}"] = figures
            rows.append(
                [
                    f"{size:,} {file_format}",
                    figures["pipeline_rows_per_s"],
                    figures["bare_rows_per_s"],
                    f"{figures['pipeline_over_bare']:.0%}",
                    "" if openpyxl_bare is None else f"{openpyxl_bare / pipeline['seconds']:.0%}",
                    figures["mapping_rows_per_s"],
                    *(pipeline["steps"][step] for step in STEPS),
                    figures["runner_peak_rss_mb"],
                ]
            )
    small, large, largest = (report.figures[f"{s}_{f}"] for s, f in sizes)
    report.figures["rss_growth_small_to_large"] = (
        large["runner_peak_rss_mb"] / small["runner_peak_rss_mb"] - 1
    )
    report.figures["rss_growth_small_to_largest"] = (
        largest["runner_peak_rss_mb"] / small["runner_peak_rss_mb"] - 1
    )
    report.figures["targets"] = {
        "pipeline_over_bare": 0.9,
        "mapping_rows_per_s": 250_000,
        "largest_peak_rss_mb": 150,
        "rss_growth_small_to_largest": 0.1,
    }
    report.table(
        "Large exports: one fresh runner process each, beside the bare writer",
        ["export", "pipeline rows/s", "bare rows/s", "pipeline/bare", "pipeline/openpyxl",
         "mapping rows/s",
         "query s", "map s", "generate s", "store s", "peak RSS MiB"],
        rows,
    )  # fmt: skip
    report.show(args.json)


async def _pipeline(
    conninfo: str,
    queries: Queries,
    work: Path,
    size: int,
    file_format: ExportFormat,
    period: tuple[date, date],
) -> dict[str, Any]:
    runner = await start_runner(conninfo, f"large-{size}", work, concurrency="1")
    try:
        client = PostgresExportClient(conninfo, Caller(NHF_ADMIN), queries, poll_interval=1)
        watch = await client.start_export(
            ExportRequest(
                organisation_id=NHF, period_start=period[0], period_end=period[1],
                format=file_format,
            )
        )  # fmt: skip
        result = await watch.result(timeout=3600)
        rss = runner.peak_rss_mb()
    finally:
        await runner.stop()
    if not isinstance(result, ExportSuccess) or result.status is not ExportStatus.COMPLETED:
        raise SystemExit(f"{size}: the export did not complete: {result}")
    record = await client.export(watch.export_id)
    assert record.file_path is not None
    check_rows(work / "storage" / "exports" / record.file_path, size)
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        steps = dict(await (await conn.execute(STEP_TIMES, [record.id])).fetchall())
    claimed = await _claimed_at(conninfo, record.id)
    assert record.completed_at is not None
    return {
        "record": record,
        "seconds": (record.completed_at - claimed).total_seconds(),
        "steps": steps,
        "rss": rss,
    }


async def _claimed_at(conninfo: str, export_id: uuid.UUID) -> Any:
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        cursor = await conn.execute(
            "select occurred_at from public.bufdir_export_audit_events"
            " where export_id = %s and to_status = 'querying_activities'",
            [export_id],
        )
        row = await cursor.fetchone()
    assert row is not None
    return row[0]


async def _mapping(conninfo: str, queries: Queries, export: ExportRecord) -> float:
    """Seconds spent in ``map()`` alone over the export's rows."""
    async with runner_pool(conninfo) as pool:
        mapper = PostgresColumnMapper(pool, queries, PluginRegistry.installed())
        mapping_pass = (await mapper.prepare(export)).begin()
        spent = 0.0
        mapped = 0
        clock = time.perf_counter
        async for activity in PostgresActivities(pool, queries).stream(export):
            began = clock()
            mapping_pass.map(activity)
            spent += clock() - began
            mapped += 1
    if mapped != export.row_count:
        raise SystemExit(f"mapping saw {mapped} rows, not {export.row_count}")
    return spent


if __name__ == "__main__":
    asyncio.run(main())
