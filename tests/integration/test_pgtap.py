"""Runs every pgTAP file of supabase/tests/database (as `supabase test db` does) via psql."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bufdir_export.tools.embedded import find_bindir

FILES = sorted((Path(__file__).parents[2] / "supabase" / "tests" / "database").glob("*.sql"))
_PLAN = re.compile(r"^1\.\.(\d+)$")
_RESULT = re.compile(r"^(not ok|ok) (\d+)")


def _psql() -> str:
    try:
        return str(find_bindir() / "psql")
    except Exception:
        return "psql"


@pytest.fixture
async def pgtap(conn: psycopg.AsyncConnection[Any]) -> None:
    row = await (
        await conn.execute("select count(*) from pg_available_extensions where name = 'pgtap'")
    ).fetchone()
    if row == (1,):
        return
    if os.environ.get("BUFDIR_EXPORT_REQUIRE_PGTAP") == "1":
        pytest.fail("pgTAP is required here but the server has no pgtap extension")
    pytest.skip("the server has no pgtap extension (apt-get install postgresql-15-pgtap)")


def test_there_are_pgtap_files() -> None:
    assert len(FILES) >= 10


@pytest.mark.pgtap
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
async def test_pgtap_file(database: str, pgtap: None, path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        _psql(),
        "-X",
        "-q",
        "-t",
        "-A",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        database,
        "-f",
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await process.communicate())[0].decode()
    lines = [line.strip() for line in output.splitlines()]
    plans = [int(m.group(1)) for line in lines if (m := _PLAN.match(line))]
    results = [(m.group(1), int(m.group(2))) for line in lines if (m := _RESULT.match(line))]
    failed = [number for verdict, number in results if verdict == "not ok"]

    assert process.returncode == 0, output
    assert len(plans) == 1, output
    assert plans[0] > 0, output
    assert [number for _, number in results] == list(range(1, plans[0] + 1)), output
    assert failed == [], output
