"""The column configuration: an organisation's Bufdir report, as data.

One JSON document per version, stored in ``public.bufdir_column_configs``.
It names the output columns (header, source field, transform, required or
required-if), maps the organisation's own activity types to the Bufdir
categories, adds counting rules (CEL expressions) to the Bufdir defaults,
shapes the summary sheet, and names the plugins that handle what data
cannot say. The published JSON Schema is generated from these models
(``bufdir-export config schema``); :mod:`.config_checks` checks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

__all__ = [
    "CONTACT_METHODS",
    "EXPRESSION_FIELDS",
    "FIELDS",
    "RULE_FIELDS",
    "TRANSFORM_KINDS",
    "BufdirCategory",
    "Column",
    "ColumnConfig",
    "CountingRule",
    "FieldType",
    "PluginUse",
    "Summary",
    "SummaryColumn",
]


class BufdirCategory(StrEnum):
    """What Bufdir counts an activity as (or that it does not count at all)."""

    OUTREACH = "oppsøkende"
    TALK_GROUP = "samtalegruppe"
    ACTIVITY_GROUP = "aktivitetsgruppe"
    COURSE = "likepersonskurs"
    NOT_COUNTED = "ikke_tellende"


class FieldType(StrEnum):
    TEXT = "text"
    DATE = "date"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"


# Every field a column, a rule or the summary may read. Nothing else about
# an activity reaches the mapping: no note, no name, no address.
FIELDS: Mapping[str, FieldType] = {
    "id": FieldType.TEXT,
    "activity_date": FieldType.DATE,
    "year": FieldType.INTEGER,
    "month": FieldType.INTEGER,
    "county_code": FieldType.TEXT,
    "county_name": FieldType.TEXT,
    "municipality_number": FieldType.TEXT,
    "chapter_name": FieldType.TEXT,
    "peer_mentor_id": FieldType.TEXT,
    "activity_type_code": FieldType.TEXT,
    "activity_type_name": FieldType.TEXT,
    "duration_minutes": FieldType.INTEGER,
    "hours": FieldType.DECIMAL,
    "participant_count": FieldType.INTEGER,
    "contact_method": FieldType.TEXT,
    "in_norway": FieldType.BOOLEAN,
    "category": FieldType.TEXT,
    "counted": FieldType.BOOLEAN,
    "not_counted_reason": FieldType.TEXT,
}

# What an expression may read: every field but the date (CEL has no date
# type; ``year`` and ``month`` stand in) and the exact hours (a decimal).
EXPRESSION_FIELDS = frozenset(FIELDS) - {"activity_date", "hours"}
# A counting rule decides ``counted``, so it cannot read it.
RULE_FIELDS = EXPRESSION_FIELDS - {"counted", "not_counted_reason"}

CONTACT_METHODS = ("in_person", "phone", "video", "digital")
FieldName = Literal[
    "id",
    "activity_date",
    "year",
    "month",
    "county_code",
    "county_name",
    "municipality_number",
    "chapter_name",
    "peer_mentor_id",
    "activity_type_code",
    "activity_type_name",
    "duration_minutes",
    "hours",
    "participant_count",
    "contact_method",
    "in_norway",
    "category",
    "counted",
    "not_counted_reason",
]

Text = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
Source = Annotated[str, Field(min_length=1, max_length=2000)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Transforms ------------------------------------------------------------------


class DateTransform(_Model):
    """A real date cell, shown in the given format (in CSV: written in it)."""

    kind: Literal["date"]
    format: Literal["dd.mm.yyyy", "yyyy-mm-dd", "mm.yyyy"] = "dd.mm.yyyy"


class NumberTransform(_Model):
    """A number, optionally divided, rounded half up to ``decimals`` places."""

    kind: Literal["number"]
    decimals: int = Field(default=0, ge=0, le=6)
    divide_by: Decimal | None = Field(default=None, gt=0)


class EnumTransform(_Model):
    """A lookup: the field's value to a label. A value with no entry and no
    ``default`` fails the export, naming the column and the activity."""

    kind: Literal["enum"]
    values: dict[Annotated[str, Field(min_length=1, max_length=200)], Text] = Field(min_length=1)
    default: Text | None = None


class ConstantTransform(_Model):
    """The same text on every row (no ``source``)."""

    kind: Literal["constant"]
    value: Annotated[str, Field(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]


class ConcatTransform(_Model):
    """Several fields joined by ``separator`` (no ``source``)."""

    kind: Literal["concat"]
    sources: list[FieldName] = Field(min_length=2, max_length=10)
    separator: Annotated[str, Field(max_length=10, pattern=r"^[^\x00-\x1f\x7f]*$")] = " "


class YesNoTransform(_Model):
    """A yes/no field as text."""

    kind: Literal["yes_no"]
    yes: Text = "Ja"
    no: Text = "Nei"


class TextTransform(_Model):
    """The value as text (a number kept as the digits it is)."""

    kind: Literal["text"]


Transform = Annotated[
    DateTransform
    | NumberTransform
    | EnumTransform
    | ConstantTransform
    | ConcatTransform
    | YesNoTransform
    | TextTransform,
    Field(discriminator="kind"),
]
_NO_SOURCE = ("constant", "concat")


# The configuration -------------------------------------------------------------


class Column(_Model):
    """One column of the ``Aktiviteter`` sheet."""

    header: Text
    source: FieldName | None = None
    transform: Transform | None = None
    required: bool = False
    # CEL over the row (``counted`` included): when true, the value must not be empty.
    required_if: Source | None = None
    width: int | None = Field(default=None, ge=4, le=100)

    @model_validator(mode="after")
    def _source_fits_transform(self) -> Column:
        kind = self.transform.kind if self.transform is not None else None
        if kind in _NO_SOURCE and self.source is not None:
            raise ValueError(f"a {kind} column takes no source")
        if kind not in _NO_SOURCE and self.source is None:
            raise ValueError("source is required (unless the transform is constant or concat)")
        if isinstance(self.transform, DateTransform) and FIELDS[self.source or ""] is not (
            FieldType.DATE
        ):
            raise ValueError(f"a date transform needs a date field, not {self.source!r}")
        if isinstance(self.transform, NumberTransform) and FIELDS[self.source or ""] not in (
            FieldType.INTEGER,
            FieldType.DECIMAL,
        ):
            raise ValueError(f"a number transform needs a number field, not {self.source!r}")
        if isinstance(self.transform, YesNoTransform) and FIELDS[self.source or ""] is not (
            FieldType.BOOLEAN
        ):
            raise ValueError(f"a yes_no transform needs a yes/no field, not {self.source!r}")
        return self


class CountingRule(_Model):
    """When ``when`` holds, the activity does not count, for ``reason``."""

    when: Source
    reason: Text


class Counting(_Model):
    """The rules deciding whether an activity counts: the first that matches
    gives the reason. ``base: bufdir`` starts from the Bufdir rules."""

    base: Literal["bufdir", "none"] = "bufdir"
    rules: list[CountingRule] = Field(default_factory=list, max_length=100)


class PluginUse(_Model):
    """A plugin registered under ``bufdir_export.plugins``, with its options."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    options: dict[str, JsonValue] = Field(default_factory=dict)


class SummaryColumn(_Model):
    """A column of ``Sammendrag``: a grouping ``key``, or an ``aggregate`` of
    the rows matching ``where`` (field -> value, or list of values)."""

    header: Text
    key: FieldName | None = None
    aggregate: Literal["count", "count_distinct", "sum"] | None = None
    source: FieldName | None = None
    where: dict[FieldName, bool | Text | list[Text]] = Field(default_factory=dict)
    decimals: int | None = Field(default=None, ge=0, le=6)

    @model_validator(mode="after")
    def _key_or_aggregate(self) -> SummaryColumn:
        if (self.key is None) == (self.aggregate is None):
            raise ValueError("give either key or aggregate")
        if self.aggregate in ("count_distinct", "sum") and self.source is None:
            raise ValueError(f"{self.aggregate} needs a source")
        if self.aggregate == "sum" and FIELDS[self.source or ""] not in (
            FieldType.INTEGER,
            FieldType.DECIMAL,
        ):
            raise ValueError(f"sum needs a number field, not {self.source!r}")
        if self.key is not None and (self.source is not None or self.where):
            raise ValueError("a key column takes no source and no where")
        return self


class Summary(_Model):
    """The ``Sammendrag`` sheet: one row per group, then the totals."""

    group_by: list[FieldName] = Field(min_length=1, max_length=6)
    columns: list[SummaryColumn] = Field(min_length=1, max_length=40)
    totals_label: Text = "Totalt"

    @model_validator(mode="after")
    def _keys_are_grouped(self) -> Summary:
        for column in self.columns:
            if column.key is not None and column.key not in self.group_by:
                raise ValueError(f"key {column.key!r} is not in group_by")
        return self


class ColumnConfig(_Model):
    """An organisation's Bufdir report configuration (one stored version)."""

    schema_version: Literal[1]
    description: Annotated[str, Field(max_length=2000)] = ""
    # The organisation's activity type codes -> Bufdir categories.
    categories: dict[Annotated[str, Field(pattern=r"^[a-z0-9_]{1,64}$")], BufdirCategory] = Field(
        min_length=1
    )
    counting: Counting = Field(default_factory=Counting)
    columns: list[Column] = Field(min_length=1, max_length=100)
    summary: Summary | None = None
    plugins: list[PluginUse] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _unique_headers(self) -> ColumnConfig:
        headers = [column.header for column in self.columns]
        for index, header in enumerate(headers):
            if header in headers[:index]:
                raise ValueError(f"header {header!r} appears twice (columns[{index}])")
        return self


# The ``kind`` of each member of the Transform union.
TRANSFORM_KINDS: tuple[str, ...] = tuple(
    get_args(member.model_fields["kind"].annotation)[0]
    for member in get_args(get_args(Transform)[0])
)
