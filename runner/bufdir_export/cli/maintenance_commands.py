"""The command line's housekeeping that every runner also does by itself:
sweeping stored files no completed export names, purging the files whose
retention ended."""

from __future__ import annotations

from typing import Annotated

import typer

from .._settings import Settings
from ..core.retention import PurgeReport
from ..core.sweep import Sweeper, SweepReport
from .support import err, one_line_errors, out, run

__all__ = ["purge", "sweep"]


@one_line_errors
def sweep(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what would be removed.")
    ] = False,
) -> None:
    """Remove stored files that no completed export names: those of exports that
    failed or were cancelled, and what a stopped upload left behind.

    Every runner does this every SWEEP_INTERVAL_SECONDS; this is for an operator
    (or cron). Files of exports still running are never touched.
    """
    from ..runner_app import RunnerApp

    settings = Settings()
    conninfo = settings.required_conninfo()

    async def go() -> SweepReport:
        runner_app = RunnerApp(settings, conninfo, serve_downloads=False)
        await runner_app.open()
        try:
            return await Sweeper(runner_app.storage, runner_app.audit).sweep(dry_run=dry_run)
        finally:
            await runner_app.close()

    report = run(go())
    for path in report.removed:
        out.print(path, highlight=False, soft_wrap=True)
    verb = "would be removed" if dry_run else "removed"
    out.print(
        f"{len(report.removed)} {verb}, {report.kept} kept, {len(report.foreign)} not an export's",
        highlight=False,
    )


@one_line_errors
def purge(
    days: Annotated[
        int | None,
        typer.Option(
            "--days", min=1, help="Keep files this many days after completion (default: settings)."
        ),
    ] = None,
) -> None:
    """Delete from storage the files of exports that completed longer ago than
    the retention period (RETENTION_DAYS, 90 by default), and record when in
    the audit trail; the records and their events stay. Every runner does this
    every SWEEP_INTERVAL_SECONDS; this is for an operator (or cron)."""
    from ..runner_app import RunnerApp

    settings = Settings()
    conninfo = settings.required_conninfo()

    async def go() -> PurgeReport | None:
        runner_app = RunnerApp(settings, conninfo, serve_downloads=False)
        purger = runner_app.purger(days)
        if purger is None:
            return None
        await runner_app.open()
        try:
            return await purger.purge()
        finally:
            await runner_app.close()

    report = run(go())
    if report is None:
        err.print("files are kept (RETENTION_DAYS is 0): nothing to purge", highlight=False)
        return
    for export_id, path in report.deleted:
        out.print(f"{export_id}  {path}", highlight=False, soft_wrap=True)
    out.print(f"{len(report.deleted)} deleted", highlight=False)
