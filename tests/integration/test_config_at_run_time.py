"""A configuration that breaks at run time fails the export with invalid_config,
names what broke, and leaves no file, while the runner goes on."""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from bufdir_export.tools.seed import shipped_config
from tests.integration.conftest import Running
from tests.integration.contract import request_as
from tests.integration.test_runner_e2e import wait_for_end
from tests.support import ADMINS, ORGS


async def _save_as_backend(conn: psycopg.AsyncConnection[Any], slug: str, config: Any) -> None:
    """A new active version, saved past the command line's checks (as the backend
    may): the database checks only the shape."""
    await conn.execute(
        "insert into public.bufdir_column_configs (organisation_id, config, is_active)"
        " values (%s, %s, true)",
        [ORGS[slug], Jsonb(config)],
    )


def _files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


async def _fails(running: Running, conn: psycopg.AsyncConnection[Any], slug: str) -> dict[str, Any]:
    export_id = await request_as(conn, ADMINS[slug], ORGS[slug])
    row = (await wait_for_end(conn, [export_id]))[export_id]
    assert row["status"] == "failed"
    assert row["error_code"] == "invalid_config"
    assert row["file_path"] is None
    assert row["download_url"] is None
    storage = running.app.settings.storage_dir
    assert not [path for path in _files_under(storage) if str(export_id) in str(path)]
    return row


async def test_a_value_missing_from_an_enumeration_names_the_column_and_the_activity(
    running: Running, conn: psycopg.AsyncConnection[Any]
) -> None:
    config = copy.deepcopy(shipped_config("hlf"))
    config["columns"][6] = {
        "header": "Aktivitet",
        "source": "activity_type_name",
        "transform": {"kind": "enum", "values": {"Aktivitetstreff": "Treff"}},
    }
    await _save_as_backend(conn, "hlf", config)

    row = await _fails(running, conn, "hlf")

    message = row["error_message"]
    assert "column 'Aktivitet': no value for" in message
    activity_id = uuid.UUID(message.rsplit("(activity ", 1)[1].rstrip(")"))
    found = await (
        await conn.execute(
            "select organisation_id from public.activities where id = %s", [activity_id]
        )
    ).fetchone()
    assert found == (ORGS["hlf"],)


async def test_an_expression_reading_an_unknown_field_fails_with_its_json_path(
    running: Running, conn: psycopg.AsyncConnection[Any]
) -> None:
    config = copy.deepcopy(shipped_config("blindeforbundet"))
    config["counting"] = {"rules": [{"when": "note != ''", "reason": "notat"}]}
    await _save_as_backend(conn, "blindeforbundet", config)

    row = await _fails(running, conn, "blindeforbundet")

    assert row["error_message"].startswith(
        "column configuration version 2: $.counting.rules[0].when: unknown field 'note' (known: "
    )


async def test_an_organisation_without_an_active_configuration_is_told_so(
    running: Running, conn: psycopg.AsyncConnection[Any]
) -> None:
    await conn.execute(
        "update public.bufdir_column_configs set is_active = false where organisation_id = %s",
        [ORGS["nhf"]],
    )
    row = await _fails(running, conn, "nhf")
    assert row["error_message"] == "the organisation has no active column configuration"

    # The runner goes on: with a configuration again, the next export completes.
    await _save_as_backend(conn, "nhf", shipped_config("nhf"))
    export_id = await request_as(conn, ADMINS["nhf"], ORGS["nhf"])
    again = (await wait_for_end(conn, [export_id]))[export_id]
    assert again["status"] == "completed", again["error_message"]
