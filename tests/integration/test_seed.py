"""The demo seed holds what the demo promises; the generator writes with COPY."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from bufdir_export import UsageError
from bufdir_export.tools.activity_generator import generate_activities

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
