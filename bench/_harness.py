"""What every benchmark shares: a fresh database, runner processes, statistics,
the machine's description, and a report printed as a table and saved as JSON.

A benchmark runs against ``DATABASE_URL`` (in a new database of its own,
dropped at the end) or, without it, a private embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import itertools
import json
import os
import platform
import secrets
import statistics
import sys
import time
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import openpyxl
import psycopg
import xlsxwriter
from psycopg import sql
from psycopg_pool import AsyncConnectionPool
from rich.console import Console
from rich.table import Table

from bufdir_export._models import ExportFormat, ExportRecord
from bufdir_export._settings import Settings
from bufdir_export.postgres.activities import PostgresActivities
from bufdir_export.postgres.pool import runner_pool as production_pool
from bufdir_export.postgres.queries import Queries, load_queries
from bufdir_export.tools.database_choice import open_server
from bufdir_export.tools.migrations import migrate
from bufdir_export.tools.seed import apply_demo_seed

ENTRY_POINT = Path(sys.executable).parent / "bufdir-export"
# The demo seed's organisations and the admin of each (supabase/seed.sql).
DEMO_ADMINS: dict[str, tuple[uuid.UUID, uuid.UUID]] = {
    slug: (
        uuid.UUID(f"00000000-0000-4000-a000-00000000000{n}"),
        uuid.UUID(f"00000000-0000-4000-b00{n}-000000000001"),
    )
    for n, slug in enumerate(("nhf", "blindeforbundet", "hlf"), start=1)
}
# NHF is the benchmarks' organisation.
NHF, NHF_ADMIN = DEMO_ADMINS["nhf"]
SIGNING_SECRET = secrets.token_urlsafe(32)
_LIBPQ = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE", "DATABASE_URL")

console = Console()


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    parser.add_argument("--quick", action="store_true", help="Fewer samples, to try it out.")
    parser.add_argument(
        "--durable",
        action="store_true",
        help="The embedded server with fsync and synchronous_commit on, as a real server runs.",
    )
    return parser.parse_args()


@asynccontextmanager
async def bench_database(*, durable: bool = False) -> AsyncIterator[str]:
    """A new database, migrated and seeded with the demo data: its conninfo.
    ``durable``: the embedded server flushes every commit (no effect on a
    configured server, whose own settings :func:`commit_settings` reports)."""
    queries = load_queries()
    name = f"bufdir_bench_{secrets.token_hex(4)}"
    async with (
        open_server(Settings(), durable=durable) as server,
        await psycopg.AsyncConnection.connect(server.conninfo(), autocommit=True) as admin,
    ):
        await admin.execute(sql.SQL(queries["create_database"]).format(name=sql.Identifier(name)))
        try:
            async with await psycopg.AsyncConnection.connect(
                server.conninfo(name), autocommit=True
            ) as conn:
                await migrate(conn, queries)
                await apply_demo_seed(conn)
                # Many exports queued as one user: past the request limit of a real project.
                await conn.execute(queries["set_request_limit"], {"limit": 10_000})
            yield server.conninfo(name)
        finally:
            await admin.execute(sql.SQL(queries["drop_database"]).format(name=sql.Identifier(name)))


def runner_pool(conninfo: str, size: int = 2) -> AsyncConnectionPool[Any]:
    """Connections as the runner role, the way a runner has them (not yet open)."""

    async def as_runner(conn: psycopg.AsyncConnection[Any]) -> None:
        await conn.execute("set role bufdir_export_runner")

    return production_pool(conninfo, max_size=size, configure=as_runner, name="bench")


async def until_count(conn: psycopg.AsyncConnection[Any], query: str, count: int) -> None:
    """Poll ``query`` (one number) until it reaches ``count``, ten minutes at most."""
    async with asyncio.timeout(600):
        while True:
            row = await (await conn.execute(query)).fetchone()
            if row is not None and row[0] >= count:
                return
            await asyncio.sleep(0.1)


@dataclass
class RunnerProcess:
    """A real `bufdir-export run` process."""

    process: asyncio.subprocess.Process
    log: Path

    def peak_rss_mb(self) -> float:
        """The process's peak resident set (VmHWM) so far, in MiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 60)


async def start_runner(conninfo: str, name: str, work: Path, **settings: str) -> RunnerProcess:
    env = {k: v for k, v in os.environ.items() if k not in _LIBPQ}
    env |= {
        "DATABASE_URL": conninfo,
        "BUFDIR_EXPORT_RUNNER_ID": name,
        "BUFDIR_EXPORT_SIGNING_SECRET": SIGNING_SECRET,
        "BUFDIR_EXPORT_STORAGE_DIR": str(work / "storage"),
        "BUFDIR_EXPORT_DOWNLOAD_BASE_URL": "http://127.0.0.1:0",
    }
    env |= {f"BUFDIR_EXPORT_{key.upper()}": value for key, value in settings.items()}
    log = work / f"{name}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(ENTRY_POINT), "run", env=env, stdout=out, stderr=out
        )
    runner = RunnerProcess(process, log)
    await _until_started(runner)
    return runner


async def _until_started(runner: RunnerProcess) -> None:
    async with asyncio.timeout(30):
        while b" started" not in runner.log.read_bytes():
            if runner.process.returncode is not None:
                raise RuntimeError(f"the runner exited: {runner.log.read_text()[-2000:]}")
            await asyncio.sleep(0.05)


def report_rows(file: IO[bytes], name: str) -> int:
    """The activity rows of a report file named ``name`` (header not counted),
    xlsx, CSV, or the report inside a zip with its attachments."""
    if name.endswith(".zip"):
        with zipfile.ZipFile(file) as archive:
            inner = next(n for n in archive.namelist() if n.startswith("bufdir-rapport"))
            return report_rows(io.BytesIO(archive.read(inner)), inner)
    if name.endswith(".csv"):
        text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
        return sum(1 for _ in csv.reader(text, delimiter=";")) - 1
    book = openpyxl.load_workbook(file, read_only=True)
    try:
        return sum(1 for _ in book["Aktiviteter"].iter_rows(values_only=True)) - 1
    finally:
        book.close()


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), by linear interpolation between ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "os": platform.platform(),
        "python": platform.python_version(),
    }


async def commit_settings(conninfo: str) -> dict[str, str]:
    """What a commit costs on the server: its fsync and synchronous_commit."""
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        cursor = await conn.execute(
            "select name, setting from pg_catalog.pg_settings"
            " where name in ('fsync', 'synchronous_commit', 'full_page_writes') order by name"
        )
        return dict(await cursor.fetchall())


def commits_label(settings: dict[str, str]) -> str:
    """``fsync=off, synchronous_commit=off``: for a table's title."""
    return ", ".join(f"{name}={settings[name]}" for name in ("fsync", "synchronous_commit"))


async def server_version(conninfo: str) -> str:
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        row = await (await conn.execute("show server_version")).fetchone()
    return str(row[0]) if row else "?"


@dataclass
class Report:
    """One benchmark's figures: printed as tables, written as JSON."""

    name: str
    command: str
    figures: dict[str, Any] = field(default_factory=dict)
    tables: list[tuple[str, list[str], list[list[Any]]]] = field(default_factory=list)

    def table(self, title: str, headers: list[str], rows: list[list[Any]]) -> None:
        self.tables.append((title, headers, rows))

    def show(self, path: Path | None) -> None:
        for title, headers, rows in self.tables:
            table = Table(title=title)
            for header in headers:
                table.add_column(header, justify="left" if header == headers[0] else "right")
            for row in rows:
                table.add_row(*(_cell(value) for value in row))
            console.print(table)
        if path is not None:
            document = {
                "benchmark": self.name,
                "command": self.command,
                "machine": machine(),
                "figures": self.figures,
                "tables": [
                    {"title": title, "headers": headers, "rows": rows}
                    for title, headers, rows in self.tables
                ],
            }
            path.write_text(json.dumps(document, indent=2, default=str) + "\n")
            console.print(f"figures written to {path}")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def check_rows(path: Path, expected: int) -> None:
    """The file holds ``expected`` rows under its header, or the run stops."""
    with path.open("rb") as file:
        lines = report_rows(file, path.name)
    if lines != expected:
        raise SystemExit(f"{path} holds {lines} rows, not {expected}")


async def bare_write(
    conninfo: str, queries: Queries, work: Path, export: ExportRecord, library: str = "xlsxwriter"
) -> float:
    """Seconds to read the rows (same query, same cursor) and write them bare."""
    path = work / f"bare-{library}.{export.format}"
    async with runner_pool(conninfo) as pool:
        began = time.perf_counter()
        writer, close = _bare_writer(path, export.format, library)
        async for activity in PostgresActivities(pool, queries).stream(export):
            writer(
                [str(activity.id), activity.chapter_name, activity.county_code,
                 activity.county_name, activity.municipality_number, str(activity.peer_mentor_id),
                 activity.activity_type_code, activity.activity_type_name, activity.activity_date,
                 activity.duration_minutes, activity.participant_count, activity.contact_method,
                 activity.in_norway]
            )  # fmt: skip
        await asyncio.to_thread(close)
        spent = time.perf_counter() - began
    assert export.row_count is not None
    check_rows(path, export.row_count)
    return spent


def _bare_writer(
    path: Path, file_format: ExportFormat, library: str
) -> tuple[Callable[[list[Any]], None], Any]:
    if file_format is ExportFormat.CSV:
        file = path.open("w", encoding="utf-8-sig", newline="")
        writer = csv.writer(file, delimiter=";")
        writer.writerow(["id"] * 13)
        return writer.writerow, file.close
    if library == "openpyxl":
        workbook = openpyxl.Workbook(write_only=True)
        worksheet = workbook.create_sheet("Aktiviteter")
        worksheet.append(["id"] * 13)
        return worksheet.append, lambda: workbook.save(path)
    # The product's writer library in the product's mode, with no formats but
    # the dates' (a date cell needs one to read as a date).
    book = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "default_date_format": "dd.mm.yyyy"}
    )
    sheet = book.add_worksheet("Aktiviteter")
    sheet.write_row(0, 0, ["id"] * 13)
    rows = itertools.count(1)

    def write(values: list[Any]) -> None:
        sheet.write_row(next(rows), 0, values)

    return write, book.close
