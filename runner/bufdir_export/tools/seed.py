"""Loading the demo data: supabase/seed.sql, then each organisation's column
configuration from configs/<slug>.json."""

from __future__ import annotations

import json
from typing import Any, LiteralString

import psycopg
from psycopg.types.json import Jsonb

from .._resources import configs_dir, seed_file
from ..postgres.queries import load_queries
from ..report.config_checks import parse_column_config

__all__ = ["DEMO_ORGANISATIONS", "apply_demo_seed", "shipped_config"]

DEMO_ORGANISATIONS = ("nhf", "blindeforbundet", "hlf")


def shipped_config(slug: str) -> dict[str, Any]:
    """The column configuration shipped for a demo organisation, as JSON data."""
    data: dict[str, Any] = json.loads((configs_dir() / f"{slug}.json").read_text("utf-8"))
    return data


async def apply_demo_seed(conn: psycopg.AsyncConnection[Any]) -> None:
    """Run supabase/seed.sql and save the shipped configurations, in one
    transaction (as `supabase db reset` would run the seed)."""
    # The file is this package's own SQL, run as written.
    script: LiteralString = seed_file().read_text(encoding="utf-8")
    queries = load_queries()
    async with conn.transaction():
        await conn.execute(script)
        for slug in DEMO_ORGANISATIONS:
            config = shipped_config(slug)
            parse_column_config(config)  # the seed saves only what the runner accepts
            await conn.execute(
                queries["seed_column_config"], {"slug": slug, "config": Jsonb(config)}
            )
