"""The demo seed holds what the demo promises, and loads as the Supabase CLI loads it;
the generator writes with COPY."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import pq

from bufdir_export import UsageError
from bufdir_export._resources import seed_file
from bufdir_export.postgres.queries import Queries
from bufdir_export.runner_app import RunnerApp
from bufdir_export.tools.activity_generator import generate_activities
from bufdir_export.tools.migrations import migrate
from bufdir_export.tools.sql_split import split_statements
from tests.integration.conftest import runner_settings
from tests.integration.contract import request_as
from tests.support import ADMINS, ORGS

ORGANISATIONS = ("blindeforbundet", "hlf", "nhf")


async def _rows(conn: psycopg.AsyncConnection[Any], query: str) -> list[tuple[Any, ...]]:
    return list(await (await conn.execute(query)).fetchall())


async def test_three_organisations_with_enough_to_report(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    rows = await _rows(
        conn,
        """
        select o.slug,
               (select count(*) from public.activities a where a.organisation_id = o.id),
               (select count(distinct c.county_code) from public.local_chapters c
                 where c.organisation_id = o.id),
               (select count(*) from public.activity_attachments t where t.organisation_id = o.id),
               (select min(a.activity_date) from public.activities a
                 where a.organisation_id = o.id),
               (select max(a.activity_date) from public.activities a
                 where a.organisation_id = o.id)
        from public.organisations o order by o.slug
        """,
    )
    assert [row[0] for row in rows] == list(ORGANISATIONS)
    for slug, activities, counties, attachments, first, last in rows:
        assert activities >= 300, slug
        assert counties >= 5, slug
        assert attachments > 0, slug
        assert (last - first).days > 365, slug


async def test_each_organisation_has_an_admin_and_a_plain_member_and_one_user_has_two(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    roles = await _rows(
        conn,
        "select o.slug, array_agg(distinct m.role::text order by m.role::text)"
        " from public.organisation_members m"
        " join public.organisations o on o.id = m.organisation_id"
        " group by o.slug order by o.slug",
    )
    assert roles == [(slug, ["admin", "coordinator", "member"]) for slug in ORGANISATIONS]
    several = await _rows(
        conn,
        "select user_id from public.organisation_members group by user_id having count(*) > 1",
    )
    assert len(several) >= 1


async def test_the_seed_holds_what_bufdir_does_not_count(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    rows = await _rows(
        conn,
        """
        select o.slug,
               count(*) filter (where a.duration_minutes < 45),
               count(*) filter (where a.duration_minutes = 44),
               count(*) filter (where a.participant_count = 2),
               count(*) filter (where a.participant_count = 0),
               count(*) filter (where a.contact_method = 'phone'),
               count(*) filter (where not a.in_norway),
               count(*) filter (where a.duration_minutes = 45),
               count(*) filter (where a.note is not null)
        from public.activities a join public.organisations o on o.id = a.organisation_id
        group by o.slug order by o.slug
        """,
    )
    for slug, *counts in rows:
        assert all(count > 0 for count in counts), (slug, counts)


async def test_the_generator_writes_the_rows_it_reports(conn: psycopg.AsyncConnection[Any]) -> None:
    query = (
        "select count(*), count(note) from public.activities"
        " where organisation_id = %s and created_at >= %s"
    )
    nhf = "00000000-0000-4000-a000-000000000001"
    mark = await (await conn.execute("select clock_timestamp()")).fetchone()
    assert mark is not None

    written = await generate_activities(
        conn, organisation_slug="nhf", count=2_500, batch_size=1_000
    )

    assert written == 2_500
    # exactly the rows it wrote, and not one carries a note about a person
    assert await (await conn.execute(query, [nhf, mark[0]])).fetchone() == (2_500, 0)


async def test_the_same_seed_gives_the_same_rows(server: Any, database: str) -> None:
    fingerprint = (
        "select md5(string_agg(concat_ws(',', chapter_id, peer_mentor_id, activity_type_id,"
        " activity_date, duration_minutes, participant_count, contact_method, in_norway), ';'"
        " order by activity_date, chapter_id, peer_mentor_id, duration_minutes, participant_count,"
        " contact_method, in_norway, activity_type_id))"
        " from public.activities where organisation_id = %s and created_at >= %s"
    )
    hlf = "00000000-0000-4000-a000-000000000003"
    prints = []
    for seed in (7, 7, 8):
        async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
            mark = await (await conn.execute("select clock_timestamp()")).fetchone()
            assert mark is not None
            await generate_activities(conn, organisation_slug="hlf", count=500, seed=seed)
            row = await (await conn.execute(fingerprint, [hlf, mark[0]])).fetchone()
            assert row is not None
            prints.append(row[0])
    assert prints[0] == prints[1]
    assert prints[0] != prints[2]


async def test_an_unknown_organisation_is_a_clear_error(conn: psycopg.AsyncConnection[Any]) -> None:
    with pytest.raises(UsageError, match="no organisation with slug 'nope'"):
        await generate_activities(conn, organisation_slug="nope", count=10)


# The seed file as the Supabase CLI loads it ---------------------------------------

# What each table holds; ids drawn at random are left out (timestamps are, below).
CONTENT = {
    "organisations": "select id, slug, name from public.organisations",
    "users": "select id, email from auth.users",
    "members": "select organisation_id, user_id, role from public.organisation_members",
    "chapters": "select * from public.local_chapters",
    "types": "select * from public.activity_types",
    "activities": "select * from public.activities",
    "attachments": "select organisation_id, activity_id, storage_path, file_name, content_type,"
    " size_bytes from public.activity_attachments",
    "configs": "select organisation_id, version, config, is_active, created_by"
    " from public.bufdir_column_configs",
}


class SeedRefused(Exception):
    def __init__(self, statement: int, sqlstate: str | None, message: str) -> None:
        super().__init__(f"statement {statement}: {sqlstate} {message}")
        self.sqlstate = sqlstate


def load_as_the_cli_does(conninfo: str, script: str) -> None:
    """`supabase db reset` / `db push --include-seed`: ``SeedFile.ExecBatchWithCache``
    in supabase/cli (apps/cli-go/pkg/migration/file.go) queues every statement
    of the file in one pgx batch with the statement cache, so pgx prepares
    (parses and describes) each statement before any of them runs, and the
    batch runs as one implicit transaction."""
    statements = split_statements(script)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        pg = conn.pgconn
        pg.exec_(b"begin")
        try:
            for n, statement in enumerate(statements):
                _check(n, pg.prepare(f"seed_{n}".encode(), statement.encode()))
            for n in range(len(statements)):
                _check(n, pg.exec_prepared(f"seed_{n}".encode(), []))
        except SeedRefused:
            pg.exec_(b"rollback")
            raise
        pg.exec_(b"commit")


def _check(n: int, result: pq.abc.PGresult) -> None:
    if result.status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
        return
    sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
    message = result.error_message
    raise SeedRefused(n, sqlstate.decode() if sqlstate else None, message.decode().strip())


async def _content(conninfo: str) -> dict[str, str]:
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        found = {}
        for name, query in CONTENT.items():
            row = await (
                await conn.execute(
                    "select count(*), md5(coalesce(string_agg(r, '|' order by r), ''))"
                    " from (select (to_jsonb(t) - 'created_at' - 'updated_at')::text as r"
                    f" from ({query}) t) rows"
                )
            ).fetchone()
            assert row is not None
            found[name] = f"{row[0]} rows, {row[1]}"
        return found


async def test_the_seed_file_loads_as_the_cli_loads_it_and_equals_bufdir_export_seed(
    empty_database: str, database: str, queries: Queries
) -> None:
    async with await psycopg.AsyncConnection.connect(empty_database, autocommit=True) as conn:
        await migrate(conn, queries)
    script = seed_file().read_text(encoding="utf-8")

    await asyncio.to_thread(load_as_the_cli_does, empty_database, script)

    loaded, seeded = await _content(empty_database), await _content(database)
    assert loaded == seeded  # the test database was made by `bufdir-export seed`'s code
    assert loaded["configs"].startswith("3 rows")


def test_the_cli_way_of_loading_refuses_a_statement_that_reads_an_earlier_ones_table(
    empty_database: str,
) -> None:
    script = "create temporary table t (x int); insert into t values (1); select * from t;"
    with pytest.raises(SeedRefused) as refused:
        load_as_the_cli_does(empty_database, script)
    assert refused.value.sqlstate == "42P01"  # at prepare time, before anything ran
    assert "statement 1" in str(refused.value)


async def test_a_database_seeded_by_the_file_alone_completes_an_export(
    empty_database: str, queries: Queries, tmp_path: Path
) -> None:
    async with await psycopg.AsyncConnection.connect(empty_database, autocommit=True) as conn:
        await migrate(conn, queries)
    await asyncio.to_thread(
        load_as_the_cli_does, empty_database, seed_file().read_text(encoding="utf-8")
    )
    app = RunnerApp(runner_settings(tmp_path), empty_database, serve_downloads=False)
    await app.open()
    try:
        async with await psycopg.AsyncConnection.connect(empty_database, autocommit=True) as conn:
            export = await request_as(conn, ADMINS["blindeforbundet"], ORGS["blindeforbundet"])
            result = await app.pipeline.run_export()
            row = await (
                await conn.execute(
                    "select status, row_count from public.bufdir_export_audit where id = %s",
                    [export],
                )
            ).fetchone()
    finally:
        await app.close()

    assert result is not None
    assert row is not None
    assert row[0] == "completed"
    assert row[1] > 0
