"""Who may ask for an export, and who sees it: RLS and grants, as each kind of user."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from tests.integration.contract import World, act_as, new_export, raises_sqlstate, request_as


async def _visible(conn: psycopg.AsyncConnection[Any], user: uuid.UUID, table: str) -> set[Any]:
    column = "id" if table == "bufdir_export_audit" else "export_id"
    async with conn.transaction():
        await act_as(conn, "authenticated", user)
        rows = await (await conn.execute(f"select {column} from public.{table}")).fetchall()
    return {row[0] for row in rows}


async def _count_exports(conn: psycopg.AsyncConnection[Any]) -> int:
    row = await (await conn.execute("select count(*) from public.bufdir_export_audit")).fetchone()
    assert row is not None
    return int(row[0])


async def test_a_member_requests_for_their_organisation_as_themselves(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    export_id = await request_as(conn, world.member_a, world.org_a)

    row = await (
        await conn.execute(
            "select requested_by, status::text, attempts from public.bufdir_export_audit"
            " where id = %s",
            [export_id],
        )
    ).fetchone()
    assert row == (world.member_a, "initialised", 0)


async def test_nobody_requests_for_an_organisation_they_do_not_belong_to(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    before = await _count_exports(conn)
    for user, org in [
        (world.member_a, world.org_b),
        (world.admin_a, world.org_b),
        (world.outsider, world.org_a),
    ]:
        with raises_sqlstate("42501") as raised:
            await request_as(conn, user, org)
        assert "is not a member of organisation" in str(raised[0])
    with raises_sqlstate("42501"):
        await request_as(conn, None, world.org_a)  # anon
    assert await _count_exports(conn) == before


async def test_requested_by_cannot_be_forged(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    before = await _count_exports(conn)
    with raises_sqlstate("42501") as raised:
        await request_as(conn, world.member_a, world.org_a, requested_by=world.member_a2)
    assert "row-level security" in str(raised[0])
    assert await _count_exports(conn) == before


async def test_a_forged_requester_reveals_nothing_about_their_membership(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    """The insert trigger runs before RLS: it must not answer "is X a member"."""
    messages = []
    for forged in (world.member_a2, world.outsider, world.admin_b):
        with raises_sqlstate("42501") as raised:
            await request_as(conn, world.member_a, world.org_a, requested_by=forged)
        assert str(forged) not in str(raised[0])
        messages.append(str(raised[0]))
    assert len(set(messages)) == 1
    assert "row-level security" in messages[0]


async def test_members_see_their_own_admins_their_organisation_nobody_another(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    mine = await request_as(conn, world.member_a, world.org_a)
    colleague = await request_as(conn, world.member_a2, world.org_a)
    dual_in_b = await request_as(conn, world.member_ab, world.org_b)
    other_org = await new_export(
        conn, world, organisation_id=world.org_b, requested_by=world.admin_b
    )

    for table in ("bufdir_export_audit", "bufdir_export_audit_events"):
        assert await _visible(conn, world.member_a, table) == {mine}
        assert await _visible(conn, world.member_a2, table) == {colleague}
        assert await _visible(conn, world.coordinator_a, table) == set()
        assert await _visible(conn, world.admin_a, table) == {mine, colleague}
        assert await _visible(conn, world.admin_b, table) == {dual_in_b, other_org}
        assert await _visible(conn, world.member_ab, table) == {dual_in_b}
        assert await _visible(conn, world.outsider, table) == set()


async def test_anon_sees_nothing_at_all(conn: psycopg.AsyncConnection[Any], world: World) -> None:
    await new_export(conn, world)
    for table in ("bufdir_export_audit", "bufdir_export_audit_events"):
        async with conn.transaction(force_rollback=True):
            await act_as(conn, "anon")
            with raises_sqlstate("42501"):
                await conn.execute(f"select * from public.{table}")


async def test_only_the_requester_or_an_admin_of_its_organisation_cancels(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    export_id = await request_as(conn, world.member_a, world.org_a)

    for other in (world.member_a2, world.coordinator_a, world.admin_b, world.outsider):
        async with conn.transaction(force_rollback=True):
            await act_as(conn, "authenticated", other)
            with raises_sqlstate("XB007"):
                await conn.execute("select public.cancel_bufdir_export(%s)", [export_id])
    async with conn.transaction(force_rollback=True):
        await act_as(conn, "anon")
        with raises_sqlstate("42501"):
            await conn.execute("select public.cancel_bufdir_export(%s)", [export_id])
    async with conn.transaction(force_rollback=True):
        await act_as(conn, "authenticated", world.admin_a)
        by_admin = await (
            await conn.execute(
                "select status::text from public.cancel_bufdir_export(%s)", [export_id]
            )
        ).fetchone()
    assert by_admin == ("cancelled",)

    async with conn.transaction():
        await act_as(conn, "authenticated", world.member_a)
        row = await (
            await conn.execute(
                "select status::text, completed_at is not null"
                " from public.cancel_bufdir_export(%s)",
                [export_id],
            )
        ).fetchone()
    assert row == ("cancelled", True)
    async with conn.transaction(force_rollback=True):
        await act_as(conn, "authenticated", world.member_a)
        with raises_sqlstate("XB003"):
            await conn.execute("select public.cancel_bufdir_export(%s)", [export_id])
