"""Running the pgTAP files of supabase/tests/database as `supabase test db` does:
each file through psql, its TAP output read back."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bufdir_export._errors import EmbeddedPostgresError
from bufdir_export.tools.embedded import find_bindir

FILES = sorted((Path(__file__).parents[2] / "supabase" / "tests" / "database").glob("*.sql"))
_PLAN = re.compile(r"^1\.\.(\d+)$")
_RESULT = re.compile(r"^(not ok|ok) (\d+)")


def psql(*bindirs: Path | None) -> str:
    """psql from the first of ``bindirs`` that has one, else the machine's, else PATH's."""
    try:
        default: Path | None = find_bindir()
    except EmbeddedPostgresError:
        default = None
    for bindir in (*bindirs, default):
        if bindir is not None and (bindir / "psql").is_file():
            return str(bindir / "psql")
    return "psql"


async def skip_without_pgtap(conn: psycopg.AsyncConnection[Any]) -> None:
    """Skip the test when the server has no pgtap extension (fail it where
    BUFDIR_EXPORT_REQUIRE_PGTAP=1, as in CI on the machine's server)."""
    cursor = await conn.execute(
        "select count(*), current_setting('server_version_num')::int / 10000"
        " from pg_catalog.pg_available_extensions where name = 'pgtap'"
    )
    row = await cursor.fetchone()
    assert row is not None
    available, major = row
    if available == 1:
        return
    if os.environ.get("BUFDIR_EXPORT_REQUIRE_PGTAP") == "1":
        pytest.fail("pgTAP is required here but the server has no pgtap extension")
    pytest.skip(
        f"the server (PostgreSQL {major}) has no pgtap extension"
        f" (apt-get install postgresql-{major}-pgtap, where there is one)"
    )


async def assert_file_passes(psql_path: str, conninfo: str, path: Path) -> None:
    """Run one pgTAP file on ``conninfo``: every planned test ran, and passed."""
    process = await asyncio.create_subprocess_exec(
        psql_path, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
        "-d", conninfo, "-f", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
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
