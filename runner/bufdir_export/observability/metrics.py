"""The runner's metrics, in Prometheus' text format (prometheus-client).

One :class:`Metrics` per runner process, with a registry of its own (no
global one). It is the runner's :class:`~bufdir_export.core.observer.Observer`:
the pipeline and the adapters tell it what happens, and the queue's figures
are read from the database when the metrics are scraped. Every name starts
with ``bufdir_export_``; README's "Operating" section lists them.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from .._errors import BufdirExportError
from .._models import ExportFailure, ExportRecord, ExportResult, ExportStatus

__all__ = ["CONTENT_TYPE", "Metrics", "QueueFigures"]

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST

# How many exports wait to be claimed now, and for how many seconds the oldest
# of them has waited (0 when none waits).
QueueFigures = Callable[[], Awaitable[tuple[int, float]]]

# From a small export's tenth of a second to a year of a large organisation.
_STEP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
_CLAIM_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60, 300, 900, 3600)


class Metrics:
    """The runner's counters, gauges and histograms."""

    def __init__(
        self, runner_id: str, queue: QueueFigures | None = None, *, queue_timeout: float = 2.0
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._queue = queue
        self._queue_timeout = queue_timeout
        self._finished = Counter(
            "bufdir_export_exports_finished",
            "Exports this runner took to an end, by status and error code.",
            ["status", "error_code"],
            registry=self.registry,
        )
        self._steps = Histogram(
            "bufdir_export_step_duration_seconds",
            "How long each step of the pipeline took, whatever its end.",
            ["step"],
            buckets=_STEP_BUCKETS,
            registry=self.registry,
        )
        self._claim_latency = Histogram(
            "bufdir_export_claim_latency_seconds",
            "From an export's request to this runner's claim of it (database clock).",
            buckets=_CLAIM_BUCKETS,
            registry=self.registry,
        )
        self._in_progress = Gauge(
            "bufdir_export_exports_in_progress",
            "Exports this runner holds now.",
            registry=self.registry,
        )
        self._waiting = Gauge(
            "bufdir_export_exports_waiting",
            "Exports waiting to be claimed now, by any runner (read at each scrape).",
            registry=self.registry,
        )
        self._oldest_waiting = Gauge(
            "bufdir_export_oldest_waiting_seconds",
            "How long the longest-waiting export has waited, 0 when none waits "
            "(read at each scrape).",
            registry=self.registry,
        )
        self._lease_losses = Counter(
            "bufdir_export_lease_losses",
            "Guarded writes that found the export no longer held by this claim "
            "(cancelled, or claimed again after the lease expired).",
            registry=self.registry,
        )
        self._retries = Counter(
            "bufdir_export_retries",
            "Transient faults retried, by the fault's kind.",
            ["fault"],
            registry=self.registry,
        )
        self._deferred = Counter(
            "bufdir_export_exports_deferred",
            "Exports given back to the queue after a Storage outage, to be tried again.",
            registry=self.registry,
        )
        info = Gauge(
            "bufdir_export_runner_info",
            "This runner (always 1).",
            ["runner_id"],
            registry=self.registry,
        )
        info.labels(runner_id=runner_id).set(1)

    # Observer --------------------------------------------------------------

    def claimed(self, export: ExportRecord) -> None:
        self._in_progress.inc()
        # The claim's update set updated_at, on the database's clock, like created_at.
        self._claim_latency.observe(
            max(0.0, (export.updated_at - export.created_at).total_seconds())
        )

    def step_took(self, step: ExportStatus, seconds: float) -> None:
        self._steps.labels(step=step.value).observe(seconds)

    def ended(self, export: ExportRecord, result: ExportResult | None) -> None:
        self._in_progress.dec()
        if result is None:
            return
        code = ""
        if isinstance(result, ExportFailure) and result.error_code is not None:
            code = result.error_code.value
        self._finished.labels(status=result.status.value, error_code=code).inc()

    def lease_lost(self) -> None:
        self._lease_losses.inc()

    def retried(self, fault: str) -> None:
        self._retries.labels(fault=fault).inc()

    def deferred(self) -> None:
        self._deferred.inc()

    # Exposition ------------------------------------------------------------

    async def exposition(self) -> bytes:
        """Every metric in the text format, the queue's figures read first (NaN
        when the database does not give them in time)."""
        if self._queue is not None:
            waiting: float
            oldest: float
            try:
                waiting, oldest = await asyncio.wait_for(self._queue(), self._queue_timeout)
            except (BufdirExportError, TimeoutError) as error:
                log.warning("metrics: the queue could not be read (%s)", type(error).__name__)
                waiting, oldest = math.nan, math.nan
            self._waiting.set(waiting)
            self._oldest_waiting.set(oldest)
        return generate_latest(self.registry)
