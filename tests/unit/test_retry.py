"""Retrying transient faults: by a number of tries, by a time budget, or both."""

from __future__ import annotations

import time

import pytest

from bufdir_export._errors import DatabaseUnavailable, StorageError, StorageUnavailable
from bufdir_export.core.retry import retry_transient


class _Flaky:
    """Fails with ``error`` the first ``failures`` calls, then answers."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.at = failures, error, list[float]()

    async def __call__(self) -> str:
        self.at.append(time.monotonic())
        if len(self.at) <= self.failures:
            raise self.error
        return "answer"


async def test_attempts_count_the_first_try() -> None:
    flaky = _Flaky(10, StorageUnavailable("down"))
    with pytest.raises(StorageUnavailable):
        await retry_transient(flaky, attempts=3, first_wait=0.001, max_wait=0.001)
    assert len(flaky.at) == 3


async def test_a_budget_alone_tries_until_a_wait_would_end_past_it() -> None:
    flaky = _Flaky(1000, StorageUnavailable("down"))
    with pytest.raises(StorageUnavailable):
        await retry_transient(
            flaky, attempts=None, budget_seconds=0.3, first_wait=0.02, max_wait=0.05
        )
    assert len(flaky.at) >= 5
    assert flaky.at[-1] - flaky.at[0] < 0.3


async def test_within_the_budget_a_fault_that_clears_is_ridden_out() -> None:
    flaky = _Flaky(6, StorageUnavailable("down"))
    answer = await retry_transient(
        flaky, attempts=None, budget_seconds=30, first_wait=0.001, max_wait=0.002
    )
    assert (answer, len(flaky.at)) == ("answer", 7)


async def test_the_first_of_attempts_and_budget_to_run_out_stops() -> None:
    flaky = _Flaky(1000, StorageUnavailable("down"))
    with pytest.raises(StorageUnavailable):
        await retry_transient(
            flaky, attempts=2, budget_seconds=30, first_wait=0.001, max_wait=0.001
        )
    assert len(flaky.at) == 2


async def test_a_refusal_is_never_tried_again() -> None:
    flaky = _Flaky(1, StorageError("refused"))
    with pytest.raises(StorageError):
        await retry_transient(flaky, attempts=None, budget_seconds=30)
    assert len(flaky.at) == 1


async def test_neither_attempts_nor_a_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="a number of attempts or a time budget"):
        await retry_transient(_Flaky(0, StorageUnavailable("down")), attempts=None)


async def test_a_plain_callable_returning_an_awaitable_is_retried_too() -> None:
    flaky = _Flaky(2, StorageUnavailable("down"))
    answer = await retry_transient(lambda: flaky(), attempts=3, first_wait=0.001, max_wait=0.001)
    assert (answer, len(flaky.at)) == ("answer", 3)


async def test_only_the_kinds_given_are_tried_again() -> None:
    flaky = _Flaky(1, StorageUnavailable("down"))
    with pytest.raises(StorageUnavailable):
        await retry_transient(flaky, attempts=3, kinds=(DatabaseUnavailable,))
    assert len(flaky.at) == 1
