"""The `bufdir-export` command through its real entry point, in a subprocess."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bufdir_export.tools.database_choice import DatabaseServer
from bufdir_export.tools.migrations import discover_migrations

ENTRY_POINT = Path(sys.executable).parent / "bufdir-export"
_LIBPQ = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE", "DATABASE_URL")


def environment_without_libpq() -> dict[str, str]:
    """This process's environment without any variable that names a database."""
    return {name: value for name, value in os.environ.items() if name not in _LIBPQ}


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


async def bufdir_export(
    *args: str, database_url: str | None = None, extra_env: dict[str, str] | None = None
) -> Run:
    env = environment_without_libpq()
    env["COLUMNS"] = "200"
    env |= extra_env or {}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    process = await asyncio.create_subprocess_exec(
        str(ENTRY_POINT),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


def assert_one_line_error(run: Run, *fragments: str) -> None:
    assert run.code != 0
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("error: "), run.err
    assert "Traceback" not in run.err
    for fragment in fragments:
        assert fragment in lines[0], run.err


async def test_help_lists_the_commands() -> None:
    run = await bufdir_export("--help")
    assert run.code == 0
    for command in ("migrate", "seed", "demo", "run"):
        assert command in run.out


async def test_migrate_without_a_database_says_so_in_one_line() -> None:
    run = await bufdir_export("migrate")
    assert_one_line_error(run, "no database configured", "DATABASE_URL")


async def test_an_unreachable_database_is_one_line_without_the_password() -> None:
    run = await bufdir_export(
        "migrate", database_url="postgresql://someone:sekrit-pw@127.0.0.1:1/app?connect_timeout=2"
    )
    assert_one_line_error(run, "127.0.0.1")
    assert "sekrit-pw" not in run.err + run.out


async def test_migrate_applies_then_changes_nothing(empty_database: str) -> None:
    versions = [m.version for m in discover_migrations()]

    first = await bufdir_export("migrate", database_url=empty_database)
    second = await bufdir_export("migrate", database_url=empty_database)

    assert first.code == 0, first.err
    assert [line.split()[1].split("_")[0] for line in first.out.splitlines()[:-1]] == versions
    assert first.out.splitlines()[-1] == f"{len(versions)} applied, 0 already applied"
    assert second.code == 0, second.err
    assert second.out.strip() == f"0 applied, {len(versions)} already applied"


async def test_the_demo_runs_on_its_own_embedded_server(tmp_path: Path) -> None:
    run = await bufdir_export("demo", extra_env={"BUFDIR_EXPORT_STORAGE_DIR": str(tmp_path)})

    assert run.code == 0, run.err
    assert "embedded server" in run.out
    for slug in ("nhf", "blindeforbundet", "hlf"):
        assert slug in run.out
    assert "refused, as it should be" in run.out
    assert "SQLSTATE 42501" in run.out
    # The live view ticked off each step of each export...
    assert run.out.count("✓  generating the file") == 3
    assert run.out.count("✓  bundling attachments") == 1  # hlf asked for its attachments
    # ...and the runner took each request to a file that downloads whole.
    assert run.out.count(" completed ") == 3
    assert run.out.count("HTTP 200, same size") == 3
    assert "counted days" in run.out
    # It ends as an auditor would: every organisation's trail holds.
    for slug in ("nhf", "blindeforbundet", "hlf"):
        assert f"{slug}: holds" in run.out
    found = await asyncio.to_thread(lambda: list(tmp_path.rglob("bufdir-rapport-*")))
    stored = sorted(p.name for p in found)
    assert stored == [
        "bufdir-rapport-2025-med-vedlegg.zip",
        "bufdir-rapport-2025.csv",
        "bufdir-rapport-2025.xlsx",
    ]


async def test_the_demo_on_a_configured_server_cleans_up_after_itself(
    server: DatabaseServer, tmp_path: Path
) -> None:
    async def databases() -> set[str]:
        async with await psycopg.AsyncConnection.connect(server.conninfo()) as conn:
            rows = await (await conn.execute("select datname from pg_database")).fetchall()
        return {row[0] for row in rows}

    before = await databases()
    run = await bufdir_export(
        "demo",
        database_url=server.conninfo(),
        extra_env={"BUFDIR_EXPORT_STORAGE_DIR": str(tmp_path)},
    )

    assert run.code == 0, run.err
    assert "configured server" in run.out
    assert run.out.count("HTTP 200, same size") == 3
    assert await databases() == before


async def test_seed_generates_activities_for_an_organisation(database: str) -> None:
    run = await bufdir_export("seed", "--org", "hlf", "--activities", "1500", database_url=database)
    unknown = await bufdir_export("seed", "--org", "nope", database_url=database)

    assert run.code == 0, run.err
    assert run.out.strip() == "1500 activities generated for hlf"
    assert_one_line_error(unknown, "no organisation with slug 'nope'")
