"""The summary sheet, built while the rows are mapped: one accumulator per
group and aggregate, finished into a :class:`SummaryTable` at the end."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..core.memo import BoundedMemo
from ..core.ports import CellKind, ColumnLayout, SummaryTable
from .column_config import FIELDS, FieldType, Summary, SummaryColumn
from .columns import Row

__all__ = ["SummaryBuilder"]

_COMBINATIONS_KEPT = 65_536
# Which aggregates take a row: (counts, sums by source, distinct counts by source).
_Plan = tuple[tuple[int, ...], tuple[tuple[int, str], ...], tuple[tuple[int, str], ...]]


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


class SummaryBuilder:
    def __init__(self, spec: Summary) -> None:
        self._spec = spec
        self._group_by = tuple(spec.group_by)
        self._aggregates = [
            _Aggregate(column) for column in spec.columns if column.aggregate is not None
        ]
        # group key -> one accumulator per aggregate (an int, a Decimal, or a set)
        self._groups: dict[tuple[Any, ...], list[Any]] = {}
        self._distinct_totals: list[set[Any]] = [set() for _ in self._aggregates]
        # The filters read a few fields: for each combination of them, which
        # aggregates take the row is decided once, split by what they do.
        self._filter_fields = tuple(
            dict.fromkeys(name for aggregate in self._aggregates for name, _ in aggregate.where)
        )
        self._plans: BoundedMemo[_Plan] = BoundedMemo(_COMBINATIONS_KEPT)

    def add(self, row: Row) -> None:
        key = tuple(row[name] for name in self._group_by)
        sums = self._groups.get(key)
        if sums is None:
            sums = self._groups[key] = [_empty(aggregate) for aggregate in self._aggregates]
        filter_key = tuple(row[name] for name in self._filter_fields)
        plan = self._plans.get(filter_key)
        if plan is None:
            plan = self._plans.remember(filter_key, self._plan_for(row))
        counts, sums_of, distinct = plan
        for index in counts:
            sums[index] += 1
        for index, source in sums_of:
            sums[index] += row[source]
        for index, source in distinct:
            value = row[source]
            sums[index].add(value)
            self._distinct_totals[index].add(value)

    def _plan_for(self, row: Row) -> _Plan:
        taking = [
            (index, aggregate)
            for index, aggregate in enumerate(self._aggregates)
            if all(row[name] in allowed for name, allowed in aggregate.where)
        ]
        return (
            tuple(index for index, aggregate in taking if aggregate.kind == "count"),
            tuple((i, a.source or "") for i, a in taking if a.kind == "sum"),
            tuple((i, a.source or "") for i, a in taking if a.kind == "count_distinct"),
        )

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
        return SummaryTable(
            columns=layouts, rows=rows, totals=total_cells, notes=_column_notes(spec)
        )


def _column_notes(spec: Summary) -> tuple[tuple[str, str], ...]:
    """What the reader must know to use and check the columns: which figures go
    to Bufdir (counts of what counts: activity days and active peer mentors)
    and which are internal, that a distinct count is not the sum of its rows,
    and that hours are summed as the activity sheet shows them."""
    aggregates = [column for column in spec.columns if column.aggregate is not None]
    for_bufdir = [column.header for column in aggregates if _for_bufdir(column)]
    internal = [column.header for column in aggregates if not _for_bufdir(column)]
    notes: list[tuple[str, str]] = []
    if for_bufdir:
        notes.append(("Til Bufdir", ", ".join(for_bufdir)))
    if internal:
        notes.append(("Til intern bruk", ", ".join(internal)))
    for column in aggregates:
        if column.aggregate == "count_distinct":
            notes.append((column.header, _DISTINCT_NOTE))
        elif column.aggregate == "sum" and column.source == "hours":
            notes.append((column.header, _HOURS_NOTE))
    return tuple(notes)


def _for_bufdir(column: SummaryColumn) -> bool:
    return column.aggregate in ("count", "count_distinct") and column.where.get("counted") is True


_DISTINCT_NOTE = (
    "Hver telles én gang per rad og én gang i totalen. Den som finnes i flere rader "
    "(aktiv i flere lokallag), telles i hver av dem, så totalen kan være mindre enn "
    "summen av radene."
)
_HOURS_NOTE = (
    "Summen av timene slik arket Aktiviteter viser dem: hver aktivitets minutter "
    "delt på 60, avrundet til to desimaler."
)


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
    return ColumnLayout(header=column.header, kind=kind, decimals=decimals)
