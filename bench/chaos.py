"""Chaos: three runner processes against one embedded PostgreSQL, a stream of
exports, and faults at random moments; then what ended how, and what must be 0.

    .venv/bin/python -m bench.chaos [--seconds 60] [--seed 1] [--json out.json]

The faults: SIGKILL of a runner (restarted a moment later); pg_terminate_backend
of every runner connection; a restart of the PostgreSQL server; a Storage API
(the double of ``tests/doubles/storage_api.py``) that is down for 2 to 6 s,
answering as the real server does under trouble, or holds every request for
as long; a session idle in a transaction that
pins old rows. Everything is on loopback, bounded in time and count, and stops
by itself. The requests stop after ``--seconds``; then the faults stop and the
harness waits until no export is in progress (leases expire, the reaper runs).

It prints, and checks, the rows that must be 0: exports still in progress,
exports that ended successfully more than once, files whose rows or download
do not match the record, exports failed as ``storage_error`` (every outage is
shorter than the runners' Storage budget), and files left in storage by exports that did not
complete once ``bufdir-export sweep`` ran (it also prints how many there were
before: a runner killed in the middle of its upload leaves one). Exit code 1
when one of them is not 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import os
import random
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from bench._harness import DEMO_ADMINS, ENTRY_POINT, Report, report_rows
from bufdir_export._models import TERMINAL, Caller, ExportStatus
from bufdir_export.postgres.acting import act_as_user
from bufdir_export.postgres.queries import load_queries
from bufdir_export.tools.activity_generator import generate_activities
from bufdir_export.tools.embedded import EmbeddedPostgres
from bufdir_export.tools.migrations import migrate
from bufdir_export.tools.seed import apply_demo_seed
from tests.doubles.storage_api import (
    BAD_GATEWAY,
    DATABASE_TIMEOUT,
    LOCK_TIMEOUT,
    READ_ONLY,
    StorageApiDouble,
    serve,
    service_key,
)

SECRET = "chaos-project-jwt-secret-0123456789abcdef"  # the Storage double's JWT secret
KEY = service_key(SECRET)
# What Storage answers during an outage: the server's own transient refusals, and
# a gateway's page when the server is gone.
OUTAGES = [READ_ONLY, LOCK_TIMEOUT, DATABASE_TIMEOUT, BAD_GATEWAY]
APP = "bufdir-chaos"  # application_name of the harness's own sessions
# (organisation, year): 2025 is the seed's year; 2031 gets 3,000 more for NHF;
# 2041 is empty.
PERIODS = [("nhf", 2025), ("nhf", 2031), ("blindeforbundet", 2025), ("hlf", 2025), ("hlf", 2041)]
IN_PROGRESS = tuple(
    status.value
    for status in ExportStatus
    if status not in TERMINAL and status is not ExportStatus.INITIALISED
)


@dataclass
class Chaos:
    seconds: float
    draw: random.Random  # the faults' choices
    server: EmbeddedPostgres
    conninfo: str
    storage: StorageApiDouble
    storage_url: str
    work: Path
    runners: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)
    faults: Counter[str] = field(default_factory=Counter)
    requested: list[uuid.UUID] = field(default_factory=list)
    pins: list[asyncio.Task[None]] = field(default_factory=list)
    asks: random.Random = field(default_factory=random.Random)  # the requests' choices

    def env(self, name: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DATABASE_URL"))}
        return env | {
            "DATABASE_URL": self.conninfo,
            "BUFDIR_EXPORT_RUNNER_ID": name,
            "BUFDIR_EXPORT_STORAGE_BACKEND": "supabase",
            "SUPABASE_URL": self.storage_url,
            "SUPABASE_SERVICE_ROLE_KEY": KEY,
            "BUFDIR_EXPORT_LEASE_SECONDS": "5",
            "BUFDIR_EXPORT_REAP_INTERVAL_SECONDS": "1",
            "BUFDIR_EXPORT_POLL_INTERVAL_SECONDS": "1",
            "BUFDIR_EXPORT_MAX_ATTEMPTS": "6",
            "BUFDIR_EXPORT_CONNECT_TIMEOUT_SECONDS": "3",
            "BUFDIR_EXPORT_SHUTDOWN_GRACE_SECONDS": "5",
            # Outages outlasting the budget (none here) wait seconds, not minutes.
            "BUFDIR_EXPORT_STORAGE_RETRY_DELAY_SECONDS": "5",
        }

    async def start_runner(self, name: str) -> None:
        with (self.work / f"{name}.log").open("ab") as log:
            self.runners[name] = await asyncio.create_subprocess_exec(
                str(ENTRY_POINT), "run", env=self.env(name), stdout=log, stderr=log
            )

    async def connect(self) -> psycopg.AsyncConnection[Any]:
        """A session of the harness's own, made again after a server restart."""
        async with asyncio.timeout(60):
            while True:
                try:
                    return await psycopg.AsyncConnection.connect(
                        self.conninfo, autocommit=True, application_name=APP, connect_timeout=3
                    )
                except psycopg.OperationalError:
                    await asyncio.sleep(0.2)

    async def requests(self) -> None:
        queries = load_queries()
        ends = time.monotonic() + self.seconds
        conn = await self.connect()
        while time.monotonic() < ends:
            slug, year = self.asks.choice(PERIODS)
            organisation, admin = DEMO_ADMINS[slug]
            params = {
                "organisation_id": organisation,
                "period_start": date(year, 1, 1),
                "period_end": date(year, 12, 31),
                "format": self.asks.choice(["xlsx", "csv"]),
                "include_attachments": self.asks.random() < 0.3,
            }
            try:
                async with conn.transaction():
                    await act_as_user(conn, queries, Caller(admin))
                    cursor = await conn.execute(queries["request_export"], params)
                    row = await cursor.fetchone()
                assert row is not None
                self.requested.append(row[0])
            except psycopg.OperationalError:
                # The server went away (a restart): the request did not happen.
                with contextlib.suppress(psycopg.Error):
                    await conn.close()
                conn = await self.connect()
            await asyncio.sleep(self.asks.uniform(0.1, 0.6))
        await conn.close()

    async def faulting(self) -> None:
        ends = time.monotonic() + self.seconds
        # Every run, however short, opens with the three hardest; then at random.
        opening = ["kill", "restart", "terminate"]
        while time.monotonic() < ends:
            await asyncio.sleep(self.draw.uniform(2, 5))
            fault = (
                opening.pop(0)
                if opening
                else self.draw.choice(
                    ["kill", "kill", "terminate", "restart", "storage_down", "storage_stall", "pin"]
                )
            )
            self.faults[fault] += 1
            if fault == "kill":
                name = self.draw.choice(sorted(self.runners))
                with contextlib.suppress(ProcessLookupError):
                    self.runners[name].kill()
                await self.runners[name].wait()
                await asyncio.sleep(self.draw.uniform(0.5, 2))
                await self.start_runner(name)
            elif fault == "terminate":
                conn = await self.connect()
                await conn.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity"
                    " where datname = current_database() and pid <> pg_backend_pid()"
                    " and application_name <> %s and backend_type = 'client backend'",
                    [APP],
                )
                await conn.close()
            elif fault == "restart":
                await self.server.stop()
                await asyncio.sleep(self.draw.uniform(0.2, 1.5))
                await self.server.start()
            elif fault == "storage_down":
                self.storage.outage = self.draw.choice(OUTAGES)
                self.storage.down_until = time.monotonic() + self.draw.uniform(2, 6)
            elif fault == "storage_stall":
                self.storage.stall_until = time.monotonic() + self.draw.uniform(2, 6)
            else:
                self.pins.append(asyncio.create_task(self.pin(self.draw.uniform(3, 10))))
        await asyncio.gather(*self.pins)

    async def pin(self, seconds: float) -> None:
        """A session that sits idle in a transaction, holding its snapshot."""
        with contextlib.suppress(psycopg.Error):
            conn = await self.connect()
            await conn.execute("begin isolation level repeatable read")
            await conn.execute("select count(*) from public.bufdir_export_audit")
            await asyncio.sleep(seconds)
            with contextlib.suppress(psycopg.Error):
                await conn.execute("rollback")
            await conn.close()

    async def drain(self, within: float) -> float:
        """Wait until no export is waiting or in progress; the seconds it took."""
        began = time.monotonic()
        conn = await self.connect()
        async with asyncio.timeout(within):
            while True:
                cursor = await conn.execute(
                    "select count(*) from public.bufdir_export_audit"
                    " where status not in ('completed', 'completed_empty', 'failed', 'cancelled')"
                )
                row = await cursor.fetchone()
                if row is not None and row[0] == 0:
                    break
                await asyncio.sleep(0.5)
        await conn.close()
        return time.monotonic() - began


async def run(seconds: float, seed: int, json_path: Path | None) -> int:
    draw = random.Random(seed)
    # A runner killed in the middle of an upload drops its connection: that is
    # the fault, not news from the fake Storage API.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    storage = StorageApiDouble(
        SECRET, buckets={"bufdir-exports": None, "activity-attachments": None}
    )
    async with serve(storage) as storage_url:
        return await _run(seconds, seed, json_path, draw, storage, storage_url)


async def _run(
    seconds: float,
    seed: int,
    json_path: Path | None,
    draw: random.Random,
    storage: StorageApiDouble,
    storage_url: str,
) -> int:
    queries = load_queries()
    report = Report("chaos", f"python -m bench.chaos --seconds {seconds:g} --seed {seed}")
    began = time.monotonic()
    async with EmbeddedPostgres() as server:
        name = f"bufdir_chaos_{secrets.token_hex(4)}"
        async with await psycopg.AsyncConnection.connect(server.conninfo(), autocommit=True) as a:
            await a.execute(sql.SQL(queries["create_database"]).format(name=sql.Identifier(name)))
        conninfo = server.conninfo(name)
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            await migrate(conn, queries)
            await apply_demo_seed(conn)
            # Many exports queued as one user: past the request limit of a real project.
            await conn.execute(queries["set_request_limit"], {"limit": 10_000})
            await generate_activities(
                conn, organisation_slug="nhf", count=3_000, seed=seed,
                period_start=date(2031, 1, 1), period_end=date(2031, 12, 31),
            )  # fmt: skip
            cursor = await conn.execute("select storage_path from public.activity_attachments")
            for (path,) in await cursor.fetchall():
                storage.put("activity-attachments", path, b"%PDF attachment", "application/pdf")
        with tempfile.TemporaryDirectory() as work:
            chaos = Chaos(
                seconds, draw, server, conninfo, storage, storage_url, Path(work),
                asks=random.Random(seed + 1),
            )  # fmt: skip
            for n in range(3):
                await chaos.start_runner(f"chaos-runner-{n}")
            await asyncio.gather(chaos.requests(), chaos.faulting())
            storage.down_until = storage.stall_until = 0
            try:
                drained = await chaos.drain(within=300)
            finally:
                for process in chaos.runners.values():
                    with contextlib.suppress(ProcessLookupError):
                        process.terminate()
                for process in chaos.runners.values():
                    await asyncio.wait_for(process.wait(), 60)
            left = _left_by_unfinished(chaos, await _exports(chaos))
            swept = await _sweep(chaos)
            result = await _verdict(chaos, report, drained, time.monotonic() - began, left, swept)
    report.show(json_path)
    return result


async def _exports(chaos: Chaos) -> list[dict[str, Any]]:
    conn = await chaos.connect()
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute("select * from public.bufdir_export_audit")
        exports = await cursor.fetchall()
    await conn.close()
    return exports


def _left_by_unfinished(chaos: Chaos, exports: list[dict[str, Any]]) -> int:
    """Stored export files that no completed export names."""
    named = {e["file_path"] for e in exports if e["status"] == "completed"}
    return sum(
        1
        for bucket, name in chaos.storage.objects
        if bucket == "bufdir-exports" and name not in named
    )


async def _sweep(chaos: Chaos) -> int:
    """``bufdir-export sweep``, as an operator runs it; the exit code."""
    with (chaos.work / "sweep.log").open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            str(ENTRY_POINT), "sweep", env=chaos.env("chaos-sweep"), stdout=log, stderr=log
        )
        return await asyncio.wait_for(process.wait(), 120)


async def _verdict(
    chaos: Chaos, report: Report, drained: float, took: float, left: int, swept: int
) -> int:
    exports = await _exports(chaos)
    conn = await chaos.connect()
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            "select export_id, to_status::text, occurred_at,"
            " lead(occurred_at) over (partition by export_id order by id) as next_at"
            " from public.bufdir_export_audit_events order by export_id, id"
        )
        events = await cursor.fetchall()
    await conn.close()
    by_status = Counter(str(e["status"]) for e in exports)
    failed = Counter(str(e["error_code"]) for e in exports if e["status"] == "failed")
    successes = Counter(
        e["export_id"] for e in events if e["to_status"] in ("completed", "completed_empty")
    )
    claims = Counter(e["export_id"] for e in events if e["to_status"] == "querying_activities")
    stays = [
        ((e["next_at"] - e["occurred_at"]).total_seconds(), e["to_status"])
        for e in events
        if e["next_at"]
    ]
    longest, longest_in = max(stays, default=(0.0, "-"))
    mismatched = 0
    async with httpx.AsyncClient() as http:
        for export in exports:
            if export["status"] != "completed":
                continue
            stored = chaos.storage.objects.get(("bufdir-exports", export["file_path"]))
            data = None if stored is None else stored.data
            downloaded = await http.get(export["download_url"])
            if (
                data is None
                or len(data) != export["file_size_bytes"]
                or downloaded.content != data
                or report_rows(io.BytesIO(data), export["file_path"]) != export["row_count"]
            ):
                mismatched += 1
    in_progress = sum(by_status[s] for s in (*IN_PROGRESS, "initialised"))
    twice = sum(1 for n in successes.values() if n > 1)
    missing = len(set(chaos.requested) - {e["id"] for e in exports})
    orphans = _left_by_unfinished(chaos, exports)
    storage = failed["storage_error"]
    rows = [
        ["exports requested", len(chaos.requested)],
        ["completed", by_status["completed"]],
        ["completed_empty", by_status["completed_empty"]],
        *[[f"failed ({code})", n] for code, n in sorted(failed.items())],
        ["claimed more than once (re-run after a fault)", sum(1 for n in claims.values() if n > 1)],
        ["faults", ", ".join(f"{k} {v}" for k, v in sorted(chaos.faults.items()))],
        ["longest time in one status, s", round(longest, 2)],
        ["the status it was", longest_in],
        ["drained after the last request, s", round(drained, 1)],
        ["MUST BE 0: still waiting or in progress", in_progress],
        ["MUST BE 0: ended successfully twice", twice],
        ["MUST BE 0: file or its download not as recorded", mismatched],
        ["MUST BE 0: requested but not recorded", missing],
        ["MUST BE 0: failed as storage_error (every outage is shorter than the budget)", storage],
        ["files left by exports that did not complete, before the sweep", left],
        ["MUST BE 0: sweep exit code", swept],
        ["MUST BE 0: files left by exports that did not complete", orphans],
    ]
    report.figures = {row[0]: row[1] for row in rows} | {"seconds_in_all": round(took, 1)}
    report.table(f"Chaos, {chaos.seconds:g} s of requests and faults", ["", "value"], rows)
    messages = Counter(
        (str(e["error_code"]), str(e["error_message"])) for e in exports if e["status"] == "failed"
    )
    if messages:
        report.table(
            "Why the failed exports failed",
            ["error_code", "error_message", "exports"],
            [[code, message, n] for (code, message), n in messages.most_common()],
        )
    return 1 if in_progress or twice or mismatched or missing or storage or swept or orphans else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.seconds, args.seed, args.json)))


if __name__ == "__main__":
    main()
