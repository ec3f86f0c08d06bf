"""What the report says, read back from real files made from the seeded database.

- Golden files: a fixed period per organisation, the xlsx read back with
  openpyxl (every cell's value, type and number format, both sheets) and the
  CSV byte for byte, equal to what is checked in under tests/golden.
  ``BUFDIR_EXPORT_UPDATE_GOLDEN=1`` rewrites them (then read the diff).
- The summary sheet equals an aggregate of the same rows computed in SQL,
  with the counting rules written independently as SQL.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from bufdir_export._models import ExportFormat
from bufdir_export.core.ports import GeneratedFile
from bufdir_export.postgres.activities import PostgresActivities
from bufdir_export.postgres.column_mapper import PostgresColumnMapper
from bufdir_export.postgres.queries import Queries
from bufdir_export.report.file_generator import StreamingFileGenerator
from bufdir_export.report.plugins import PluginRegistry
from bufdir_export.tools.seed import DEMO_ORGANISATIONS, shipped_config
from tests.integration.contract import stored_export
from tests.support import ADMINS, BASIS, ORGS

GOLDEN = Path(__file__).parents[1] / "golden"
UPDATE = os.environ.get("BUFDIR_EXPORT_UPDATE_GOLDEN") == "1"
# Summer 2024: each organisation's every kind of activity, and three of NHF's
# activities recorded twice.
GOLDEN_PERIOD = (date(2024, 6, 1), date(2024, 8, 31))


async def _nothing(done: int, total: int) -> None:
    return None


async def _report(
    conn: psycopg.AsyncConnection[Any],
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    work: Path,
    slug: str,
    file_format: ExportFormat,
    period: tuple[date, date],
) -> GeneratedFile:
    """The report file, made as the runner makes it (without the audit around it)."""
    export = await stored_export(
        conn,
        ADMINS[slug],
        ORGS[slug],
        id=uuid.UUID(int=42),  # the golden files hold it
        period_start=period[0],
        period_end=period[1],
        format=file_format.value,
    )
    mapping = await PostgresColumnMapper(pool, queries, PluginRegistry.installed()).prepare(export)
    source = PostgresActivities(pool, queries)
    total = await source.count(export)
    generator = StreamingFileGenerator(work)
    return await generator.generate(
        export, mapping, source.stream(export), total, _nothing, basis=BASIS
    )


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _sheets(path: Path) -> dict[str, list[list[list[object]]]]:
    """Every cell of every sheet: [value, openpyxl data type, number format]."""
    workbook = openpyxl.load_workbook(path)
    return {
        sheet.title: [
            [[_plain(cell.value), cell.data_type, cell.number_format] for cell in row]
            for row in sheet.iter_rows()
        ]
        for sheet in workbook.worksheets
    }


def summary_figures(sheet: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The summary sheet's group rows and its totals row, each by header."""
    table = list(sheet.iter_rows(values_only=True))
    end = next(i for i, row in enumerate(table) if row[0] == "Totalt")
    groups = [dict(zip(table[0], row, strict=True)) for row in table[1:end]]
    return groups, dict(zip(table[0], table[end], strict=True))


def _compare_or_update(golden: Path, produced: bytes) -> None:
    if UPDATE:
        golden.write_bytes(produced)
    assert golden.exists(), f"{golden} is missing: run with BUFDIR_EXPORT_UPDATE_GOLDEN=1"
    assert produced == golden.read_bytes(), f"{golden.name} differs from what is checked in"


@pytest.mark.parametrize("slug", DEMO_ORGANISATIONS)
async def test_the_xlsx_equals_its_golden_file(
    conn: psycopg.AsyncConnection[Any],
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    tmp_path: Path,
    slug: str,
) -> None:
    made = await _report(conn, pool, queries, tmp_path, slug, ExportFormat.XLSX, GOLDEN_PERIOD)
    sheets = _sheets(made.path)
    assert list(sheets) == ["Sammendrag", "Aktiviteter"]
    assert len(sheets["Aktiviteter"]) == made.row_count + 1 > 20
    text = json.dumps(sheets, ensure_ascii=False, indent=1) + "\n"
    _compare_or_update(GOLDEN / f"{slug}.xlsx.json", text.encode("utf-8"))


@pytest.mark.parametrize("slug", DEMO_ORGANISATIONS)
async def test_the_csv_equals_its_golden_file_byte_for_byte(
    conn: psycopg.AsyncConnection[Any],
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    tmp_path: Path,
    slug: str,
) -> None:
    made = await _report(conn, pool, queries, tmp_path, slug, ExportFormat.CSV, GOLDEN_PERIOD)
    produced = made.path.read_bytes()
    assert produced.startswith(b"\xef\xbb\xbf")
    assert produced.count(b"\r\n") == made.row_count + 1
    _compare_or_update(GOLDEN / f"{slug}.csv", produced)


def test_the_nhf_golden_file_shows_the_activities_recorded_twice() -> None:
    sheets = json.loads((GOLDEN / "nhf.xlsx.json").read_text(encoding="utf-8"))
    reasons = [row[-1][0] for row in sheets["Aktiviteter"][1:]]
    # Three activities recorded twice in the period; a copy shows the reason
    # where the activity counts at all.
    assert reasons.count("registrert i flere lokallag") >= 1
    assert {"under 3 deltakere", "telefon", "utland", "ikke fysisk oppmøte"} <= set(reasons)


# The counting rules and NHF's one-chapter-per-day rule, as SQL of their own.
INDEPENDENT_SUMMARY = """
with categories as (
  select config -> 'categories' as map from public.bufdir_column_configs
  where organisation_id = %(org)s and is_active
),
rows as (
  select a.peer_mentor_id, a.activity_type_id, a.activity_date, a.duration_minutes,
         a.participant_count, a.contact_method, a.in_norway,
         c.county_code, k.name as county_name, c.name as chapter_name,
         categories.map ->> t.code as category
  from public.activities a
  join public.local_chapters c on c.id = a.chapter_id
  join public.counties k on k.code = c.county_code
  join public.activity_types t on t.id = a.activity_type_id
  cross join categories
  where a.organisation_id = %(org)s and a.activity_date between %(start)s and %(end)s
),
ruled as (
  select *, not (
       category = 'ikke_tellende'
    or not in_norway
    or (category = 'oppsøkende' and contact_method <> 'in_person')
    or (category in ('samtalegruppe', 'aktivitetsgruppe')
        and (participant_count < 3 or duration_minutes < 45))
    or (category = 'likepersonskurs' and duration_minutes < 90)
    or (category = 'oppsøkende' and participant_count < 1)
  ) as passes
  from rows
),
judged as (
  select *, passes and (not %(one_chapter_per_day)s or dense_rank() over (
    partition by peer_mentor_id, activity_type_id, activity_date, passes
    order by county_code, chapter_name) = 1) as counted
  from ruled
)
select extract(year from activity_date)::int, county_code, county_name, chapter_name,
       count(distinct peer_mentor_id) filter (where counted),
       count(*) filter (where counted and category = 'oppsøkende'),
       count(*) filter (where counted and category = 'samtalegruppe'),
       count(*) filter (where counted and category = 'aktivitetsgruppe'),
       count(*) filter (where counted and category = 'likepersonskurs'),
       count(*) filter (where counted),
       coalesce(sum(participant_count) filter (where counted), 0),
       coalesce(sum(round(duration_minutes / 60.0, 2)) filter (where counted), 0)::float8,
       count(*) filter (where not counted)
from judged
group by grouping sets ((1, 2, 3, 4), ())
"""
SUMMARY_HEADERS = [
    "År", "Fylkesnr", "Fylke", "Lokallag", "Aktive likepersoner", "Oppsøkende",
    "Samtalegrupper", "Aktivitetsgrupper", "Likepersonskurs", "Sum tellende aktivitetsdager",
    "Deltakere", "Timer", "Ikke tellende",
]  # fmt: skip


@pytest.mark.parametrize("slug", DEMO_ORGANISATIONS)
async def test_the_summary_equals_an_independent_sql_aggregate(
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    conn: psycopg.AsyncConnection[Any],
    tmp_path: Path,
    slug: str,
) -> None:
    period = (date(2024, 7, 1), date(2025, 6, 30))  # two years in one reporting year
    made = await _report(conn, pool, queries, tmp_path, slug, ExportFormat.XLSX, period)
    groups, totals = summary_figures(openpyxl.load_workbook(made.path)["Sammendrag"])
    produced = {
        tuple(group[h] for h in SUMMARY_HEADERS[:4]): [group[h] for h in SUMMARY_HEADERS]
        for group in groups
    }
    produced_totals = [totals[h] for h in SUMMARY_HEADERS[4:]]

    cursor = await conn.execute(
        INDEPENDENT_SUMMARY,
        {"org": ORGS[slug], "start": period[0], "end": period[1],
         "one_chapter_per_day": slug == "nhf"},
    )  # fmt: skip
    expected: dict[tuple[object, ...], list[object]] = {}
    expected_totals: list[object] = []
    for row in await cursor.fetchall():
        if row[0] is None:
            expected_totals = list(row[4:])
        else:
            expected[tuple(row[:4])] = list(row)

    assert len(produced) >= 5
    assert produced == expected
    assert produced_totals == expected_totals
    assert sum(row[9] for row in produced.values()) == produced_totals[5]  # days add up
    assert made.counted_days == expected_totals[5]  # what the audit record will say


# How a reader finds the chapter of a row on each organisation's activity sheet.
CHAPTER_OF: dict[str, Any] = {
    "nhf": lambda row: row["Lokallag"],
    "blindeforbundet": lambda row: row["Sted"].split(" / ", 1)[1],
    "hlf": lambda row: row["Lokallag"],
}
CATEGORY_HEADERS = {
    "oppsøkende": "Oppsøkende", "samtalegruppe": "Samtalegrupper",
    "aktivitetsgruppe": "Aktivitetsgrupper", "likepersonskurs": "Likepersonskurs",
}  # fmt: skip


def _records(sheet: Any) -> list[dict[str, Any]]:
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.mark.parametrize("slug", DEMO_ORGANISATIONS)
async def test_every_figure_of_the_summary_is_what_the_activity_sheet_shows(
    pool: AsyncConnectionPool[Any],
    queries: Queries,
    conn: psycopg.AsyncConnection[Any],
    tmp_path: Path,
    slug: str,
) -> None:
    # As an auditor checks it: count and sum the visible cells of Aktiviteter
    # (the hours as shown, two decimals), chapter by chapter, for a base year.
    made = await _report(
        conn,
        pool,
        queries,
        tmp_path,
        slug,
        ExportFormat.XLSX,
        (date(2025, 1, 1), date(2025, 12, 31)),
    )
    workbook = openpyxl.load_workbook(made.path)
    activities = _records(workbook["Aktiviteter"])
    groups, totals = summary_figures(workbook["Sammendrag"])
    by_chapter = {group["Lokallag"]: group for group in groups}
    labels = shipped_config(slug)["columns"]
    category_column = next(c for c in labels if c.get("source") == "category")
    category_of = {label: key for key, label in category_column["transform"]["values"].items()}

    seen: dict[str, dict[str, Any]] = {}
    for row in activities:
        chapter = seen.setdefault(CHAPTER_OF[slug](row), {
            "days": 0, "hours": Decimal(0), "people": 0, "not": 0, "mentors": set(),
            **dict.fromkeys(CATEGORY_HEADERS.values(), 0),
        })  # fmt: skip
        if row["Tellende"] != "Ja":
            chapter["not"] += 1
            continue
        chapter["days"] += 1
        chapter[CATEGORY_HEADERS[category_of[row[category_column["header"]]]]] += 1
        chapter["hours"] += Decimal(str(row["Timer"]))
        chapter["people"] += row["Deltakere"]
        chapter["mentors"].add(row["Likeperson"])

    assert set(seen) == set(by_chapter)
    for name, shown in seen.items():
        figures = by_chapter[name]
        assert figures["Sum tellende aktivitetsdager"] == shown["days"], name
        assert Decimal(str(figures["Timer"])) == shown["hours"], name
        assert figures["Deltakere"] == shown["people"], name
        assert figures["Ikke tellende"] == shown["not"], name
        for header in CATEGORY_HEADERS.values():
            assert figures[header] == shown[header], (name, header)
        assert figures["Aktive likepersoner"] == len(shown["mentors"]), name
    assert Decimal(str(totals["Timer"])) == sum(s["hours"] for s in seen.values())
    assert totals["Sum tellende aktivitetsdager"] == sum(s["days"] for s in seen.values())
    everyone = set().union(*(s["mentors"] for s in seen.values()))
    assert totals["Aktive likepersoner"] == len(everyone)
    # Each peer mentor counts once in the total: less than the chapters' sum.
    assert totals["Aktive likepersoner"] < sum(len(s["mentors"]) for s in seen.values())
