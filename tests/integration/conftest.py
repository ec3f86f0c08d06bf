"""Fixtures of the integration tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from bufdir_export._settings import Settings
from bufdir_export.postgres.pool import runner_pool
from bufdir_export.runner_app import RunnerApp
from tests.integration.contract import World


async def _as_runner(conn: psycopg.AsyncConnection[Any]) -> None:
    await conn.execute("set role bufdir_export_runner")


@pytest.fixture
async def pool(database: str) -> AsyncIterator[AsyncConnectionPool[Any]]:
    """Connections to this test's database as the runner role, as the runner has them."""
    async with runner_pool(database, max_size=2, configure=_as_runner, name="test") as opened:
        yield opened


@pytest.fixture
async def world(conn: psycopg.AsyncConnection[Any]) -> World:
    ids = [uuid.uuid4() for _ in range(9)]
    world = World(*ids)
    users = ids[2:]
    await conn.execute(
        "insert into auth.users (id, email) select u, u::text || '@test.example'"
        " from unnest(%s::uuid[]) u",
        [users],
    )
    await conn.execute(
        "insert into public.organisations (id, slug, name) values"
        " (%s, %s, 'Organisation A'), (%s, %s, 'Organisation B')",
        [world.org_a, f"a-{ids[0].hex[:8]}", world.org_b, f"b-{ids[1].hex[:8]}"],
    )
    memberships = [
        (world.org_a, world.member_a, "member"),
        (world.org_a, world.member_a2, "member"),
        (world.org_a, world.coordinator_a, "coordinator"),
        (world.org_a, world.admin_a, "admin"),
        (world.org_b, world.admin_b, "admin"),
        (world.org_a, world.member_ab, "member"),
        (world.org_b, world.member_ab, "member"),
    ]
    async with conn.cursor() as cursor:
        await cursor.executemany(
            "insert into public.organisation_members (organisation_id, user_id, role)"
            " values (%s, %s, %s)",
            memberships,
        )
    return world


SECRET = "e2e-signing-secret-0123456789abcdefghij"


@dataclass
class Running:
    app: RunnerApp
    task: asyncio.Task[Any]


def runner_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "runner_id": "e2e-runner",
        "concurrency": 2,
        "poll_interval_seconds": 0.5,
        "lease_seconds": 10,
        "reap_interval_seconds": 1,
        "signing_secret": SECRET,
        "storage_dir": tmp_path / "storage",
        "download_base_url": "http://127.0.0.1:0",
        "shutdown_grace_seconds": 5,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
async def running(database: str, tmp_path: Path) -> AsyncIterator[Running]:
    app = RunnerApp(runner_settings(tmp_path), database)
    await app.open()
    task = asyncio.create_task(app.runner.run())
    try:
        yield Running(app, task)
    finally:
        app.runner.stop()
        await task
        await app.close()
