"""An organisation's column configuration versions: listed, read, and made
active, as a signed-in user (RLS and the database's function decide) or as
the connection's own role (an operator)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from .._errors import UsageError
from .queries import Queries

__all__ = [
    "ConfigVersion",
    "activate_version",
    "config_document",
    "config_versions",
    "organisation_of",
]


@dataclass(frozen=True, slots=True)
class ConfigVersion:
    """One saved version, and when it last became the active one, and by whom."""

    version: int
    is_active: bool
    created_by: UUID | None
    created_at: datetime
    description: str | None
    activated_by: str | None  # user:<id> or role:<role>, as the events name actors
    activated_at: datetime | None


async def organisation_of(conn: psycopg.AsyncConnection[Any], queries: Queries, slug: str) -> UUID:
    """The id of the organisation ``slug``, if the caller may see it."""
    cursor = await conn.execute(queries["organisation_by_slug"], {"slug": slug})
    found = await cursor.fetchone()
    if found is None:
        # Unknown, or not one of the user's: the same answer.
        raise UsageError(f"no organisation {slug!r} among the user's")
    return UUID(str(found[0]))


async def config_versions(
    conn: psycopg.AsyncConnection[Any], queries: Queries, organisation_id: UUID
) -> list[ConfigVersion]:
    """Newest first; empty when the caller may read none."""
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            queries["column_config_versions"], {"organisation_id": organisation_id}
        )
        return [ConfigVersion(**row) for row in await cursor.fetchall()]


async def config_document(
    conn: psycopg.AsyncConnection[Any],
    queries: Queries,
    organisation_id: UUID,
    version: int | None,
) -> tuple[int, bool, Any]:
    """(version, active, configuration) of ``version``, or of the active one."""
    cursor = await conn.execute(
        queries["column_config_document"],
        {"organisation_id": organisation_id, "version": version},
    )
    found = await cursor.fetchone()
    if found is None:
        which = "no active version" if version is None else f"no version {version}"
        raise UsageError(f"the organisation has {which} of its column configuration to show")
    return int(found[0]), bool(found[1]), found[2]


async def activate_version(
    conn: psycopg.AsyncConnection[Any], queries: Queries, organisation_id: UUID, version: int
) -> int:
    """Make ``version`` the active one (an admin of the organisation may); it."""
    cursor = await conn.execute(
        queries["activate_column_config"], {"organisation_id": organisation_id, "version": version}
    )
    found = await cursor.fetchone()
    if found is None:  # the function returns its row or raises
        raise UsageError(f"version {version} could not be activated")
    return int(found[0])
