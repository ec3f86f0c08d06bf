"""The project on a database shaped as the Supabase image shapes one, with
``postgres`` no superuser (tests/doubles/supabase_database.py says what is kept).

A cluster of its own, bootstrapped by ``supabase_admin``, whose database
``postgres`` goes through the image's initialisation and the Auth server's
first start. On it, as ``postgres``, the way a project is used: the real
``bufdir-export migrate``, the seed file as the Supabase CLI loads it, the
pgTAP suite, and ``bufdir-export run`` both as ``postgres`` and as a dedicated
login made by ``postgres``.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from bufdir_export._resources import seed_file
from bufdir_export._settings import Settings
from bufdir_export.tools.embedded import EmbeddedPostgres, find_bindir
from bufdir_export.tools.migrations import discover_migrations
from tests.acceptance.test_cli import ENTRY_POINT, Run, bufdir_export
from tests.doubles.supabase_database import STEPS
from tests.integration.conftest import SECRET
from tests.integration.contract import request_as
from tests.integration.pgtap import FILES as PGTAP_FILES
from tests.integration.pgtap import assert_file_passes, psql, skip_without_pgtap
from tests.integration.test_runner_e2e import activity_count, download, wait_for_end
from tests.integration.test_seed import load_as_the_cli_does
from tests.support import ADMINS, ORGS

RUNNER_PASSWORD = "runner-login-password-0123456789"
_LIBPQ = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE", "DATABASE_URL")

# What the shim would create or change, where it finds a Supabase database:
# the API roles and their memberships, schemas auth and extensions, every
# object in auth, the publication.
SUPABASE_PARTS = """
select 'role', rolname::text, concat_ws(' ', rolsuper, rolinherit, rolcreaterole, rolcreatedb,
  rolcanlogin, rolreplication, rolbypassrls)
from pg_catalog.pg_roles
where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')
union all
select 'member', m.roleid::regrole::text || ' > ' || m.member::regrole::text, m.admin_option::text
from pg_catalog.pg_auth_members m
where m.member in ('anon'::regrole, 'authenticated'::regrole, 'service_role'::regrole,
  'authenticator'::regrole)
union all
select 'schema', nspname::text, concat_ws(' ', nspowner::regrole, nspacl)
from pg_catalog.pg_namespace where nspname in ('auth', 'extensions')
union all
select 'relation', c.oid::regclass::text, concat_ws(' ', c.relowner::regrole, c.relacl,
  c.relrowsecurity)
from pg_catalog.pg_class c where c.relnamespace = 'auth'::regnamespace
union all
select 'function', p.oid::regprocedure::text, concat_ws(' ', p.proowner::regrole, p.proacl,
  p.proconfig, md5(p.prosrc))
from pg_catalog.pg_proc p where p.pronamespace = 'auth'::regnamespace
union all
select 'publication', pubname::text, pubowner::regrole::text from pg_catalog.pg_publication
order by 1, 2
"""


@dataclass(frozen=True)
class Shaped:
    """The shaped cluster: connection strings to its database ``postgres``."""

    server: EmbeddedPostgres
    bindir: Path

    def url(self, user: str, password: str | None = None) -> str:
        return make_conninfo(self.server.conninfo(), user=user, password=password)

    async def connect(self, user: str) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(self.url(user), autocommit=True)


@dataclass(frozen=True)
class Migrated:
    run: Run
    before: list[tuple[str, str, str]]
    after: list[tuple[str, str, str]]
    superuser: tuple[Any, ...]


async def _rows(shaped: Shaped, user: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    async with await shaped.connect(user) as conn:
        await conn.execute("set search_path = pg_catalog")  # names print schema-qualified
        return list(await (await conn.execute(query, params or None)).fetchall())


@pytest.fixture(scope="module")
async def shaped(settings: Settings) -> AsyncIterator[Shaped]:
    async with EmbeddedPostgres(settings.pg_bindir, superuser="supabase_admin") as server:
        bindir = find_bindir(settings.pg_bindir)
        shaped = Shaped(server, bindir)
        for user, script in STEPS:
            async with await shaped.connect(user) as conn:
                await conn.execute(script)
        yield shaped


@pytest.fixture(scope="module")
async def migrated(shaped: Shaped) -> Migrated:
    """`bufdir-export migrate` as postgres, with what it found and left."""
    before = await _rows(shaped, "supabase_admin", SUPABASE_PARTS)
    superuser = (
        await _rows(
            shaped,
            "postgres",
            "select r.rolsuper, current_setting('is_superuser') from pg_catalog.pg_roles r"
            " where r.rolname = current_user",
        )
    )[0]
    run = await bufdir_export("migrate", database_url=shaped.url("postgres"))
    after = await _rows(shaped, "supabase_admin", SUPABASE_PARTS)
    return Migrated(run, before, after, superuser)


@pytest.fixture(scope="module")
async def seeded(shaped: Shaped, migrated: Migrated) -> None:
    """supabase/seed.sql, loaded as `supabase db reset` loads it: as postgres."""
    assert migrated.run.code == 0, migrated.run.err
    script = seed_file().read_text(encoding="utf-8")
    await asyncio.to_thread(load_as_the_cli_does, shaped.url("postgres"), script)


# a. the migrations ---------------------------------------------------------------


async def test_the_image_leaves_postgres_no_superuser_and_auth_to_its_admin(
    shaped: Shaped,
) -> None:
    rows = await _rows(
        shaped,
        "supabase_admin",
        """
        select (select row(rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolcanlogin)::text
                  from pg_catalog.pg_roles where rolname = 'postgres'),
               (select nspowner::regrole::text from pg_catalog.pg_namespace
                 where nspname = 'auth'),
               (select relowner::regrole::text from pg_catalog.pg_class
                 where oid = 'auth.users'::regclass),
               (select proowner::regrole::text from pg_catalog.pg_proc
                 where oid = 'auth.uid()'::regprocedure),
               (select pubowner::regrole::text from pg_catalog.pg_publication
                 where pubname = 'supabase_realtime'),
               pg_has_role('postgres', 'authenticated', 'member'),
               pg_has_role('authenticator', 'supabase_admin', 'member')
        """,
    )
    assert rows == [
        (
            "(f,t,t,t,t)",
            "supabase_admin",
            "supabase_auth_admin",
            "supabase_auth_admin",
            "postgres",
            True,
            False,
        )
    ]


async def test_the_migrations_apply_as_postgres_and_the_shim_changes_nothing(
    shaped: Shaped, migrated: Migrated
) -> None:
    versions = [m.version for m in discover_migrations()]

    assert migrated.superuser == (False, "off")
    assert migrated.run.code == 0, migrated.run.err
    assert migrated.run.out.splitlines()[-1] == f"{len(versions)} applied, 0 already applied"
    assert migrated.after == migrated.before
    functions = [name for kind, name, _ in migrated.after if kind == "function"]
    assert functions == ["auth.email()", "auth.jwt()", "auth.role()", "auth.uid()"]
    assert ("relation", "auth.users") in {(kind, name) for kind, name, _ in migrated.after}
    owner = next(v for k, n, v in migrated.after if (k, n) == ("relation", "auth.users"))
    assert owner.startswith("supabase_auth_admin ")

    rows = await _rows(
        shaped,
        "supabase_admin",
        """
        select (select array_agg(version order by version)
                  from supabase_migrations.schema_migrations),
               (select array_agg(distinct relowner::regrole::text) from pg_catalog.pg_class
                 where relnamespace in ('public'::regnamespace, 'bufdir_private'::regnamespace)),
               (select array_agg(tablename::text order by tablename)
                  from pg_catalog.pg_publication_tables where pubname = 'supabase_realtime'),
               pg_has_role('postgres', 'bufdir_export_runner', 'member')
        """,
    )
    assert rows == [
        (
            versions,
            ["postgres"],
            ["bufdir_export_audit", "bufdir_export_audit_events"],
            True,  # postgres is no superuser here: the migration made it a member
        )
    ]


async def test_anon_holds_no_table_privilege_despite_the_default_privileges(
    shaped: Shaped, migrated: Migrated
) -> None:
    assert migrated.run.code == 0, migrated.run.err
    # What the default privileges of postgres would have given, before the
    # migrations revoked it: a table of the project's, created by postgres.
    probe = await _rows(
        shaped,
        "supabase_admin",
        "select count(*) from pg_catalog.pg_default_acl d"
        " cross join lateral aclexplode(d.defaclacl) a"
        " where d.defaclrole = 'postgres'::regrole and d.defaclnamespace = 'public'::regnamespace"
        " and d.defaclobjtype = 'r' and a.grantee = 'anon'::regrole",
    )
    every = await _rows(
        shaped,
        "supabase_admin",
        "select count(*) from aclexplode(acldefault('r', 'postgres'::regrole))",
    )
    assert probe == every  # every table privilege there is, by default
    held = await _rows(
        shaped,
        "supabase_admin",
        "select c.oid::regclass::text, a.privilege_type from pg_catalog.pg_class c"
        " cross join lateral aclexplode(c.relacl) a"
        " where c.relnamespace in ('public'::regnamespace, 'bufdir_private'::regnamespace)"
        " and a.grantee in ('anon'::regrole::oid, 0)",
    )
    assert held == []


# b. the seed --------------------------------------------------------------------


async def test_the_seed_loads_as_the_cli_loads_it_as_postgres(shaped: Shaped, seeded: None) -> None:
    rows = await _rows(
        shaped,
        "postgres",
        "select (select count(*) from auth.users),"
        " (select array_agg(slug order by slug) from public.organisations),"
        " (select count(*) from public.activities),"
        " (select count(*) from public.bufdir_column_configs where is_active)",
    )
    users, slugs, activities, configs = rows[0]
    assert users == 13
    assert slugs == sorted(ORGS)
    assert activities >= 900
    assert configs == 3


# c. the pgTAP suite -------------------------------------------------------------


@pytest.fixture(scope="module")
async def pgtap(shaped: Shaped, seeded: None) -> str:
    """pgTAP in schema extensions, created by supabase_admin (as supautils does
    for postgres on Supabase); psql's path."""
    async with await shaped.connect("supabase_admin") as conn:
        await skip_without_pgtap(conn)
        await conn.execute("create extension if not exists pgtap with schema extensions")
    return psql(shaped.bindir)


@pytest.mark.pgtap
@pytest.mark.parametrize("path", PGTAP_FILES, ids=[p.name for p in PGTAP_FILES])
async def test_pgtap_file_passes_as_postgres(shaped: Shaped, pgtap: str, path: Path) -> None:
    await assert_file_passes(pgtap, shaped.url("postgres"), path)


# b. the runner, last: the exports it makes stay (the audit is append-only), and
# the pgTAP files expect the database as the seed leaves it, as after
# `supabase db reset`.


@pytest.fixture(params=["postgres", "bufdir_runner"])
async def runner_login(
    request: pytest.FixtureRequest, shaped: Shaped, migrated: Migrated
) -> AsyncIterator[tuple[str, str]]:
    """The runner's login and its connection string: the project's own
    (postgres), or a login of its own made by postgres as docs/operating.md
    says (step 2 of "Deploying")."""
    assert migrated.run.code == 0, migrated.run.err
    if request.param == "postgres":
        yield "postgres", shaped.url("postgres")
        return
    async with await shaped.connect("postgres") as conn:
        await conn.execute(f"create role bufdir_runner login password '{RUNNER_PASSWORD}'")
        await conn.execute("grant bufdir_export_runner to bufdir_runner")
    try:
        yield "bufdir_runner", shaped.url("bufdir_runner", RUNNER_PASSWORD)
    finally:
        async with await shaped.connect("postgres") as conn:
            await conn.execute("drop role bufdir_runner")


async def _start_runner(
    name: str, database_url: str, storage: Path, log: Path
) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k not in _LIBPQ}
    env |= {
        "DATABASE_URL": database_url,
        "BUFDIR_EXPORT_RUNNER_ID": name,
        "BUFDIR_EXPORT_SIGNING_SECRET": SECRET,
        "BUFDIR_EXPORT_STORAGE_DIR": str(storage),
        "BUFDIR_EXPORT_DOWNLOAD_BASE_URL": "http://127.0.0.1:0",
        "BUFDIR_EXPORT_POLL_INTERVAL_SECONDS": "0.5",
        "BUFDIR_EXPORT_REAP_INTERVAL_SECONDS": "1",
    }
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            str(ENTRY_POINT), "run", env=env, stdout=out, stderr=out
        )


async def _stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(30):
                return await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
    return process.returncode


async def test_a_runner_completes_an_export_for_each_demo_organisation(
    shaped: Shaped, seeded: None, runner_login: tuple[str, str], tmp_path: Path
) -> None:
    login, url = runner_login
    name = f"shaped-{login}"
    log = tmp_path / "runner.log"
    process = await _start_runner(name, url, tmp_path / "storage", log)
    try:
        # Requested as PostgREST requests: logged in as authenticator, as the user.
        async with await shaped.connect("authenticator") as api:
            exports = {slug: await request_as(api, ADMINS[slug], ORGS[slug]) for slug in ORGS}
        async with await shaped.connect("postgres") as conn:
            rows = await wait_for_end(conn, list(exports.values()), within=120)
            expected = {slug: await activity_count(conn, ORGS[slug]) for slug in ORGS}
            claims = await (
                await conn.execute(
                    "select distinct actor from public.bufdir_export_audit_events"
                    " where export_id = any(%s) and to_status = 'querying_activities'",
                    [list(exports.values())],
                )
            ).fetchall()
            # The runner's sessions (its listener and its pool) are the login's.
            sessions = await (
                await conn.execute(
                    "select count(*) from pg_catalog.pg_stat_activity"
                    " where usename = %s and pid <> pg_backend_pid()",
                    [login],
                )
            ).fetchone()
            downloads = {
                slug: await download(rows[export_id]["download_url"])
                for slug, export_id in exports.items()
                if rows[export_id]["download_url"]
            }
    finally:
        code = await _stop(process)
    output = log.read_text(errors="replace")

    for slug, export_id in exports.items():
        row = rows[export_id]
        assert (row["status"], row["error_code"]) == ("completed", None), (slug, row, output)
        assert row["row_count"] == expected[slug] > 0
        assert downloads[slug].status_code == 200
        assert len(downloads[slug].content) == row["file_size_bytes"]
    assert claims == [(f"runner:{name}",)]
    assert sessions is not None
    assert sessions[0] >= 2
    assert code == 0, output
    assert "Traceback" not in output
