"""Where the SQL files live: inside the installed wheel, or in the source tree."""

from __future__ import annotations

from pathlib import Path

__all__ = ["configs_dir", "migrations_dir", "queries_dir", "seed_file", "shim_file"]

_PACKAGE = Path(__file__).resolve().parent
_SOURCE_TREE = _PACKAGE.parents[1]  # runner/bufdir_export -> the repository root


def _locate(packaged: str, source: str) -> Path:
    candidate = _PACKAGE / "_data" / packaged
    return candidate if candidate.exists() else _SOURCE_TREE / source


def queries_dir() -> Path:
    return _locate("sql", "sql")


def migrations_dir() -> Path:
    return _locate("migrations", "supabase/migrations")


def shim_file() -> Path:
    return _locate("shim.sql", "supabase/shim.sql")


def seed_file() -> Path:
    return _locate("seed.sql", "supabase/seed.sql")


def configs_dir() -> Path:
    """The column configurations shipped for the demo organisations."""
    return _locate("configs", "configs")
