"""The ``bufdir-export`` command line."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any, NoReturn

import psycopg
import typer
from rich.table import Table

from .._errors import BufdirExportError
from .._settings import LogFormat, Settings
from ..postgres.acting import act_as_role
from ..postgres.config_store import save_column_config
from ..postgres.queries import load_queries
from ..report.config_checks import column_config_schema_json, parse_column_config
from ..report.mapping import ConfiguredMapping
from ..report.plugins import PluginRegistry
from ..tools.migrations import migrate as apply_migrations
from ..tools.seed import apply_demo_seed
from . import config_commands, export_commands, maintenance_commands, verify_command
from .support import err, one_line_errors, out
from .support import run as run_async

__all__ = ["app", "main"]

app = typer.Typer(
    name="bufdir-export",
    help="Bufdir annual report exports: a Postgres state machine, its runner and its clients.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("request")(export_commands.request)
app.command("status")(export_commands.status)
app.command("cancel")(export_commands.cancel)
app.command("retry")(export_commands.retry)
app.command("sweep")(maintenance_commands.sweep)
app.command("purge")(maintenance_commands.purge)
export_commands.audit_app.command("verify")(verify_command.verify)
app.add_typer(export_commands.audit_app, name="audit")


@app.command()
@one_line_errors
def migrate() -> None:
    """Apply supabase/migrations to DATABASE_URL, recorded as the Supabase CLI records them.

    Each file runs in one transaction; files already applied (by this command
    or by `supabase db push`) are skipped, so running it twice changes nothing.
    """
    settings = Settings()

    async def go() -> None:
        async with await psycopg.AsyncConnection.connect(
            settings.required_conninfo(), autocommit=True
        ) as conn:
            report = await apply_migrations(conn, load_queries())
        for migration in report.applied:
            out.print(f"applied  {migration.version}_{migration.name}")
        out.print(f"{len(report.applied)} applied, {len(report.already_applied)} already applied")

    run_async(go())


@app.command()
@one_line_errors
def seed(
    organisation: Annotated[
        str | None,
        typer.Option("--org", help="Organisation slug for generated activities (e.g. nhf)."),
    ] = None,
    activities: Annotated[
        int,
        typer.Option(min=1, max=10_000_000, help="How many activities to generate (with --org)."),
    ] = 10_000,
    random_seed: Annotated[int, typer.Option("--seed", help="Seed of the generator.")] = 0,
) -> None:
    """Load the demo data (supabase/seed.sql), or with --org generate activities with COPY."""
    settings = Settings()

    async def go() -> None:
        async with await psycopg.AsyncConnection.connect(
            settings.required_conninfo(), autocommit=True
        ) as conn:
            if organisation is None:
                await apply_demo_seed(conn)
                out.print("demo data loaded: nhf, blindeforbundet, hlf")
                return
            from ..tools.activity_generator import generate_activities

            written = await generate_activities(
                conn, organisation_slug=organisation, count=activities, seed=random_seed
            )
            out.print(f"{written} activities generated for {organisation}")

    run_async(go())


@app.command()
@one_line_errors
def demo(
    keep: Annotated[
        bool, typer.Option(help="Keep the demo database (on a configured server).")
    ] = False,
) -> None:
    """Migrate and seed a fresh database, request an export as each organisation's admin,
    and let a runner take each one to its file and download link.

    Uses a private throwaway PostgreSQL server unless DATABASE_URL is set; on a
    configured server it works in a new database of its own.
    """
    from .demo import DemoReport, run_demo
    from .live_view import describe_seconds

    def ready(report: DemoReport) -> None:
        out.print(f"[bold]Database[/bold]: {report.where}")
        out.print(f"[bold]Migrations applied[/bold]: {', '.join(report.migrations)}")
        organisations = Table(title="Demo data")
        for header in ("organisation", "members", "chapters", "counties", "activities", "files"):
            organisations.add_column(
                header, justify="left" if header == "organisation" else "right"
            )
        for row in report.organisations:
            organisations.add_row(*(str(value) for value in row))
        out.print(organisations)
        for line in report.refusals:
            out.print(f"refused, as it should be: {line}", soft_wrap=True, highlight=False)
        out.print("[bold]Exports, asked for by each organisation's admin[/bold]")

    report = run_async(run_demo(Settings(), out, keep=keep, on_ready=ready))
    results = Table(title="Results (took: from the request to the end)")
    headers = ("organisation", "asked", "status", "rows", "counted days", "bytes", "took")
    for header in (*headers, "download", "file"):
        results.add_column(header, justify="right" if header in headers[3:] else "left")
    for result in report.results:
        e = result.record
        took = (e.completed_at - e.created_at).total_seconds() if e.completed_at else None
        ending = (
            e.status if e.error_code is None else f"{e.status} ({e.error_code}: {e.error_message})"
        )
        results.add_row(
            result.organisation,
            result.asked,
            ending,
            *(
                "-" if v is None else f"{v:,}"
                for v in (e.row_count, e.counted_days, e.file_size_bytes)
            ),
            "-" if took is None else describe_seconds(took),
            result.download,
            Path(e.file_path).name if e.file_path else "-",
        )
    out.print(results)
    out.print(f"Files are in {report.files_in}", highlight=False, soft_wrap=True)
    out.print("[bold]The audit trail[/bold] (bufdir-export audit verify):")
    for chain in report.chains:
        verify_command.print_chain(chain)
    if not all(chain.holds for chain in report.chains):
        raise typer.Exit(1)


@app.command()
@one_line_errors
def run(
    concurrency: Annotated[
        int | None, typer.Option(min=1, max=64, help="Exports at once (default: settings).")
    ] = None,
    serve_downloads: Annotated[
        bool,
        typer.Option(help="With local storage, also serve the download URLs (HTTP)."),
    ] = True,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=0, max=65535, help="Serve /healthz and /metrics on this port (0: any free one)."
        ),
    ] = None,
    log_format: Annotated[
        LogFormat | None, typer.Option(help="Log lines as text, or as one JSON object each.")
    ] = None,
) -> None:
    """Run exports until SIGTERM or Ctrl-C: claim, generate, store, sign.

    Needs DATABASE_URL (or PG*). Woken by LISTEN, and polls as well. On SIGTERM
    it stops claiming, lets running exports finish within the grace period,
    gives the rest back to other runners, and exits 0.
    """
    import logging
    import signal

    from ..observability.logs import configure_logging
    from ..runner_app import RunnerApp

    given = {
        "concurrency": concurrency,
        "metrics_port": metrics_port,
        "log_format": log_format,
    }
    overrides = {name: value for name, value in given.items() if value is not None}
    settings = Settings()
    if overrides:  # checked as the variables are
        settings = Settings.model_validate(settings.model_dump() | overrides)
    conninfo = settings.required_conninfo()
    log = logging.getLogger("bufdir_export.runner")

    async def go() -> None:
        runner_app = RunnerApp(settings, conninfo, serve_downloads=serve_downloads)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, runner_app.runner.stop)
        await runner_app.open()
        configure_logging(settings.log_format, runner_id=settings.runner_id)
        try:
            where = ""
            if (server := runner_app.download_server) is not None:
                where += f", downloads at {server.host}:{server.port}"
            if (probe := runner_app.health_server) is not None:
                where += f", /healthz and /metrics at {probe.host}:{probe.port}"
            log.info("runner %s started%s", settings.runner_id, where)
            stats = await runner_app.runner.run()
        finally:
            await runner_app.close()
        done = ", ".join(f"{n} {status}" for status, n in sorted(stats.outcomes.items()))
        log.info(
            "runner %s stopped: %s; %d given back",
            settings.runner_id,
            done or "no exports",
            stats.released,
        )

    run_async(go())


@app.command()
@one_line_errors
def reap() -> None:
    """Run the reaper once: re-queue exports whose runner stopped renewing its
    lease, or fail them as runner_lost once their attempts are used up.

    Every runner does this by itself; this is for an operator (or cron).
    """
    settings = Settings()
    queries = load_queries()

    async def go() -> list[tuple[Any, ...]]:
        async with await psycopg.AsyncConnection.connect(
            settings.required_conninfo(), autocommit=True
        ) as conn:
            if settings.db_role is not None:
                await act_as_role(conn, queries, settings.db_role)
            cursor = await conn.execute(
                queries["reap_exports"], {"max_attempts": settings.max_attempts}
            )
            return list(await cursor.fetchall())

    reaped = run_async(go())
    for export_id, from_status, to_status in reaped:
        out.print(f"{export_id}: {from_status} -> {to_status}", highlight=False)
    out.print(f"{len(reaped)} reaped", highlight=False)


config_app = typer.Typer(
    help="Column configurations: check, save, list, show, compare and activate versions;"
    " print the JSON Schema.",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")
config_app.command("list")(config_commands.config_list)
config_app.command("show")(config_commands.config_show)
config_app.command("diff")(config_commands.config_diff)
config_app.command("activate")(config_commands.config_activate)


def _not_json(constant: str) -> NoReturn:
    raise json.JSONDecodeError(f"{constant} is not a JSON value", constant, 0)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"), parse_constant=_not_json)
    except OSError as error:
        raise BufdirExportError(f"cannot read {path}: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BufdirExportError(f"{path} is not JSON: {error}") from None


@config_app.command("check")
@one_line_errors
def config_check(
    file: Annotated[Path, typer.Argument(help="The configuration (JSON).")],
) -> None:
    """Check a configuration without saving it: its shape, every CEL expression,
    every plugin it names. Exit code 1, and the JSON path, at the first problem."""
    config = parse_column_config(_read_json(file))
    registry = PluginRegistry.installed()
    ConfiguredMapping(config, organisation_name="-", version=None, plugins=registry)
    out.print(
        f"{file}: ok ({len(config.columns)} columns, {len(config.counting.rules)} own rules"
        f" on {config.counting.base} rules, {len(config.plugins)} plugins)",
        highlight=False,
    )


@config_app.command("save")
@one_line_errors
def config_save(
    file: Annotated[Path, typer.Argument(help="The configuration (JSON).")],
    organisation: Annotated[str, typer.Option("--org", help="Organisation slug (e.g. nhf).")],
    user: Annotated[str, typer.Option("--as", help="The admin saving it (user id); RLS decides.")],
) -> None:
    """Save a configuration as the organisation's new active version."""
    try:
        user_id = uuid.UUID(user)
    except ValueError:
        raise BufdirExportError(f"--as must be a user id (a UUID), not {user!r}") from None
    document = _read_json(file)
    settings = Settings()

    async def go() -> int:
        async with await psycopg.AsyncConnection.connect(
            settings.required_conninfo(), autocommit=True
        ) as conn:
            _, version = await save_column_config(
                conn,
                load_queries(),
                organisation_slug=organisation,
                user_id=user_id,
                document=document,
            )
        return version

    version = run_async(go())
    out.print(f"saved {file} as version {version} of {organisation}, now active", highlight=False)


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of a configuration (configs/schema.json holds it)."""
    out.print_json(column_config_schema_json())


def main() -> None:
    """The entry point: usage mistakes too end as one line, not a panel."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        err.print("aborted", highlight=False)
        sys.exit(130)
    except Exception as error:
        # Typer's usage errors (a missing option, a value of the wrong kind)
        # come from the click it bundles; they describe themselves.
        describe = getattr(error, "format_message", None)
        if describe is None:
            raise
        context = getattr(error, "ctx", None)
        where = f"{context.command_path}: " if context is not None else ""
        err.print(f"error: {where}{describe()}", highlight=False, soft_wrap=True, markup=False)
        sys.exit(getattr(error, "exit_code", 2))
    sys.exit(code if isinstance(code, int) else 0)
