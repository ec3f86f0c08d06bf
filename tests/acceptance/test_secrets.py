"""Secrets never reach an error message, a log line or the audit record.

A runner and the command line run with known secrets configured (a database
password in DATABASE_URL, the signing secret, the Supabase service key), each
failure path is triggered, and every output is searched for the secrets and
for a stack trace.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.types.json import Jsonb

from bufdir_export.tools.seed import shipped_config
from tests.acceptance.conftest import Start
from tests.acceptance.test_cli import bufdir_export
from tests.integration.contract import request_as
from tests.integration.test_runner_e2e import wait_for_end
from tests.support import ADMINS, ORGS

DB_PASSWORD = "db-SECRET-pw-7c1f0a"
SIGNING_SECRET = "signing-SECRET-" + "k" * 32
SERVICE_KEY = "service-SECRET-key-9d2e4b"
SECRETS = (DB_PASSWORD, SIGNING_SECRET, SERVICE_KEY)
NHF_MEMBER = uuid.UUID("00000000-0000-4000-b001-000000000003")


def assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{where} shows a secret"
    assert "Traceback" not in text, f"{where} shows a stack trace"


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_no_failure_of_the_runner_shows_a_secret(
    runners: Start,
    database: str,
    conn: psycopg.AsyncConnection[Any],
    tmp_path: Path,
    log_format: str,
) -> None:
    login = f"secret_runner_{secrets.token_hex(4)}"
    await conn.execute(
        sql.SQL("create role {} login password {} in role bufdir_export_runner").format(
            sql.Identifier(login), sql.Literal(DB_PASSWORD)
        )
    )
    try:
        url = make_conninfo(database, user=login, password=DB_PASSWORD)
        # 1. a configuration the runner cannot compile (saved past the checks)
        broken = copy.deepcopy(shipped_config("hlf"))
        broken["counting"] = {"rules": [{"when": "duration_minutes <", "reason": "kort"}]}
        await conn.execute(
            "insert into public.bufdir_column_configs (organisation_id, config, is_active)"
            " values (%s, %s, true)",
            [ORGS["hlf"], Jsonb(broken)],
        )
        invalid = await request_as(conn, ADMINS["hlf"], ORGS["hlf"])
        # 2. a requester who left the organisation before the claim
        forbidden = await request_as(conn, NHF_MEMBER, ORGS["nhf"])
        await conn.execute(
            "delete from public.organisation_members where user_id = %s and organisation_id = %s",
            [NHF_MEMBER, ORGS["nhf"]],
        )
        # 3. a storage that does not answer
        unstored = await request_as(conn, ADMINS["blindeforbundet"], ORGS["blindeforbundet"])

        runner = await runners(
            "secret-runner",
            database_url=url,
            signing_secret=SIGNING_SECRET,
            storage_backend="supabase",
            supabase_url="http://127.0.0.1:1",
            supabase_service_key=SERVICE_KEY,
            # An outage of a second: given back twice, failed on the third claim.
            storage_outage_budget_seconds="1",
            storage_retry_delay_seconds="0",
            log_format=log_format,
        )
        rows = await wait_for_end(conn, [invalid, forbidden, unstored], within=120)
        runner.terminate()
        await asyncio.wait_for(runner.wait(), 60)
    finally:
        await conn.execute(sql.SQL("drop role {}").format(sql.Identifier(login)))

    assert {rows[i]["error_code"] for i in (invalid, forbidden, unstored)} == {
        "invalid_config",
        "forbidden",
        "storage_error",
    }
    assert rows[unstored]["attempts"] == 3
    for export_id, row in rows.items():
        assert_clean(row["error_message"], f"the error message of {export_id}")
    cursor = await conn.execute(
        "select detail::text from public.bufdir_export_audit_events where export_id = any(%s)",
        [list(rows)],
    )
    for (detail,) in await cursor.fetchall():
        assert_clean(detail, "an event's detail")
    log = (tmp_path / "secret-runner.log").read_text()
    assert "storage" in log.lower()  # the failures were logged...
    assert_clean(log, "the runner's log")  # ...without a secret or a trace
    if log_format == "json":
        lines = [json.loads(line) for line in log.splitlines()]
        failed = {line.get("export_id") for line in lines if ": failed (" in line["message"]}
        assert {str(invalid), str(forbidden), str(unstored)} <= failed


async def test_no_command_shows_a_secret_when_the_database_refuses(tmp_path: Path) -> None:
    url = f"postgresql://app:{DB_PASSWORD}@127.0.0.1:1/app?connect_timeout=2"
    env = {
        "BUFDIR_EXPORT_SIGNING_SECRET": SIGNING_SECRET,
        "BUFDIR_EXPORT_STORAGE_DIR": str(tmp_path),
        "BUFDIR_EXPORT_CONNECT_TIMEOUT_SECONDS": "2",
        "SUPABASE_SERVICE_ROLE_KEY": SERVICE_KEY,
    }
    commands = [
        ("migrate",),
        ("seed",),
        ("run",),
        ("reap",),
        ("sweep",),
        ("request", "--org", "nhf", "--from", "2025-01-01", "--to", "2025-12-31",
         "--as", "admin@nhf.example"),
        ("status", str(uuid.uuid4())),
        ("audit", "list"),
        ("config", "save", str(tmp_path / "missing.json"), "--org", "nhf", "--as", "x"),
    ]  # fmt: skip
    runs = await asyncio.gather(
        *(bufdir_export(*command, database_url=url, extra_env=env) for command in commands)
    )
    for command, run in zip(commands, runs, strict=True):
        assert run.code != 0, command
        assert len(run.err.strip().splitlines()) == 1, (command, run.err)
        assert_clean(run.out + run.err, f"`bufdir-export {' '.join(command)}`")
