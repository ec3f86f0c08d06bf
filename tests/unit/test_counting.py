"""The Bufdir counting rules, boundary by boundary, and what a configuration
adds to them: its own rules, NHF's plugin, runtime errors, the summary."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import JsonValue

from bufdir_export._errors import InvalidColumnConfig, StepFailed
from bufdir_export._models import ErrorCode
from bufdir_export.core.ports import Activity
from bufdir_export.report.config_checks import parse_column_config
from bufdir_export.report.mapping import ConfiguredMapping, activity_fields
from bufdir_export.report.nhf_plugin import SameDayInSeveralChapters
from bufdir_export.report.plugins import PluginRegistry, Verdict
from bufdir_export.tools.seed import shipped_config
from tests.support import activity, shipped_mapping

# The Bufdir rules alone: each category of the organisation's own types.
BUFDIR_ONLY: dict[str, Any] = {
    "schema_version": 1,
    "categories": {
        "besok": "oppsøkende",
        "samtalegruppe": "samtalegruppe",
        "aktivitet": "aktivitetsgruppe",
        "kurs": "likepersonskurs",
        "kafe": "ikke_tellende",
    },
    "columns": [
        {"header": "Tellende", "source": "counted", "transform": {"kind": "yes_no"}},
        {"header": "Årsak", "source": "not_counted_reason", "required_if": "!counted"},
    ],
}


def _mapping(document: dict[str, Any]) -> ConfiguredMapping:
    return ConfiguredMapping(
        parse_column_config(document),
        organisation_name="Test",
        version=None,
        plugins=PluginRegistry.installed(),
    )


def _judge(mapping: ConfiguredMapping, *activities: Activity) -> list[tuple[object, ...]]:
    one_pass = mapping.begin()
    return [tuple(one_pass.map(a)[-2:]) for a in activities]


COUNTED = ("Ja", None)

BOUNDARIES = [
    # (what, type, minutes, participants, contact, in Norway, expected)
    ("talk group of 45 min counts", "samtalegruppe", 45, 3, "in_person", True, COUNTED),
    (
        "talk group of 44 min does not",
        "samtalegruppe",
        44,
        6,
        "in_person",
        True,
        ("Nei", "under 45 min"),
    ),
    ("talk group of 3 counts", "samtalegruppe", 60, 3, "in_person", True, COUNTED),
    (
        "talk group of 2 does not",
        "samtalegruppe",
        90,
        2,
        "in_person",
        True,
        ("Nei", "under 3 deltakere"),
    ),
    ("talk group on video counts", "samtalegruppe", 60, 5, "video", True, COUNTED),
    ("activity group of 3 counts", "aktivitet", 45, 3, "in_person", True, COUNTED),
    (
        "activity group of 2 does not",
        "aktivitet",
        120,
        2,
        "in_person",
        True,
        ("Nei", "under 3 deltakere"),
    ),
    (
        "activity group of 44 min does not",
        "aktivitet",
        44,
        10,
        "in_person",
        True,
        ("Nei", "under 45 min"),
    ),
    ("course day of 2 x 45 min counts", "kurs", 90, 8, "in_person", True, COUNTED),
    (
        "course day of 89 min does not",
        "kurs",
        89,
        8,
        "in_person",
        True,
        ("Nei", "under 2 x 45 min"),
    ),
    ("course run digitally counts", "kurs", 120, 8, "digital", True, COUNTED),
    ("outreach in person counts", "besok", 30, 1, "in_person", True, COUNTED),
    ("outreach of 15 min in person counts", "besok", 15, 1, "in_person", True, COUNTED),
    (
        "outreach where nobody was met does not",
        "besok",
        60,
        0,
        "in_person",
        True,
        ("Nei", "ingen møtt"),
    ),
    ("outreach by phone does not", "besok", 60, 1, "phone", True, ("Nei", "telefon")),
    ("outreach on video does not", "besok", 60, 1, "video", True, ("Nei", "ikke fysisk oppmøte")),
    ("abroad does not", "samtalegruppe", 90, 5, "in_person", False, ("Nei", "utland")),
    ("abroad by phone: abroad first", "besok", 60, 1, "phone", False, ("Nei", "utland")),
    (
        "a type Bufdir does not count",
        "kafe",
        120,
        12,
        "in_person",
        True,
        ("Nei", "ikke tellende aktivitetstype"),
    ),
]


@pytest.mark.parametrize(
    ("code", "minutes", "people", "contact", "in_norway", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in BOUNDARIES],
)
def test_the_bufdir_rules_at_each_boundary(
    code: str,
    minutes: int,
    people: int,
    contact: str,
    in_norway: bool,
    expected: tuple[object, object],
) -> None:
    one = activity(
        activity_type_code=code,
        duration_minutes=minutes,
        participant_count=people,
        contact_method=contact,
        in_norway=in_norway,
    )
    assert _judge(_mapping(BUFDIR_ONLY), one) == [expected]


@pytest.mark.parametrize("slug", ["nhf", "blindeforbundet", "hlf"])
def test_no_shipped_configuration_sets_a_minimum_length_for_outreach(slug: str) -> None:
    # The regulation states none: a 20-minute home visit in person counts.
    mapping = shipped_mapping(slug)
    categories = shipped_config(slug)["categories"]
    outreach = next(code for code, category in categories.items() if category == "oppsøkende")
    visit = activity(activity_type_code=outreach, duration_minutes=20, participant_count=1)
    nobody = activity(activity_type_code=outreach, duration_minutes=60, participant_count=0)
    verdicts = [(cells[-2], cells[-1]) for cells in map(mapping.begin().map, (visit, nobody))]
    assert verdicts[0] == COUNTED
    assert verdicts[1] == ("Nei", "ingen møtt")


def test_an_organisation_adds_its_own_rule_after_the_bufdir_rules() -> None:
    own = dict(BUFDIR_ONLY, counting={"rules": [
        {"when": "category == 'oppsøkende' && duration_minutes < 45", "reason": "under 45 min"}
    ]})  # fmt: skip
    short, enough = (activity(activity_type_code="besok", duration_minutes=m) for m in (44, 45))
    by_phone = activity(activity_type_code="besok", duration_minutes=30, contact_method="phone")
    assert _judge(_mapping(own), short, enough, by_phone) == [
        ("Nei", "under 45 min"),
        COUNTED,
        ("Nei", "telefon"),  # the Bufdir rule matched first
    ]


def test_without_the_bufdir_base_only_the_own_rules_apply() -> None:
    own = dict(BUFDIR_ONLY, counting={"base": "none", "rules": [
        {"when": "participant_count > 100", "reason": "for mange"}
    ]})  # fmt: skip
    by_phone = activity(activity_type_code="besok", contact_method="phone")
    crowd = activity(participant_count=101)
    assert _judge(_mapping(own), by_phone, crowd) == [COUNTED, ("Nei", "for mange")]


def test_one_mentor_may_have_several_activity_days_on_one_date() -> None:
    mentor = uuid.UUID(int=7)
    same_day = [
        activity(n, peer_mentor_id=mentor, activity_date=date(2025, 5, 5)) for n in range(3)
    ]
    assert _judge(_mapping(BUFDIR_ONLY), *same_day) == [COUNTED] * 3


def test_nhf_counts_an_activity_recorded_in_two_chapters_once() -> None:
    mentor, day = uuid.UUID(int=7), date(2025, 5, 5)

    def recorded(n: int, chapter: str, **changes: Any) -> Activity:
        values: dict[str, Any] = {"peer_mentor_id": mentor, "activity_date": day}
        return activity(n, chapter_name=chapter, **(values | changes))

    rows = [
        recorded(1, "NHF Oslo"),
        recorded(2, "NHF Oslo"),  # same chapter, same day: a new activity day
        recorded(3, "NHF Bergen"),  # the copy in another chapter
        recorded(4, "NHF Bergen", activity_type_code="aktivitetsgruppe"),  # another type
        recorded(5, "NHF Bodø", activity_date=date(2025, 5, 6)),  # another day
    ]
    assert _judge(shipped_mapping("nhf"), *rows) == [
        COUNTED,
        COUNTED,
        ("Nei", "registrert i flere lokallag"),
        COUNTED,
        COUNTED,
    ]


def test_nhf_a_copy_that_does_not_count_anyway_keeps_its_own_reason() -> None:
    mentor, day = uuid.UUID(int=7), date(2025, 5, 5)
    first = activity(1, peer_mentor_id=mentor, activity_date=day, duration_minutes=44)
    second = activity(2, peer_mentor_id=mentor, activity_date=day, chapter_name="NHF Bergen")
    # The first did not count, so the second is the one that counts.
    assert _judge(shipped_mapping("nhf"), first, second) == [("Nei", "under 45 min"), COUNTED]


def test_nhf_remembers_only_the_activities_the_source_says_have_a_copy() -> None:
    mentor, day = uuid.UUID(int=7), date(2025, 5, 5)
    told = [
        activity(n, peer_mentor_id=mentor, activity_date=day, chapter_name=chapter,
                 same_day_in_other_chapter=copy)
        for n, (chapter, copy) in enumerate([("NHF Oslo", True), ("NHF Bergen", True)])
    ]  # fmt: skip
    alone = [activity(10 + n, same_day_in_other_chapter=False) for n in range(50)]
    plugin = SameDayInSeveralChapters({}).begin()
    mapping = shipped_mapping("nhf")
    one_pass = mapping.begin()
    assert [tuple(one_pass.map(a)[-2:]) for a in [*told, *alone]] == [
        COUNTED, ("Nei", "registrert i flere lokallag"), *[COUNTED] * 50,
    ]  # fmt: skip
    # What the pass keeps: one key, the copies' (the others were never stored).
    for a in [*told, *alone]:
        plugin.judge(activity_fields(a) | {"counted": True}, Verdict(counted=True))
    assert plugin.remembered == 1


def test_each_pass_starts_afresh() -> None:
    mapping = shipped_mapping("nhf")
    first = activity(0)
    twice = activity(
        1,
        chapter_name="NHF Bergen",
        peer_mentor_id=first.peer_mentor_id,
        activity_date=first.activity_date,
    )
    assert _judge(mapping, first, twice)[1][0] == "Nei"
    # A retried file: the second pass has forgotten the first.
    assert _judge(mapping, twice) == [COUNTED]


def _failure(document: dict[str, Any], row: Activity) -> StepFailed:
    with pytest.raises(StepFailed) as caught:
        _mapping(document).begin().map(row)
    assert caught.value.code is ErrorCode.INVALID_CONFIG
    assert f"(activity {row.id})" in caught.value.message
    return caught.value


def test_an_activity_type_without_a_category_fails_naming_it() -> None:
    failure = _failure(BUFDIR_ONLY, activity(activity_type_code="bowling"))
    assert "activity type 'bowling' has no Bufdir category" in failure.message


def test_a_value_its_enumeration_does_not_know_fails_naming_the_column() -> None:
    document = dict(BUFDIR_ONLY, columns=[
        {"header": "Type", "source": "activity_type_name",
         "transform": {"kind": "enum", "values": {"Samtalegruppe": "Samtale"}}},
    ])  # fmt: skip
    assert _mapping(document).begin().map(activity()) == ["Samtale"]
    failure = _failure(document, activity(activity_type_name="Kaffe"))
    assert "column 'Type': no value for 'Kaffe'" in failure.message


def test_an_expression_that_fails_on_a_row_fails_naming_the_rule() -> None:
    document = dict(BUFDIR_ONLY, counting={"rules": [
        {"when": "duration_minutes / (participant_count - 4) > 10", "reason": "x"}
    ]})  # fmt: skip
    assert _mapping(document).begin().map(activity(participant_count=5))
    failure = _failure(document, activity(participant_count=4))
    assert "counting rule $.counting.rules[0].when" in failure.message
    assert "division by zero" in failure.message


def test_an_expression_that_is_not_a_condition_fails() -> None:
    document = dict(BUFDIR_ONLY, counting={"rules": [{"when": "duration_minutes", "reason": "x"}]})
    failure = _failure(document, activity())
    assert "gave int, not true/false" in failure.message


def test_a_required_column_left_empty_fails_naming_it() -> None:
    document = dict(BUFDIR_ONLY, columns=[
        {"header": "Årsak", "source": "not_counted_reason", "required_if": "duration_minutes > 0"}
    ])  # fmt: skip
    failure = _failure(document, activity())
    assert "column 'Årsak': is required but empty" in failure.message


def test_the_summary_groups_by_chapter_and_totals_distinct_mentors_once() -> None:
    one_pass = shipped_mapping("nhf").begin()
    rows = [
        activity(0, peer_mentor_id=uuid.UUID(int=1), chapter_name="NHF Oslo"),
        activity(1, peer_mentor_id=uuid.UUID(int=1), chapter_name="NHF Oslo",
                 activity_type_code="hjemmebesok", participant_count=1, duration_minutes=50),
        activity(2, peer_mentor_id=uuid.UUID(int=2), chapter_name="NHF Oslo",
                 contact_method="phone", activity_type_code="hjemmebesok"),
        activity(3, peer_mentor_id=uuid.UUID(int=1), chapter_name="NHF Bergen",
                 county_code="46", county_name="Vestland", municipality_number="4601",
                 duration_minutes=44),
        activity(4, peer_mentor_id=uuid.UUID(int=1), chapter_name="NHF Bergen",
                 county_code="46", county_name="Vestland", municipality_number="4601",
                 activity_date=date(2025, 4, 1)),
    ]  # fmt: skip
    for row in rows:
        one_pass.map(row)
    table = one_pass.summary()
    headers = [column.header for column in table.columns]
    by_chapter = {row[3]: dict(zip(headers, row, strict=True)) for row in table.rows}
    assert list(by_chapter) == ["NHF Oslo", "NHF Bergen"]  # county 03 before 46
    oslo, bergen = by_chapter["NHF Oslo"], by_chapter["NHF Bergen"]
    assert (oslo["År"], oslo["Fylkesnr"], oslo["Fylke"]) == (2025, "03", "Oslo")
    assert (oslo["Oppsøkende"], oslo["Samtalegrupper"], oslo["Ikke tellende"]) == (1, 1, 1)
    assert oslo["Aktive likepersoner"] == 1  # mentor 2 only phoned
    assert oslo["Sum tellende aktivitetsdager"] == 2
    assert oslo["Deltakere"] == 4 + 1
    assert oslo["Timer"] == Decimal("1.50") + Decimal("0.83")
    assert (bergen["Samtalegrupper"], bergen["Ikke tellende"]) == (1, 1)
    totals = dict(zip(headers, table.totals, strict=True))
    assert totals["År"] == "Totalt"
    assert totals["Sum tellende aktivitetsdager"] == 3
    assert totals["Ikke tellende"] == 2
    assert totals["Aktive likepersoner"] == 1  # the same mentor in both chapters
    assert [c.kind for c in table.columns][-2:] == ["decimal", "integer"]


class _BigGroups:
    """A plugin of another organisation, written as docs/plugins.md says."""

    def __init__(self, options: Mapping[str, JsonValue]) -> None:
        limit = options.get("limit")
        if not isinstance(limit, int):
            raise ValueError("limit must be a whole number")
        self.limit = limit

    def begin(self) -> _BigGroupsPass:
        return _BigGroupsPass(self.limit)


class _BigGroupsPass:
    def __init__(self, limit: int) -> None:
        self.limit = limit

    def judge(self, row: Mapping[str, Any], verdict: Verdict) -> Verdict:
        if verdict.counted and row["participant_count"] > self.limit:
            return Verdict(counted=False, reason="for stor gruppe")
        return verdict


def test_a_plugin_of_ones_own_is_built_with_its_options_and_overrules_the_rules() -> None:
    registry = PluginRegistry.of({"store-grupper": _BigGroups})
    document = dict(BUFDIR_ONLY, plugins=[{"name": "store-grupper", "options": {"limit": 50}}])
    mapping = ConfiguredMapping(
        parse_column_config(document), organisation_name="T", version=None, plugins=registry
    )
    rows = [activity(participant_count=50), activity(participant_count=51, in_norway=False),
            activity(participant_count=51)]  # fmt: skip
    assert _judge(mapping, *rows) == [COUNTED, ("Nei", "utland"), ("Nei", "for stor gruppe")]

    bad = dict(BUFDIR_ONLY, plugins=[{"name": "store-grupper", "options": {"limit": "x"}}])
    with pytest.raises(InvalidColumnConfig) as caught:
        registry.build(parse_column_config(bad).plugins[0], "$.plugins[0]")
    assert (caught.value.path, caught.value.problem) == (
        "$.plugins[0].options",
        "limit must be a whole number",
    )
