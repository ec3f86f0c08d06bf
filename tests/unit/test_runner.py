"""The runner with fakes: concurrency, waking, polling, reaping, sweeping, stopping."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta

import pytest

from bufdir_export._errors import DatabaseUnavailable, StorageUnavailable
from bufdir_export._models import ExportFailure, ExportResult, ExportStatus, ExportSuccess
from bufdir_export.core.retention import Purger
from bufdir_export.core.runner import Doorbell, Runner
from bufdir_export.core.sweep import Sweeper
from tests.unit.test_retention import Trail
from tests.unit.test_sweep import Ledger, Store


class Queue:
    """A pipeline over a list of jobs; each job is an awaitable factory or an exception."""

    def __init__(self) -> None:
        self.jobs: list[Callable[[], asyncio.Future[ExportResult]] | BaseException] = []
        self.claims = 0
        self.running = 0
        self.most_at_once = 0
        self.cancelled = 0

    async def run_export(self) -> ExportResult | None:
        self.claims += 1
        if not self.jobs:
            return None
        job = self.jobs.pop(0)
        if isinstance(job, BaseException):
            raise job
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            return await job()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.running -= 1


def _done() -> ExportResult:
    return ExportSuccess(
        export_id=uuid.uuid4(),
        status=ExportStatus.COMPLETED,
        row_count=1,
        file_path=None,
        file_size_bytes=None,
        download_url=None,
        download_url_expires_at=None,
    )


def _after(
    event: asyncio.Event, result: ExportResult
) -> Callable[[], asyncio.Future[ExportResult]]:
    async def wait() -> ExportResult:
        await event.wait()
        return result

    return lambda: asyncio.ensure_future(wait())


class Reaper:
    def __init__(self) -> None:
        self.calls = 0

    async def reap(self, max_attempts: int) -> list[tuple[uuid.UUID, ExportStatus, ExportStatus]]:
        self.calls += 1
        return []


class Bell:
    """Wake-ups under the test's control."""

    def __init__(self) -> None:
        self.ring: Callable[[], None] | None = None

    async def listen(self, ring: Callable[[], None]) -> None:
        self.ring = ring
        await asyncio.Event().wait()


def _runner(queue: Queue, bell: Bell, **overrides: float) -> Runner:
    options: dict[str, float] = {
        "concurrency": 3,
        "poll_interval": 3600,
        "reap_interval": 3600,
        "max_attempts": 3,
        "grace": 5,
    }
    options.update(overrides)
    return Runner(
        queue,
        Reaper(),
        bell,
        concurrency=int(options["concurrency"]),
        poll_interval=options["poll_interval"],
        reap_interval=options["reap_interval"],
        max_attempts=int(options["max_attempts"]),
        grace=options["grace"],
    )


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 - the fakes have no event to wait on
            await asyncio.sleep(0.005)


async def test_a_ring_between_looking_and_waiting_is_not_missed() -> None:
    bell = Doorbell()
    seen = bell.rings
    bell.ring()
    async with asyncio.timeout(1):
        await bell.wait(seen, 3600)  # returns at once: rung since
    waiter = asyncio.create_task(bell.wait(bell.rings, 3600))
    await asyncio.sleep(0)
    assert not waiter.done()
    bell.ring()
    async with asyncio.timeout(1):
        await waiter


async def test_workers_run_at_most_n_exports_at_once_and_wake_on_a_notification() -> None:
    queue, bell = Queue(), Bell()
    release = asyncio.Event()
    queue.jobs = [_after(release, _done()) for _ in range(5)]
    runner = _runner(queue, bell, concurrency=3)
    task = asyncio.create_task(runner.run())

    await _until(lambda: queue.running == 3)
    release.set()
    await _until(lambda: sum(runner.stats.outcomes.values()) == 5)
    assert queue.most_at_once == 3

    idle_claims = queue.claims
    queue.jobs.append(lambda: asyncio.ensure_future(asyncio.sleep(0, _done())))
    assert bell.ring is not None
    bell.ring()  # a notification: the idle workers look again at once
    await _until(lambda: sum(runner.stats.outcomes.values()) == 6)
    assert queue.claims > idle_claims

    runner.stop()
    stats = await task
    assert stats.outcomes["completed"] == 6
    assert stats.released == 0


async def test_without_notifications_workers_poll() -> None:
    queue, bell = Queue(), Bell()
    runner = _runner(queue, bell, concurrency=1, poll_interval=0.01)
    task = asyncio.create_task(runner.run())
    await _until(lambda: queue.claims >= 3)
    queue.jobs.append(lambda: asyncio.ensure_future(asyncio.sleep(0, _done())))
    await _until(lambda: runner.stats.outcomes["completed"] == 1)
    runner.stop()
    await task


async def test_a_failing_export_or_a_lost_database_does_not_stop_the_runner() -> None:
    queue, bell = Queue(), Bell()
    queue.jobs = [
        RuntimeError("a bug in one export"),
        DatabaseUnavailable("connection lost"),
        lambda: asyncio.ensure_future(
            asyncio.sleep(
                0,
                ExportFailure(
                    export_id=uuid.uuid4(),
                    status=ExportStatus.FAILED,
                    error_code=None,
                    error_message=None,
                ),
            )
        ),
        lambda: asyncio.ensure_future(asyncio.sleep(0, _done())),
    ]
    runner = _runner(queue, bell, concurrency=1, poll_interval=0.01)
    task = asyncio.create_task(runner.run())
    await _until(lambda: runner.stats.outcomes["completed"] == 1)
    runner.stop()
    stats = await task

    assert stats.errors == {"RuntimeError": 1, "DatabaseUnavailable": 1}
    assert stats.outcomes == {"failed": 1, "completed": 1}


async def test_stopping_lets_exports_finish_within_the_grace_period() -> None:
    queue, bell = Queue(), Bell()
    release = asyncio.Event()
    queue.jobs = [_after(release, _done())]
    runner = _runner(queue, bell, concurrency=2, grace=30)
    task = asyncio.create_task(runner.run())
    await _until(lambda: queue.running == 1)

    runner.stop()
    await asyncio.sleep(0.05)
    assert not task.done()  # waiting for the running export
    claims = queue.claims
    release.set()
    stats = await task

    assert stats.outcomes["completed"] == 1
    assert stats.released == 0
    assert queue.claims == claims  # nothing claimed after stop


async def test_after_the_grace_period_running_exports_are_cancelled_to_be_given_back() -> None:
    queue, bell = Queue(), Bell()
    queue.jobs = [_after(asyncio.Event(), _done()) for _ in range(2)]
    runner = _runner(queue, bell, concurrency=2, grace=0.05)
    task = asyncio.create_task(runner.run())
    await _until(lambda: queue.running == 2)

    runner.stop()
    stats = await task

    assert queue.cancelled == 2
    assert stats.released == 2
    assert not stats.outcomes


@pytest.mark.parametrize("reaped", [0, 2])
async def test_the_reaper_runs_periodically_and_rings_when_it_requeued(reaped: int) -> None:
    queue, bell = Queue(), Bell()

    class Reaping(Reaper):
        async def reap(
            self, max_attempts: int
        ) -> list[tuple[uuid.UUID, ExportStatus, ExportStatus]]:
            self.calls += 1
            assert max_attempts == 3
            return [(uuid.uuid4(), ExportStatus.GENERATING_FILE, ExportStatus.INITIALISED)] * reaped

    reaper = Reaping()
    runner = Runner(
        queue,
        reaper,
        bell,
        concurrency=1,
        poll_interval=3600,
        reap_interval=0.01,
        max_attempts=3,
        grace=1,
    )
    task = asyncio.create_task(runner.run())
    await _until(lambda: reaper.calls >= 3)
    claims = queue.claims
    runner.stop()
    stats = await task

    assert stats.reaped >= 3 * reaped
    # Re-queued exports wake the idle worker; with nothing re-queued it sleeps on.
    assert (claims > 1) == (reaped > 0)


async def test_the_sweep_runs_periodically_and_a_failing_one_does_not_stop_the_runner(
    caplog: pytest.LogCaptureFixture,
) -> None:
    orphan = f"{uuid.uuid4()}/{uuid.uuid4()}/bufdir-rapport-2025.xlsx"
    store = Store({orphan})
    listings = 0

    async def flaky_paths() -> AsyncIterator[str]:
        nonlocal listings
        listings += 1
        if listings == 1:
            raise StorageUnavailable("listing failed: timed out")
        for path in sorted(store.objects):
            yield path

    store.export_paths = flaky_paths  # type: ignore[method-assign]
    queue, bell, reaper = Queue(), Bell(), Reaper()
    runner = Runner(
        queue,
        reaper,
        bell,
        concurrency=1,
        poll_interval=3600,
        reap_interval=0.01,
        max_attempts=3,
        grace=1,
        sweeper=Sweeper(store, Ledger({})),
        sweep_interval=0.01,
    )
    with caplog.at_level("WARNING", logger="bufdir_export.core.runner"):
        task = asyncio.create_task(runner.run())
        await _until(lambda: listings >= 3)
        runner.stop()
        stats = await task

    assert store.objects == set()  # no export of that id: removed
    assert stats.swept == 1
    assert reaper.calls >= 1
    assert any(r.getMessage() == "sweep: StorageUnavailable" for r in caplog.records)


async def test_the_purge_runs_periodically_and_a_failing_one_does_not_stop_the_runner(
    caplog: pytest.LogCaptureFixture,
) -> None:
    export_id = uuid.uuid4()
    path = f"{uuid.uuid4()}/{export_id}/bufdir-rapport-2025.xlsx"
    store = Store({path})
    trail = Trail([(export_id, path)])
    deletes = 0
    real_delete = store.delete

    async def flaky_delete(paths: Sequence[str]) -> None:
        nonlocal deletes
        deletes += 1
        if deletes == 1:
            raise StorageUnavailable("delete failed: timed out")
        await real_delete(paths)

    store.delete = flaky_delete  # type: ignore[method-assign]
    runner = Runner(
        Queue(), Reaper(), Bell(),
        concurrency=1, poll_interval=3600, reap_interval=3600, max_attempts=3, grace=1,
        purger=Purger(store, trail, timedelta(days=90)), sweep_interval=0.01,
    )  # fmt: skip
    with caplog.at_level("WARNING", logger="bufdir_export.core.runner"):
        task = asyncio.create_task(runner.run())
        await _until(lambda: trail.recorded == [export_id])
        runner.stop()
        stats = await task

    assert store.objects == set()
    assert stats.purged == 1
    assert any(r.getMessage() == "purge: StorageUnavailable" for r in caplog.records)


async def test_the_runner_says_why_it_is_not_working() -> None:
    runner = Runner(
        Queue(), Reaper(), Bell(),
        concurrency=1, poll_interval=3600, reap_interval=3600, max_attempts=3, grace=1,
    )  # fmt: skip
    before = runner.problem()
    task = asyncio.create_task(runner.run())
    await _until(lambda: runner.problem() != "not started")
    working = runner.problem()
    runner.stop()
    stopping = runner.problem()
    await task

    assert (before, working, stopping) == ("not started", None, "stopping")
