"""What an operator sees of a real runner process (`run --metrics-port 0
--log-format json`): /healthz and /metrics over HTTP while it works through
exports, its JSON log lines, and a 503 once the database stops answering."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.acceptance.conftest import Start
from tests.integration.contract import request_as
from tests.integration.test_runner_e2e import wait_for_end
from tests.support import ADMINS, ORGS, metric_samples

NHF_MEMBER = uuid.UUID("00000000-0000-4000-b001-000000000003")
_PROBE = re.compile(r"/healthz and /metrics at ([\d.]+):(\d+)")


async def _probed_runner(runners: Start, name: str, logs: Path) -> str:
    """A runner with its probe on a free port and JSON logs; where the probe is,
    from its "started" line."""
    await runners(
        name, args=("--metrics-port", "0", "--log-format", "json"), connect_timeout_seconds="2"
    )
    log = logs / f"{name}.log"
    async with asyncio.timeout(30):
        while True:
            text = await asyncio.to_thread(log.read_text)
            for line in text[: text.rfind("\n") + 1].splitlines():  # whole lines only
                if found := _PROBE.search(json.loads(line)["message"]):
                    return f"http://{found[1]}:{found[2]}"
            await asyncio.sleep(0.05)


async def _until_healthy(http: httpx.AsyncClient) -> None:
    async with asyncio.timeout(30):
        while True:
            if (await http.get("/healthz")).status_code == 200:
                return
            await asyncio.sleep(0.1)


async def test_a_working_runner_is_probed_measured_and_logged(
    runners: Start, conn: psycopg.AsyncConnection[Any], tmp_path: Path
) -> None:
    address = await _probed_runner(runners, "probed", tmp_path)
    async with httpx.AsyncClient(base_url=address, timeout=10) as http:
        await _until_healthy(http)
        health = await http.get("/healthz")
        completed = await request_as(conn, ADMINS["nhf"], ORGS["nhf"])
        forbidden = await request_as(conn, NHF_MEMBER, ORGS["nhf"])
        await conn.execute(
            "delete from public.organisation_members where user_id = %s and organisation_id = %s",
            [NHF_MEMBER, ORGS["nhf"]],
        )
        rows = await wait_for_end(conn, [completed, forbidden])
        page = await http.get("/metrics")

    assert (health.status_code, health.text) == (200, "ok\n")
    assert [rows[completed]["status"], rows[forbidden]["error_code"]] == ["completed", "forbidden"]
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain; version=")
    samples = metric_samples(page.text)

    def value(name: str, **labels: str) -> float:
        return samples[(name, frozenset(labels.items()))]

    finished = "bufdir_export_exports_finished_total"
    assert value(finished, status="completed", error_code="") == 1
    assert value(finished, status="failed", error_code="forbidden") == 1
    steps = "bufdir_export_step_duration_seconds_count"
    assert value(steps, step="querying_activities") == 2  # each export's first step
    for step in ("mapping_columns", "generating_file", "storing_file"):
        assert value(steps, step=step) == 1  # the completed export's only
    assert value("bufdir_export_claim_latency_seconds_count") == 2
    assert value("bufdir_export_exports_in_progress") == 0
    assert value("bufdir_export_exports_waiting") == 0
    assert value("bufdir_export_oldest_waiting_seconds") == 0
    assert value("bufdir_export_lease_losses_total") == 0
    assert value("bufdir_export_runner_info", runner_id="probed") == 1

    lines = [json.loads(line) for line in (tmp_path / "probed.log").read_text().splitlines()]
    assert all(line["runner"] == "probed" and line["level"] for line in lines)
    about = [line for line in lines if line.get("export_id") == str(completed)]
    assert about, "no log line names the completed export"
    assert {line["claim"] for line in about} == {1}
    assert {"message", "time", "logger", "step"} <= set(about[-1])


async def test_health_fails_with_its_reason_when_the_database_stops_answering(
    runners: Start, database: str, conn: psycopg.AsyncConnection[Any], tmp_path: Path
) -> None:
    address = await _probed_runner(runners, "cut-off", tmp_path)
    name = conn.info.dbname
    allow = sql.SQL("alter database {} with allow_connections {}")
    async with (
        httpx.AsyncClient(base_url=address, timeout=10) as http,
        await psycopg.AsyncConnection.connect(
            make_conninfo(database, dbname="postgres"), autocommit=True
        ) as admin,
    ):
        await _until_healthy(http)
        await admin.execute(allow.format(sql.Identifier(name), sql.SQL("false")))
        try:
            await admin.execute(
                "select pg_terminate_backend(pid, 10000) from pg_stat_activity"
                " where datname = %s and pid <> %s",  # the runner's, not this test's
                [name, conn.info.backend_pid],
            )
            answer = await http.get("/healthz")
            metrics = await http.get("/metrics")
        finally:
            await admin.execute(allow.format(sql.Identifier(name), sql.SQL("true")))

    assert answer.status_code == 503, answer.text
    assert answer.text.startswith("database: "), answer.text
    assert answer.text.count("\n") == 1, answer.text
    # The metrics are still served; what the database would say is NaN.
    assert metrics.status_code == 200
    waiting = metric_samples(metrics.text)[("bufdir_export_exports_waiting", frozenset())]
    assert waiting != waiting  # NaN
