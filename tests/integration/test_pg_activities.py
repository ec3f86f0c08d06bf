"""Activities streamed as the runner role: every row of the period, none of another's."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from bufdir_export.postgres.activities import PostgresActivities
from bufdir_export.postgres.queries import Queries
from tests.support import export_record

NHF = "00000000-0000-4000-a000-000000000001"


async def test_the_stream_holds_exactly_the_period_in_report_order(
    pool: AsyncConnectionPool[Any], queries: Queries, conn: psycopg.AsyncConnection[Any]
) -> None:
    export = export_record(
        organisation_id=NHF, period_start=date(2025, 1, 1), period_end=date(2025, 12, 31)
    )
    source = PostgresActivities(pool, queries, batch_size=17)
    expected = await (
        await conn.execute(
            "select id from public.activities where organisation_id = %s"
            " and activity_date between '2025-01-01' and '2025-12-31'",
            [NHF],
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


async def test_an_organisation_without_activities_in_the_period_streams_nothing(
    pool: AsyncConnectionPool[Any], queries: Queries
) -> None:
    export = export_record(
        organisation_id=NHF, period_start=date(2010, 1, 1), period_end=date(2010, 12, 31)
    )
    source = PostgresActivities(pool, queries)
    assert await source.count(export) == 0
    assert [a async for a in source.stream(export)] == []
