"""The command line with arguments of any shape (hypothesis): every run ends
with exit code 0, or with one line on stderr and a non-zero code, never a
traceback, and a refused request leaves no record behind."""

from __future__ import annotations

from typing import Any

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.acceptance.test_cli import bufdir_export

# What a shell can pass: no NUL, and not starting with "-" (an option).
argument = st.one_of(
    st.text(st.characters(blacklist_characters="\x00", codec="utf-8"), min_size=1, max_size=40)
    .filter(lambda text: not text.startswith("-")),
    st.sampled_from(["2025-01-01", "31.12.2025", "2025-02-30", "0001-01-01", "9999-12-31",
                     "nhf", "hlf", "xlsx", "csv", "'; drop table x; --", "x" * 5_000]),
)  # fmt: skip


async def _count(conn: psycopg.AsyncConnection[Any]) -> int:
    row = await (await conn.execute("select count(*) from public.bufdir_export_audit")).fetchone()
    assert row is not None
    return int(row[0])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(org=argument, start=argument, end=argument, file_format=argument)
async def test_any_request_arguments_end_in_one_line_or_a_record(
    database: str,
    conn: psycopg.AsyncConnection[Any],
    org: str,
    start: str,
    end: str,
    file_format: str,
) -> None:
    before = await _count(conn)
    run = await bufdir_export(
        "request", "--org", org, "--from", start, "--to", end, "--format", file_format,
        "--as", "admin@nhf.example", database_url=database,
    )  # fmt: skip
    after = await _count(conn)
    assert "Traceback" not in run.err + run.out
    if run.code == 0:
        assert after == before + 1
    else:
        lines = run.err.strip().splitlines()
        assert len(lines) == 1, run.err
        assert lines[0].startswith("error: "), run.err
        assert after == before
