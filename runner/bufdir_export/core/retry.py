"""Bounded retries with backoff for transient faults, the same policy everywhere."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
    stop_before_delay,
    wait_exponential,
)
from tenacity.stop import stop_base

from .._errors import TRANSIENT
from .observer import UNOBSERVED, Observer

__all__ = ["retry_transient"]

T = TypeVar("T")
log = logging.getLogger(__name__)


def _before_retry(observer: Observer) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        fault = type(error).__name__
        observer.retried(fault)
        log.warning("transient fault (%s), attempt %d; retrying", fault, state.attempt_number)

    return before_sleep


async def retry_transient(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int | None = 4,
    budget_seconds: float | None = None,
    first_wait: float = 0.1,
    max_wait: float = 2.0,
    kinds: tuple[type[BaseException], ...] = TRANSIENT,
    observer: Observer = UNOBSERVED,
) -> T:
    """``await call()``, again after a fault of one of ``kinds``, at most ``attempts``
    times in all and never starting a wait that would end past ``budget_seconds``
    from the first try (None: no such bound; at least one of the two must be given).
    Each retry is told to ``observer``."""
    stops: list[stop_base] = []
    if attempts is not None:
        stops.append(stop_after_attempt(attempts))
    if budget_seconds is not None:
        stops.append(stop_before_delay(budget_seconds))
    if not stops:
        raise ValueError("a retry needs a number of attempts or a time budget")
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(kinds),
        stop=stop_any(*stops),
        wait=wait_exponential(multiplier=first_wait, max=max_wait),
        before_sleep=_before_retry(observer),
        reraise=True,
    )

    async def attempt() -> T:
        # tenacity awaits only what a coroutine function returns: a lambda that
        # returns an awaitable would be "called" once and never retried.
        return await call()

    return await retrying(attempt)
