"""Verifying the audit chain of PostgreSQL: each organisation's events,
records, head and exports read back as stored, and checked by
:mod:`bufdir_export.core.chain_check`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from .._errors import UsageError
from ..core.chain_check import (
    ChainBreak,
    ChainEvent,
    ChainExport,
    ChainHead,
    ChainRecord,
    check_chain,
)
from .queries import Queries

__all__ = ["OrganisationChain", "verify_chains"]


@dataclass(frozen=True, slots=True)
class OrganisationChain:
    """One organisation's chain: how far it was walked, its head, its first break."""

    organisation: str
    events: int
    exports: int
    records: int
    head_event_id: int | None
    head_hash: str | None
    broken: ChainBreak | None

    @property
    def holds(self) -> bool:
        return self.broken is None


async def verify_chains(
    conn: psycopg.AsyncConnection[Any], queries: Queries, *, slug: str | None = None
) -> list[OrganisationChain]:
    """Every organisation's chain (or the one ``slug`` names), checked, all of
    them in one snapshot (a read-only, repeatable-read transaction)."""
    await conn.set_read_only(True)
    await conn.set_isolation_level(psycopg.IsolationLevel.REPEATABLE_READ)
    async with conn.transaction():
        await conn.execute(queries["chain_in_utc"])
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(queries["chain_organisations"], {"slug": slug})
            organisations = await cur.fetchall()
        if slug is not None and not organisations:
            raise UsageError(f"--org: no organisation has the slug {slug!r}")
        return [await _verify(conn, queries, row["id"], row["slug"]) for row in organisations]


async def _verify(
    conn: psycopg.AsyncConnection[Any], queries: Queries, organisation_id: UUID, slug: str
) -> OrganisationChain:
    params = {"organisation_id": organisation_id}
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(queries["chain_head"], params)
        head_row = await cur.fetchone()
        await cur.execute(queries["chain_exports"], params)
        exports = [ChainExport(r["id"], r["status"], r["row"]) for r in await cur.fetchall()]
        await cur.execute(queries["chain_events"], params)
        events = [ChainEvent(**row) for row in await cur.fetchall()]
        await cur.execute(queries["chain_records"], params)
        records = [
            ChainRecord(organisation_id=str(organisation_id), **row) for row in await cur.fetchall()
        ]
    head = None if head_row is None else ChainHead(head_row["event_id"], head_row["hash"])
    broken, count = check_chain(events, head, exports, records)
    return OrganisationChain(
        organisation=slug,
        events=count,
        exports=len(exports),
        records=len(records),
        head_event_id=None if head is None else head.event_id,
        head_hash=None if head is None else head.hash,
        broken=broken,
    )
