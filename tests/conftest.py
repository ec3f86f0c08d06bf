"""Fixtures: a real PostgreSQL server, a migrated and seeded template, a copy per test.

The server is, in order of preference: the one ``DATABASE_URL`` / ``PG*``
configure, if it answers; a ``supabase/postgres`` container where a Docker
engine runs; a private throwaway cluster started from the machine's
PostgreSQL server binaries (also when the tests run as root).
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from bufdir_export._settings import Settings
from bufdir_export.postgres.queries import Queries, load_queries
from bufdir_export.tools.database_choice import DatabaseServer
from bufdir_export.tools.embedded import EmbeddedPostgres
from bufdir_export.tools.migrations import migrate
from bufdir_export.tools.seed import apply_demo_seed

_SUPABASE_IMAGE = "supabase/postgres:15.8.1.085"
_chosen: list[str] = []


def pytest_report_header() -> list[str]:
    return [f"database server: {_chosen[0]}"] if _chosen else []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The attack matrix as observed, when its test ran."""
    from tests.integration.test_attack_matrix import matrix_report

    lines = list(matrix_report())
    if lines:
        terminalreporter.section("who may do what (organisation A's rows)")
        for line in lines:
            terminalreporter.write_line(line)


def _docker_engine_running() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        probe = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


async def _answers(conninfo: str) -> bool:
    try:
        conn = await psycopg.AsyncConnection.connect(conninfo, connect_timeout=5)
    except psycopg.OperationalError:
        return False
    await conn.close()
    return True


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def queries() -> Queries:
    return load_queries()


@pytest.fixture(scope="session")
async def server(settings: Settings) -> AsyncIterator[DatabaseServer]:
    configured = settings.conninfo()
    if configured is not None and await _answers(configured):
        _chosen.append("configured (DATABASE_URL / PG*)")
        yield DatabaseServer("configured", configured)
        return
    if _docker_engine_running():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer(_SUPABASE_IMAGE, username="postgres", dbname="postgres") as pg:
            _chosen.append(f"container {_SUPABASE_IMAGE}")
            url = pg.get_connection_url(driver=None)
            yield DatabaseServer("configured", url)
        return
    async with EmbeddedPostgres(settings.pg_bindir) as embedded:
        _chosen.append(f"embedded, port {embedded.port}")
        yield DatabaseServer("embedded", embedded.conninfo())


async def _admin(server: DatabaseServer) -> psycopg.AsyncConnection[Any]:
    return await psycopg.AsyncConnection.connect(server.conninfo(), autocommit=True)


async def create_database(
    server: DatabaseServer, queries: Queries, *, template: str | None = None
) -> str:
    name = f"bufdir_test_{secrets.token_hex(6)}"
    async with await _admin(server) as admin:
        if template is None:
            query = sql.SQL(queries["create_database"]).format(name=sql.Identifier(name))
        else:
            query = sql.SQL(queries["create_database_from_template"]).format(
                name=sql.Identifier(name), template=sql.Identifier(template)
            )
        await admin.execute(query)
    return name


async def drop_database(server: DatabaseServer, queries: Queries, name: str) -> None:
    async with await _admin(server) as admin:
        await admin.execute(sql.SQL(queries["drop_database"]).format(name=sql.Identifier(name)))


@pytest.fixture(scope="session")
async def template_db(server: DatabaseServer, queries: Queries) -> AsyncIterator[str]:
    """A database with the shim, every migration and the demo seed applied, once."""
    name = await create_database(server, queries)
    try:
        async with await psycopg.AsyncConnection.connect(
            server.conninfo(name), autocommit=True
        ) as conn:
            await migrate(conn, queries)
            await apply_demo_seed(conn)
            # Many exports queued as one user: past the request limit of a real project.
            await conn.execute(queries["set_request_limit"], {"limit": 10_000})
        yield name
    finally:
        await drop_database(server, queries, name)


@pytest.fixture
async def database(
    server: DatabaseServer, queries: Queries, template_db: str
) -> AsyncIterator[str]:
    """A private copy of the template for one test: its connection string."""
    name = await create_database(server, queries, template=template_db)
    try:
        yield server.conninfo(name)
    finally:
        await drop_database(server, queries, name)


@pytest.fixture
async def empty_database(server: DatabaseServer, queries: Queries) -> AsyncIterator[str]:
    """A new, empty database (nothing applied): its connection string."""
    name = await create_database(server, queries)
    try:
        yield server.conninfo(name)
    finally:
        await drop_database(server, queries, name)


@pytest.fixture
async def conn(database: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A superuser connection (autocommit) to this test's database."""
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as connection:
        yield connection
