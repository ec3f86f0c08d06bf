"""Acting as a signed-in user on a direct connection, the way PostgREST does.

PostgREST runs each request in a transaction with ``role authenticated`` and
the JWT's claims in ``request.jwt.claims``; ``auth.uid()`` reads them, and
RLS decides. :func:`act_as_user` does the same on one of our connections,
for the rest of the current transaction only.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg

from .._errors import ConfigurationError, UsageError
from .._models import Caller
from .error_translation import translate_error
from .queries import Queries

__all__ = ["act_as_role", "act_as_user", "caller_session", "find_caller"]


async def act_as_role(conn: psycopg.AsyncConnection[Any], queries: Queries, role: str) -> None:
    """``SET ROLE`` for the session; a login that may not says which grant it lacks."""
    try:
        await conn.execute(queries["act_as_runner_role"], {"role": role})
    except psycopg.errors.InsufficientPrivilege:
        user = conn.info.user
        raise ConfigurationError(
            f"the database user {user} may not act as role {role}:"
            f' run `grant {role} to "{user}"` as the database owner,'
            " or set BUFDIR_EXPORT_DB_ROLE to a role it may use"
        ) from None


async def act_as_user(conn: psycopg.AsyncConnection[Any], queries: Queries, caller: Caller) -> None:
    """Be ``caller`` (role ``authenticated``, their JWT claims) for the rest of
    the current transaction, so that RLS decides what they may do."""
    await conn.execute(queries["act_as_user"], {"claims": json.dumps(caller.claims())})


@asynccontextmanager
async def caller_session(
    conninfo: str, queries: Queries, caller: Caller | None, *, connect_timeout: float = 10.0
) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """One connection and one transaction, as ``caller`` (or, with None, as the
    connection's own role: an operator's view). Database errors leave it as
    this package's exceptions."""
    try:
        async with (
            await psycopg.AsyncConnection.connect(
                conninfo, autocommit=True, connect_timeout=max(1, round(connect_timeout))
            ) as conn,
            conn.transaction(),
        ):
            if caller is not None:
                await act_as_user(conn, queries, caller)
            yield conn
    except psycopg.Error as error:
        raise translate_error(error) from error


async def find_caller(
    conninfo: str, queries: Queries, who: str, *, connect_timeout: float = 10.0
) -> Caller:
    """The user ``who`` names: their id, or the email they sign in with (looked
    up in ``auth.users``, which only a server role can read)."""
    try:
        return Caller(uuid.UUID(who))
    except ValueError:
        pass
    if "@" not in who:
        raise UsageError(f"a user is named by id (a UUID) or email, not {who!r}")
    async with caller_session(conninfo, queries, None, connect_timeout=connect_timeout) as conn:
        cursor = await conn.execute(queries["user_by_email"], {"email": who})
        found = await cursor.fetchone()
    if found is None:
        raise UsageError(f"no user signs in as {who!r}")
    return Caller(found[0])
