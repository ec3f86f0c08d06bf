"""Activities streamed as the runner role: every row of the period, none of another's."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from bufdir_export.postgres.activities import PostgresActivities
from bufdir_export.postgres.queries import Queries
from bufdir_export.postgres.runner_audit import PostgresAudit
from tests.integration.contract import act_as, stored_export
from tests.support import ADMINS, ORGS


async def test_the_stream_holds_exactly_the_period_in_report_order(
    pool: AsyncConnectionPool[Any], queries: Queries, conn: psycopg.AsyncConnection[Any]
) -> None:
    export = await stored_export(conn, ADMINS["nhf"], ORGS["nhf"])
    source = PostgresActivities(pool, queries, batch_size=17)
    expected = await (
        await conn.execute(
            "select id from public.activities where organisation_id = %s"
            " and activity_date between '2025-01-01' and '2025-12-31'",
            [ORGS["nhf"]],
        )
    ).fetchall()

    count = await source.count(export)
    rows = [activity async for activity in source.stream(export)]

    assert count == len(expected) > 0
    assert {row.id for row in rows} == {row[0] for row in expected}
    keys = [(r.county_code, r.chapter_name, r.activity_date, r.id) for r in rows]
    assert keys == sorted(keys)
    assert all(r.municipality_number.startswith(r.county_code) for r in rows)
    assert all(date(2025, 1, 1) <= r.activity_date <= date(2025, 12, 31) for r in rows)


async def test_each_row_says_whether_another_chapter_has_the_same_activity_that_day(
    pool: AsyncConnectionPool[Any], queries: Queries, conn: psycopg.AsyncConnection[Any]
) -> None:
    # NHF's seed records some activities in two chapters (the golden period).
    export = await stored_export(
        conn, ADMINS["nhf"], ORGS["nhf"], period_start="2024-01-01", period_end="2024-12-31"
    )
    rows = [activity async for activity in PostgresActivities(pool, queries).stream(export)]

    chapters: dict[tuple[object, ...], set[str]] = {}
    for row in rows:
        key = (row.peer_mentor_id, row.activity_type_code, row.activity_date)
        chapters.setdefault(key, set()).add(row.chapter_name)
    expected = [
        len(chapters[(r.peer_mentor_id, r.activity_type_code, r.activity_date)]) > 1 for r in rows
    ]
    assert [row.same_day_in_other_chapter for row in rows] == expected
    assert 0 < sum(expected) < len(rows) / 10  # a few copies, among many that have none


async def test_an_organisation_without_activities_in_the_period_streams_nothing(
    pool: AsyncConnectionPool[Any], queries: Queries, conn: psycopg.AsyncConnection[Any]
) -> None:
    export = await stored_export(
        conn, ADMINS["nhf"], ORGS["nhf"], period_start="2010-01-01", period_end="2010-12-31"
    )
    source = PostgresActivities(pool, queries)
    assert await source.count(export) == 0
    assert [a async for a in source.stream(export)] == []


async def test_a_members_export_streams_what_the_member_may_read_and_no_more(
    pool: AsyncConnectionPool[Any], queries: Queries, conn: psycopg.AsyncConnection[Any]
) -> None:
    """The activities' RLS lets a plain member read what they recorded; their
    export holds exactly that, though the runner could read the whole organisation."""
    member = (
        await (
            await conn.execute(
                "select m.user_id from public.organisation_members m"
                " where m.organisation_id = %s and m.role = 'member'"
                " and exists (select 1 from public.activities a"
                "             where a.organisation_id = m.organisation_id"
                "               and a.recorded_by = m.user_id)"
                " order by m.user_id limit 1",
                [ORGS["nhf"]],
            )
        ).fetchone()
    )[0]  # type: ignore[index]
    async with conn.transaction():
        await act_as(conn, "authenticated", member)
        readable = {
            row[0]
            for row in await (
                await conn.execute(
                    "select id from public.activities where organisation_id = %s"
                    " and activity_date between '2025-01-01' and '2025-12-31'",
                    [ORGS["nhf"]],
                )
            ).fetchall()
        }
    export = await stored_export(conn, member, ORGS["nhf"])
    source = PostgresActivities(pool, queries)

    streamed = {activity.id async for activity in source.stream(export)}
    everything = await (
        await conn.execute(
            "select count(*) from public.activities where organisation_id = %s", [ORGS["nhf"]]
        )
    ).fetchone()

    assert streamed == readable
    assert 0 < len(readable) < everything[0]  # type: ignore[index]
    assert await source.count(export) == len(readable)
    # The claim counts the same, in its own call.
    audit = PostgresAudit(pool, queries, runner_id="counting", lease=timedelta(minutes=1))
    claimed = await audit.claim()
    assert claimed is not None
    assert (claimed.export.id, claimed.activity_count) == (export.id, len(readable))
