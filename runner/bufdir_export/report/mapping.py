"""A column configuration compiled for one export: rows in, typed cells out.

Everything that can be decided once is decided in the constructor: each
column becomes one small function, each expression is compiled, each plugin
built. Per row, the mapping computes the row's fields, its Bufdir category,
whether it counts (and why not), the activity sheet's cells, and adds the
row to the summary. What depends on a few fields only is decided once per
combination of them: the counting rules' verdict (by the fields the rules
read), and which summary columns take the row (by the fields their filters
read). A year has a few hundred such combinations, so per row what is left
is looking them up, the plugins, and the cells.

A configuration that breaks on a row (a value its enumeration does not
know, an expression that fails, a required column left empty) raises
:class:`StepFailed` with ``invalid_config``, naming the column and the
activity.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from ..core.memo import BoundedMemo
from ..core.ports import Activity, ColumnLayout, SummaryTable
from .bufdir_rules import BUFDIR_RULES, BUFDIR_SUMMARY
from .column_config import RULE_FIELDS, ColumnConfig
from .columns import Row, compile_column, invalid_config, row_of_cells
from .expressions import Expression, ExpressionFailed
from .plugins import CountingPlugin, PluginPass, PluginRegistry, Verdict
from .summary import SummaryBuilder

__all__ = ["PLUGIN_ONLY_FIELDS", "ConfiguredMapping", "activity_fields"]

_HOUR = Decimal(60)
_HUNDREDTH = Decimal("0.01")


@lru_cache(maxsize=2048)
def _hours(minutes: int) -> Decimal:
    """Minutes as hours with two decimals, rounded half up (few distinct values)."""
    return (Decimal(minutes) / _HOUR).quantize(_HUNDREDTH, ROUND_HALF_UP)


# What plugins see beside the configuration's fields: hints from the source
# (docs/plugins.md). A configuration cannot name them.
PLUGIN_ONLY_FIELDS = frozenset({"same_day_in_other_chapter"})


def activity_fields(activity: Activity) -> Row:
    """The fields of one activity that a configuration may read (before
    counting), and the plugins' hints."""
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
        self._rule_fields = tuple(
            dict.fromkeys(name for _, expression, _ in self._rules for name in expression.variables)
        )
        self._columns = [
            compile_column(column, index) for index, column in enumerate(config.columns)
        ]
        self._layouts = [column.layout for column in self._columns]
        self._cells = row_of_cells(self._columns)
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
        self._cells = mapping._cells
        self._plugins = plugins
        self._summary = SummaryBuilder(mapping._summary)
        self.counted = 0
        # The rules read a few fields: each combination of them is judged once.
        self._rule_fields = mapping._rule_fields
        self._verdicts: BoundedMemo[Verdict] = BoundedMemo(_VERDICTS_KEPT)

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
        cells = self._cells(row, activity)
        self._summary.add(row)
        self.counted += verdict.counted
        return cells

    def summary(self) -> SummaryTable:
        return self._summary.table()

    def _verdict(self, row: Row, activity: Activity) -> Verdict:
        key = tuple(row[name] for name in self._rule_fields)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._verdicts.remember(key, self._by_the_rules(row, activity))
        for plugin in self._plugins:
            verdict = plugin.judge(row, verdict)
        return verdict

    def _by_the_rules(self, row: Row, activity: Activity) -> Verdict:
        for path, expression, reason in self._rules:
            try:
                matched = expression.holds(row)
            except ExpressionFailed as error:
                raise invalid_config(f"counting rule {path}: {error}", activity) from None
            if matched:
                return Verdict(counted=False, reason=reason)
        return _COUNTED


_COUNTED = Verdict(counted=True)
_VERDICTS_KEPT = 65_536


def _compile_rules(config: ColumnConfig) -> list[tuple[str, Expression, str]]:
    """(path, condition, reason) of each rule, in order: Bufdir's first, unless left out."""
    bufdir = config.counting.base == "bufdir"
    rules = [(f"bufdir[{i}]", rule) for i, rule in enumerate(BUFDIR_RULES)] if bufdir else []
    rules += [(f"$.counting.rules[{i}].when", rule) for i, rule in enumerate(config.counting.rules)]
    return [
        (path, Expression.compile(rule.when, path=path, fields=RULE_FIELDS), rule.reason)
        for path, rule in rules
    ]
