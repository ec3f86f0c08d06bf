"""Runners as real processes (`bufdir-export run`): sharing work, dying, stopping."""

from __future__ import annotations

import asyncio
import signal
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from bufdir_export.tools.activity_generator import generate_activities
from tests.acceptance.conftest import Start
from tests.integration.contract import held_by, request_as
from tests.integration.test_runner_e2e import activity_count, wait_for_end
from tests.support import ADMINS, ORGS


async def _events(conn: psycopg.AsyncConnection[Any], ids: list[uuid.UUID]) -> list[Any]:
    cursor = await conn.execute(
        "select export_id, to_status::text, actor from public.bufdir_export_audit_events"
        " where export_id = any(%s) order by id",
        [ids],
    )
    return list(await cursor.fetchall())


async def _until_status(
    conn: psycopg.AsyncConnection[Any], export_id: uuid.UUID, wanted: set[str]
) -> tuple[Any, ...]:
    async with asyncio.timeout(60):
        while (now := await held_by(conn, export_id))[0] not in wanted:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    return now


async def _a_long_year(conn: psycopg.AsyncConnection[Any], slug: str, *, seed: int) -> int:
    """60,000 more activities in 2025: an export long enough to be caught mid-way."""
    return await generate_activities(
        conn,
        organisation_slug=slug,
        count=60_000,
        seed=seed,
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
    )


async def test_two_runners_share_thirty_exports_and_run_each_exactly_once(
    runners: Start, conn: psycopg.AsyncConnection[Any]
) -> None:
    processes = [
        await runners("runner-1", concurrency="2"),
        await runners("runner-2", concurrency="2"),
    ]
    slugs = list(ORGS)
    ids = [
        await request_as(
            conn, ADMINS[slugs[n % 3]], ORGS[slugs[n % 3]], format="csv" if n % 2 else "xlsx"
        )
        for n in range(30)
    ]

    rows = await wait_for_end(conn, ids, within=120)

    assert {row["status"] for row in rows.values()} == {"completed"}
    events = await _events(conn, ids)
    claims = [e for e in events if e[1] == "querying_activities"]
    completions = [e for e in events if e[1] == "completed"]
    assert sorted(e[0] for e in claims) == sorted(ids)  # each claimed once
    assert sorted(e[0] for e in completions) == sorted(ids)  # and completed once
    by_runner = {e[2] for e in claims}
    assert by_runner <= {"runner:runner-1", "runner:runner-2"}
    assert all(row["attempts"] == 1 for row in rows.values())
    assert [process.returncode for process in processes] == [None, None]  # both still up


async def test_a_killed_runner_s_export_is_reaped_and_finished_by_another(
    runners: Start, conn: psycopg.AsyncConnection[Any]
) -> None:
    written = await _a_long_year(conn, "hlf", seed=7)
    victim = await runners("victim", concurrency="1")
    export_id = await request_as(conn, ADMINS["hlf"], ORGS["hlf"])
    await _until_status(conn, export_id, {"generating_file"})

    victim.send_signal(signal.SIGKILL)
    await victim.wait()
    assert (await held_by(conn, export_id))[:2] == ("generating_file", "victim")

    await runners("rescuer", concurrency="1")
    [row] = (await wait_for_end(conn, [export_id], within=120)).values()

    assert row["status"] == "completed"
    assert row["runner_id"] == "rescuer"
    assert row["attempts"] == 2
    assert row["row_count"] == await activity_count(conn, ORGS["hlf"]) > written
    walk = [(e[1], e[2]) for e in await _events(conn, [export_id])]
    assert [to for to, _ in walk].count("initialised") == 2  # requested, then re-queued
    assert [actor for to, actor in walk if to == "querying_activities"] == [
        "runner:victim",
        "runner:rescuer",
    ]
    assert walk[-1] == ("completed", "runner:rescuer")


async def test_sigterm_gives_a_running_export_back_and_exits_zero(
    runners: Start, conn: psycopg.AsyncConnection[Any], tmp_path: Path
) -> None:
    await _a_long_year(conn, "nhf", seed=3)
    leaving = await runners("leaving", concurrency="1", shutdown_grace_seconds="0")
    export_id = await request_as(conn, ADMINS["nhf"], ORGS["nhf"])
    await _until_status(conn, export_id, {"generating_file"})

    leaving.send_signal(signal.SIGTERM)
    async with asyncio.timeout(30):
        assert await leaving.wait() == 0

    assert await held_by(conn, export_id) == ("initialised", None, 1)
    log = (tmp_path / "leaving.log").read_text()
    assert "1 given back" in log
    assert "Traceback" not in log


async def test_a_stale_process_with_the_same_runner_id_loses_the_export_once(
    runners: Start, conn: psycopg.AsyncConnection[Any], tmp_path: Path
) -> None:
    """Two processes share RUNNER_ID: the one stopped past its lease must not write
    again once the other has claimed the export, though the runner id matches."""
    await _a_long_year(conn, "hlf", seed=11)
    stale = await runners("stale", runner_id="host-1", concurrency="1", lease_seconds="5")
    export_id = await request_as(conn, ADMINS["hlf"], ORGS["hlf"])
    await _until_status(conn, export_id, {"generating_file"})
    stale.send_signal(signal.SIGSTOP)

    await runners("fresh", runner_id="host-1", concurrency="1", lease_seconds="5")
    [row] = (await wait_for_end(conn, [export_id], within=120)).values()
    stale.send_signal(signal.SIGCONT)
    log_file = tmp_path / "stale.log"
    async with asyncio.timeout(30):
        while "claim 1 lost" not in log_file.read_text():  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    await asyncio.sleep(1)  # what the stale process might still do, it would do now

    assert (row["status"], row["runner_id"], row["attempts"]) == ("completed", "host-1", 2)
    walk = [e[1] for e in await _events(conn, [export_id])]
    assert walk.count("completed") == 1
    assert walk[-1] == "completed"
    assert await held_by(conn, export_id) == ("completed", "host-1", 2)
    stored = [path for path in (tmp_path / "storage").rglob("*") if path.is_file()]
    assert [path.name for path in stored] == [Path(row["file_path"]).name]
    assert stale.returncode is None
    assert "Traceback" not in log_file.read_text()
