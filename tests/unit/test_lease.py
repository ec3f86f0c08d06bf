"""Holding an export: the lease renewed while a block runs, the block stopped once it is lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from bufdir_export._errors import DatabaseUnavailable, LeaseLost
from bufdir_export.core.lease import held


class Renewals:
    """Counts renewals; raises what it is told to from the given renewal on."""

    def __init__(self, fail_from: int | None = None, error: Exception | None = None) -> None:
        self.count = 0
        self.fail_from = fail_from
        self.error = error or LeaseLost("cancelled", sqlstate="XB008")
        self.failed = asyncio.Event()

    async def __call__(self) -> None:
        self.count += 1
        if self.fail_from is not None and self.count >= self.fail_from:
            self.failed.set()
            raise self.error


async def test_the_lease_is_renewed_while_the_block_runs_and_not_after() -> None:
    renew = Renewals()
    async with held(renew, period=0.01, name="x"):
        await asyncio.sleep(0.1)
    seen = renew.count
    await asyncio.sleep(0.05)

    assert seen >= 3
    assert renew.count == seen


async def test_a_lost_lease_stops_the_block_at_its_next_await_with_lease_lost() -> None:
    renew = Renewals(fail_from=2)
    reached: list[str] = []

    async def step() -> None:
        async with held(renew, period=0.01, name="x"):
            await asyncio.sleep(10)  # an upload that would take long
            reached.append("after")

    with pytest.raises(LeaseLost):
        await step()

    assert reached == []
    assert renew.count == 2  # no renewal once it was lost
    _assert_not_cancelling()


async def test_a_stop_from_outside_stays_a_cancellation() -> None:
    renew = Renewals()
    inside = asyncio.Event()

    async def step() -> None:
        async with held(renew, period=0.01, name="x"):
            inside.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(step())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_both_a_stop_and_a_lost_lease_end_as_the_stop() -> None:
    renew = Renewals(fail_from=1)
    inside = asyncio.Event()

    async def step() -> None:
        async with held(renew, period=0.01, name="x"):
            inside.set()
            try:
                await asyncio.sleep(10)
            finally:
                await renew.failed.wait()  # lost while the stop was being handled

    task = asyncio.create_task(step())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_block_that_swallowed_the_cancellation_still_raises_lease_lost() -> None:
    renew = Renewals(fail_from=1)

    async def step() -> None:
        async with held(renew, period=0.01, name="x"):
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(10)

    with pytest.raises(LeaseLost):
        await step()
    _assert_not_cancelling()


async def test_a_renewal_that_fails_otherwise_is_logged_and_tried_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    renew = Renewals(fail_from=1, error=DatabaseUnavailable("the database is away"))

    with caplog.at_level(logging.WARNING, logger="bufdir_export.core.lease"):
        async with held(renew, period=0.01, name="export 7"):
            await asyncio.sleep(0.1)

    assert renew.count >= 3  # it went on trying
    assert any(
        "export 7: lease not renewed: the database is away" in r.getMessage()
        for r in caplog.records
    )


def _assert_not_cancelling() -> None:
    """The cancellation was the lease's alone: nothing is left pending on the task."""
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0
