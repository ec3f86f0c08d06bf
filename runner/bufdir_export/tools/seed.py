"""The demo data: supabase/seed.sql, which also holds each organisation's
column configuration, generated from configs/<slug>.json.

The configurations are written into the seed file as rows of data
(``python -m bufdir_export.tools.seed`` rewrites them) so that the file alone, as
the Supabase CLI loads it on ``supabase db reset``, gives a database whose
exports work; ``tests/unit/test_seed_file.py`` fails when the file and the
JSON files differ.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, LiteralString

import psycopg

from .._resources import configs_dir, seed_file
from ..report.config_checks import parse_column_config

__all__ = [
    "DEMO_ORGANISATIONS",
    "apply_demo_seed",
    "config_rows",
    "seed_file_configs",
    "shipped_config",
    "write_config_rows",
]

DEMO_ORGANISATIONS = ("nhf", "blindeforbundet", "hlf")
# The seed file's rows of configurations lie between these two lines.
_BEGIN = "-- begin: configs/<slug>.json\n"
_END = "-- end: configs/<slug>.json\n"
_QUOTE = "$config$"


def shipped_config(slug: str) -> dict[str, Any]:
    """The column configuration shipped for a demo organisation, as JSON data."""
    data: dict[str, Any] = json.loads((configs_dir() / f"{slug}.json").read_text("utf-8"))
    return data


def config_rows() -> str:
    """The rows the seed file saves: each shipped configuration as it is, by
    position. Only what the runner accepts is written (a bad file raises here)."""
    rows = []
    for position, slug in enumerate(DEMO_ORGANISATIONS, start=1):
        config = shipped_config(slug)
        parse_column_config(config)
        text = json.dumps(config, ensure_ascii=False, indent=2)
        if _QUOTE in text:  # pragma: no cover - the shipped files hold no such text
            raise ValueError(f"configs/{slug}.json holds the text {_QUOTE}")
        rows.append(f"  ({position}, '{slug}', {_QUOTE}{text}{_QUOTE}::jsonb)")
    return ",\n".join(rows) + "\n"


def seed_file_configs(text: str) -> str:
    """What the seed file holds between its two configuration markers."""
    start = text.index(_BEGIN) + len(_BEGIN)
    return text[start : text.index(_END, start)]


def write_config_rows(path: Path | None = None) -> bool:
    """Write the shipped configurations into the seed file; whether it changed."""
    target = path or seed_file()
    text = target.read_text(encoding="utf-8")
    start = text.index(_BEGIN) + len(_BEGIN)
    updated = text[:start] + config_rows() + text[text.index(_END, start) :]
    if updated == text:
        return False
    target.write_text(updated, encoding="utf-8")
    return True


async def apply_demo_seed(conn: psycopg.AsyncConnection[Any]) -> None:
    """Run supabase/seed.sql in one transaction, as `supabase db reset` runs it."""
    # The file is this package's own SQL, run as written.
    script: LiteralString = seed_file().read_text(encoding="utf-8")
    async with conn.transaction():
        await conn.execute(script)


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    print("rewritten" if write_config_rows() else "already up to date")
