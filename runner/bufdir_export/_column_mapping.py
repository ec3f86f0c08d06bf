"""A column configuration compiled for one export: rows in, typed cells out.

Everything that can be decided once is decided in the constructor: each
column becomes one small function, each expression is compiled, each plugin
built. Per row, the mapping computes the row's fields, its Bufdir category,
whether it counts (and why not), the activity sheet's cells, and adds the
row to the summary.

A configuration that breaks on a row (a value its enumeration does not
know, an expression that fails, a required column left empty) raises
:class:`StepFailed` with ``invalid_config``, naming the column and the
activity.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from ._bufdir_rules import BUFDIR_RULES, BUFDIR_SUMMARY
from ._config import (
    EXPRESSION_FIELDS,
    FIELDS,
    RULE_FIELDS,
    Column,
    ColumnConfig,
    ConcatTransform,
    ConstantTransform,
    DateTransform,
    EnumTransform,
    FieldType,
    NumberTransform,
    Summary,
    SummaryColumn,
    TextTransform,
    YesNoTransform,
)
from ._errors import StepFailed
from ._expressions import Expression, ExpressionFailed
from ._models import ErrorCode
from ._plugins import CountingPlugin, PluginPass, PluginRegistry, Verdict
from ._ports import Activity, CellKind, ColumnLayout, SummaryTable

__all__ = ["ConfiguredMapping", "activity_fields"]

Row = dict[str, Any]
_HOUR = Decimal(60)
_HUNDREDTH = Decimal("0.01")


@lru_cache(maxsize=2048)
def _hours(minutes: int) -> Decimal:
    """Minutes as hours with two decimals, rounded half up (few distinct values)."""
    return (Decimal(minutes) / _HOUR).quantize(_HUNDREDTH, ROUND_HALF_UP)


def activity_fields(activity: Activity) -> Row:
    """The fields of one activity that a configuration may read (before counting)."""
    day = activity.activity_date
    return {
        "id": str(activity.id),
        "activity_date": day,
        "year": day.year,
        "month": day.month,
        "county_code": activity.county_code,
        "county_name": activity.county_name,
        "municipality_number": activity.municipality_number,
        "chapter_name": activity.chapter_name,
        "peer_mentor_id": str(activity.peer_mentor_id),
        "activity_type_code": activity.activity_type_code,
        "activity_type_name": activity.activity_type_name,
        "duration_minutes": activity.duration_minutes,
        "hours": _hours(activity.duration_minutes),
        "participant_count": activity.participant_count,
        "contact_method": activity.contact_method,
        "in_norway": activity.in_norway,
    }


class ConfiguredMapping:
    """:class:`~bufdir_export._ports.RowMapping` compiled from a :class:`ColumnConfig`.

    Raises :class:`InvalidColumnConfig` when the configuration cannot be
    compiled (an expression, a plugin).
    """

    def __init__(
        self,
        config: ColumnConfig,
        *,
        organisation_name: str,
        version: int | None,
        plugins: PluginRegistry,
    ) -> None:
        self._organisation_name = organisation_name
        self._version = version
        self._categories = {code: str(category) for code, category in config.categories.items()}
        self._rules = _compile_rules(config)
        self._columns = [
            _compile_column(column, index) for index, column in enumerate(config.columns)
        ]
        self._layouts = [column.layout for column in self._columns]
        self._summary = config.summary or BUFDIR_SUMMARY
        self._plugins: list[CountingPlugin] = [
            plugins.build(use, f"$.plugins[{index}]") for index, use in enumerate(config.plugins)
        ]

    @property
    def columns(self) -> Sequence[ColumnLayout]:
        return self._layouts

    @property
    def organisation_name(self) -> str:
        return self._organisation_name

    @property
    def version(self) -> int | None:
        return self._version

    def begin(self) -> _Pass:
        return _Pass(self, [plugin.begin() for plugin in self._plugins])


class _Pass:
    def __init__(self, mapping: ConfiguredMapping, plugins: list[PluginPass]) -> None:
        self._categories = mapping._categories
        self._rules = mapping._rules
        self._columns = mapping._columns
        self._plugins = plugins
        self._summary = _SummaryBuilder(mapping._summary)
        self.counted = 0

    def map(self, activity: Activity) -> Sequence[object]:
        row = activity_fields(activity)
        code = activity.activity_type_code
        category = self._categories.get(code)
        if category is None:
            raise _invalid(
                f"activity type {code!r} has no Bufdir category ($.categories)", activity
            )
        row["category"] = category
        verdict = self._verdict(row, activity)
        row["counted"] = verdict.counted
        row["not_counted_reason"] = verdict.reason
        cells = [column.cell(row, activity) for column in self._columns]
        self._summary.add(row)
        self.counted += verdict.counted
        return cells

    def summary(self) -> SummaryTable:
        return self._summary.table()

    def _verdict(self, row: Row, activity: Activity) -> Verdict:
        verdict = _COUNTED
        for path, expression, reason in self._rules:
            try:
                matched = expression.holds(row)
            except ExpressionFailed as error:
                raise _invalid(f"counting rule {path}: {error}", activity) from None
            if matched:
                verdict = Verdict(counted=False, reason=reason)
                break
        for plugin in self._plugins:
            verdict = plugin.judge(row, verdict)
        return verdict


_COUNTED = Verdict(counted=True)


def _invalid(problem: str, activity: Activity) -> StepFailed:
    return StepFailed(ErrorCode.INVALID_CONFIG, f"{problem} (activity {activity.id})")


def _compile_rules(config: ColumnConfig) -> list[tuple[str, Expression, str]]:
    """(path, condition, reason) of each rule, in order: Bufdir's first, unless left out."""
    bufdir = config.counting.base == "bufdir"
    rules = [(f"bufdir[{i}]", rule) for i, rule in enumerate(BUFDIR_RULES)] if bufdir else []
    rules += [(f"$.counting.rules[{i}].when", rule) for i, rule in enumerate(config.counting.rules)]
    return [
        (path, Expression.compile(rule.when, path=path, fields=RULE_FIELDS), rule.reason)
        for path, rule in rules
    ]


# Columns ----------------------------------------------------------------------

Value = Callable[[Row], object]


class _CompiledColumn:
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
            raise _invalid(f"column {self.header!r}: {error}", activity) from None
        return value

    def _is_required(self, row: Row) -> bool:
        return self.required or (self.required_if is not None and self.required_if.holds(row))


class _ColumnProblem(Exception):
    pass


def _compile_column(column: Column, index: int) -> _CompiledColumn:
    path = f"$.columns[{index}]"
    required_if = (
        Expression.compile(column.required_if, path=f"{path}.required_if", fields=EXPRESSION_FIELDS)
        if column.required_if is not None
        else None
    )
    layout, value = _cell_function(column)
    width = column.width or _default_width(column.header, layout.kind)
    return _CompiledColumn(
        dataclasses.replace(layout, width=width), value, column.required, required_if
    )


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
        return ColumnLayout(header, "date", date_format=transform.format), lambda row: row[source]
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
    match FIELDS[source]:
        case FieldType.DATE:
            return ColumnLayout(header, "date"), lambda row: row[source]
        case FieldType.INTEGER:
            return ColumnLayout(header, "integer"), lambda row: row[source]
        case FieldType.DECIMAL:
            return ColumnLayout(header, "decimal", decimals=2), lambda row: row[source]
        case FieldType.BOOLEAN:
            return ColumnLayout(header), lambda row: "Ja" if row[source] else "Nei"
        case _:
            return ColumnLayout(header), lambda row: row[source]


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
        key = _enum_key(row[source])
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


def _default_width(header: str, kind: CellKind) -> int:
    least = 12 if kind == "date" else 8
    return max(least, min(40, len(header) + 4))


# The summary --------------------------------------------------------------------


class _Aggregate:
    """One aggregate column: which rows it takes, and what it makes of them."""

    __slots__ = ("decimals", "kind", "source", "where")

    def __init__(self, column: SummaryColumn) -> None:
        self.kind = column.aggregate
        self.source = column.source
        self.where = tuple(
            (name, frozenset(value) if isinstance(value, list) else frozenset([value]))
            for name, value in column.where.items()
        )
        self.decimals = column.decimals


class _SummaryBuilder:
    def __init__(self, spec: Summary) -> None:
        self._spec = spec
        self._group_by = tuple(spec.group_by)
        self._aggregates = [
            _Aggregate(column) for column in spec.columns if column.aggregate is not None
        ]
        # group key -> one accumulator per aggregate (an int, a Decimal, or a set)
        self._groups: dict[tuple[Any, ...], list[Any]] = {}
        self._distinct_totals: list[set[Any]] = [set() for _ in self._aggregates]
        # Aggregates share their filters: each distinct one is tested once per row.
        self._filters = list(dict.fromkeys(aggregate.where for aggregate in self._aggregates))
        self._plan = [
            (index, aggregate.kind, aggregate.source or "", self._filters.index(aggregate.where))
            for index, aggregate in enumerate(self._aggregates)
        ]

    def add(self, row: Row) -> None:
        key = tuple(row[name] for name in self._group_by)
        sums = self._groups.get(key)
        if sums is None:
            sums = self._groups[key] = [_empty(aggregate) for aggregate in self._aggregates]
        passed = [all(row[name] in allowed for name, allowed in where) for where in self._filters]
        for index, kind, source, which in self._plan:
            if not passed[which]:
                continue
            if kind == "count":
                sums[index] += 1
            elif kind == "sum":
                sums[index] += row[source]
            else:
                value = row[source]
                sums[index].add(value)
                self._distinct_totals[index].add(value)

    def table(self) -> SummaryTable:
        spec = self._spec
        layouts = [_summary_layout(column) for column in spec.columns]
        rows: list[list[object]] = []
        totals = [_empty(aggregate) for aggregate in self._aggregates]
        for key in sorted(self._groups, key=_sortable):
            sums = self._groups[key]
            by_name = dict(zip(self._group_by, key, strict=True))
            cells: list[object] = []
            aggregate_index = 0
            for column in spec.columns:
                if column.key is not None:
                    cells.append(by_name[column.key])
                    continue
                value = sums[aggregate_index]
                cells.append(_finish(self._aggregates[aggregate_index], value))
                if not isinstance(value, set):
                    totals[aggregate_index] += value
                aggregate_index += 1
            rows.append(cells)
        total_cells: list[object] = []
        aggregate_index = 0
        for column in spec.columns:
            if column.key is not None:
                total_cells.append(spec.totals_label if not total_cells else None)
                continue
            aggregate = self._aggregates[aggregate_index]
            value = (
                self._distinct_totals[aggregate_index]
                if aggregate.kind == "count_distinct"
                else totals[aggregate_index]
            )
            total_cells.append(_finish(aggregate, value))
            aggregate_index += 1
        return SummaryTable(columns=layouts, rows=rows, totals=total_cells)


def _empty(aggregate: _Aggregate) -> Any:
    return set() if aggregate.kind == "count_distinct" else 0


def _finish(aggregate: _Aggregate, value: Any) -> object:
    if isinstance(value, set):
        return len(value)
    if aggregate.decimals is not None:
        return Decimal(value).quantize(Decimal(1).scaleb(-aggregate.decimals), ROUND_HALF_UP)
    return value


def _sortable(key: tuple[Any, ...]) -> tuple[tuple[bool, str], ...]:
    # Mixed and missing values sort without comparing across types.
    return tuple(
        (part is None, f"{part:010d}" if isinstance(part, int) else str(part)) for part in key
    )


def _summary_layout(column: SummaryColumn) -> ColumnLayout:
    kind: CellKind
    decimals = 0
    if column.key is not None:
        field = FIELDS[column.key]
        kind = (
            "integer"
            if field is FieldType.INTEGER
            else "date"
            if field is FieldType.DATE
            else "text"
        )
    elif column.decimals:
        kind, decimals = "decimal", column.decimals
    elif column.aggregate == "sum" and FIELDS[column.source or ""] is FieldType.DECIMAL:
        kind, decimals = "decimal", 2
    else:
        kind = "integer"
    return ColumnLayout(
        header=column.header,
        kind=kind,
        decimals=decimals,
        width=_default_width(column.header, kind),
    )
