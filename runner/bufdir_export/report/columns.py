"""The columns of the activity sheet, compiled: each becomes one small function
from a row's fields to its cell, with the layout its cells need.

A column that cannot make its cell (a value its enumeration does not know,
an expression that fails, a required value left empty) raises
:class:`StepFailed` with ``invalid_config``, naming the column and the
activity.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import Any

from .._errors import StepFailed
from .._models import ErrorCode
from ..core.ports import Activity, ColumnLayout
from .column_config import (
    EXPRESSION_FIELDS,
    FIELDS,
    Column,
    ConcatTransform,
    ConstantTransform,
    DateTransform,
    EnumTransform,
    FieldType,
    NumberTransform,
    TextTransform,
    YesNoTransform,
)
from .expressions import Expression, ExpressionFailed

__all__ = ["CompiledColumn", "Row", "compile_column", "invalid_config", "row_of_cells"]

Row = dict[str, Any]


def invalid_config(problem: str, activity: Activity) -> StepFailed:
    """The failure of a configuration that cannot map ``activity``."""
    return StepFailed(ErrorCode.INVALID_CONFIG, f"{problem} (activity {activity.id})")


Value = Callable[[Row], object]


class CompiledColumn:
    __slots__ = ("header", "layout", "required", "required_if", "value")

    def __init__(
        self, layout: ColumnLayout, value: Value, required: bool, required_if: Expression | None
    ) -> None:
        self.header = layout.header
        self.layout = layout
        self.value = value
        self.required = required
        self.required_if = required_if

    def cell(self, row: Row, activity: Activity) -> object:
        try:
            value = self.value(row)
            if (value is None or value == "") and self._is_required(row):
                raise _ColumnProblem("is required but empty")
        except (_ColumnProblem, ExpressionFailed) as error:
            raise invalid_config(f"column {self.header!r}: {error}", activity) from None
        return value

    @property
    def may_be_required(self) -> bool:
        return self.required or self.required_if is not None

    def _is_required(self, row: Row) -> bool:
        return self.required or (self.required_if is not None and self.required_if.holds(row))


class _ColumnProblem(Exception):
    pass


def row_of_cells(columns: Sequence[CompiledColumn]) -> Callable[[Row, Activity], list[object]]:
    """All the columns' cells of a row in one call: the values first, then
    the required columns checked. Only when something fails is the row made
    again column by column, so that the failure names its column."""
    values = [column.value for column in columns]
    checked = [(index, column) for index, column in enumerate(columns) if column.may_be_required]

    def cells(row: Row, activity: Activity) -> list[object]:
        try:
            made = [value(row) for value in values]
        except (_ColumnProblem, ExpressionFailed):
            return [column.cell(row, activity) for column in columns]  # raises, naming it
        for index, column in checked:
            value = made[index]
            if value is None or value == "":
                column.cell(row, activity)  # raises when the column requires it
        return made

    return cells


def compile_column(column: Column, index: int) -> CompiledColumn:
    path = f"$.columns[{index}]"
    required_if = (
        Expression.compile(column.required_if, path=f"{path}.required_if", fields=EXPRESSION_FIELDS)
        if column.required_if is not None
        else None
    )
    layout, value = _cell_function(column)
    if column.width is not None:
        layout = dataclasses.replace(layout, width=column.width)
    return CompiledColumn(layout, value, column.required, required_if)


def _cell_function(column: Column) -> tuple[ColumnLayout, Value]:
    """What the column's cells hold, and how to get one from a row."""
    transform, header = column.transform, column.header
    source = column.source or ""
    text = ColumnLayout(header)
    if isinstance(transform, ConstantTransform):
        constant = transform.value
        return text, lambda row: constant
    if isinstance(transform, ConcatTransform):
        sources, separator = tuple(transform.sources), transform.separator
        return text, lambda row: separator.join(_as_text(row[name]) for name in sources)
    if isinstance(transform, DateTransform):
        return ColumnLayout(header, "date", date_format=transform.format), itemgetter(source)
    if isinstance(transform, NumberTransform):
        return _number_function(header, source, transform)
    if isinstance(transform, EnumTransform):
        return text, _enum_function(source, transform)
    if isinstance(transform, YesNoTransform):
        yes, no = transform.yes, transform.no
        return text, lambda row: yes if row[source] else no
    if isinstance(transform, TextTransform):
        return text, lambda row: _as_text(row[source]) or None
    return _as_is(header, source)


def _as_is(header: str, source: str) -> tuple[ColumnLayout, Value]:
    """A column without a transform: its field's own type."""
    field = itemgetter(source)
    match FIELDS[source]:
        case FieldType.DATE:
            return ColumnLayout(header, "date"), field
        case FieldType.INTEGER:
            return ColumnLayout(header, "integer"), field
        case FieldType.DECIMAL:
            return ColumnLayout(header, "decimal", decimals=2), field
        case FieldType.BOOLEAN:
            return ColumnLayout(header), lambda row: "Ja" if row[source] else "Nei"
        case _:
            return ColumnLayout(header), field


def _number_function(
    header: str, source: str, transform: NumberTransform
) -> tuple[ColumnLayout, Value]:
    places = Decimal(1).scaleb(-transform.decimals)
    divisor = transform.divide_by

    def number(row: Row) -> object:
        value = Decimal(row[source])
        if divisor is not None:
            value /= divisor
        rounded = value.quantize(places, rounding=ROUND_HALF_UP)
        return int(rounded) if transform.decimals == 0 else rounded

    if transform.decimals == 0:
        return ColumnLayout(header, "integer"), number
    return ColumnLayout(header, "decimal", decimals=transform.decimals), number


def _enum_function(source: str, transform: EnumTransform) -> Value:
    values, default = dict(transform.values), transform.default

    def lookup(row: Row) -> object:
        value = row[source]
        key = value if type(value) is str else _enum_key(value)
        label = values.get(key, default)
        if label is None:
            raise _ColumnProblem(f"no value for {key!r} in its enumeration")
        return label

    return lookup


def _enum_key(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _as_text(value)


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Ja" if value else "Nei"
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)
