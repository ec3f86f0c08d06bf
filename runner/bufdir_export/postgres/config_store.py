"""Saving a column configuration, as an organisation's admin.

Checked here first (the JSON shape, every expression, the organisation's
activity types), then inserted as the signed-in user: RLS decides whether
they may, and the database checks the shape again and numbers the version.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from .._models import Caller
from ..report.column_config import ColumnConfig
from ..report.config_checks import check_activity_types, parse_column_config
from .acting import act_as_user
from .config_versions import organisation_of
from .error_translation import translate_error
from .queries import Queries

__all__ = ["save_column_config"]


async def save_column_config(
    conn: psycopg.AsyncConnection[Any],
    queries: Queries,
    *,
    organisation_slug: str,
    user_id: UUID,
    document: Any,
) -> tuple[ColumnConfig, int]:
    """Check ``document`` and save it as the organisation's active version,
    as ``user_id``: the configuration and its new version number."""
    config = parse_column_config(document)
    try:
        async with conn.transaction():
            await act_as_user(conn, queries, Caller(user_id))
            organisation_id = await organisation_of(conn, queries, organisation_slug)
            cursor = await conn.execute(
                queries["activity_type_codes"], {"organisation_id": organisation_id}
            )
            check_activity_types(config, [str(code) for (code,) in await cursor.fetchall()])
            cursor = await conn.execute(
                queries["save_column_config"],
                {"organisation_id": organisation_id, "config": Jsonb(document)},
            )
            saved = await cursor.fetchone()
    except psycopg.Error as error:
        raise translate_error(error) from error
    assert saved is not None  # noqa: S101 - insert ... returning
    return config, int(saved[0])
