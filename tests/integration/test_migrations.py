"""`migrate` against a real server: once, twice, concurrently, and agreeing with the CLI table."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from bufdir_export._errors import MigrationError
from bufdir_export.postgres.chain_reader import verify_chains
from bufdir_export.postgres.queries import Queries
from bufdir_export.tools.migrations import discover_migrations, migrate


async def _connect(conninfo: str) -> psycopg.AsyncConnection[Any]:
    return await psycopg.AsyncConnection.connect(conninfo, autocommit=True)


async def _history(conninfo: str) -> list[tuple[str, str, list[str]]]:
    async with await _connect(conninfo) as conn:
        cursor = await conn.execute(
            "select version, name, statements from supabase_migrations.schema_migrations"
            " order by version"
        )
        return [(v, n, list(s)) for v, n, s in await cursor.fetchall()]


async def _schema_fingerprint(conninfo: str) -> list[tuple[Any, ...]]:
    async with await _connect(conninfo) as conn:
        cursor = await conn.execute(
            """
            select n.nspname, c.relname, c.relkind, c.relrowsecurity,
                   (select count(*) from pg_policy p where p.polrelid = c.oid),
                   (select count(*) from pg_trigger t where t.tgrelid = c.oid)
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname in ('public', 'bufdir_private', 'auth', 'supabase_migrations')
            order by 1, 2
            """
        )
        return list(await cursor.fetchall())


async def test_migrate_applies_every_file_and_records_it_as_the_cli_does(
    empty_database: str, queries: Queries
) -> None:
    async with await _connect(empty_database) as conn:
        report = await migrate(conn, queries)

    files = discover_migrations()
    assert [m.version for m in report.applied] == [m.version for m in files]
    assert report.already_applied == ()
    history = await _history(empty_database)
    assert [(v, n) for v, n, _ in history] == [(m.version, m.name) for m in files]
    for (_, _, statements), migration in zip(history, files, strict=True):
        assert statements == migration.statements()
        assert len(statements) > 1


async def test_migrate_twice_changes_nothing(empty_database: str, queries: Queries) -> None:
    async with await _connect(empty_database) as conn:
        await migrate(conn, queries)
    before = (await _history(empty_database), await _schema_fingerprint(empty_database))

    async with await _connect(empty_database) as conn:
        again = await migrate(conn, queries)

    assert again.applied == ()
    assert list(again.already_applied) == [m.version for m in discover_migrations()]
    assert (await _history(empty_database), await _schema_fingerprint(empty_database)) == before


async def test_two_migrators_at_once_apply_each_file_once(
    empty_database: str, queries: Queries
) -> None:
    async def one() -> int:
        async with await _connect(empty_database) as conn:
            return len((await migrate(conn, queries)).applied)

    counts = await asyncio.gather(one(), one(), one())

    assert sorted(counts) == [0, 0, len(discover_migrations())]
    versions = [v for v, _, _ in await _history(empty_database)]
    assert versions == sorted(set(versions))


async def test_a_failing_migration_leaves_nothing_of_itself(
    empty_database: str, queries: Queries, tmp_path: Any
) -> None:
    for migration in discover_migrations():
        (tmp_path / migration.path.name).write_text(migration.path.read_text())
    (tmp_path / "29990101000000_broken.sql").write_text(
        "create table public.half_done (id int);\nselect 1 / 0;\n"
    )

    async with await _connect(empty_database) as conn:
        with pytest.raises(MigrationError) as raised:
            await migrate(conn, queries, directory=tmp_path)
        table = await (await conn.execute("select to_regclass('public.half_done')")).fetchone()

    assert raised.value.version == "29990101000000"
    assert raised.value.sqlstate == "22012"
    assert table == (None,)
    assert "29990101000000" not in [v for v, _, _ in await _history(empty_database)]


async def test_shim_changes_nothing_where_supabase_auth_exists(
    empty_database: str, queries: Queries
) -> None:
    """On a Supabase database, auth.uid() is Supabase's own: the shim must not replace it."""
    async with await _connect(empty_database) as conn:
        await conn.execute(
            """
            create schema auth;
            create table auth.users (id uuid primary key, email text, marker text);
            create function auth.uid() returns uuid language sql stable
              as $$ select '00000000-0000-0000-0000-00000000abcd'::uuid $$;
            """
        )
        await migrate(conn, queries)
        uid = await (await conn.execute("select auth.uid()")).fetchone()
        columns = await (
            await conn.execute(
                "select array_agg(column_name::text order by ordinal_position)"
                " from information_schema.columns"
                " where table_schema = 'auth' and table_name = 'users'"
            )
        ).fetchone()
        functions = await (
            await conn.execute(
                "select array_agg(proname::text order by proname) from pg_proc"
                " where pronamespace = 'auth'::regnamespace"
            )
        ).fetchone()

    assert uid is not None
    assert str(uid[0]) == "00000000-0000-0000-0000-00000000abcd"
    assert columns == (["id", "email", "marker"],)
    assert functions == (["uid"],)


_CHAINED_RECORDS = "20261201001200"

# Written on a database migrated up to, not including, the migration that
# chains the records: a file deleted, a configuration version used, two
# activations, in an organisation with requests before and after them.
_RECORDS_BEFORE_THE_CHAIN = """
insert into auth.users (id, email)
  values ('b1200000-0000-4000-8000-000000000001', 'upgrade-admin@test.example');
insert into public.organisations (id, slug, name)
  values ('a1200000-0000-4000-8000-000000000000', 'upgrade', 'Upgrade');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a1200000-0000-4000-8000-000000000000', 'b1200000-0000-4000-8000-000000000001', 'admin');
insert into public.activity_types (organisation_id, code, name)
  values ('a1200000-0000-4000-8000-000000000000', 'besok', 'Besøk');
insert into public.bufdir_column_configs (organisation_id, config, is_active)
select 'a1200000-0000-4000-8000-000000000000', jsonb_build_object(
  'schema_version', 1, 'categories', '{"besok": "oppsøkende"}'::jsonb,
  'columns', jsonb_build_array(jsonb_build_object(
    'header', header, 'source', 'activity_date', 'transform', '{"kind": "date"}'::jsonb))),
  true
from unnest(array['Dato', 'Dag']) as header;
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
values ('e1200000-0000-4000-8000-000000000001', 'a1200000-0000-4000-8000-000000000000',
        'b1200000-0000-4000-8000-000000000001', '2025-01-01', '2025-12-31');
select bufdir_private.claim_bufdir_export('upgrade-runner', 60);
select bufdir_private.advance_bufdir_export('e1200000-0000-4000-8000-000000000001',
  'upgrade-runner', 1, 'querying_activities', 'mapping_columns', 60);
select bufdir_private.begin_generating_bufdir_export('e1200000-0000-4000-8000-000000000001',
  'upgrade-runner', 1, 60, 2);
update public.bufdir_export_audit set status = 'storing_file'
where id = 'e1200000-0000-4000-8000-000000000001';
select bufdir_private.complete_bufdir_export(
  'e1200000-0000-4000-8000-000000000001', 'upgrade-runner', 1, 10, 2048,
  'a1200000-0000-4000-8000-000000000000/e1200000-0000-4000-8000-000000000001/r.xlsx',
  'https://files.example/r.xlsx', now() + interval '1 day', 7, repeat('ab', 32));
select bufdir_private.record_export_file_deleted(
  'e1200000-0000-4000-8000-000000000001', 'upgrade-purger');
"""


async def test_records_written_before_the_chain_covered_them_are_linked_by_its_migration(
    empty_database: str, queries: Queries, tmp_path: Any
) -> None:
    for migration in discover_migrations():
        if migration.version < _CHAINED_RECORDS:
            (tmp_path / migration.path.name).write_text(migration.path.read_text())
    async with await _connect(empty_database) as conn:
        await migrate(conn, queries, directory=tmp_path)
        await conn.execute(_RECORDS_BEFORE_THE_CHAIN)
        # A session in another time zone: the links are made in UTC all the same.
        await conn.execute("set time zone 'Pacific/Auckland'")
        report = await migrate(conn, queries)
        assert [m.version for m in report.applied] == [_CHAINED_RECORDS]
        # A request after the upgrade follows the records.
        await conn.execute(
            "insert into public.bufdir_export_audit"
            " (organisation_id, requested_by, period_start, period_end)"
            " values ('a1200000-0000-4000-8000-000000000000',"
            "         'b1200000-0000-4000-8000-000000000001', '2024-01-01', '2024-12-31')"
        )
        linked = await (
            await conn.execute(
                "select count(*) filter (where chain_id is not null and hash is not null)"
                " from (select chain_id, hash from public.bufdir_export_file_deletions"
                "       union all select chain_id, hash from public.bufdir_export_config_versions"
                "       union all select chain_id, hash"
                "       from public.bufdir_column_config_activations) r"
            )
        ).fetchone()
        chains = await verify_chains(conn, queries, slug="upgrade")

    assert linked == (4,)
    (chain,) = chains
    assert chain.broken is None, chain.broken
    assert (chain.records, chain.exports, chain.events) == (4, 2, 7)
