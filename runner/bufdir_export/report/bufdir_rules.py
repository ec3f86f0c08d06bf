"""The Bufdir counting rules and summary sheet every configuration starts from.

Bufdir pays by activity days in the base year (grunnlagsår), a calendar
year. The rules are those of the grant regulation, Forskrift om tilskot til
funksjonshemma sine organisasjonar, as the member organisations quote its
definitions (likeperson.no/regler-for-rapportering/ and
revmatiker.no/enklere-likepersonsrapportering/; docs/column-config.md gives
the wording rule by rule):

- only activities in Norway count ("som finner sted i Norge");
- outreach counts only in person ("ved personlig fremmøte"), so a phone call
  or a video meeting is never outreach, and only when someone was met ("en
  samtale mellom likeperson ... og person med funksjonsnedsettelse/pårørende");
  no minimum length is stated for it;
- talk and activity groups count with at least 3 participants ("tre eller
  flere deltakere") and at least 45 minutes ("tidsavgrenset (minimum 45 min)");
- a peer-mentor course day counts with at least 2 x 45 minutes ("minst to
  ganger 45 minutter").

``participant_count`` is the people the peer mentor met, not counting the
peer mentor (the conservative reading of "ledet av en likeperson, med tre
eller flere deltakere").

Each counted activity is one activity day: a peer mentor may have several
on one date, each with new participants ("Det gis poeng per dag ... Da teller
de som separate dager, så lenge det er nye deltagere"). The first rule that
matches gives the reason an activity does not count; the reason is written
into the export.
"""

from __future__ import annotations

from .column_config import CountingRule, Summary, SummaryColumn

__all__ = ["BUFDIR_RULES", "BUFDIR_SUMMARY"]

_GROUPS = "category in ['samtalegruppe', 'aktivitetsgruppe']"

BUFDIR_RULES: tuple[CountingRule, ...] = (
    CountingRule(when="category == 'ikke_tellende'", reason="ikke tellende aktivitetstype"),
    CountingRule(when="!in_norway", reason="utland"),
    CountingRule(when="category == 'oppsøkende' && contact_method == 'phone'", reason="telefon"),
    CountingRule(
        when="category == 'oppsøkende' && contact_method != 'in_person'",
        reason="ikke fysisk oppmøte",
    ),
    CountingRule(when="category == 'oppsøkende' && participant_count < 1", reason="ingen møtt"),
    CountingRule(when=f"{_GROUPS} && participant_count < 3", reason="under 3 deltakere"),
    CountingRule(when=f"{_GROUPS} && duration_minutes < 45", reason="under 45 min"),
    CountingRule(
        when="category == 'likepersonskurs' && duration_minutes < 90", reason="under 2 x 45 min"
    ),
)


def _days(header: str, category: str) -> SummaryColumn:
    return SummaryColumn(
        header=header, aggregate="count", where={"counted": True, "category": category}
    )


BUFDIR_SUMMARY = Summary(
    group_by=["year", "county_code", "county_name", "chapter_name"],
    columns=[
        SummaryColumn(header="År", key="year"),
        SummaryColumn(header="Fylkesnr", key="county_code"),
        SummaryColumn(header="Fylke", key="county_name"),
        SummaryColumn(header="Lokallag", key="chapter_name"),
        SummaryColumn(
            header="Aktive likepersoner",
            aggregate="count_distinct",
            source="peer_mentor_id",
            where={"counted": True},
        ),
        _days("Oppsøkende", "oppsøkende"),
        _days("Samtalegrupper", "samtalegruppe"),
        _days("Aktivitetsgrupper", "aktivitetsgruppe"),
        _days("Likepersonskurs", "likepersonskurs"),
        SummaryColumn(
            header="Sum tellende aktivitetsdager", aggregate="count", where={"counted": True}
        ),
        SummaryColumn(
            header="Deltakere",
            aggregate="sum",
            source="participant_count",
            where={"counted": True},
        ),
        SummaryColumn(
            header="Timer", aggregate="sum", source="hours", where={"counted": True}, decimals=2
        ),
        SummaryColumn(header="Ikke tellende", aggregate="count", where={"counted": False}),
    ],
)
