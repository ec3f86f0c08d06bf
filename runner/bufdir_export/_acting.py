"""Acting as a signed-in user on a direct connection, the way PostgREST does."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import psycopg

from ._queries import Queries

__all__ = ["act_as_user"]


async def act_as_user(
    conn: psycopg.AsyncConnection[Any], queries: Queries, user_id: UUID | str
) -> None:
    """Be ``user_id`` (role ``authenticated``, their JWT claims) for the rest
    of the current transaction, so that RLS decides what they may do."""
    claims = json.dumps({"sub": str(user_id), "role": "authenticated"})
    await conn.execute(queries["act_as_user"], {"claims": claims})
