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

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from ..core.ports import Activity, ColumnLayout, SummaryTable
from .bufdir_rules import BUFDIR_RULES, BUFDIR_SUMMARY
from .column_config import RULE_FIELDS, ColumnConfig
from .columns import Row, compile_column, invalid_config
from .expressions import Expression, ExpressionFailed
from .plugins import CountingPlugin, PluginPass, PluginRegistry, Verdict
from .summary import SummaryBuilder

__all__ = ["ConfiguredMapping", "activity_fields"]

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
        "same_day_in_other_chapter": activity.same_day_in_other_chapter,
    }


class ConfiguredMapping:
    """:class:`~bufdir_export.core.ports.RowMapping` compiled from a :class:`ColumnConfig`.

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
            compile_column(column, index) for index, column in enumerate(config.columns)
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
        self._summary = SummaryBuilder(mapping._summary)
        self.counted = 0

    def map(self, activity: Activity) -> Sequence[object]:
        row = activity_fields(activity)
        code = activity.activity_type_code
        category = self._categories.get(code)
        if category is None:
            raise invalid_config(
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
                raise invalid_config(f"counting rule {path}: {error}", activity) from None
            if matched:
                verdict = Verdict(counted=False, reason=reason)
                break
        for plugin in self._plugins:
            verdict = plugin.judge(row, verdict)
        return verdict


_COUNTED = Verdict(counted=True)


def _compile_rules(config: ColumnConfig) -> list[tuple[str, Expression, str]]:
    """(path, condition, reason) of each rule, in order: Bufdir's first, unless left out."""
    bufdir = config.counting.base == "bufdir"
    rules = [(f"bufdir[{i}]", rule) for i, rule in enumerate(BUFDIR_RULES)] if bufdir else []
    rules += [(f"$.counting.rules[{i}].when", rule) for i, rule in enumerate(config.counting.rules)]
    return [
        (path, Expression.compile(rule.when, path=path, fields=RULE_FIELDS), rule.reason)
        for path, rule in rules
    ]
