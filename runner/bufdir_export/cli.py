"""The ``bufdir-export`` command line."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Coroutine
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import psycopg
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from ._column_mapping import ConfiguredMapping
from ._config import column_config_schema_json, parse_column_config
from ._config_store import save_column_config
from ._db_errors import translate_error
from ._errors import BufdirExportError
from ._migrations import migrate as apply_migrations
from ._plugins import PluginRegistry
from ._queries import load_queries
from ._seed import apply_demo_seed
from ._settings import Settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="bufdir-export",
    help="Bufdir annual report exports: a Postgres state machine and its runner.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_out = Console()
_err = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def _one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Every expected failure ends as one line on stderr and exit code 1."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except psycopg.Error as error:
            _fail(str(translate_error(error)))
        except BufdirExportError as error:
            _fail(str(error))
        except ValidationError as error:
            first = error.errors()[0]
            _fail(f"invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}")

    return wrapper


def _fail(message: str) -> NoReturn:
    _err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _run(coroutine: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coroutine)


def _configured_conninfo(settings: Settings) -> str:
    conninfo = settings.conninfo()
    if conninfo is None:
        raise BufdirExportError(
            "no database configured: set DATABASE_URL (or the libpq PG* variables)"
        )
    return conninfo


@app.command()
@_one_line_errors
def migrate() -> None:
    """Apply supabase/migrations to DATABASE_URL, recorded as the Supabase CLI records them.

    Each file runs in one transaction; files already applied (by this command
    or by `supabase db push`) are skipped, so running it twice changes nothing.
    """
    settings = Settings()

    async def go() -> None:
        async with await psycopg.AsyncConnection.connect(
            _configured_conninfo(settings), autocommit=True
        ) as conn:
            report = await apply_migrations(conn, load_queries())
        for migration in report.applied:
            _out.print(f"applied  {migration.version}_{migration.name}")
        _out.print(f"{len(report.applied)} applied, {len(report.already_applied)} already applied")

    _run(go())


@app.command()
@_one_line_errors
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
            _configured_conninfo(settings), autocommit=True
        ) as conn:
            if organisation is None:
                await apply_demo_seed(conn)
                _out.print("demo data loaded: nhf, blindeforbundet, hlf")
                return
            from ._generate import generate_activities

            written = await generate_activities(
                conn, organisation_slug=organisation, count=activities, seed=random_seed
            )
            _out.print(f"{written} activities generated for {organisation}")

    _run(go())


@app.command()
@_one_line_errors
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
    from ._demo import run_demo

    report = _run(run_demo(Settings(), keep=keep))
    _out.print(f"[bold]Database[/bold]: {report.where}")
    _out.print(f"[bold]Migrations applied[/bold]: {', '.join(report.migrations)}")

    organisations = Table(title="Demo data")
    for header in ("organisation", "members", "chapters", "counties", "activities", "attachments"):
        organisations.add_column(header, justify="left" if header == "organisation" else "right")
    for row in report.organisations:
        organisations.add_row(*(str(value) for value in row))
    _out.print(organisations)

    exports = Table(title="Export requests (inserted as each organisation's admin)")
    for header in ("organisation", "export id", "period", "status", "events"):
        exports.add_column(header)
    for row in report.exports:
        exports.add_row(*(str(value) for value in row))
    _out.print(exports)
    for line in report.refusals:
        _out.print(f"refused, as it should be: {line}")

    results = Table(title="The runner's work (request to end)")
    for header in ("organisation", "asked", "status", "rows", "bytes", "took", "download", "file"):
        results.add_column(header, justify="right" if header in ("rows", "bytes") else "left")
    for row in report.results:
        results.add_row(*("-" if value is None else str(value) for value in row))
    _out.print(results)
    _out.print(f"Files are in {report.files_in}", highlight=False, soft_wrap=True)


@app.command()
@_one_line_errors
def run(
    concurrency: Annotated[
        int | None, typer.Option(min=1, max=64, help="Exports at once (default: settings).")
    ] = None,
    serve_downloads: Annotated[
        bool,
        typer.Option(help="With local storage, also serve the download URLs (HTTP)."),
    ] = True,
) -> None:
    """Run exports until SIGTERM or Ctrl-C: claim, generate, store, sign.

    Needs DATABASE_URL (or PG*). Woken by LISTEN, and polls as well. On SIGTERM
    it stops claiming, lets running exports finish within the grace period,
    gives the rest back to other runners, and exits 0.
    """
    import logging
    import signal

    from ._app import RunnerApp

    settings = Settings()
    if concurrency is not None:
        settings = settings.model_copy(update={"concurrency": concurrency})
    conninfo = _configured_conninfo(settings)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    async def go() -> None:
        runner_app = RunnerApp(settings, conninfo, serve_downloads=serve_downloads)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, runner_app.runner.stop)
        await runner_app.open()
        try:
            server = runner_app.download_server
            where = f", downloads at {server.host}:{server.port}" if server is not None else ""
            _err.print(f"runner {settings.runner_id} started{where}", highlight=False)
            stats = await runner_app.runner.run()
        finally:
            await runner_app.close()
        done = ", ".join(f"{n} {status}" for status, n in sorted(stats.outcomes.items()))
        _err.print(
            f"runner {settings.runner_id} stopped: {done or 'no exports'};"
            f" {stats.released} given back",
            highlight=False,
        )

    _run(go())


config_app = typer.Typer(
    help="Column configurations: check one, save one, print the JSON Schema.",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BufdirExportError(f"cannot read {path}: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BufdirExportError(f"{path} is not JSON: {error}") from None


@config_app.command("check")
@_one_line_errors
def config_check(
    file: Annotated[Path, typer.Argument(help="The configuration (JSON).")],
) -> None:
    """Check a configuration without saving it: its shape, every CEL expression,
    every plugin it names. Exit code 1, and the JSON path, at the first problem."""
    config = parse_column_config(_read_json(file))
    registry = PluginRegistry.installed()
    ConfiguredMapping(config, organisation_name="-", version=None, plugins=registry)
    _out.print(
        f"{file}: ok ({len(config.columns)} columns, {len(config.counting.rules)} own rules"
        f" on {config.counting.base} rules, {len(config.plugins)} plugins)",
        highlight=False,
    )


@config_app.command("save")
@_one_line_errors
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
            _configured_conninfo(settings), autocommit=True
        ) as conn:
            _, version = await save_column_config(
                conn,
                load_queries(),
                organisation_slug=organisation,
                user_id=user_id,
                document=document,
            )
        return version

    version = _run(go())
    _out.print(f"saved {file} as version {version} of {organisation}, now active", highlight=False)


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of a configuration (configs/schema.json holds it)."""
    _out.print_json(column_config_schema_json())


def main() -> None:
    app()
