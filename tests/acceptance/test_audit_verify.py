"""`bufdir-export audit verify`: the hash chain holds for what the database
wrote, and breaks, naming where, for what the owner changed with every
trigger switched off."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import openpyxl
import psycopg
import pytest

from tests.acceptance.conftest import Start
from tests.acceptance.test_cli import assert_one_line_error, bufdir_export
from tests.integration.contract import PATHS, request_as, update_to
from tests.support import ADMINS, ORGS

YEAR = ("--from", "2025-01-01", "--to", "31.12.2025")
AUDIT = "public.bufdir_export_audit"
EVENTS = "public.bufdir_export_audit_events"
DELETIONS = "public.bufdir_export_file_deletions"
VERSIONS_USED = "public.bufdir_export_config_versions"
ACTIVATIONS = "public.bufdir_column_config_activations"


async def _verify(database: str, *args: str) -> tuple[int, dict[str, Any]]:
    run = await bufdir_export("audit", "verify", "--json", *args, database_url=database)
    assert run.code in (0, 1), run.err
    return run.code, json.loads(run.out)


async def _one(conn: psycopg.AsyncConnection[Any], query: str, *params: Any) -> Any:
    row = await (await conn.execute(query, params)).fetchone()
    assert row is not None
    return row[0]


async def test_a_real_export_holds_and_its_file_names_the_chain_head_and_is_pinned(
    runners: Start, database: str, conn: psycopg.AsyncConnection[Any]
) -> None:
    await runners("chain-runner")
    asked = await bufdir_export(
        "request", "--org", "nhf", *YEAR, "--as", str(ADMINS["nhf"]), "--wait", "--json",
        database_url=database,
    )  # fmt: skip
    assert asked.code == 0, asked.err
    export = json.loads(asked.out)
    async with httpx.AsyncClient() as http:
        content = (await http.get(export["download_url"])).content

    # The stored file is the one the audit row (and its completed event) pins.
    assert hashlib.sha256(content).hexdigest() == export["file_sha256"]
    pinned = await _one(
        conn,
        f"select detail -> 'row' ->> 'file_sha256' from {EVENTS}"
        " where export_id = %s and to_status = 'completed'",
        uuid.UUID(export["id"]),
    )
    assert pinned == export["file_sha256"]

    # The file names an event of its organisation's chain, by id and hash,
    # in its properties and in its notes.
    book = openpyxl.load_workbook(io.BytesIO(content))
    named = book.custom_doc_props["Revisjonsspor"].value
    notes = {row[0]: row[1] for row in book["Sammendrag"].iter_rows(values_only=True) if row}
    assert notes["Revisjonsspor"] == named
    event_id, event_hash = named.removeprefix("hendelse ").split(", sha256 ")
    stored = await _one(
        conn,
        f"select hash from {EVENTS} where id = %s and organisation_id = %s",
        int(event_id),
        ORGS["nhf"],
    )
    assert stored == event_hash

    code, report = await _verify(database)
    assert code == 0, report
    assert report["holds"] is True
    by_org = {chain["organisation"]: chain for chain in report["organisations"]}
    nhf = by_org["nhf"]
    assert nhf["holds"] is True
    assert nhf["broken"] is None
    assert nhf["exports"] >= 1
    assert nhf["events"] >= 6
    # The head is the spine's newest link: the record of the configuration
    # version this export's file was generated with, which follows its request.
    version_used = await _one(
        conn,
        f"select chain_id from {VERSIONS_USED} where export_id = %s",
        uuid.UUID(export["id"]),
    )
    request = await _one(
        conn, f"select min(id) from {EVENTS} where export_id = %s", uuid.UUID(export["id"])
    )
    assert nhf["head"]["event_id"] == version_used > request
    assert nhf["records"] >= 2  # the seed's activation, this export's version


async def _trail(conn: psycopg.AsyncConnection[Any]) -> list[uuid.UUID]:
    """Three HLF exports, ended completed, failed and completed_empty."""
    exports = []
    for status in ("completed", "failed", "completed_empty"):
        export_id = await request_as(conn, ADMINS["hlf"], ORGS["hlf"])
        for step in PATHS[status]:
            await conn.execute(update_to(step), {"id": export_id})
        exports.append(export_id)
    return exports


async def _events(conn: psycopg.AsyncConnection[Any], export_id: uuid.UUID) -> list[int]:
    cursor = await conn.execute(
        f"select id from {EVENTS} where export_id = %s order by id", [export_id]
    )
    return [row[0] for row in await cursor.fetchall()]


Tamper = Callable[[psycopg.AsyncConnection[Any], list[uuid.UUID]], Awaitable[tuple[int, str]]]


async def _delete_an_event(
    conn: psycopg.AsyncConnection[Any], e: list[uuid.UUID]
) -> tuple[int, str]:
    events = await _events(conn, e[0])
    await conn.execute(f"delete from {EVENTS} where id = %s", [events[2]])
    return events[3], f"does not follow event {events[1]} (the export's previous event)"


async def _rewrite_an_event(
    conn: psycopg.AsyncConnection[Any], e: list[uuid.UUID]
) -> tuple[int, str]:
    victim = (await _events(conn, e[0]))[1]
    await conn.execute(f"update {EVENTS} set actor = 'runner:someone-else' where id = %s", [victim])
    return victim, "does not match its hash"


async def _forge_an_event(
    conn: psycopg.AsyncConnection[Any], e: list[uuid.UUID]
) -> tuple[int, str]:
    # After the export's last event, linked to it, as a forger reading the table would.
    forged = await _one(
        conn,
        f"insert into {EVENTS}"
        " (id, export_id, organisation_id, from_status, to_status, actor, prev_hash, hash)"
        " overriding system value"
        f" select (select max(id) + 1 from {EVENTS}), export_id, organisation_id,"
        "  'completed_empty', 'cancelled', 'user:' || %s, hash, encode(sha256('forged'), 'hex')"
        f" from {EVENTS} where export_id = %s order by id desc limit 1 returning id",
        str(ADMINS["hlf"]),
        e[2],
    )
    return int(forged), "does not match its hash"


async def _rewrite_a_result(
    conn: psycopg.AsyncConnection[Any], e: list[uuid.UUID]
) -> tuple[int, str]:
    await conn.execute(f"update {AUDIT} set row_count = 999 where id = %s", [e[0]])
    return (await _events(conn, e[0]))[-1], "row_count is 999"


async def _rewrite_an_error(
    conn: psycopg.AsyncConnection[Any], e: list[uuid.UUID]
) -> tuple[int, str]:
    await conn.execute(f"update {AUDIT} set error_message = 'nothing' where id = %s", [e[1]])
    return (await _events(conn, e[1]))[-1], "error_message"


async def _delete_the_last_event(
    conn: psycopg.AsyncConnection[Any], e: list[uuid.UUID]
) -> tuple[int, str]:
    last = (await _events(conn, e[2]))[-1]
    await conn.execute(f"delete from {EVENTS} where id = %s", [last])
    return (await _events(conn, e[2]))[-1], "its last event ends in querying_activities"


async def _delete_an_export(
    conn: psycopg.AsyncConnection[Any], e: list[uuid.UUID]
) -> tuple[int, str]:
    await conn.execute(f"delete from {AUDIT} where id = %s", [e[1]])
    return (await _events(conn, e[1]))[0], "not among the organisation's exports"


async def _delete_an_export_and_its_events(
    conn: psycopg.AsyncConnection[Any], e: list[uuid.UUID]
) -> tuple[int, str]:
    before = (await _events(conn, e[0]))[0]
    await conn.execute(f"delete from {EVENTS} where export_id = %s", [e[1]])
    await conn.execute(f"delete from {AUDIT} where id = %s", [e[1]])
    return (await _events(conn, e[2]))[0], f"does not follow event {before} (the organisation's"


async def _delete_the_newest_export(
    conn: psycopg.AsyncConnection[Any], e: list[uuid.UUID]
) -> tuple[int, str]:
    await conn.execute(f"delete from {EVENTS} where export_id = %s", [e[2]])
    await conn.execute(f"delete from {AUDIT} where id = %s", [e[2]])
    return (await _events(conn, e[1]))[0], "newer exports or records were deleted"


@pytest.mark.parametrize(
    "tamper",
    [
        _delete_an_event,
        _rewrite_an_event,
        _forge_an_event,
        _rewrite_a_result,
        _rewrite_an_error,
        _delete_the_last_event,
        _delete_an_export,
        _delete_an_export_and_its_events,
        _delete_the_newest_export,
    ],
    ids=lambda tamper: tamper.__name__.strip("_"),
)
async def test_what_the_owner_changes_with_the_triggers_off_breaks_the_chain_where_it_was(
    database: str, conn: psycopg.AsyncConnection[Any], tamper: Tamper
) -> None:
    exports = await _trail(conn)
    assert (await _verify(database))[0] == 0

    async with conn.transaction():
        for table in (AUDIT, EVENTS):
            await conn.execute(f"alter table {table} disable trigger all")
        event_id, reason = await tamper(conn, exports)
        for table in (AUDIT, EVENTS):
            await conn.execute(f"alter table {table} enable trigger all")

    code, report = await _verify(database)
    assert code == 1
    assert report["holds"] is False
    by_org = {chain["organisation"]: chain for chain in report["organisations"]}
    assert all(chain["holds"] for slug, chain in by_org.items() if slug != "hlf")
    broken = by_org["hlf"]["broken"]
    assert broken["event_id"] == event_id, broken
    assert reason in broken["reason"], broken
    export_id = await _one(conn, f"select export_id::text from {EVENTS} where id = %s", event_id)
    assert broken["export_id"] == export_id

    # Without --json: one line on stderr names the organisation, export and event.
    run = await bufdir_export("audit", "verify", "--org", "hlf", database_url=database)
    assert run.code == 1
    assert f"hlf: broken at export {export_id}: event {event_id}:" in " ".join(run.err.split())


async def test_verify_names_an_unknown_organisation_as_a_usage_mistake(database: str) -> None:
    run = await bufdir_export("audit", "verify", "--org", "nobody", database_url=database)
    assert run.code == 2
    assert_one_line_error(run, "no organisation has the slug 'nobody'")


async def _records(conn: psycopg.AsyncConnection[Any]) -> list[uuid.UUID]:
    """The trail, the completed export's file deleted, and one more request after it."""
    exports = await _trail(conn)
    await conn.execute(
        "select bufdir_private.record_export_file_deleted(%s, 'purger')", [exports[0]]
    )
    return [*exports, await request_as(conn, ADMINS["hlf"], ORGS["hlf"])]


RecordTamper = Callable[
    [psycopg.AsyncConnection[Any], list[uuid.UUID]], Awaitable[tuple[str, int | None, str]]
]


async def _rewrite_a_deletion(
    conn: psycopg.AsyncConnection[Any], e: list[uuid.UUID]
) -> tuple[str, int | None, str]:
    link = await _one(
        conn,
        f"update {DELETIONS} set deleted_at = deleted_at - interval '30 days'"
        " where export_id = %s returning chain_id",
        e[0],
    )
    return "link_id", link, "does not match its hash"


async def _delete_a_deletion(
    conn: psycopg.AsyncConnection[Any], e: list[uuid.UUID]
) -> tuple[str, int | None, str]:
    await conn.execute(f"delete from {DELETIONS} where export_id = %s", [e[0]])
    before = (await _events(conn, e[2]))[0]
    return "event_id", (await _events(conn, e[3]))[0], f"does not follow event {before}"


async def _forge_a_deletion(
    conn: psycopg.AsyncConnection[Any], e: list[uuid.UUID]
) -> tuple[str, int | None, str]:
    await conn.execute(
        f"insert into {DELETIONS} (export_id, file_path, actor) values (%s, 'x.xlsx', 'runner:r')",
        [e[1]],
    )
    return "link_id", None, "it has no place in the chain"


async def _rewrite_an_activation(
    conn: psycopg.AsyncConnection[Any], e: list[uuid.UUID]
) -> tuple[str, int | None, str]:
    link = await _one(
        conn,
        f"update {ACTIVATIONS} set actor = 'user:' || %s"
        " where id = (select min(id) from public.bufdir_column_config_activations"
        "             where organisation_id = %s) returning chain_id",
        str(ADMINS["hlf"]),
        ORGS["hlf"],
    )
    return "link_id", link, "the activation of configuration version 1"


@pytest.mark.parametrize(
    "tamper",
    [_rewrite_a_deletion, _delete_a_deletion, _forge_a_deletion, _rewrite_an_activation],
    ids=lambda tamper: tamper.__name__.strip("_"),
)
async def test_what_the_owner_changes_in_the_records_beside_the_exports_breaks_the_chain(
    database: str, conn: psycopg.AsyncConnection[Any], tamper: RecordTamper
) -> None:
    exports = await _records(conn)
    code, report = await _verify(database, "--org", "hlf")
    assert code == 0, report
    assert report["organisations"][0]["records"] >= 2  # the seed's activation, the deletion

    tables = (DELETIONS, ACTIVATIONS)
    async with conn.transaction():
        for table in tables:
            await conn.execute(f"alter table {table} disable trigger all")
        field, at, reason = await tamper(conn, exports)
        for table in tables:
            await conn.execute(f"alter table {table} enable trigger all")

    code, report = await _verify(database, "--org", "hlf")
    assert code == 1
    broken = report["organisations"][0]["broken"]
    assert broken[field] == at, broken
    assert reason in broken["reason"], broken
