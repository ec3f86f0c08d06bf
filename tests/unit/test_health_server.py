"""The probe over real HTTP on loopback: each check's verdict, in order, on one line."""

from __future__ import annotations

import asyncio

import httpx

from bufdir_export.observability.health_server import HealthCheck, HealthServer
from bufdir_export.observability.metrics import Metrics


async def _healthy() -> str | None:
    return None


async def _broken() -> str | None:
    raise RuntimeError("a bug in a check")


async def _stuck() -> str | None:
    await asyncio.sleep(10)
    return None


async def _answers(checks: list[tuple[str, HealthCheck]]) -> httpx.Response:
    server = HealthServer(Metrics("r"), checks, host="127.0.0.1", port=0, check_timeout=0.2)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            return await http.get("/healthz")
    finally:
        await server.stop()


async def test_healthy_is_200_ok() -> None:
    answer = await _answers([("database", _healthy), ("workers", _healthy)])
    assert (answer.status_code, answer.text) == (200, "ok\n")


async def test_the_first_failing_check_is_the_reason_whatever_fails_in_it() -> None:
    stuck = await _answers([("database", _healthy), ("listener", _stuck), ("workers", _broken)])
    broken = await _answers([("database", _broken), ("listener", _stuck)])

    assert (stuck.status_code, stuck.text) == (503, "listener: no answer within 0.2 s\n")
    assert (broken.status_code, broken.text) == (
        503,
        "database: the check failed (RuntimeError)\n",
    )
