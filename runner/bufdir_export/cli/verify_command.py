"""``bufdir-export audit verify``: walk the audit chain and say whether it holds.

It reads as the connection's own role (an operator, or the owner: it needs
every event of the organisations it verifies) and recomputes every hash
itself. Exit 0 when every chain holds, 1 when one breaks (or it could not be
read), 2 for a usage mistake.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import psycopg
import typer
from rich.markup import escape

from .._settings import Settings
from ..postgres.chain_reader import OrganisationChain, verify_chains
from ..postgres.queries import load_queries
from .support import err, one_line_errors, out, run

__all__ = ["print_chain", "verify"]


@one_line_errors
def verify(
    organisation: Annotated[
        str | None, typer.Option("--org", help="Only this organisation (slug).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")] = False,
) -> None:
    """Check that the audit trail is as the database wrote it.

    Every organisation's events and records (files deleted, configuration
    versions used and activated) form a hash chain, and an export's request
    and result are pinned in its events. Exits 0 when every chain holds, and 1
    naming the first export and event or record where one breaks: one deleted,
    changed or inserted by hand, or a pinned column changed.
    """
    settings = Settings()
    queries = load_queries()

    async def go() -> list[OrganisationChain]:
        async with await psycopg.AsyncConnection.connect(
            settings.required_conninfo(),
            connect_timeout=max(1, round(settings.connect_timeout_seconds)),
        ) as conn:
            return await verify_chains(conn, queries, slug=organisation)

    chains = run(go())
    holds = all(chain.holds for chain in chains)
    if as_json:
        document = {"holds": holds, "organisations": [_as_json(chain) for chain in chains]}
        out.print_json(json.dumps(document, ensure_ascii=False))
    else:
        for chain in chains:
            print_chain(chain)
    if not holds:
        raise typer.Exit(1)


def _as_json(chain: OrganisationChain) -> dict[str, Any]:
    broken = None
    if chain.broken is not None:
        broken = asdict(chain.broken)
    return {
        "organisation": chain.organisation,
        "holds": chain.holds,
        "events": chain.events,
        "exports": chain.exports,
        "records": chain.records,
        "head": {"event_id": chain.head_event_id, "hash": chain.head_hash},
        "broken": broken,
    }


def print_chain(chain: OrganisationChain) -> None:
    """One line: the chain holds (with its head), or where it breaks."""
    counts = f"{chain.events} events, {chain.exports} exports, {chain.records} records"
    if chain.broken is None:
        head = (
            "nothing chained yet"
            if chain.head_event_id is None
            else (f"head: link {chain.head_event_id}, sha256 {chain.head_hash}")
        )
        out.print(
            f"{chain.organisation}: holds ({counts}; {head})", highlight=False, soft_wrap=True
        )
        return
    where = chain.broken.export_id or "-"
    err.print(
        f"[red]{escape(chain.organisation)}: broken[/red] at export {where}:"
        f" {escape(chain.broken.reason)}"
        f" ({counts} read)",
        highlight=False,
        soft_wrap=True,
    )
