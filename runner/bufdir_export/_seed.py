"""Loading the demo data of supabase/seed.sql."""

from __future__ import annotations

from typing import Any, LiteralString

import psycopg

from ._resources import seed_file

__all__ = ["apply_demo_seed"]


async def apply_demo_seed(conn: psycopg.AsyncConnection[Any]) -> None:
    """Run supabase/seed.sql in one transaction (as `supabase db reset` would)."""
    # The file is this package's own SQL, run as written.
    script: LiteralString = seed_file().read_text(encoding="utf-8")
    async with conn.transaction():
        await conn.execute(script)
