"""`bufdir-export run` and `reap` refused at start-up: one line that names the real cause.

The runner's role is the one a login may lack (on Supabase, `postgres`
created `bufdir_export_runner` but was not made a member of it): the line
names the role and the grant that fixes it, at once, not a connection
timeout. The migrating role itself is made a member by the migration.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bufdir_export.tools.sql_split import split_statements
from tests.acceptance.test_cli import assert_one_line_error, bufdir_export
from tests.integration.conftest import SECRET

MIGRATIONS = Path(__file__).resolve().parents[2] / "supabase" / "migrations"


@pytest.fixture
async def login(database: str, conn: psycopg.AsyncConnection[Any]) -> AsyncIterator[str]:
    """A login role of its own (roles belong to the whole server): its name."""
    name = f"login_{secrets.token_hex(4)}"
    await conn.execute(sql.SQL("create role {} login").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        await conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(name)))
        await conn.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))


ENV = {"BUFDIR_EXPORT_SIGNING_SECRET": SECRET, "BUFDIR_EXPORT_CONNECT_TIMEOUT_SECONDS": "30"}


@pytest.mark.parametrize("command", ["run", "reap", "sweep"])
async def test_a_login_that_may_not_act_as_the_runner_role_is_told_the_grant(
    database: str, login: str, command: str, tmp_path: Path
) -> None:
    env = ENV | {"BUFDIR_EXPORT_STORAGE_DIR": str(tmp_path)}
    run = await bufdir_export(
        command, database_url=make_conninfo(database, user=login), extra_env=env
    )

    assert_one_line_error(
        run,
        f"the database user {login} may not act as role bufdir_export_runner",
        f'grant bufdir_export_runner to "{login}"',
    )
    assert "within" not in run.err  # said at once, not after the connection timeout


async def test_a_refused_connection_says_so(tmp_path: Path) -> None:
    env = ENV | {"BUFDIR_EXPORT_STORAGE_DIR": str(tmp_path)}
    run = await bufdir_export("run", database_url="postgresql://x@127.0.0.1:1/app", extra_env=env)

    assert_one_line_error(run, "cannot connect to the database: Connection refused")


async def test_an_unknown_login_is_what_the_server_said(database: str, tmp_path: Path) -> None:
    env = ENV | {"BUFDIR_EXPORT_STORAGE_DIR": str(tmp_path)}
    url = make_conninfo(database, user="nobody_here")
    run = await bufdir_export("run", database_url=url, extra_env=env)

    assert_one_line_error(
        run, 'the database refused the connection: role "nobody_here" does not exist'
    )


async def test_the_migrating_role_is_made_a_member_when_it_is_no_superuser(
    database: str, conn: psycopg.AsyncConnection[Any]
) -> None:
    # As Supabase's postgres: no superuser, but CREATEROLE. The migration's
    # block of roles, exactly as the file has it, run as that role.
    name = f"migrator_{secrets.token_hex(4)}"
    role = sql.Identifier(name)
    domain = next(MIGRATIONS.glob("*_domain.sql")).read_text(encoding="utf-8")
    block = next(s for s in split_statements(domain) if "do $roles$" in s)
    await conn.execute(sql.SQL("create role {} login createrole").format(role))
    try:
        async with await psycopg.AsyncConnection.connect(
            make_conninfo(database, user=name), autocommit=True
        ) as migrator:
            await migrator.execute(block)
        row = await (
            await conn.execute("select pg_has_role(%s, 'bufdir_export_runner', 'member')", [name])
        ).fetchone()
    finally:
        await conn.execute(sql.SQL("revoke bufdir_export_runner from {}").format(role))
        await conn.execute(sql.SQL("drop role {}").format(role))

    assert row == (True,)
