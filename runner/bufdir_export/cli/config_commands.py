"""The command line's configuration versions: list, show, diff, activate.

Read as the user ``--as`` names (RLS: the organisation's coordinators and
admins read its versions) or, without it, as the connection's own role;
activated only as an admin of the organisation (the database's function
decides, and records who did).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import psycopg
import typer
from rich.table import Table

from .._errors import UsageError
from .._settings import Settings
from ..postgres.acting import caller_session, find_caller
from ..postgres.config_versions import (
    activate_version,
    config_document,
    config_versions,
    organisation_of,
)
from ..postgres.queries import Queries, load_queries
from .support import err, one_line_errors, out, run

__all__ = ["config_activate", "config_diff", "config_list", "config_show"]

T = TypeVar("T")
Org = Annotated[str, typer.Option("--org", help="Organisation slug (e.g. nhf).")]
ReadAs = Annotated[
    str | None,
    typer.Option(
        "--as",
        envvar="BUFDIR_EXPORT_AS",
        help="Read as this user (id or email); RLS decides. Default: the connection's role.",
    ),
]


def _as(
    who: str | None,
    organisation: str,
    work: Callable[[psycopg.AsyncConnection[Any], Queries, Any], Awaitable[T]],
) -> T:
    """``work(conn, queries, organisation id)`` in one transaction, as ``who``."""
    settings = Settings()
    queries = load_queries()
    conninfo = settings.required_conninfo()
    timeout = settings.connect_timeout_seconds

    async def go() -> T:
        caller = (
            None
            if who is None
            else await find_caller(conninfo, queries, who, connect_timeout=timeout)
        )
        async with caller_session(conninfo, queries, caller, connect_timeout=timeout) as conn:
            return await work(conn, queries, await organisation_of(conn, queries, organisation))

    return run(go())


def _pretty(config: Any) -> list[str]:
    return json.dumps(config, indent=2, ensure_ascii=False, sort_keys=True).splitlines()


@one_line_errors
def config_list(organisation: Org, who: ReadAs = None) -> None:
    """The organisation's saved versions, newest first: which is active, who
    saved each and when, and when each last became the active one, by whom."""

    async def work(conn: psycopg.AsyncConnection[Any], queries: Queries, org: Any) -> Any:
        return await config_versions(conn, queries, org)

    versions = _as(who, organisation, work)
    if not versions:
        err.print(f"no column configuration of {organisation} that you may read", highlight=False)
        return
    table = Table(title=f"Column configurations of {organisation}", title_justify="left")
    for header in ("version", "active", "saved", "saved by", "last activated", "by", "description"):
        table.add_column(header, justify="right" if header == "version" else "left")
    for v in versions:
        table.add_row(
            str(v.version),
            "yes" if v.is_active else "",
            v.created_at.isoformat(timespec="seconds"),
            str(v.created_by or ""),
            v.activated_at.isoformat(timespec="seconds") if v.activated_at else "",
            v.activated_by or "",
            v.description or "",
        )
    out.print(table)


@one_line_errors
def config_show(
    organisation: Org,
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="Which version (default: the active).")
    ] = None,
    who: ReadAs = None,
) -> None:
    """Print one version's configuration (JSON), the active one by default."""

    async def work(conn: psycopg.AsyncConnection[Any], queries: Queries, org: Any) -> Any:
        return await config_document(conn, queries, org, version)

    _, _, config = _as(who, organisation, work)
    out.print_json(json.dumps(config, ensure_ascii=False))


@one_line_errors
def config_diff(
    organisation: Org,
    first: Annotated[int, typer.Argument(min=1, help="The version to compare from.")],
    second: Annotated[int, typer.Argument(min=1, help="The version to compare with.")],
    who: ReadAs = None,
) -> None:
    """What changed from one version to another, as a unified diff of their
    JSON (keys sorted, so that only changes show). Nothing printed: the same."""

    async def work(conn: psycopg.AsyncConnection[Any], queries: Queries, org: Any) -> Any:
        return [(await config_document(conn, queries, org, n))[2] for n in (first, second)]

    old, new = _as(who, organisation, work)
    for line in difflib.unified_diff(
        _pretty(old), _pretty(new), f"{organisation} version {first}",
        f"{organisation} version {second}", lineterm="",
    ):  # fmt: skip
        out.print(line, highlight=False, markup=False, soft_wrap=True)


@one_line_errors
def config_activate(
    organisation: Org,
    version: Annotated[int, typer.Argument(min=1, help="The saved version to make active.")],
    who: Annotated[
        str | None,
        typer.Option(
            "--as", envvar="BUFDIR_EXPORT_AS", help="The admin activating it (id or email)."
        ),
    ] = None,
) -> None:
    """Make a saved version the organisation's active one (a roll-back is
    activating an older one). Only an admin of the organisation may; the
    database records who did and when, and the next exports use it."""
    if who is None:
        raise UsageError("--as is required: a configuration is activated by an admin")

    async def work(conn: psycopg.AsyncConnection[Any], queries: Queries, org: Any) -> Any:
        before = [v.version for v in await config_versions(conn, queries, org) if v.is_active]
        return before, await activate_version(conn, queries, org, version)

    before, active = _as(who, organisation, work)
    was = f" (was {before[0]})" if before and before[0] != active else " (it was already)"
    out.print(f"version {active} of {organisation} is active{was}", highlight=False)
