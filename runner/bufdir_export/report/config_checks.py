"""Checking a column configuration: what can be checked without the data, and
against the organisation's activity types.

:func:`parse_column_config` checks the JSON shape, that every expression
compiles and reads only known fields, and that every enumeration covers its
field's known values. :func:`check_activity_types` checks the categories
against the organisation's activity types. Both raise
:class:`InvalidColumnConfig` naming the JSON path of the first problem.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from .._errors import InvalidColumnConfig
from .column_config import (
    CONTACT_METHODS,
    EXPRESSION_FIELDS,
    RULE_FIELDS,
    TRANSFORM_KINDS,
    BufdirCategory,
    Column,
    ColumnConfig,
    EnumTransform,
)
from .expressions import Expression

__all__ = [
    "check_activity_types",
    "column_config_schema_json",
    "json_path",
    "parse_column_config",
]

# Fields whose every value is known in advance: an enumeration over one of
# them must cover them all (the activity types are checked against the data).
_KNOWN_VALUES: Mapping[str, Collection[str]] = {
    "contact_method": CONTACT_METHODS,
    "category": tuple(BufdirCategory),
}


def json_path(location: Iterable[int | str]) -> str:
    """``$.columns[2].transform`` for pydantic's ``("columns", 2, "transform")``."""
    path = "$"
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def parse_column_config(data: Any) -> ColumnConfig:
    """The configuration in ``data`` (parsed JSON), fully checked."""
    try:
        config = ColumnConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        location = _without_union_tags(first["loc"])
        raise InvalidColumnConfig(json_path(location), first["msg"]) from None
    for path, source, fields in _expressions(config):
        Expression.compile(source, path=path, fields=fields)
    for index, column in enumerate(config.columns):
        _check_enum_covers(column, f"$.columns[{index}].transform")
    return config


def check_activity_types(config: ColumnConfig, activity_type_codes: Iterable[str]) -> None:
    """Every activity type of the organisation has a Bufdir category, and every
    enumeration over activity types a label (or a default)."""
    codes = sorted(activity_type_codes)
    for code in codes:
        if code not in config.categories:
            raise InvalidColumnConfig(
                "$.categories", f"activity type {code!r} has no Bufdir category"
            )
    for index, column in enumerate(config.columns):
        transform = column.transform
        if (
            column.source == "activity_type_code"
            and isinstance(transform, EnumTransform)
            and transform.default is None
        ):
            for code in codes:
                if code not in transform.values:
                    raise InvalidColumnConfig(
                        f"$.columns[{index}].transform.values",
                        f"no value for activity type {code!r}",
                    )


def column_config_schema_json() -> str:
    """The published JSON Schema of a configuration (``configs/schema.json``)."""
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://bufdir-export.example/schemas/column-config-v1.json",
        **ColumnConfig.model_json_schema(),
    }
    schema["title"] = "Bufdir export column configuration, schema version 1"
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def _expressions(config: ColumnConfig) -> Iterable[tuple[str, str, frozenset[str]]]:
    for index, rule in enumerate(config.counting.rules):
        yield f"$.counting.rules[{index}].when", rule.when, RULE_FIELDS
    for index, column in enumerate(config.columns):
        if column.required_if is not None:
            yield f"$.columns[{index}].required_if", column.required_if, EXPRESSION_FIELDS


def _check_enum_covers(column: Column, path: str) -> None:
    transform = column.transform
    if not isinstance(transform, EnumTransform) or transform.default is not None:
        return
    for value in _KNOWN_VALUES.get(column.source or "", ()):
        if value not in transform.values:
            raise InvalidColumnConfig(f"{path}.values", f"no value for {value!r}")


def _without_union_tags(location: Iterable[int | str]) -> list[int | str]:
    # pydantic puts the chosen member of a tagged union in the location
    # ("transform", "enum", "values"); a JSON path has no such step.
    kept: list[int | str] = []
    for part in location:
        if kept and kept[-1] == "transform" and part in TRANSFORM_KINDS:
            continue
        kept.append(part)
    return kept
