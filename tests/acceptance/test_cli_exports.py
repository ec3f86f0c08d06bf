"""`bufdir-export request | status | cancel | audit | reap | sweep` through the real
entry point, against a real database and a real runner process."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from bufdir_export.tools.seed import shipped_config
from tests.acceptance.conftest import Start
from tests.acceptance.test_cli import assert_one_line_error, bufdir_export
from tests.integration.conftest import SECRET
from tests.integration.contract import act_as, request_as
from tests.integration.test_runner_e2e import wait_for_end
from tests.support import ADMINS, COMPLETED_WALK, ORGS

YEAR = ("--from", "2025-01-01", "--to", "31.12.2025")


async def test_request_wait_follows_the_export_and_prints_a_working_url(
    runners: Start, database: str
) -> None:
    await runners("cli-runner")
    run = await bufdir_export(
        "request", "--org", "nhf", *YEAR, "--as", "admin@nhf.example", "--wait",
        database_url=database,
    )  # fmt: skip

    assert run.code == 0, run.err
    url = run.out.strip()
    assert url.startswith("http://127.0.0.1:")
    # The live display went to stderr: each step, ticked off.
    for label in ("querying activities", "mapping columns", "generating the file"):
        assert label in run.err
    assert "completed" in run.err
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.content[:2] == b"PK"  # an xlsx is a zip


async def test_request_without_wait_prints_the_id_and_status_json_parses(database: str) -> None:
    run = await bufdir_export(
        "request", "--org", "hlf", *YEAR, "--format", "csv", "--attachments",
        "--as", str(ADMINS["hlf"]), database_url=database,
    )  # fmt: skip
    assert run.code == 0, run.err
    export_id = uuid.UUID(run.out.strip())

    status = await bufdir_export("status", str(export_id), "--json", database_url=database)
    assert status.code == 0, status.err
    record = json.loads(status.out)
    assert (record["id"], record["status"], record["format"]) == (
        str(export_id),
        "initialised",
        "csv",
    )
    assert record["include_attachments"] is True
    assert record["requested_by"] == str(ADMINS["hlf"])


async def test_request_warns_on_stderr_when_the_period_is_not_a_calendar_year(
    database: str,
) -> None:
    school_year = await bufdir_export(
        "request", "--org", "hlf", "--from", "2024-07-01", "--to", "2025-06-30",
        "--as", str(ADMINS["hlf"]), database_url=database,
    )  # fmt: skip
    calendar_year = await bufdir_export(
        "request", "--org", "hlf", *YEAR, "--as", str(ADMINS["hlf"]), database_url=database
    )

    assert school_year.code == 0, school_year.err
    uuid.UUID(school_year.out.strip())  # asked all the same: the warning does not refuse
    warning = school_year.err.splitlines()[0]
    assert warning == (
        "warning: 01.07.2024-30.06.2025 is not a calendar year; Bufdir counts a calendar"
        " year (the base year, grunnlagsår), e.g. --from 2025-01-01 --to 2025-12-31"
    )
    assert calendar_year.code == 0, calendar_year.err
    assert "warning" not in calendar_year.err


async def test_audit_show_prints_the_timeline_and_its_json_parses(
    runners: Start, database: str
) -> None:
    await runners("audit-runner")
    asked = await bufdir_export(
        "request", "--org", "blindeforbundet", *YEAR, "--as", str(ADMINS["blindeforbundet"]),
        "--wait", "--json", database_url=database,
    )  # fmt: skip
    assert asked.code == 0, asked.err
    export_id = json.loads(asked.out)["id"]

    shown = await bufdir_export("audit", "show", export_id, database_url=database)
    as_json = await bufdir_export("audit", "show", export_id, "--json", database_url=database)

    assert shown.code == 0, shown.err
    assert "Timeline" in shown.out
    assert "runner:audit-runner" in shown.out
    assert f"user:{ADMINS['blindeforbundet']}" in shown.out
    assert as_json.code == 0, as_json.err
    entry = json.loads(as_json.out)
    assert entry["organisation"] == "blindeforbundet"
    assert [e["to_status"] for e in entry["events"]] == COMPLETED_WALK
    assert entry["events"][0]["actor"] == f"user:{ADMINS['blindeforbundet']}"
    stays = [e["seconds_in_status"] for e in entry["events"]]
    assert all(s is not None and s >= 0 for s in stays[:-1])
    assert stays[-1] is None


async def test_audit_list_filters_and_respects_rls(
    database: str, conn: psycopg.AsyncConnection[Any]
) -> None:
    nhf = await request_as(conn, ADMINS["nhf"], ORGS["nhf"])
    hlf = await request_as(conn, ADMINS["hlf"], ORGS["hlf"])

    everything = await bufdir_export("audit", "list", "--json", database_url=database)
    only_nhf = await bufdir_export(
        "audit", "list", "--org", "nhf", "--status", "initialised", "--since", "2020-01-01",
        "--json", database_url=database,
    )  # fmt: skip
    as_hlf_admin = await bufdir_export(
        "audit", "list", "--as", "admin@hlf.example", "--json", database_url=database
    )
    future = await bufdir_export(
        "audit", "list", "--since", "2999-01-01T00:00:00+00:00", "--json", database_url=database
    )
    table = await bufdir_export("audit", "list", database_url=database)

    assert {e["id"] for e in json.loads(everything.out)} == {str(nhf), str(hlf)}
    assert [(e["id"], e["organisation"]) for e in json.loads(only_nhf.out)] == [(str(nhf), "nhf")]
    assert [e["id"] for e in json.loads(as_hlf_admin.out)] == [str(hlf)]  # RLS
    assert json.loads(future.out) == []
    assert "2 exports, newest first" in table.out


async def test_cancel_as_the_requester_and_not_as_anyone_else(
    database: str, conn: psycopg.AsyncConnection[Any]
) -> None:
    export_id = await request_as(conn, ADMINS["nhf"], ORGS["nhf"])

    stranger = await bufdir_export(
        "cancel", str(export_id), "--as", "admin@hlf.example", database_url=database
    )
    mine = await bufdir_export(
        "cancel", str(export_id), "--as", "admin@nhf.example", database_url=database
    )
    again = await bufdir_export(
        "cancel", str(export_id), "--as", "admin@nhf.example", database_url=database
    )

    assert_one_line_error(
        stranger, f"export {export_id} not found among the exports you may cancel"
    )
    assert mine.code == 0, mine.err
    assert mine.out.strip() == f"export {export_id} cancelled"
    assert_one_line_error(again, "already cancelled")


async def test_reap_requeues_an_export_whose_runner_went_away(
    database: str, conn: psycopg.AsyncConnection[Any]
) -> None:
    export_id = await request_as(conn, ADMINS["nhf"], ORGS["nhf"])
    async with conn.transaction():
        await conn.execute("set local role bufdir_export_runner")
        await conn.execute("select bufdir_private.claim_bufdir_export('ghost-runner', 5)")
        await conn.execute(
            "select pg_catalog.set_config('bufdir_export.runner_id', 'ghost-runner', true)"
        )
    await conn.execute(  # the ghost's lease ran out long ago
        "alter table public.bufdir_export_audit disable trigger bufdir_export_audit_before_update"
    )
    try:
        await conn.execute(
            "update public.bufdir_export_audit set lease_expires_at = now() - interval '1 hour'"
            " where id = %s",
            [export_id],
        )
    finally:
        await conn.execute(
            "alter table public.bufdir_export_audit enable always trigger"
            " bufdir_export_audit_before_update"
        )

    first = await bufdir_export("reap", database_url=database)
    second = await bufdir_export("reap", database_url=database)

    assert first.code == 0, first.err
    assert first.out.splitlines() == [
        f"{export_id}: querying_activities -> initialised",
        "1 reaped",
    ]
    assert second.out.strip() == "0 reaped"


async def test_sweep_removes_what_no_completed_export_names_and_nothing_else(
    runners: Start, database: str, conn: psycopg.AsyncConnection[Any], tmp_path: Path
) -> None:
    org = ORGS["nhf"]
    cancelled = await request_as(conn, ADMINS["nhf"], org)
    async with conn.transaction():
        await act_as(conn, "authenticated", ADMINS["nhf"])
        await conn.execute("select public.cancel_bufdir_export(%s)", [cancelled])
    runner = await runners("sweep-runner")
    completed = await request_as(conn, ADMINS["nhf"], org)
    [row] = (await wait_for_end(conn, [completed], within=120)).values()
    assert row["status"] == "completed", row["error_message"]
    runner.terminate()
    await runner.wait()
    waiting = await request_as(conn, ADMINS["nhf"], org)  # no runner: stays waiting

    exports = tmp_path / "storage" / "exports"
    report = f"{org}/{completed}/bufdir-rapport-2025.xlsx"
    assert row["file_path"] == report
    orphans = [
        f"{org}/{completed}/bufdir-rapport-2025.csv",  # an earlier claim's other file
        f"{org}/{cancelled}/bufdir-rapport-2025.xlsx",
        f"{org}/{uuid.uuid4()}/bufdir-rapport-2025.xlsx",  # no such export
    ]
    kept = [report, f"{org}/{waiting}/.bufdir-rapport-2025.xlsx.partial", "notes.txt"]
    for path in [*orphans, *kept[1:]]:
        (exports / path).parent.mkdir(parents=True, exist_ok=True)
        (exports / path).write_bytes(b"x")
    env = {
        "BUFDIR_EXPORT_SIGNING_SECRET": SECRET,
        "BUFDIR_EXPORT_STORAGE_DIR": str(tmp_path / "storage"),
    }

    dry = await bufdir_export("sweep", "--dry-run", database_url=database, extra_env=env)
    after_dry = sorted(str(p.relative_to(exports)) for p in exports.rglob("*") if p.is_file())
    swept = await bufdir_export("sweep", database_url=database, extra_env=env)
    again = await bufdir_export("sweep", database_url=database, extra_env=env)

    assert dry.code == 0, dry.err
    assert sorted(dry.out.splitlines()[:-1]) == sorted(orphans)
    assert dry.out.splitlines()[-1] == "3 would be removed, 2 kept, 1 not an export's"
    assert after_dry == sorted([*orphans, *kept])
    assert swept.code == 0, swept.err
    assert swept.out.splitlines()[-1] == "3 removed, 2 kept, 1 not an export's"
    left = sorted(str(p.relative_to(exports)) for p in exports.rglob("*") if p.is_file())
    assert left == sorted(kept)
    assert again.out.strip() == "0 removed, 2 kept, 1 not an export's"


@pytest.mark.parametrize(
    ("args", "code", "fragments"),
    [
        (("request", "--org", "nhf", "--from", "2025-13-01", "--to", "2025-12-31",
          "--as", "admin@nhf.example"), 2, ("--from must be a date", "'2025-13-01'")),
        (("request", "--org", "nhf", "--from", "2025-12-31", "--to", "2025-01-01",
          "--as", "admin@nhf.example"), 2, ("ends (2025-01-01) before it starts",)),
        (("request", "--org", "nhf", "--from", "2024-01-01", "--to", "2025-12-31",
          "--as", "admin@nhf.example"), 2, ("longer than one year",)),
        (("request", "--org", "nope", *YEAR, "--as", "admin@nhf.example"),
         2, ("no organisation 'nope' among the user's",)),
        (("request", "--org", "hlf", *YEAR, "--as", "admin@nhf.example"),
         2, ("no organisation 'hlf' among the user's",)),
        (("request", "--org", "nhf", *YEAR), 2, ("--as is required",)),
        (("request", "--org", "nhf", *YEAR, "--as", "nobody@nowhere.example"),
         2, ("no user signs in as 'nobody@nowhere.example'",)),
        (("request", "--org", "nhf", *YEAR, "--format", "pdf", "--as", "admin@nhf.example"),
         2, ("Invalid value for '--format'",)),
        (("request", "--org", "nhf"), 2, ("Missing option '--from'",)),
        (("status", "not-an-id"), 2, ("an export is named by its id",)),
        (("status", str(uuid.UUID(int=7))), 1, ("not found",)),
        (("audit", "list", "--since", "yesterday"), 2, ("--since must be a date",)),
        (("audit", "list", "--status", "done"), 2, ("Invalid value for '--status'",)),
    ],
)  # fmt: skip
async def test_every_mistake_is_one_line(
    database: str, args: tuple[str, ...], code: int, fragments: tuple[str, ...]
) -> None:
    """A usage mistake exits 2 (as the shell's own usage errors do), anything else 1."""
    run = await bufdir_export(*args, database_url=database)
    assert_one_line_error(run, *fragments)
    assert run.code == code, run.err


async def test_an_unreachable_database_is_one_line_for_the_client_commands() -> None:
    unreachable = "postgresql://app:hunter2-secret@127.0.0.1:1/app?connect_timeout=2"
    runs = await asyncio.gather(
        bufdir_export(
            "request", "--org", "nhf", *YEAR, "--as", "a@b.example", database_url=unreachable
        ),
        bufdir_export("audit", "list", database_url=unreachable),
        bufdir_export("status", str(uuid.UUID(int=1)), database_url=unreachable),
    )
    for run in runs:
        assert_one_line_error(run, "127.0.0.1")
        assert "hunter2-secret" not in run.err + run.out


async def test_each_command_has_useful_help() -> None:
    for command, words in [
        (("request",), ("--org", "--from", "--to", "--wait", "--as", "Exit code")),
        (("status",), ("--json",)),
        (("cancel",), ("--as",)),
        (("audit", "list"), ("--org", "--status", "--since", "--json")),
        (("audit", "show"), ("timeline", "--json")),
        (("reap",), ("runner_lost",)),
    ]:
        run = await bufdir_export(*command, "--help")
        assert run.code == 0, run.err
        for word in words:
            assert word in run.out, (command, word)


async def test_request_wait_on_a_failing_export_exits_3_with_its_reason(
    runners: Start, database: str, conn: psycopg.AsyncConnection[Any]
) -> None:
    broken = shipped_config("hlf")
    broken["counting"] = {
        "rules": [{"when": "duration_minutes <", "reason": "kort"}]
    }  # does not compile
    await conn.execute(
        "insert into public.bufdir_column_configs (organisation_id, config, is_active)"
        " values (%s, %s, true)",
        [ORGS["hlf"], Jsonb(broken)],
    )
    await runners("failing-runner")
    run = await bufdir_export(
        "request", "--org", "hlf", *YEAR, "--as", "admin@hlf.example", "--wait",
        database_url=database,
    )  # fmt: skip

    assert run.code == 3, run.err
    assert run.out == ""
    last = run.err.strip().splitlines()[-1]
    assert last.startswith("error: export ")
    assert "failed (invalid_config): column configuration version" in last
    assert "Traceback" not in run.err


async def test_retry_as_the_requester_or_the_admin_once_and_not_as_anyone_else(
    database: str, conn: psycopg.AsyncConnection[Any], runners: Start
) -> None:
    member = "00000000-0000-4000-b001-000000000003"  # a plain member of NHF
    export_id = await request_as(conn, uuid.UUID(member), ORGS["nhf"])

    async def retry(who: str, *more: str) -> Any:
        return await bufdir_export(
            "retry", str(export_id), "--as", who, *more, database_url=database
        )

    early = await retry(member)
    cancelled = await bufdir_export("cancel", str(export_id), "--as", member, database_url=database)
    stranger = await retry("admin@hlf.example")
    await runners("retrying")
    by_admin = await retry("admin@nhf.example", "--wait", "--json")
    again = await retry(member)

    assert_one_line_error(early, "only a failed or cancelled export can be retried")
    assert cancelled.code == 0, cancelled.err
    assert_one_line_error(stranger, f"export {export_id} not found")
    assert by_admin.code == 0, by_admin.err
    record = json.loads(by_admin.out)
    assert (record["retry_of"], record["status"]) == (str(export_id), "completed")
    assert record["requested_by"] == str(ADMINS["nhf"])  # asked again by the admin
    assert f"asks again for export {export_id}" in by_admin.err
    assert_one_line_error(again, f"export {export_id} was retried already")


async def test_purge_deletes_a_file_whose_retention_ended_and_its_link_answers_410(
    runners: Start, database: str, conn: psycopg.AsyncConnection[Any], tmp_path: Path
) -> None:
    await runners("retention-runner")
    asked = await bufdir_export(
        "request", "--org", "nhf", *YEAR, "--as", "admin@nhf.example", "--wait",
        database_url=database,
    )  # fmt: skip
    assert asked.code == 0, asked.err
    url = asked.out.strip()
    row = await (
        await conn.execute(
            "select id, file_path from public.bufdir_export_audit where status = 'completed'"
        )
    ).fetchone()
    assert row is not None
    export_id, file_path = row
    stored = tmp_path / "storage" / "exports" / file_path
    assert stored.is_file()
    # A hundred days pass: a completed export never changes, so the clock is
    # turned back on the row with its guard set aside, as only a test may.
    await conn.execute(
        "alter table public.bufdir_export_audit disable trigger bufdir_export_audit_before_update"
    )
    await conn.execute(
        "update public.bufdir_export_audit set completed_at = completed_at - interval '100 days'"
        " where id = %s",
        [export_id],
    )
    await conn.execute(
        "alter table public.bufdir_export_audit"
        " enable always trigger bufdir_export_audit_before_update"
    )
    env = {
        "BUFDIR_EXPORT_STORAGE_DIR": str(tmp_path / "storage"),
        "BUFDIR_EXPORT_SIGNING_SECRET": SECRET,
    }

    purged = await bufdir_export("purge", database_url=database, extra_env=env)
    again = await bufdir_export("purge", database_url=database, extra_env=env)
    kept = await bufdir_export("purge", "--days", "365", database_url=database, extra_env=env)
    async with httpx.AsyncClient() as http:
        gone = await http.get(url)
    shown = await bufdir_export("status", str(export_id), database_url=database)
    record = await (
        await conn.execute(
            "select file_path, actor from public.bufdir_export_file_deletions where export_id = %s",
            [export_id],
        )
    ).fetchone()
    status = await (
        await conn.execute(
            "select status from public.bufdir_export_audit where id = %s", [export_id]
        )
    ).fetchone()

    assert purged.code == 0, purged.err
    assert purged.out.splitlines() == [f"{export_id}  {file_path}", "1 deleted"]
    assert again.out.strip() == "0 deleted"  # nothing is deleted twice
    assert kept.out.strip() == "0 deleted"
    assert not stored.exists()
    assert gone.status_code == 410
    assert "file deleted" in shown.out
    assert "its retention ended" in shown.out
    assert url not in shown.out  # the dead link is not offered
    assert record is not None
    assert record[0] == file_path
    assert record[1].startswith("runner:")
    assert status == ("completed",)  # the record itself is unchanged
    # The configuration it was made with, as the trail names it (NHF's seeded version).
    used = await (
        await conn.execute(
            "select claim, version from public.bufdir_export_config_versions where export_id = %s",
            [export_id],
        )
    ).fetchall()
    assert used == [(1, 1)]
    assert "version 1" in shown.out
