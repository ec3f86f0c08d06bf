"""What Realtime's ``postgres_changes`` sends, and to whom: decided in the database.

Realtime's database side (supabase/realtime,
``priv/repo/tenant_schema/realtime/functions/apply_rls.sql`` and
``subscription_check_filters.sql``) decides per change of a published table
and per subscriber's role:

- if the role may not SELECT the table's primary key column, every subscriber
  of that role gets a data-less ``Error 401: Unauthorized`` notice for every
  change (``has_column_privilege``);
- otherwise, with RLS on the table, the change goes to a subscriber only when
  ``select ... where <primary key> = $1`` run as that role, with the
  subscriber's claims, finds the row;
- a filter on a column the role may not select is refused at subscription.

So ``anon`` may select the primary keys of the two published tables and
nothing else, and no policy lets it see a row: an anonymous subscriber hears
nothing at all, not even that exports happen. The check below runs the same
statement as the role, with the same claims.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from tests.integration.contract import World, act_as, new_export

PUBLISHED = ("public.bufdir_export_audit", "public.bufdir_export_audit_events")


async def _columns(conn: psycopg.AsyncConnection[Any], table: str) -> list[str]:
    cursor = await conn.execute(
        "select attname from pg_attribute where attrelid = %s::regclass"
        " and attnum > 0 and not attisdropped order by attnum",
        [table],
    )
    return [name for (name,) in await cursor.fetchall()]


async def _sees(
    conn: psycopg.AsyncConnection[Any],
    table: str,
    key: object,
    role: str,
    user: uuid.UUID | None = None,
) -> bool:
    """Realtime's visibility check of one changed row, as ``role`` (and ``user``)."""
    async with conn.transaction(force_rollback=True):
        await act_as(conn, role, user)
        cursor = await conn.execute(f"select count(*) from {table} where id = %s", [key])
        row = await cursor.fetchone()
    assert row is not None
    return bool(row[0])


async def test_both_audit_tables_are_in_the_realtime_publication(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    cursor = await conn.execute(
        "select schemaname || '.' || tablename from pg_publication_tables"
        " where pubname = 'supabase_realtime' order by 1"
    )
    assert tuple(name for (name,) in await cursor.fetchall()) == PUBLISHED


async def test_anon_may_select_the_primary_key_and_no_other_column(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    for table in PUBLISHED:
        columns = await _columns(conn, table)
        cursor = await conn.execute(
            "select attname, has_column_privilege('anon', %s::regclass, attname, 'SELECT'),"
            " has_column_privilege('anon', %s::regclass, attname, 'INSERT,UPDATE,REFERENCES')"
            " from unnest(%s::text[]) as attname",
            [table, table, columns],
        )
        selectable = {name for name, select, _ in await cursor.fetchall() if select}
        assert selectable == {"id"}, table
        cursor = await conn.execute(
            "select has_table_privilege('anon', %s::regclass,"
            " 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER'),"
            " relrowsecurity from pg_class where oid = %s::regclass",
            [table, table],
        )
        assert await cursor.fetchone() == (False, True), table


async def test_a_change_reaches_the_requester_and_the_admin_and_never_anon(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    export_id = await new_export(conn, world, "generating_file")
    cursor = await conn.execute(
        "select id from public.bufdir_export_audit_events where export_id = %s", [export_id]
    )
    events = [event for (event,) in await cursor.fetchall()]
    assert len(events) >= 3

    audiences: list[tuple[str, uuid.UUID | None, bool]] = [
        ("anon", None, False),
        ("authenticated", world.member_a, True),  # the requester
        ("authenticated", world.admin_a, True),  # the organisation's admin
        ("authenticated", world.member_a2, False),  # a member who did not ask
        ("authenticated", world.coordinator_a, False),
        ("authenticated", world.admin_b, False),  # another organisation's admin
        ("authenticated", world.outsider, False),
    ]
    for role, user, expected in audiences:
        assert await _sees(conn, PUBLISHED[0], export_id, role, user) is expected, (role, user)
        for event in events:
            assert await _sees(conn, PUBLISHED[1], event, role, user) is expected, (role, user)
