"""Domain tables: attachment paths, chapter codes, and who reads what."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from tests.integration.contract import World, act_as, raises_sqlstate


async def _activity(
    conn: psycopg.AsyncConnection[Any], world: World, recorded_by: uuid.UUID
) -> uuid.UUID:
    chapter = await (
        await conn.execute(
            "insert into public.local_chapters"
            " (organisation_id, name, county_code, municipality_number)"
            " values (%s, %s, '46', '4601') returning id",
            [world.org_a, f"Bergen {uuid.uuid4().hex[:6]}"],
        )
    ).fetchone()
    kind = await (
        await conn.execute(
            "insert into public.activity_types (organisation_id, code, name)"
            " values (%s, %s, 'Samtalegruppe') returning id",
            [world.org_a, f"samtale_{uuid.uuid4().hex[:6]}"],
        )
    ).fetchone()
    assert chapter is not None
    assert kind is not None
    row = await (
        await conn.execute(
            "insert into public.activities (organisation_id, chapter_id, peer_mentor_id,"
            " activity_type_id, activity_date, duration_minutes, participant_count,"
            " contact_method, note, recorded_by)"
            " values (%s, %s, gen_random_uuid(), %s, '2025-03-04', 60, 4, 'in_person',"
            " 'Ola Nordmann, fnr 01017012345', %s) returning id",
            [world.org_a, chapter[0], kind[0], recorded_by],
        )
    ).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


@pytest.mark.parametrize(
    "path",
    [
        "nhf/1f6b/rapport.pdf",
        "a/" + "b" * 1000,
    ],
)
async def test_attachment_paths_inside_the_bucket_are_accepted(
    conn: psycopg.AsyncConnection[Any], world: World, path: str
) -> None:
    activity = await _activity(conn, world, world.member_a)
    await conn.execute(
        "insert into public.activity_attachments"
        " (organisation_id, activity_id, storage_path, file_name, size_bytes)"
        " values (%s, %s, %s, 'rapport.pdf', 10)",
        [world.org_a, activity, path],
    )


@pytest.mark.parametrize(
    "path",
    [
        "../other-org/secret.pdf",
        "nhf/../../secret.pdf",
        "nhf/./x.pdf",
        "/etc/passwd",
        "nhf//x.pdf",
        "nhf/%2e%2e/x.pdf",
        "nhf\\..\\x.pdf",
        "a/" + "b" * 1023,
        "",
    ],
)
async def test_attachment_paths_that_leave_their_place_are_refused(
    conn: psycopg.AsyncConnection[Any], world: World, path: str
) -> None:
    activity = await _activity(conn, world, world.member_a)
    with raises_sqlstate("23514", constraint="activity_attachments_storage_path_check"):
        await conn.execute(
            "insert into public.activity_attachments"
            " (organisation_id, activity_id, storage_path, file_name, size_bytes)"
            " values (%s, %s, %s, 'x.pdf', 10)",
            [world.org_a, activity, path],
        )


@pytest.mark.parametrize(
    ("county", "municipality", "constraint"),
    [
        ("46", "0301", "local_chapters_municipality_in_county_check"),
        ("46", "460", "local_chapters_municipality_number_check"),
        ("12", "1201", "local_chapters_county_code_fkey"),  # Hordaland: gone since 2020
    ],
)
async def test_chapters_use_2024_county_and_municipality_codes(
    conn: psycopg.AsyncConnection[Any],
    world: World,
    county: str,
    municipality: str,
    constraint: str,
) -> None:
    state = "23503" if constraint.endswith("fkey") else "23514"
    with raises_sqlstate(state, constraint=constraint):
        await conn.execute(
            "insert into public.local_chapters"
            " (organisation_id, name, county_code, municipality_number)"
            " values (%s, 'X', %s, %s)",
            [world.org_a, county, municipality],
        )


async def test_members_see_their_own_activities_coordinators_all_runner_none_directly(
    conn: psycopg.AsyncConnection[Any], world: World
) -> None:
    mine = await _activity(conn, world, world.member_a)
    theirs = await _activity(conn, world, world.member_a2)

    async def visible(user: uuid.UUID) -> set[uuid.UUID]:
        async with conn.transaction():
            await act_as(conn, "authenticated", user)
            rows = await (await conn.execute("select id from public.activities")).fetchall()
        return {row[0] for row in rows}

    assert await visible(world.member_a) == {mine}
    assert await visible(world.coordinator_a) == {mine, theirs}
    assert await visible(world.admin_b) == set()
    assert await visible(world.outsider) == set()

    # The runner reads activities only through an export's view, never the table.
    async with conn.transaction(force_rollback=True):
        await conn.execute("set local role bufdir_export_runner")
        with raises_sqlstate("42501"):
            await conn.execute("select id from public.activities")
    async with conn.transaction(force_rollback=True):
        await conn.execute("set local role bufdir_export_runner")
        with raises_sqlstate("42703"):
            await conn.execute("select note from bufdir_private.export_activities")
    async with conn.transaction(force_rollback=True):
        await act_as(conn, "anon")
        with raises_sqlstate("42501"):
            await conn.execute("select id from public.activities")


async def test_the_counted_numbers_of_an_activity_say_what_they_mean(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    cursor = await conn.execute(
        "select a.attname, pg_catalog.col_description(a.attrelid, a.attnum)"
        " from pg_catalog.pg_attribute a"
        " where a.attrelid = 'public.activities'::regclass"
        " and a.attname in ('participant_count', 'duration_minutes', 'contact_method', 'in_norway')"
    )
    comments = dict(await cursor.fetchall())
    assert set(comments) == {"participant_count", "duration_minutes", "contact_method", "in_norway"}
    assert "not counting the peer mentor" in comments["participant_count"]
    assert "outreach has no minimum" in comments["duration_minutes"]
