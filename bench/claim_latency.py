"""Claim latency: from the insert's commit to a runner's claim
(`querying_activities`), 200 samples with 1 and with 4 idle runner processes.

    .venv/bin/python -m bench.claim_latency [--json bench/results/claim_latency.json]

The start is the insert's own event (written by the insert's trigger, just
before the commit); the end is the claim's event. Runners poll only every 5 s
here, so what is measured is the NOTIFY wake-up and the claim. Each request
asks for a period with no activities, so the runner is idle again at once;
the next insert waits until it is. Every export must have reached
`completed_empty`, claimed exactly once.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from datetime import date
from pathlib import Path

import psycopg

from bench._harness import (
    NHF,
    NHF_ADMIN,
    Report,
    arguments,
    bench_database,
    median,
    percentile,
    start_runner,
)
from bufdir_export._models import Caller, ExportRequest
from bufdir_export.postgres.acting import act_as_user
from bufdir_export.postgres.queries import load_queries

CLAIMS = """
select e.id, e.status::text,
       extract(epoch from c.occurred_at - i.occurred_at)::float8 as claim,
       (select count(*) from public.bufdir_export_audit_events v
        where v.export_id = e.id and v.to_status = 'querying_activities') as claims
from public.bufdir_export_audit e
join public.bufdir_export_audit_events i
  on i.export_id = e.id and i.from_status is null
join public.bufdir_export_audit_events c
  on c.export_id = e.id and c.to_status = 'querying_activities'
where e.id = any(%s)
"""


async def main() -> None:
    args = arguments(__doc__ or "")
    samples = 40 if args.quick else 200
    report = Report("claim_latency", "python -m bench.claim_latency")
    rows = []
    async with bench_database() as conninfo:
        for runners in (1, 4):
            claims = await _measure(conninfo, runners, samples)
            report.figures[f"runners_{runners}"] = {
                "samples": len(claims),
                "median_ms": median(claims) * 1000,
                "p99_ms": percentile(claims, 99) * 1000,
                "max_ms": max(claims) * 1000,
            }
            rows.append(
                [
                    f"{runners} idle runner{'s' if runners > 1 else ''}",
                    len(claims),
                    median(claims) * 1000,
                    percentile(claims, 99) * 1000,
                    max(claims) * 1000,
                ]
            )
    report.figures["targets"] = {"median_ms": 5, "p99_ms": 50}
    report.table(
        "Insert commit to claim (querying_activities)",
        ["", "samples", "median ms", "p99 ms", "max ms"],
        rows,
    )
    report.show(args.json)


async def _measure(conninfo: str, runners: int, samples: int) -> list[float]:
    with tempfile.TemporaryDirectory() as work:
        started = [
            await start_runner(
                conninfo, f"claim-{runners}-{n}", Path(work), poll_interval_seconds="5"
            )
            for n in range(runners)
        ]
        try:
            ids = await _requests(conninfo, samples)
        finally:
            for runner in started:
                await runner.stop()
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        rows = await (await conn.execute(CLAIMS, [ids])).fetchall()
    if len(rows) != samples:
        raise SystemExit(f"{samples - len(rows)} exports were never claimed")
    for export_id, status, _, claims in rows:
        if status != "completed_empty" or claims != 1:
            raise SystemExit(f"export {export_id}: {status}, claimed {claims} times")
    return [row[2] for row in rows]


async def _requests(conninfo: str, samples: int) -> list[uuid.UUID]:
    queries = load_queries()
    request = ExportRequest(
        organisation_id=NHF, period_start=date(2041, 1, 1), period_end=date(2041, 12, 31)
    )
    ids: list[uuid.UUID] = []
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        for n in range(samples + 5):  # the first five warm up
            async with conn.transaction():  # as the admin, the way the client asks
                await act_as_user(conn, queries, Caller(NHF_ADMIN))
                cursor = await conn.execute(queries["request_export"], request.model_dump())
                row = await cursor.fetchone()
            assert row is not None
            await _until_ended(conn, row[0])
            if n >= 5:
                ids.append(row[0])
    return ids


async def _until_ended(conn: psycopg.AsyncConnection, export_id: uuid.UUID) -> None:
    async with asyncio.timeout(30):
        while True:
            cursor = await conn.execute(
                "select status::text from public.bufdir_export_audit where id = %s", [export_id]
            )
            row = await cursor.fetchone()
            if row is not None and row[0] == "completed_empty":
                break
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.02)  # every runner back to waiting


if __name__ == "__main__":
    asyncio.run(main())
