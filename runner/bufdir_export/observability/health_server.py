"""The runner's probe and metrics over HTTP (``run --metrics-port N``).

- ``GET /healthz``: ``200 ok`` when every check passes (the database
  answers, the listener is connected, the workers run), else ``503`` with
  the first failing check's reason on one line. A check that does not answer
  within ``check_timeout`` seconds fails.
- ``GET /metrics``: every metric in Prometheus' text format.

Nothing here names a secret: the reasons are written by the checks, which
give an error's kind, never its text.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiohttp import web

from .metrics import CONTENT_TYPE, Metrics

__all__ = ["HealthCheck", "HealthServer"]

log = logging.getLogger(__name__)

# One check: None when all is well, else why not (one line).
HealthCheck = Callable[[], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class _Probe:
    name: str
    check: HealthCheck


class HealthServer:
    """Serves ``/healthz`` and ``/metrics`` on ``host:port`` (port 0: any free one)."""

    def __init__(
        self,
        metrics: Metrics,
        checks: Sequence[tuple[str, HealthCheck]],
        *,
        host: str,
        port: int,
        check_timeout: float = 2.0,
    ) -> None:
        self._metrics = metrics
        self._probes = [_Probe(name, check) for name, check in checks]
        self.host = host
        self.port = port
        self._check_timeout = check_timeout
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics_page)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        listening = socket.create_server((self.host, self.port), reuse_port=False)
        site = web.SockSite(self._runner, listening)
        await site.start()
        self.port = listening.getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def unhealthy(self) -> str | None:
        """Why the runner is not healthy (the first check that fails), or None."""
        for probe in self._probes:
            try:
                reason = await asyncio.wait_for(probe.check(), self._check_timeout)
            except TimeoutError:
                reason = f"no answer within {self._check_timeout:g} s"
            except Exception as error:  # a check that breaks is a failed check
                reason = f"the check failed ({type(error).__name__})"
            if reason is not None:
                return f"{probe.name}: {reason}"
        return None

    async def _healthz(self, request: web.Request) -> web.Response:
        reason = await self.unhealthy()
        if reason is None:
            return web.Response(text="ok\n")
        log.warning("health check failed: %s", reason)
        return web.Response(status=503, text=f"{reason}\n")

    async def _metrics_page(self, request: web.Request) -> web.Response:
        body = await self._metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
