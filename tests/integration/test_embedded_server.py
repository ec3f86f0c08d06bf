"""The embedded server's two ways of committing: throwaway (no flush) for the
tests and the demo, durable (every commit flushed, as a real server) for the
benchmarks' column of real commit costs."""

from __future__ import annotations

import psycopg
import pytest

from bufdir_export.tools.embedded import EmbeddedPostgres

SETTINGS = (
    "select name, setting from pg_catalog.pg_settings"
    " where name in ('fsync', 'synchronous_commit', 'full_page_writes')"
)


@pytest.mark.parametrize(("durable", "expected"), [(False, "off"), (True, "on")])
async def test_the_embedded_server_flushes_commits_only_where_durable(
    durable: bool, expected: str
) -> None:
    async with (
        EmbeddedPostgres(durable=durable) as server,
        await psycopg.AsyncConnection.connect(server.conninfo()) as conn,
    ):
        settings = dict(await (await conn.execute(SETTINGS)).fetchall())
    assert settings == dict.fromkeys(("fsync", "synchronous_commit", "full_page_writes"), expected)
