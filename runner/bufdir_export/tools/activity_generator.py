"""Bulk activities for benchmarks, written with COPY.

The same arguments always give the same rows (ids and timestamps aside, which
the database assigns): every value comes from one :class:`random.Random`
seeded with the organisation's slug and ``seed``. The mix resembles the demo
seed, including what Bufdir does not count: activities under 45 minutes
(exactly 44 among them), groups of fewer than 3 (exactly 2 among them), phone
calls, activities abroad, and boundary cases that just count (exactly 45
minutes, exactly 3 participants, a course day of exactly 90 minutes). Which of
them counts depends on the activity type, which the organisation's column
configuration maps; the generator does not need to know it.

Peer mentors are pseudonymous uuids from a pool that grows with ``count``.
Notes stay empty: generated data never carries text about a person.

Rows are made as they are written, so memory stays flat however many are
asked for. Each batch of ``batch_size`` rows is one COPY in its own
transaction (a savepoint when the caller has a transaction open).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from functools import cache
from typing import Any, LiteralString

import psycopg

from .._errors import UsageError
from ..postgres.error_translation import translate_error
from ..postgres.queries import Queries, load_queries

__all__ = ["generate_activities"]

Row = tuple[str, str, str, str, str, int, int, str, bool, None, str | None]

# Weighted tables, read with table[int(random() * len(table))].
_REGULAR_MINUTES = (45, 50, 60, 60, 60, 75, 90, 90, 90, 120, 120, 150, 180, 240, 360)
_REGULAR_PARTICIPANTS = (1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 7, 8, 10, 12, 15, 20)
_REGULAR_CONTACT = ("in_person",) * 17 + ("video", "video", "digital")
_SHORT_MINUTES = (44, 44, 44, 40, 30, 30, 20, 15)
_FEW_PARTICIPANTS = (2, 2, 2, 1)
_PHONE_MINUTES = (10, 15, 20, 30, 45, 60)
_BOUNDARY = ((45, 3), (45, 5), (60, 3), (90, 3), (90, 8))  # (minutes, participants)

# What each activity is, out of twenty: mostly ordinary, one each of the rest.
_REGULAR, _TOO_SHORT, _TOO_FEW, _PHONE, _ABROAD, _BOUNDARY_CASE = range(6)
_KINDS = (_REGULAR,) * 15 + (_TOO_SHORT, _TOO_FEW, _PHONE, _ABROAD, _BOUNDARY_CASE)

_MIN_MENTORS = 20
_ROWS_PER_MENTOR = 200


@cache
def _default_queries() -> Queries:
    return load_queries()


async def generate_activities(
    conn: psycopg.AsyncConnection[Any],
    *,
    organisation_slug: str,
    count: int,
    seed: int = 0,
    period_start: date = date(2024, 1, 1),
    period_end: date = date(2025, 12, 31),
    batch_size: int = 10_000,
    queries: Queries | None = None,
) -> int:
    """Write ``count`` activities for the organisation with COPY; return how many were written.

    Raises :class:`UsageError` for an unknown organisation, one without
    local chapters or activity types, or arguments that cannot work.
    """
    if count < 0:
        raise UsageError(f"cannot generate a negative number of activities ({count})")
    if batch_size < 1:
        raise UsageError(f"batch size must be at least 1, not {batch_size}")
    if period_end < period_start:
        raise UsageError(f"the period ends ({period_end}) before it starts ({period_start})")
    if queries is None:
        queries = _default_queries()

    try:
        async with conn.transaction():
            organisation_id = await _one(
                conn, queries["generate_organisation"], {"slug": organisation_slug}
            )
            if organisation_id is None:
                raise UsageError(f"no organisation with slug {organisation_slug!r}")
            params = {"organisation_id": organisation_id}
            chapters = await _column(conn, queries["generate_chapters"], params)
            types = await _column(conn, queries["generate_activity_types"], params)
            recorder = await _one(conn, queries["generate_recorder"], params)
        if not chapters:
            raise UsageError(f"organisation {organisation_slug!r} has no local chapters")
        if not types:
            raise UsageError(f"organisation {organisation_slug!r} has no activity types")

        rows = _rows(
            rng=random.Random(f"{organisation_slug}/{seed}"),  # noqa: S311 - test data
            organisation_id=str(organisation_id),
            chapters=[str(c) for c in chapters],
            types=[str(t) for t in types],
            recorder=None if recorder is None else str(recorder),
            mentors=max(_MIN_MENTORS, count // _ROWS_PER_MENTOR),
            period_start=period_start,
            days=(period_end - period_start).days + 1,
        )
        written = 0
        while written < count:
            batch = min(batch_size, count - written)
            async with (
                conn.transaction(),
                conn.cursor() as cursor,
                cursor.copy(queries["generate_copy_activities"]) as copy,
            ):
                for _ in range(batch):
                    await copy.write_row(next(rows))
            written += batch
    except psycopg.Error as error:
        raise translate_error(error) from error
    return written


async def _one(
    conn: psycopg.AsyncConnection[Any], query: LiteralString, params: dict[str, Any]
) -> Any | None:
    cursor = await conn.execute(query, params)
    row = await cursor.fetchone()
    return None if row is None else row[0]


async def _column(
    conn: psycopg.AsyncConnection[Any], query: LiteralString, params: dict[str, Any]
) -> list[Any]:
    cursor = await conn.execute(query, params)
    return [row[0] for row in await cursor.fetchall()]


def _rows(
    *,
    rng: random.Random,
    organisation_id: str,
    chapters: list[str],
    types: list[str],
    recorder: str | None,
    mentors: int,
    period_start: date,
    days: int,
) -> Iterator[Row]:
    """Activities without end, each drawn as it is asked for."""
    pool = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(mentors)]
    start = period_start.toordinal()
    draw = rng.random

    def pick(table: tuple[Any, ...] | list[str]) -> Any:
        return table[int(draw() * len(table))]

    shape: dict[int, Callable[[], tuple[int, int, str, bool]]] = {
        _REGULAR: lambda: (
            pick(_REGULAR_MINUTES),
            pick(_REGULAR_PARTICIPANTS),
            pick(_REGULAR_CONTACT),
            True,
        ),
        _TOO_SHORT: lambda: (pick(_SHORT_MINUTES), pick(_REGULAR_PARTICIPANTS), "in_person", True),
        _TOO_FEW: lambda: (pick(_REGULAR_MINUTES), pick(_FEW_PARTICIPANTS), "in_person", True),
        _PHONE: lambda: (pick(_PHONE_MINUTES), 1, "phone", True),
        _ABROAD: lambda: (
            pick(_REGULAR_MINUTES),
            pick(_REGULAR_PARTICIPANTS),
            "in_person",
            False,
        ),
        _BOUNDARY_CASE: lambda: (*pick(_BOUNDARY), "in_person", True),
    }
    while True:
        minutes, participants, contact, in_norway = shape[pick(_KINDS)]()
        yield (
            organisation_id,
            pick(chapters),
            pick(pool),
            pick(types),
            date.fromordinal(start + int(draw() * days)).isoformat(),
            minutes,
            participants,
            contact,
            in_norway,
            None,
            recorder,
        )
