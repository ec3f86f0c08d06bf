"""The runner: N workers claiming and running exports, woken by notifications or polling.

- Each worker loops: claim and run one export; when none was waiting, wait
  for the doorbell (a notification) or the poll interval, whichever is first.
- The reaper runs every ``reap_interval`` and re-queues exports whose lease
  expired (or fails them once their attempts are used up).
- The sweeper, when given, runs every ``sweep_interval`` and removes stored
  files that no completed export names (:mod:`.sweep`); the purger, when
  given, as often, deletes the files whose retention ended (:mod:`.retention`).
- :meth:`Runner.stop` (SIGTERM) stops claiming; running exports get
  ``grace`` seconds to finish, then are cancelled, and the pipeline gives
  them back for another runner. :meth:`Runner.run` then returns.

A fault in one export never stops the runner: it is logged, and the worker
goes on (after a short backoff when the database is unreachable).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass, field

from .._errors import TRANSIENT
from .._models import ExportFailure, ExportSuccess
from .ports import Pipeline, Reaper, Wakeups
from .retention import Purger
from .sweep import Sweeper

__all__ = ["Doorbell", "Runner", "RunnerStats"]

log = logging.getLogger(__name__)


class Doorbell:
    """Wakes every waiting worker; a ring between a worker's look and its wait is not missed."""

    def __init__(self) -> None:
        self._rings = 0
        self._event = asyncio.Event()

    @property
    def rings(self) -> int:
        return self._rings

    def ring(self) -> None:
        self._rings += 1
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, since: int, at_most: float) -> None:
        """Return once rung after ``since`` (a value of :attr:`rings`), or after ``at_most`` s."""
        if self._rings != since:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), at_most)


@dataclass
class RunnerStats:
    """What one runner did, by outcome."""

    outcomes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    reaped: int = 0
    released: int = 0
    swept: int = 0
    purged: int = 0


class Runner:
    def __init__(
        self,
        pipeline: Pipeline,
        reaper: Reaper,
        wakeups: Wakeups,
        *,
        concurrency: int,
        poll_interval: float,
        reap_interval: float,
        max_attempts: int,
        grace: float,
        sweeper: Sweeper | None = None,
        sweep_interval: float = 0.0,
        purger: Purger | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._reaper = reaper
        self._wakeups = wakeups
        self._concurrency = concurrency
        self._poll_interval = poll_interval
        self._reap_interval = reap_interval
        self._max_attempts = max_attempts
        self._grace = grace
        self._sweeper = sweeper
        self._sweep_interval = sweep_interval
        self._purger = purger
        self._bell = Doorbell()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.stats = RunnerStats()

    def problem(self) -> str | None:
        """Why this runner is not working through exports, or None while it is:
        every worker and helper task is running (a worker inside a long export
        is running)."""
        if not self._tasks:
            return "not started"
        if self._stopping.is_set():
            return "stopping"
        for task in self._tasks:
            if task.done():
                return f"the {task.get_name()} task has stopped"
        return None

    def stop(self) -> None:
        """Stop claiming; :meth:`run` returns once running exports ended or were released."""
        self._stopping.set()
        self._bell.ring()

    async def run(self) -> RunnerStats:
        helpers = [
            asyncio.create_task(self._wakeups.listen(self._bell.ring), name="listener"),
            asyncio.create_task(self._reap_forever(), name="reaper"),
        ]
        if self._sweeper is not None and self._sweep_interval > 0:
            helpers.append(asyncio.create_task(self._sweep_forever(self._sweeper), name="sweeper"))
        if self._purger is not None and self._sweep_interval > 0:
            helpers.append(asyncio.create_task(self._purge_forever(self._purger), name="purger"))
        workers = [
            asyncio.create_task(self._work(n), name=f"worker-{n}") for n in range(self._concurrency)
        ]
        self._tasks = [*helpers, *workers]
        try:
            await self._stopping.wait()
            _, still_running = await asyncio.wait(workers, timeout=self._grace)
            for worker in still_running:
                worker.cancel()
            self.stats.released += len(still_running)
            await asyncio.gather(*workers, return_exceptions=True)
        finally:
            for task in [*helpers, *workers]:
                task.cancel()
            await asyncio.gather(*helpers, *workers, return_exceptions=True)
        return self.stats

    async def _work(self, number: int) -> None:
        backoff = 0.0
        while not self._stopping.is_set():
            seen = self._bell.rings
            try:
                result = await self._pipeline.run_export()
            except TRANSIENT as error:
                self.stats.errors[type(error).__name__] += 1
                log.warning("worker %d: %s; backing off", number, type(error).__name__)
                backoff = min(self._poll_interval, max(0.1, backoff * 2))
                await self._bell.wait(self._bell.rings, backoff)
                continue
            except Exception as error:
                # The pipeline has marked the export failed; keep working.
                self.stats.errors[type(error).__name__] += 1
                log.warning("worker %d: an export failed (%s)", number, type(error).__name__)
                continue
            backoff = 0.0
            match result:
                case ExportSuccess() | ExportFailure():
                    # The pipeline logged its end, with the export's fields.
                    self.stats.outcomes[result.status.value] += 1
                case None:
                    await self._bell.wait(seen, self._poll_interval)

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(self._reap_interval)
            try:
                reaped = await self._reaper.reap(self._max_attempts)
            except Exception as error:
                log.warning("reaper: %s", type(error).__name__)
                continue
            for export_id, was, now in reaped:
                log.warning("reaper: export %s %s -> %s (lease expired)", export_id, was, now)
            if reaped:
                self.stats.reaped += len(reaped)
                self._bell.ring()

    async def _sweep_forever(self, sweeper: Sweeper) -> None:
        while True:
            await asyncio.sleep(self._sweep_interval)
            try:
                report = await sweeper.sweep()
            except Exception as error:
                log.warning("sweep: %s", type(error).__name__)
                continue
            self.stats.swept += len(report.removed)

    async def _purge_forever(self, purger: Purger) -> None:
        while True:
            await asyncio.sleep(self._sweep_interval)
            try:
                report = await purger.purge()
            except Exception as error:
                log.warning("purge: %s", type(error).__name__)
                continue
            self.stats.purged += len(report.deleted)
            if report.deleted:
                log.info("purge: deleted %d files whose retention ended", len(report.deleted))
