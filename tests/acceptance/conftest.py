"""Fixtures of the acceptance tests: the command line's real processes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.test_cli import ENTRY_POINT
from tests.integration.conftest import SECRET

_LIBPQ = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")

Start = Callable[..., Any]


@pytest.fixture
async def runners(database: str, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Start `bufdir-export run` processes (with ``args`` after `run`, and
    ``settings`` as BUFDIR_EXPORT_* variables); every one is gone after the test."""
    started: list[asyncio.subprocess.Process] = []

    async def start(
        name: str, database_url: str | None = None, *, args: tuple[str, ...] = (), **settings: str
    ) -> asyncio.subprocess.Process:
        env = {k: v for k, v in os.environ.items() if k not in _LIBPQ}
        env |= {
            "DATABASE_URL": database_url or database,
            "BUFDIR_EXPORT_RUNNER_ID": name,
            "BUFDIR_EXPORT_SIGNING_SECRET": SECRET,
            "BUFDIR_EXPORT_STORAGE_DIR": str(tmp_path / "storage"),
            "BUFDIR_EXPORT_DOWNLOAD_BASE_URL": "http://127.0.0.1:0",
            "BUFDIR_EXPORT_POLL_INTERVAL_SECONDS": "1",
            "BUFDIR_EXPORT_REAP_INTERVAL_SECONDS": "1",
            "BUFDIR_EXPORT_LEASE_SECONDS": "5",
        }
        env |= {f"BUFDIR_EXPORT_{key.upper()}": value for key, value in settings.items()}
        log = (tmp_path / f"{name}.log").open("wb")
        process = await asyncio.create_subprocess_exec(
            str(ENTRY_POINT), "run", *args, env=env, stdout=log, stderr=log
        )
        log.close()
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            if process.returncode is None:
                process.kill()
                await process.wait()
