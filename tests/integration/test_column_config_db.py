"""The database's check of a configuration's shape knows what the models know:
every field, transform and category the runner accepts, the trigger accepts
too (the two are written in two languages, so a test keeps them in step)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from bufdir_export.report.column_config import FIELDS, TRANSFORM_KINDS, BufdirCategory
from bufdir_export.report.config_checks import parse_column_config
from bufdir_export.tools.seed import shipped_config
from tests.support import ORGS

# A column for each transform kind that the models accept.
EXAMPLE_TRANSFORMS: dict[str, dict[str, Any]] = {
    "date": {"source": "activity_date", "transform": {"kind": "date"}},
    "number": {"source": "hours", "transform": {"kind": "number", "decimals": 1}},
    "enum": {"source": "in_norway", "transform": {"kind": "enum", "values": {"true": "Ja"},
                                                  "default": "Nei"}},
    "constant": {"transform": {"kind": "constant", "value": "NHF"}},
    "concat": {"transform": {"kind": "concat", "sources": ["county_code", "county_name"]}},
    "yes_no": {"source": "counted", "transform": {"kind": "yes_no"}},
    "text": {"source": "municipality_number", "transform": {"kind": "text"}},
}  # fmt: skip


async def _problem(conn: psycopg.AsyncConnection[Any], config: dict[str, Any]) -> str | None:
    cursor = await conn.execute(
        "select bufdir_private.column_config_problem(%s, %s)", [ORGS["nhf"], Jsonb(config)]
    )
    row = await cursor.fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def _nhf_with(column: dict[str, Any]) -> dict[str, Any]:
    config = shipped_config("nhf")
    config["columns"] = [{"header": "Kolonne", **column}]
    return config


@pytest.mark.parametrize("field", sorted(FIELDS))
async def test_every_field_the_models_know_the_database_knows(
    conn: psycopg.AsyncConnection[Any], field: str
) -> None:
    config = _nhf_with({"source": field})
    parse_column_config(config)
    assert await _problem(conn, config) is None


async def test_every_transform_the_models_know_the_database_knows(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    assert set(EXAMPLE_TRANSFORMS) == set(TRANSFORM_KINDS)
    for kind, column in EXAMPLE_TRANSFORMS.items():
        config = _nhf_with(column)
        parse_column_config(config)
        assert await _problem(conn, config) is None, kind


async def test_every_bufdir_category_the_models_know_the_database_knows(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    for category in BufdirCategory:
        config = shipped_config("nhf")
        config["categories"]["telefonkontakt"] = category.value
        parse_column_config(config)
        assert await _problem(conn, config) is None, category
