"""Runs every pgTAP file of supabase/tests/database (as `supabase test db` does) via psql."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.integration.pgtap import FILES, assert_file_passes, psql, skip_without_pgtap


@pytest.fixture
async def pgtap(conn: psycopg.AsyncConnection[Any]) -> None:
    await skip_without_pgtap(conn)


def test_there_are_pgtap_files() -> None:
    assert len(FILES) >= 10


@pytest.mark.pgtap
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
async def test_pgtap_file(database: str, pgtap: None, path: Path) -> None:
    await assert_file_passes(psql(), database, path)
