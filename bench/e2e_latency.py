"""End-to-end latency of a small export: 500 activities as xlsx, from the insert's
commit to `completed` with its URL, 30 times against one warm runner process.

    .venv/bin/python -m bench.e2e_latency [--json bench/results/e2e_latency.json]

Times come from the database's own clocks: the row's `created_at` (the insert)
and `completed_at`, and each event's `occurred_at` for the steps. Every file
is downloaded and opened afterwards: 500 activity rows, or the run fails.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row

from bench._harness import (
    NHF,
    NHF_ADMIN,
    Report,
    arguments,
    bare_write,
    bench_database,
    commit_settings,
    commits_label,
    median,
    percentile,
    report_rows,
    server_version,
    start_runner,
)
from bufdir_export._models import Caller, ExportRecord, ExportRequest, ExportSuccess
from bufdir_export.client.export_client import PostgresExportClient
from bufdir_export.postgres.queries import load_queries
from bufdir_export.tools.activity_generator import generate_activities

YEAR = (date(2031, 1, 1), date(2031, 12, 31))
ROWS = 500
STEPS = ("initialised", "querying_activities", "mapping_columns", "generating_file", "storing_file")

TIMES = """
select e.id, extract(epoch from e.completed_at - e.created_at)::float8 as total,
       e.row_count, e.download_url, e.status::text,
       (select jsonb_object_agg(v.from_status, extract(epoch from v.occurred_at - p.occurred_at))
        from public.bufdir_export_audit_events v
        join public.bufdir_export_audit_events p
          on p.export_id = v.export_id and p.to_status = v.from_status
        where v.export_id = e.id) as steps
from public.bufdir_export_audit e where e.id = %s
"""


async def main() -> None:
    args = arguments(__doc__ or "")
    runs = 8 if args.quick else 30
    report = Report("e2e_latency", "python -m bench.e2e_latency")
    async with bench_database(durable=args.durable) as conninfo:
        report.figures["commits"] = await commit_settings(conninfo)
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            written = await generate_activities(
                conn, organisation_slug="nhf", count=ROWS, seed=1,
                period_start=YEAR[0], period_end=YEAR[1],
            )  # fmt: skip
            assert written == ROWS
        with tempfile.TemporaryDirectory() as work:
            runner = await start_runner(conninfo, "bench-e2e", Path(work))
            try:
                rows = await _measure(conninfo, runs)
            finally:
                await runner.stop()
            # The floor of the file step: the same rows, read by the same query
            # and cursor, written by bare XlsxWriter in the product's mode.
            record = await _record(conninfo, rows[-1]["id"])
            bare = [await bare_write(conninfo, load_queries(), Path(work), record) for _ in rows]
        postgres = await server_version(conninfo)

    totals = [row["total"] for row in rows]
    steps = {step: [row["steps"][step] for row in rows] for step in STEPS}
    report.figures |= {
        "runs": runs,
        "rows": ROWS,
        "postgres": postgres,
        "total_median_s": median(totals),
        "total_p95_s": percentile(totals, 95),
        "steps_median_s": {step: median(times) for step, times in steps.items()},
        "bare_xlsxwriter_median_s": median(bare),
        "target_median_s": 0.06,
    }
    report.table(
        f"Insert commit to completed with its URL ({ROWS} activities, xlsx, {runs} runs;"
        f" {commits_label(report.figures['commits'])})",
        ["", "median ms", "p95 ms", "max ms"],
        [
            [name, *_ms(times)]
            for name, times in [
                ("total", totals),
                *steps.items(),
                ("bare XlsxWriter, the same rows (read and write)", bare),
            ]
        ],
    )
    report.show(args.json)


async def _record(conninfo: str, export_id: Any) -> ExportRecord:
    async with (
        await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn,
        conn.cursor(row_factory=dict_row) as cursor,
    ):
        await cursor.execute(load_queries()["current_export"], {"export_id": export_id})
        return ExportRecord.model_validate(await cursor.fetchone())


def _ms(values: list[float]) -> list[float]:
    return [median(values) * 1000, percentile(values, 95) * 1000, max(values) * 1000]


async def _measure(conninfo: str, runs: int) -> list[dict[str, Any]]:
    queries = load_queries()
    client = PostgresExportClient(conninfo, Caller(NHF_ADMIN), queries, poll_interval=0.5)
    request = ExportRequest(organisation_id=NHF, period_start=YEAR[0], period_end=YEAR[1])
    measured: list[dict[str, Any]] = []
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        for n in range(runs + 2):  # the first two warm the runner up
            watch = await client.start_export(request)
            result = await watch.result(timeout=60)
            if not isinstance(result, ExportSuccess):
                raise SystemExit(f"run {n}: the export did not complete: {result}")
            async with conn.cursor(row_factory=dict_row) as cursor:
                await cursor.execute(TIMES, [watch.export_id])
                row = await cursor.fetchone()
            assert row is not None
            if n >= 2:
                measured.append(row)
            await asyncio.sleep(0.2)  # the runner is idle again before the next insert
    async with httpx.AsyncClient() as http:
        for row in measured:
            await _check_file(http, row)
    return measured


async def _check_file(http: httpx.AsyncClient, row: dict[str, Any]) -> None:
    if row["status"] != "completed" or row["row_count"] != ROWS:
        raise SystemExit(f"wrong export: {row['status']}, {row['row_count']} rows")
    response = await http.get(row["download_url"])
    response.raise_for_status()
    rows = report_rows(io.BytesIO(response.content), "report.xlsx")
    if rows != ROWS:
        raise SystemExit(f"the file holds {rows} activities, not {ROWS}")


if __name__ == "__main__":
    asyncio.run(main())
