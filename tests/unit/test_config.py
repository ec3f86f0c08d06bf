"""The column configuration: the shipped ones pass, the published schema is
current, and every kind of mistake is refused with its JSON path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, get_args

import pytest

from bufdir_export import InvalidColumnConfig
from bufdir_export.report.column_config import FIELDS, FieldName
from bufdir_export.report.config_checks import (
    check_activity_types,
    column_config_schema_json,
    parse_column_config,
)
from bufdir_export.report.mapping import PLUGIN_ONLY_FIELDS, ConfiguredMapping, activity_fields
from bufdir_export.report.plugins import PluginRegistry
from bufdir_export.tools.seed import DEMO_ORGANISATIONS, shipped_config
from tests.support import activity

ROOT = Path(__file__).parents[2]


def _nhf(**changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(shipped_config("nhf"))
    config.update(changes)
    return config


def _with_column(index: int, column: dict[str, Any]) -> dict[str, Any]:
    config = _nhf()
    config["columns"][index] = column
    return config


def _compile(document: Any) -> ConfiguredMapping:
    return ConfiguredMapping(
        parse_column_config(document),
        organisation_name="x",
        version=None,
        plugins=PluginRegistry.installed(),
    )


def _refused(document: Any) -> InvalidColumnConfig:
    with pytest.raises(InvalidColumnConfig) as caught:
        _compile(document)
    return caught.value


@pytest.mark.parametrize("slug", DEMO_ORGANISATIONS)
def test_each_shipped_configuration_is_accepted_and_compiles(slug: str) -> None:
    config = parse_column_config(shipped_config(slug))
    mapping = ConfiguredMapping(
        config, organisation_name=slug, version=1, plugins=PluginRegistry.installed()
    )
    headers = [column.header for column in mapping.columns]
    assert headers[-2:] == ["Tellende", "Årsak"]
    assert len(headers) == len(set(headers))


def test_the_published_json_schema_is_the_one_the_code_checks_against() -> None:
    published = (ROOT / "configs" / "schema.json").read_text(encoding="utf-8")
    assert published == column_config_schema_json()
    schema = json.loads(published)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"schema_version", "categories", "columns"}


MISTAKES: list[tuple[str, dict[str, Any], str, str]] = [
    ("not an object", [], "$", "valid dictionary"),  # type: ignore[list-item]
    ("wrong schema version", _nhf(schema_version=2), "$.schema_version", "1"),
    ("unknown top-level key", _nhf(colums=[]), "$.colums", "not permitted"),
    ("no columns", _nhf(columns=[]), "$.columns", "at least 1"),
    (
        "missing header",
        _with_column(1, {"source": "activity_date"}),
        "$.columns[1].header",
        "required",
    ),
    (
        "empty header",
        _with_column(1, {"header": "", "source": "id"}),
        "$.columns[1].header",
        "at least 1",
    ),
    (
        "control character in a header",
        _with_column(0, {"header": "A\x07", "source": "id"}),
        "$.columns[0].header",
        "pattern",
    ),
    (
        "unknown source field",
        _with_column(2, {"header": "Navn", "source": "name"}),
        "$.columns[2].source",
        "Input should be",
    ),
    (
        "unknown transform",
        _with_column(2, {"header": "X", "source": "id", "transform": {"kind": "upper"}}),
        "$.columns[2].transform",
        "'upper'",
    ),
    (
        "a transform without its kind",
        _with_column(2, {"header": "X", "source": "id", "transform": {}}),
        "$.columns[2].transform",
        "kind",
    ),
    (
        "a transform's unknown option",
        _with_column(
            1,
            {
                "header": "Dato",
                "source": "activity_date",
                "transform": {"kind": "date", "fmt": "x"},
            },
        ),
        "$.columns[1].transform.fmt",
        "not permitted",
    ),
    (
        "unknown date format",
        _with_column(
            1,
            {
                "header": "Dato",
                "source": "activity_date",
                "transform": {"kind": "date", "format": "d/m/y"},
            },
        ),
        "$.columns[1].transform.format",
        "dd.mm.yyyy",
    ),
    (
        "date transform on text",
        _with_column(
            1, {"header": "Dato", "source": "chapter_name", "transform": {"kind": "date"}}
        ),
        "$.columns[1]",
        "needs a date field",
    ),
    (
        "number transform on text",
        _with_column(1, {"header": "T", "source": "chapter_name", "transform": {"kind": "number"}}),
        "$.columns[1]",
        "needs a number field",
    ),
    (
        "no source where one is needed",
        _with_column(1, {"header": "Dato"}),
        "$.columns[1]",
        "source is required",
    ),
    (
        "a constant with a source",
        _with_column(
            1, {"header": "K", "source": "id", "transform": {"kind": "constant", "value": "x"}}
        ),
        "$.columns[1]",
        "takes no source",
    ),
    (
        "two columns, one header",
        _with_column(1, {"header": "Aktivitets-ID", "source": "id"}),
        "$",
        "appears twice",
    ),
    (
        "unknown Bufdir category",
        _nhf(categories={"hjemmebesok": "besøk"}),
        "$.categories.hjemmebesok",
        "Input should be",
    ),
    (
        "a rule that does not compile",
        _nhf(counting={"rules": [{"when": "duration_minutes <", "reason": "x"}]}),
        "$.counting.rules[0].when",
        "does not compile",
    ),
    (
        "a rule reading an unknown field",
        _nhf(counting={"rules": [{"when": "note == ''", "reason": "x"}]}),
        "$.counting.rules[0].when",
        "unknown field 'note'",
    ),
    (
        "a rule reading its own outcome",
        _nhf(counting={"rules": [{"when": "!counted", "reason": "x"}]}),
        "$.counting.rules[0].when",
        "unknown field 'counted'",
    ),
    (
        "a required_if that does not compile",
        _with_column(
            15, {"header": "Årsak", "source": "not_counted_reason", "required_if": "counted ==="}
        ),
        "$.columns[15].required_if",
        "does not compile",
    ),
    (
        "an enumeration missing a contact method",
        _with_column(
            12,
            {
                "header": "Kontaktform",
                "source": "contact_method",
                "transform": {"kind": "enum", "values": {"in_person": "Fysisk"}},
            },
        ),
        "$.columns[12].transform.values",
        "no value for 'phone'",
    ),
    (
        "an unknown plugin",
        _nhf(plugins=[{"name": "finnes-ikke"}]),
        "$.plugins[0].name",
        "no plugin 'finnes-ikke' is installed",
    ),
    (
        "a plugin's unknown option",
        _nhf(plugins=[{"name": "nhf-samme-dag", "options": {"grense": 2}}]),
        "$.plugins[0].options",
        "unknown option(s): grense",
    ),
    (
        "a summary key not grouped by",
        _nhf(
            summary={
                "group_by": ["chapter_name"],
                "columns": [{"header": "Fylke", "key": "county_name"}],
            }
        ),
        "$.summary",
        "not in group_by",
    ),
    (
        "a sum over text",
        _nhf(
            summary={
                "group_by": ["chapter_name"],
                "columns": [{"header": "S", "aggregate": "sum", "source": "chapter_name"}],
            }
        ),
        "$.summary.columns[0]",
        "sum needs a number field",
    ),
]


@pytest.mark.parametrize(
    ("document", "path", "says"),
    [pytest.param(document, path, says, id=name) for name, document, path, says in MISTAKES],
)
def test_a_mistake_is_refused_with_its_json_path(document: Any, path: str, says: str) -> None:
    error = _refused(document)
    assert error.path == path
    assert says in error.problem
    assert str(error).startswith(f"{path}: ")


def test_an_activity_type_without_a_category_is_refused() -> None:
    config = parse_column_config(_nhf())
    check_activity_types(config, ["hjemmebesok", "samtalegruppe"])  # a subset is fine
    with pytest.raises(InvalidColumnConfig) as caught:
        check_activity_types(config, ["hjemmebesok", "bowling"])
    assert caught.value.path == "$.categories"
    assert "'bowling' has no Bufdir category" in caught.value.problem


def test_an_enumeration_over_activity_types_must_cover_every_one_used() -> None:
    config = parse_column_config(shipped_config("hlf"))
    types = list(config.categories)
    check_activity_types(config, types)
    config_missing = copy.deepcopy(shipped_config("hlf"))
    del config_missing["columns"][6]["transform"]["values"]["digital_kafe"]
    with pytest.raises(InvalidColumnConfig) as caught:
        check_activity_types(parse_column_config(config_missing), types)
    assert caught.value.path == "$.columns[6].transform.values"
    assert "'digital_kafe'" in caught.value.problem


def test_the_field_names_a_configuration_may_use_are_the_fields_the_mapping_offers() -> None:
    assert set(get_args(FieldName)) == set(FIELDS)
    offered = set(activity_fields(activity())) - PLUGIN_ONLY_FIELDS
    assert offered | {"category", "counted", "not_counted_reason"} == set(FIELDS)
