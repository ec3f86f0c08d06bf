"""The pipeline's steps with no work in them, for comparing the machinery that
moves an export (claims, audited transitions, leases) with a general queue.

Run as a worker process: ``python -m bench._noop_steps`` with DATABASE_URL.
Every transition is the real one (the audit service on PostgreSQL, the
listener, the runner loop); only the work between them is gone.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._harness import runner_pool
from bufdir_export._models import ExportRecord, ReportBasis
from bufdir_export.core.pipeline import ExportPipeline
from bufdir_export.core.ports import Activity, GeneratedFile, Progress, RowMapping, SignedUrl
from bufdir_export.core.runner import Runner
from bufdir_export.postgres.listener import PostgresListener
from bufdir_export.postgres.queries import load_queries
from bufdir_export.postgres.runner_audit import PostgresAudit

_NOWHERE = Path("/nonexistent/bufdir-rapport.xlsx")


class NoopSteps:
    """Every port of the pipeline but the audit, doing nothing."""

    # As a RowMapping: the configuration's version, which the real move to
    # generating_file records (begin_generating_bufdir_export), as a runner's does.
    version = 1

    async def count(self, export: ExportRecord) -> int:
        return 1

    async def stream(self, export: ExportRecord) -> AsyncIterator[Activity]:
        return
        yield

    async def attachments(self, export: ExportRecord) -> AsyncIterator[Any]:
        return
        yield

    async def prepare(self, export: ExportRecord) -> RowMapping:
        return self  # type: ignore[return-value]

    async def generate(
        self,
        export: ExportRecord,
        mapping: RowMapping,
        rows: AsyncIterator[Activity],
        total: int,
        progress: Progress,
        *,
        basis: ReportBasis,
    ) -> GeneratedFile:
        return GeneratedFile(
            _NOWHERE, "bufdir-rapport-2025.xlsx", "application/x", 1, 1, 1, sha256="0" * 64
        )

    async def bundle(self, export: ExportRecord, report: GeneratedFile) -> GeneratedFile:
        return report

    async def upload(self, path: str, file: GeneratedFile) -> None:
        return None

    async def sign(self, path: str, ttl: timedelta) -> SignedUrl:
        return SignedUrl(f"https://files.example/{path}", datetime.now(UTC) + ttl)

    async def delete(self, paths: Sequence[str]) -> None:
        return None

    async def export_paths(self) -> AsyncIterator[str]:
        return
        yield


async def main() -> None:
    conninfo = os.environ["DATABASE_URL"]
    queries = load_queries()

    pool = runner_pool(conninfo, size=3)
    await pool.open(wait=True)
    audit = PostgresAudit(
        pool, queries, runner_id=f"noop-{os.getpid()}", lease=timedelta(seconds=60)
    )
    noop = NoopSteps()
    pipeline = ExportPipeline(
        audit=audit, activities=noop, mapper=noop, generator=noop, bundler=noop, storage=noop,
        url_ttl=timedelta(days=1),
    )  # fmt: skip
    runner = Runner(
        pipeline, audit, PostgresListener(conninfo, queries),
        concurrency=1, poll_interval=5, reap_interval=60, max_attempts=3, grace=5,
    )  # fmt: skip
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, runner.stop)
    print("started", flush=True)
    try:
        await runner.run()
    finally:
        await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
