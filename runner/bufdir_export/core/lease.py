"""Holding an export while a step runs: the lease renewed, and the step stopped once it is lost.

A step between two writes of the pipeline can take long: a large file, many
attachments, an upload. :func:`held` renews the lease every ``period``
seconds while the step runs. The renewal is itself a guarded write, so it is
also how a runner learns that it no longer holds the export: cancelled by its
requester or an admin, or re-queued and claimed again. Then the step is
cancelled at its next ``await`` (between two attachments, in the middle of an
upload) and :class:`~bufdir_export.LeaseLost` is raised out of the block, as
the step's own next write would have raised it.

A renewal that fails for any other reason (the database briefly away) is
logged and tried again at the next period: the lease may well survive it.
A cancellation from outside (the runner stopping) stays a cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from .._errors import BufdirExportError, LeaseLost

__all__ = ["held"]

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def held(
    renew: Callable[[], Awaitable[None]], *, period: float, name: str
) -> AsyncIterator[None]:
    """Run the block while ``renew()`` is awaited every ``period`` seconds.

    When ``renew()`` raises LeaseLost the block is cancelled, and that
    LeaseLost is what leaves the block.
    """
    step = asyncio.current_task()
    if step is None:  # pragma: no cover - always inside a task under asyncio
        raise RuntimeError("held() needs a running task")
    lost: list[LeaseLost] = []

    async def keep() -> None:
        while True:
            await asyncio.sleep(period)
            try:
                await renew()
            except LeaseLost as error:
                lost.append(error)
                step.cancel(f"{name}: lease lost")
                return
            except BufdirExportError as error:
                log.warning("%s: lease not renewed: %s", name, error)

    keeper = asyncio.create_task(keep(), name=f"lease-{name}")
    try:
        yield
    except asyncio.CancelledError:
        # Ours alone (uncancel() leaves no other request): the loss, not a stop.
        if lost and step.uncancel() == 0:
            raise lost[0] from None
        raise
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
    if lost:
        # The block swallowed our cancellation; it still did not hold the export.
        step.uncancel()
        raise lost[0]
