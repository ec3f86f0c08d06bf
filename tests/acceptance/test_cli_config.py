"""`bufdir-export config`: check a file, save it as an admin (RLS decides),
print the schema; every mistake one line with its JSON path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import psycopg

from bufdir_export.tools.seed import shipped_config
from tests.acceptance.test_cli import assert_one_line_error, bufdir_export

ROOT = Path(__file__).parents[2]
NHF_ADMIN = "00000000-0000-4000-b001-000000000001"
NHF_MEMBER = "00000000-0000-4000-b001-000000000003"
HLF_ADMIN = "00000000-0000-4000-b003-000000000001"


def _write(tmp_path: Path, document: Any, name: str = "config.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


async def test_check_accepts_each_shipped_configuration() -> None:
    for slug in ("nhf", "blindeforbundet", "hlf"):
        run = await bufdir_export("config", "check", str(ROOT / "configs" / f"{slug}.json"))
        assert run.code == 0, run.err
        assert ": ok (" in run.out


async def test_check_names_the_json_path_of_a_mistake(tmp_path: Path) -> None:
    document = copy.deepcopy(shipped_config("nhf"))
    document["columns"][3]["transform"] = {"kind": "upper"}
    run = await bufdir_export("config", "check", str(_write(tmp_path, document)))
    assert_one_line_error(run, "$.columns[3].transform", "'upper'")

    not_json = tmp_path / "broken.json"
    not_json.write_text("{", encoding="utf-8")
    assert_one_line_error(await bufdir_export("config", "check", str(not_json)), "is not JSON")
    missing = await bufdir_export("config", "check", str(tmp_path / "missing.json"))
    assert_one_line_error(missing, "cannot read")


async def test_schema_prints_the_published_schema() -> None:
    run = await bufdir_export("config", "schema")
    assert run.code == 0
    published = json.loads((ROOT / "configs" / "schema.json").read_text(encoding="utf-8"))
    assert json.loads(run.out) == published


async def test_an_admin_saves_a_new_active_version_and_others_may_not(
    database: str, tmp_path: Path
) -> None:
    document = copy.deepcopy(shipped_config("nhf"))
    document["description"] = "Ny versjon"
    path = _write(tmp_path, document)

    saved = await bufdir_export(
        "config", "save", str(path), "--org", "nhf", "--as", NHF_ADMIN, database_url=database
    )
    assert saved.code == 0, saved.err
    assert "as version 2 of nhf" in saved.out

    member = await bufdir_export(
        "config", "save", str(path), "--org", "nhf", "--as", NHF_MEMBER, database_url=database
    )
    assert_one_line_error(member, "row-level security", "42501")
    stranger = await bufdir_export(
        "config", "save", str(path), "--org", "nhf", "--as", HLF_ADMIN, database_url=database
    )
    assert_one_line_error(stranger, "no organisation 'nhf' among the user's")
    hlf_types = await bufdir_export(
        "config", "save", str(path), "--org", "hlf", "--as", HLF_ADMIN, database_url=database
    )
    assert_one_line_error(hlf_types, "$.categories", "has no Bufdir category")
    bad_user = await bufdir_export(
        "config", "save", str(path), "--org", "nhf", "--as", "admin", database_url=database
    )
    assert_one_line_error(bad_user, "--as must be a user id")

    async with await psycopg.AsyncConnection.connect(database) as conn:
        cursor = await conn.execute(
            "select c.version, c.is_active, c.config ->> 'description', c.created_by::text"
            " from public.bufdir_column_configs c join public.organisations o"
            " on o.id = c.organisation_id where o.slug = 'nhf' order by c.version"
        )
        rows = await cursor.fetchall()
    assert [row[:2] for row in rows] == [(1, False), (2, True)]
    assert rows[1][2:] == ("Ny versjon", NHF_ADMIN)


async def test_infinity_and_nan_are_not_json(tmp_path: Path) -> None:
    path = tmp_path / "constants.json"
    text = json.dumps(shipped_config("nhf")).replace('"width": 13', '"width": Infinity', 1)
    assert "Infinity" in text
    path.write_text(text)
    run = await bufdir_export("config", "check", str(path))
    assert_one_line_error(run, "is not JSON", "Infinity is not a JSON value")


NHF_COORDINATOR = "00000000-0000-4000-b001-000000000002"


async def test_versions_are_listed_shown_compared_and_rolled_back_by_an_admin(
    database: str, tmp_path: Path, conn: psycopg.AsyncConnection[Any]
) -> None:
    document = copy.deepcopy(shipped_config("nhf"))
    document["description"] = "Versjon to"
    first_header = document["columns"][0]["header"]
    document["columns"][0]["header"] = "ID (ny)"
    saved = await bufdir_export(
        "config", "save", str(_write(tmp_path, document)), "--org", "nhf", "--as", NHF_ADMIN,
        database_url=database,
    )  # fmt: skip
    assert saved.code == 0, saved.err

    async def config(*args: str) -> Any:
        return await bufdir_export("config", *args, database_url=database)

    listed = await config("list", "--org", "nhf", "--as", NHF_COORDINATOR)
    shown = await config("show", "--org", "nhf", "--version", "1", "--as", NHF_COORDINATOR)
    active = await config("show", "--org", "nhf")  # the operator, as the connection's role
    diff = await config("diff", "--org", "nhf", "1", "2", "--as", NHF_ADMIN)
    as_member = await config("list", "--org", "nhf", "--as", NHF_MEMBER)
    by_coordinator = await config("activate", "--org", "nhf", "1", "--as", NHF_COORDINATOR)
    by_other_admin = await config("activate", "--org", "nhf", "1", "--as", HLF_ADMIN)
    rolled_back = await config("activate", "--org", "nhf", "1", "--as", NHF_ADMIN)
    unknown = await config("activate", "--org", "nhf", "9", "--as", NHF_ADMIN)
    record = await (
        await conn.execute(
            "select a.version, a.actor from public.bufdir_column_config_activations a"
            " join public.organisations o on o.id = a.organisation_id"
            " where o.slug = 'nhf' order by a.id"
        )
    ).fetchall()

    assert listed.code == 0, listed.err
    rows = [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in listed.out.splitlines()
        if line.startswith("│") and line.split("│")[1].strip()
    ]
    assert [(row[0], row[1]) for row in rows] == [("2", "yes"), ("1", "")]  # newest first
    assert rows[0][5].startswith("user:")  # activated by the admin who saved it
    assert rows[0][6] == "Versjon to"
    assert json.loads(shown.out) == shipped_config("nhf")
    assert json.loads(active.out) == document
    changed = [line for line in diff.out.splitlines() if line[:1] in "+-"]
    assert f'-      "header": "{first_header}",' in changed
    assert '+      "header": "ID (ny)",' in changed
    assert '+  "description": "Versjon to",' in changed
    assert (as_member.code, as_member.out) == (0, "")
    assert "no column configuration of nhf that you may read" in as_member.err
    assert_one_line_error(by_coordinator, "only an admin of the organisation")
    assert_one_line_error(by_other_admin, "no organisation 'nhf' among the user's")
    assert rolled_back.out.strip() == "version 1 of nhf is active (was 2)"
    assert_one_line_error(unknown, "no column configuration version 9")
    assert record[-2:] == [(2, f"user:{NHF_ADMIN}"), (1, f"user:{NHF_ADMIN}")]
