"""The audit port on PostgreSQL, as the runner role: claims, guarded writes, throttled progress."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from bufdir_export import ExportNotFound, LeaseLost
from bufdir_export._models import ErrorCode, ExportRecord, ExportScope, ExportStatus
from bufdir_export.core.ports import ClaimedExport, GeneratedFile, SignedUrl
from bufdir_export.postgres.queries import Queries
from bufdir_export.postgres.runner_audit import PostgresAudit
from tests.integration.contract import World, act_as, expire_lease, held_by, new_export


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _audit(
    pool: AsyncConnectionPool[Any], queries: Queries, runner: str, **kw: Any
) -> PostgresAudit:
    return PostgresAudit(pool, queries, runner_id=runner, lease=timedelta(minutes=1), **kw)


async def _claim(audit: PostgresAudit) -> ClaimedExport:
    claimed = await audit.claim()
    assert claimed is not None
    return claimed


async def _claimed(audit: PostgresAudit) -> ExportRecord:
    return (await _claim(audit)).export


async def test_a_claimed_export_is_walked_to_completed(
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    conn: psycopg.AsyncConnection[Any],
    world: World,
) -> None:
    export_id = await new_export(conn, world)
    audit = _audit(pool, queries, "runner-a")

    claimed = await _claim(audit)
    export, basis = claimed.export, claimed.basis
    assert (export.id, export.status, export.runner_id) == (
        export_id,
        ExportStatus.QUERYING_ACTIVITIES,
        "runner-a",
    )
    assert basis is not None
    assert basis.scope is ExportScope.OWN  # a plain member asked
    assert claimed.activity_count == 0  # this world records no activities
    # The chain's head for the report: the claim's event, by id and hash.
    claim_event = await (
        await conn.execute(
            "select id, hash from public.bufdir_export_audit_events"
            " where export_id = %s and to_status = 'querying_activities'",
            [export_id],
        )
    ).fetchone()
    assert (basis.audit_event_id, basis.audit_hash) == claim_event
    for status in (
        ExportStatus.MAPPING_COLUMNS,
        ExportStatus.GENERATING_FILE,
        ExportStatus.STORING_FILE,
    ):
        export = await audit.advance(export, status)
    stored = GeneratedFile(
        Path("bufdir-rapport.xlsx"),
        "bufdir-rapport.xlsx",
        "application/x",
        123,
        7,
        sha256="cd" * 32,
    )
    url = SignedUrl("http://files.test/x", datetime(2030, 1, 1, tzinfo=UTC))
    done = await audit.complete(
        export, stored, f"{world.org_a}/{export_id}/bufdir-rapport.xlsx", url
    )

    assert done.status == ExportStatus.COMPLETED
    assert (done.row_count, done.file_size_bytes, done.download_url) == (7, 123, url.url)
    assert done.file_sha256 == "cd" * 32
    assert await audit.claim() is None


async def test_a_requester_who_left_is_no_member(
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    conn: psycopg.AsyncConnection[Any],
    world: World,
) -> None:
    await new_export(conn, world)
    await conn.execute(
        "delete from public.organisation_members where user_id = %s", [world.member_a]
    )
    claimed = await _claim(_audit(pool, queries, "r"))
    assert (claimed.basis, claimed.activity_count) == (None, None)


async def test_writes_after_a_cancellation_raise_lease_lost_and_change_nothing(
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    conn: psycopg.AsyncConnection[Any],
    world: World,
) -> None:
    export_id = await new_export(conn, world)
    audit = _audit(pool, queries, "r")
    export = await _claimed(audit)
    async with conn.transaction():
        await act_as(conn, "authenticated", world.member_a)
        await conn.execute("select public.cancel_bufdir_export(%s)", [export_id])

    with pytest.raises(LeaseLost):
        await audit.advance(export, ExportStatus.MAPPING_COLUMNS)
    with pytest.raises(LeaseLost):
        await audit.fail(export, ErrorCode.INTERNAL, "too late")
    now = await audit.current(export_id)
    assert (now.status, now.error_code) == (ExportStatus.CANCELLED, None)


async def test_progress_is_written_at_most_once_per_interval(
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    conn: psycopg.AsyncConnection[Any],
    world: World,
) -> None:
    await new_export(conn, world)
    clock = Clock()
    audit = _audit(pool, queries, "r", progress_interval=0.25, clock=clock)
    export = await _claimed(audit)

    async def seen() -> tuple[int | None, int | None]:
        now = await audit.current(export.id)
        return now.rows_done, now.rows_total

    await audit.progress(export, 10, 100)
    clock.now = 0.1
    await audit.progress(export, 20, 100)
    assert await seen() == (10, 100)  # too soon: not written
    clock.now = 0.3
    await audit.progress(export, 30, 100)
    assert await seen() == (30, 100)
    clock.now = 0.31
    await audit.progress(export, 100, 100)
    assert await seen() == (100, 100)  # the last one always lands


async def test_a_failure_is_written_with_its_code(
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    conn: psycopg.AsyncConnection[Any],
    world: World,
) -> None:
    await new_export(conn, world)
    audit = _audit(pool, queries, "r")
    export = await _claimed(audit)
    failed = await audit.fail(export, ErrorCode.QUERY_ERROR, "querying the activities failed")
    assert (failed.status, failed.error_code) == (ExportStatus.FAILED, ErrorCode.QUERY_ERROR)


async def test_an_unknown_export_is_not_found(
    pool: AsyncConnectionPool[Any], queries: Queries
) -> None:
    with pytest.raises(ExportNotFound):
        await _audit(pool, queries, "r").current(uuid.uuid4())


async def test_a_released_export_is_waiting_again_for_any_runner(
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    conn: psycopg.AsyncConnection[Any],
    world: World,
) -> None:
    export_id = await new_export(conn, world)
    audit = _audit(pool, queries, "runner-a")
    export = await _claimed(audit)

    await audit.release(export)

    assert await held_by(conn, export_id) == ("initialised", None, 1)
    again = await _claimed(_audit(pool, queries, "runner-b"))
    assert (again.id, again.runner_id, again.attempts) == (export_id, "runner-b", 2)
    with pytest.raises(LeaseLost):
        await audit.release(export)


async def test_the_reaper_requeues_an_expired_lease_and_fails_the_last_attempt(
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    conn: psycopg.AsyncConnection[Any],
    world: World,
) -> None:
    export_id = await new_export(conn, world)
    audit = _audit(pool, queries, "runner-a")
    assert await audit.claim() is not None
    assert await audit.reap(max_attempts=2) == []  # the lease still runs

    await expire_lease(conn, export_id)
    assert await audit.reap(max_attempts=2) == [
        (export_id, ExportStatus.QUERYING_ACTIVITIES, ExportStatus.INITIALISED)
    ]
    assert await audit.claim() is not None
    await expire_lease(conn, export_id)
    assert await audit.reap(max_attempts=2) == [
        (export_id, ExportStatus.QUERYING_ACTIVITIES, ExportStatus.FAILED)
    ]
    assert await held_by(conn, export_id) == ("failed", "runner-a", 2)


async def test_holding_an_export_renews_its_lease_until_the_block_ends(
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    conn: psycopg.AsyncConnection[Any],
    world: World,
) -> None:
    export_id = await new_export(conn, world)
    audit = PostgresAudit(pool, queries, runner_id="runner-a", lease=timedelta(seconds=1))
    export = await _claimed(audit)

    async def lease() -> datetime:
        row = await (
            await conn.execute(
                "select lease_expires_at from public.bufdir_export_audit where id = %s",
                [export_id],
            )
        ).fetchone()
        assert row is not None
        return row[0]  # type: ignore[no-any-return]

    first = await lease()
    async with audit.hold(export):
        # Renewed every third of the lease (the watch interval is longer):
        # wait for two renewals, without trusting a wall-clock budget.
        seen = {first}
        while len(seen) < 3:
            await asyncio.sleep(0.1)
            seen.add(await lease())
    last = await lease()
    assert last > first
    await asyncio.sleep(1.2)
    assert await lease() == last  # nobody renews it after the block


async def test_a_step_held_is_stopped_soon_after_its_export_is_cancelled(
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    conn: psycopg.AsyncConnection[Any],
    world: World,
) -> None:
    export_id = await new_export(conn, world)
    audit = _audit(pool, queries, "r", watch_interval=0.05)
    export = await _claimed(audit)
    inside = asyncio.Event()
    reached: list[str] = []

    async def step() -> None:
        async with audit.hold(export):
            inside.set()
            await asyncio.sleep(60)  # an upload far longer than the test
            reached.append("after")

    running = asyncio.create_task(step())
    await inside.wait()
    async with conn.transaction():
        await act_as(conn, "authenticated", world.member_a)
        await conn.execute("select public.cancel_bufdir_export(%s)", [export_id])

    with pytest.raises(LeaseLost):
        await asyncio.wait_for(running, timeout=30)  # a bound on a hang, not a timing
    assert reached == []
    assert (await audit.current(export_id)).status is ExportStatus.CANCELLED


async def test_stored_exports_answers_status_and_file_of_those_that_exist(
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    conn: psycopg.AsyncConnection[Any],
    world: World,
) -> None:
    waiting = await new_export(conn, world)
    audit = _audit(pool, queries, "r")

    known = await audit.stored_exports([waiting, uuid.uuid4()])

    assert set(known) == {waiting}
    assert known[waiting].status is ExportStatus.INITIALISED
    assert known[waiting].file_path is None


async def test_the_queue_is_what_any_runner_could_claim_now(
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    conn: psycopg.AsyncConnection[Any],
    world: World,
) -> None:
    audit = _audit(pool, queries, "r")
    assert await audit.waiting() == (0, 0.0)
    for _ in range(3):
        await new_export(conn, world)
    await asyncio.sleep(0.3)

    waiting, oldest = await audit.waiting()
    assert waiting == 3
    assert 0.3 <= oldest < 60
    deferred = await _claimed(audit)
    await audit.defer(deferred, timedelta(minutes=5))  # not claimable for five minutes
    await _claimed(audit)  # held by this runner
    assert (await audit.waiting())[0] == 1
