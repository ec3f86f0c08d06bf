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
    wait_exponential,
)

from .._errors import TRANSIENT

__all__ = ["retry_transient"]

T = TypeVar("T")
log = logging.getLogger(__name__)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "transient fault (%s), attempt %d; retrying", type(error).__name__, state.attempt_number
    )


async def retry_transient(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int = 4,
    first_wait: float = 0.1,
    max_wait: float = 2.0,
) -> T:
    """``await call()``, again after a transient fault, at most ``attempts`` times in all."""
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(TRANSIENT),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=first_wait, max=max_wait),
        before_sleep=_log_retry,
        reraise=True,
    )
    return await retrying(call)
