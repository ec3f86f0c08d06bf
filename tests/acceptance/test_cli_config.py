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
