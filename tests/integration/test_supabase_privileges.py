"""Privileges under Supabase's default grants.

A Supabase project grants everything in schema ``public`` to ``anon``,
``authenticated`` and ``service_role``: on what exists, and as default
privileges on what is created later (as the Supabase image's initial schema
does). The migrations must revoke all of it from every object of theirs, so
that each role holds exactly what the contract lists: the same as on a
database without those defaults.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from bufdir_export.postgres.queries import Queries
from bufdir_export.tools.migrations import migrate

# What the Supabase image grants, for the role that runs the migrations.
SUPABASE_DEFAULTS = """
grant usage on schema public to anon, authenticated, service_role;
grant all on all tables in schema public to anon, authenticated, service_role;
grant all on all sequences in schema public to anon, authenticated, service_role;
grant all on all functions in schema public to anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public
  grant all on sequences to anon, authenticated, service_role;
alter default privileges in schema public
  grant all on functions to anon, authenticated, service_role;
"""

# Every privilege a role holds on an object of the project (tables, views and
# sequences; functions), directly or through PUBLIC; a missing ACL stands for
# the owner's defaults (which give PUBLIC execute on a function).
PRIVILEGES = """
select c.relkind::text, c.relnamespace::regnamespace::text || '.' || c.relname, a.privilege_type
from pg_class c
cross join lateral aclexplode(coalesce(c.relacl, acldefault(
  case when c.relkind = 'S' then 's' else 'r' end::"char", c.relowner))) a
where c.relnamespace in ('public'::regnamespace, 'bufdir_private'::regnamespace)
  and c.relkind in ('r', 'v', 'S')
  and (a.grantee = 0 or pg_has_role(%(role)s, a.grantee, 'usage'))
union all
select 'f', p.oid::regprocedure::text, a.privilege_type
from pg_proc p
cross join lateral aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
where p.pronamespace in ('public'::regnamespace, 'bufdir_private'::regnamespace)
  and (a.grantee = 0 or pg_has_role(%(role)s, a.grantee, 'usage'))
order by 1, 2, 3
"""

AUTHENTICATED = sorted(
    [("r", f"public.{table}", "SELECT") for table in (
        "activities", "activity_attachments", "activity_types", "bufdir_column_configs",
        "bufdir_column_config_activations", "bufdir_export_audit", "bufdir_export_audit_events",
        "bufdir_export_config_versions", "bufdir_export_file_deletions",
        "counties", "local_chapters",
        "organisation_members", "organisations",
    )]
    + [("r", "public.local_chapters", p) for p in ("INSERT", "UPDATE")]
    + [("r", "public.activity_types", p) for p in ("INSERT", "UPDATE")]
    + [("r", "public.activities", p) for p in ("INSERT", "UPDATE", "DELETE")]
    + [("r", "public.activity_attachments", p) for p in ("INSERT", "DELETE")]
    + [("r", "public.bufdir_column_configs", "INSERT")]
    + [("r", "public.bufdir_export_audit", "INSERT")]
    + [("f", function, "EXECUTE") for function in (
        "cancel_bufdir_export(uuid)",  # public is on the search path: unqualified
        "retry_bufdir_export(uuid)",
        "activate_bufdir_column_config(uuid,integer)",
        "bufdir_private.export_was_retried(uuid)",
        "bufdir_private.activity_scope(organisation_role)",
        "bufdir_private.can_read_activity(uuid,uuid)",
        "bufdir_private.may_read_activity(organisation_role,uuid,uuid)",
        "bufdir_private.may_request_export(uuid)",
        "bufdir_private.has_org_role(uuid,organisation_role)",
        "bufdir_private.is_allowed_transition(bufdir_export_status,bufdir_export_status)",
        "bufdir_private.is_in_progress(bufdir_export_status)",
        "bufdir_private.is_terminal(bufdir_export_status)",
        "bufdir_private.runner_owned_columns()",
    )]
)  # fmt: skip


async def _privileges(conninfo: str, role: str) -> list[tuple[str, str, str]]:
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute("set search_path = public, pg_catalog")
        rows = await (await conn.execute(PRIVILEGES, {"role": role})).fetchall()
    return [(kind, name.replace(" ", ""), privilege) for kind, name, privilege in rows]


@pytest.fixture
async def supabase_like(empty_database: str, queries: Queries, tmp_path: Path) -> str:
    """A database with the shim and Supabase's default grants, then every migration."""
    async with await psycopg.AsyncConnection.connect(empty_database, autocommit=True) as conn:
        await migrate(conn, queries, directory=tmp_path)  # the shim (the roles) alone
        await conn.execute(SUPABASE_DEFAULTS)
        await migrate(conn, queries)
    return empty_database


# Privileges on single columns, which the table-wide ones above do not show.
COLUMN_PRIVILEGES = """
select c.relnamespace::regnamespace::text || '.' || c.relname, t.attname, a.privilege_type
from pg_attribute t
join pg_class c on c.oid = t.attrelid
cross join lateral aclexplode(t.attacl) a
where c.relnamespace in ('public'::regnamespace, 'bufdir_private'::regnamespace)
  and t.attacl is not null
  and (a.grantee = 0 or pg_has_role(%(role)s, a.grantee, 'usage'))
order by 1, 2, 3
"""


async def test_anon_holds_nothing_despite_supabases_defaults(supabase_like: str) -> None:
    assert await _privileges(supabase_like, "anon") == []


async def test_anon_may_select_only_the_ids_realtime_checks_changes_by(
    supabase_like: str, database: str
) -> None:
    for conninfo in (supabase_like, database):
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            rows = await (await conn.execute(COLUMN_PRIVILEGES, {"role": "anon"})).fetchall()
        assert rows == [
            ("public.bufdir_export_audit", "id", "SELECT"),
            ("public.bufdir_export_audit_events", "id", "SELECT"),
        ]


async def test_authenticated_holds_exactly_the_contracts_privileges(
    supabase_like: str, database: str
) -> None:
    assert await _privileges(supabase_like, "authenticated") == AUTHENTICATED
    assert await _privileges(database, "authenticated") == AUTHENTICATED


async def test_service_role_and_the_runner_hold_the_same_with_and_without_them(
    supabase_like: str, database: str
) -> None:
    for role in ("service_role", "bufdir_export_runner"):
        assert await _privileges(supabase_like, role) == await _privileges(database, role)


async def test_anon_cannot_reset_the_event_sequence(supabase_like: str) -> None:
    async with await psycopg.AsyncConnection.connect(supabase_like, autocommit=True) as conn:
        await conn.execute("set role anon")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            await conn.execute(
                "select setval('public.bufdir_export_audit_events_id_seq', 1, false)"
            )
