"""Side by side with a general-purpose queue: 1,000 exports through no-op steps,
2 worker processes each, once through this project's state machine (every
transition audited) and once as a Procrastinate task, on the same database
in the same run.

    .venv/bin/python -m bench.vs_procrastinate [--json bench/results/vs_procrastinate.json]

Both sides start their workers first, then get all their work in one go.
Throughput is jobs / (last end - first insert); latency is each job's insert
to its end, from the database's own timestamps (our events; Procrastinate's
`procrastinate_events`). Every export must end `completed` after exactly one
claim; every job must end `succeeded`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from typing import Any

import psycopg

from bench._harness import (
    NHF,
    NHF_ADMIN,
    Report,
    arguments,
    bench_database,
    commit_settings,
    commits_label,
    median,
    percentile,
    until_count,
)

WORKERS = 2
_LIBPQ = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE", "DATABASE_URL")

OURS_INSERT = """
insert into public.bufdir_export_audit (organisation_id, requested_by, period_start, period_end)
select %(org)s, %(user)s, '2025-01-01', '2025-12-31' from generate_series(1, %(count)s)
"""
OURS_ENDED = (
    "select count(*) from public.bufdir_export_audit where status in ('completed', 'failed')"
)
THEIRS_ENDED = "select count(*) from procrastinate_jobs where status in ('succeeded', 'failed')"
# Every call of the runner API, counted by the server (track_functions = pl).
TRACK_FUNCTIONS = (
    "select format('alter database %I set track_functions = %L', current_database(), 'pl')"
)
RUNNER_CALLS = """
select f.funcname, f.calls, f.total_time
from pg_stat_user_functions f
where f.schemaname = 'bufdir_private'
  and f.funcname in ('claim_bufdir_export_for_run', 'advance_bufdir_export',
                     'begin_generating_bufdir_export',
                     'heartbeat_bufdir_export', 'complete_bufdir_export',
                     'complete_empty_bufdir_export', 'fail_bufdir_export',
                     'release_bufdir_export', 'defer_bufdir_export')
order by f.funcname
"""
# What a Procrastinate worker calls: one fetch (also when it finds nothing) and one finish per job.
THEIR_CALLS = """
select f.funcname, f.calls, f.total_time
from pg_stat_user_functions f
where f.funcname in ('procrastinate_fetch_job_v2', 'procrastinate_finish_job_v1')
order by f.funcname
"""
OURS_CLAIMED = (
    "select count(*) from public.bufdir_export_audit_events where to_status = 'querying_activities'"
)
OURS_TIMES = """
select e.status::text,
       (select count(*) from public.bufdir_export_audit_events v
        where v.export_id = e.id and v.to_status = 'querying_activities') as claims,
       extract(epoch from i.occurred_at)::float8, extract(epoch from e.completed_at)::float8
from public.bufdir_export_audit e
join public.bufdir_export_audit_events i on i.export_id = e.id and i.from_status is null
"""
THEIRS_TIMES = """
select j.status::text,
       extract(epoch from (select min(at) from procrastinate_events v
                           where v.job_id = j.id and v.type = 'deferred'))::float8,
       extract(epoch from (select max(at) from procrastinate_events v
                           where v.job_id = j.id and v.type = 'succeeded'))::float8
from procrastinate_jobs j
"""


async def main() -> None:
    args = arguments(__doc__ or "")
    count = 200 if args.quick else 1_000
    report = Report("vs_procrastinate", "python -m bench.vs_procrastinate")
    async with bench_database(durable=args.durable) as conninfo:
        report.figures["commits"] = await commit_settings(conninfo)
        ours, calls = await _ours(conninfo, count)
        theirs, their_calls = await _theirs(conninfo, count)
    rows = []
    for name, (rate, latencies) in (("this state machine", ours), ("Procrastinate 3.10", theirs)):
        report.figures[name] = {
            "jobs": count,
            "per_second": rate,
            "latency_median_ms": median(latencies) * 1000,
            "latency_p95_ms": percentile(latencies, 95) * 1000,
        }
        rows.append([name, count, rate, median(latencies) * 1000, percentile(latencies, 95) * 1000])
    report.figures["ours_over_procrastinate"] = ours[0] / theirs[0]
    rows.append(["ratio (ours / Procrastinate)", "", f"{ours[0] / theirs[0]:.2f}", "", ""])
    report.figures["runner_calls"] = calls
    # Every call but the claims that found nothing (counted once as a claim call, once aside).
    empty = calls["empty claims"][0]
    per_export = (sum(n for n, _ in calls.values()) - 2 * empty) / count
    report.figures["runner_calls_per_export"] = per_export
    report.table(
        f"{count:,} no-op exports, {WORKERS} worker processes each, one run;"
        f" {commits_label(report.figures['commits'])}",
        ["", "jobs", "per second", "median latency ms", "p95 latency ms"],
        rows,
    )
    # Server time per job: every call's time inside the server (their
    # triggers included), over the jobs.
    ours_ms = sum(n * ms for n, ms in calls.values()) / count
    theirs_ms = sum(n * ms for n, ms in their_calls.values()) / count
    report.figures["server_ms_per_job"] = {"ours": ours_ms, "procrastinate": theirs_ms}
    report.table(
        f"What each side calls in the server (one committed statement each), counted by the"
        f" server: ours {per_export:.2f} per export (claims that found nothing aside),"
        f" {ours_ms:.2f} ms in the server per export; Procrastinate {theirs_ms:.2f} ms per job",
        ["", "calls", "per job", "mean ms in the server"],
        [[name, n, n / count, ms] for name, (n, ms) in (calls | their_calls).items()],
    )
    report.show(args.json)


def _env(conninfo: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LIBPQ}
    env["DATABASE_URL"] = conninfo
    return env


async def _workers(conninfo: str, *command: str) -> list[asyncio.subprocess.Process]:
    started = []
    for _ in range(WORKERS):
        process = await asyncio.create_subprocess_exec(
            sys.executable, *command, env=_env(conninfo),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        started.append(process)
    return started


async def _stop(processes: list[asyncio.subprocess.Process]) -> None:
    for process in processes:
        if process.returncode is None:
            process.terminate()
    for process in processes:
        # Reading the rest of its output closes the pipe with the process.
        await asyncio.wait_for(process.communicate(), 60)


async def _ours(
    conninfo: str, count: int
) -> tuple[tuple[float, list[float]], dict[str, tuple[int, float]]]:
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        statement = await (await conn.execute(TRACK_FUNCTIONS)).fetchone()
        assert statement is not None
        await conn.execute(statement[0])  # for the workers' sessions, which start now
    workers = await _workers(conninfo, "-m", "bench._noop_steps")
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = await asyncio.wait_for(worker.stdout.readline(), 30)
            assert line.strip() == b"started", line
        await asyncio.sleep(0.5)  # listening
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            await conn.execute(OURS_INSERT, {"org": NHF, "user": NHF_ADMIN, "count": count})
            await until_count(conn, OURS_ENDED, count)
            rows = await (await conn.execute(OURS_TIMES)).fetchall()
    finally:
        await _stop(workers)
    bad = [r for r in rows if r[0] != "completed" or r[1] != 1]
    if len(rows) != count or bad:
        raise SystemExit(f"ours: {len(rows)} exports, {len(bad)} not completed exactly once")
    return _rate_and_latencies([(r[2], r[3]) for r in rows]), await _runner_calls(conninfo)


async def _runner_calls(conninfo: str) -> dict[str, tuple[int, float]]:
    """The runner API's calls and the mean milliseconds of one inside the server,
    by function, once the workers have exited (a session's counts reach the
    server's statistics by the time it ends)."""
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        counted = await (await conn.execute(RUNNER_CALLS)).fetchall()
        claimed = await (await conn.execute(OURS_CLAIMED)).fetchone()
    assert claimed is not None
    calls = {name: n for name, n, _ in counted}
    claims = calls.get("claim_bufdir_export_for_run", 0)
    if claims < claimed[0]:
        raise SystemExit(f"the server counted {claims} claim calls for {claimed[0]} claims")
    result = {name: (n, ms / n) for name, n, ms in counted}
    # begin_generating_bufdir_export makes its move with advance_bufdir_export,
    # which the server counts as a call of its own: not one of the runner's.
    nested = result.get("begin_generating_bufdir_export", (0, 0.0))[0]
    if nested and "advance_bufdir_export" in result:
        n, ms = result["advance_bufdir_export"]
        result["advance_bufdir_export"] = (n - nested, ms)
    return result | {"empty claims": (claims - claimed[0], 0.0)}


async def _theirs(
    conninfo: str, count: int
) -> tuple[tuple[float, list[float]], dict[str, tuple[int, float]]]:
    os.environ["DATABASE_URL"] = conninfo  # the app module reads it, here as in the workers
    from bench._procrastinate_app import app, run_export

    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        workers = await _workers(
            conninfo, "-m", "procrastinate", "--app=bench._procrastinate_app.app",
            "worker", "--queues=exports", "--concurrency=1",
        )  # fmt: skip
        try:
            await asyncio.sleep(3)  # the workers connect and listen
            await run_export.batch_defer_async(
                *({"export_id": str(uuid.uuid4())} for _ in range(count))
            )
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await until_count(conn, THEIRS_ENDED, count)
                rows = await (await conn.execute(THEIRS_TIMES)).fetchall()
        finally:
            await _stop(workers)
    bad = [r for r in rows if r[0] != "succeeded"]
    if len(rows) != count or bad:
        raise SystemExit(f"Procrastinate: {len(rows)} jobs, {len(bad)} not succeeded")
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        counted = await (await conn.execute(THEIR_CALLS)).fetchall()
    return _rate_and_latencies([(r[1], r[2]) for r in rows]), {
        name: (n, ms / n) for name, n, ms in counted
    }


def _rate_and_latencies(spans: list[tuple[Any, Any]]) -> tuple[float, list[float]]:
    first = min(start for start, _ in spans)
    last = max(end for _, end in spans)
    return len(spans) / (last - first), [end - start for start, end in spans]


if __name__ == "__main__":
    asyncio.run(main())
