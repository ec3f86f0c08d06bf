"""The UI-facing controller: one export button's state.

``None`` before any export; :class:`Loading` while one runs, carrying its
current status and progress; then :class:`Succeeded` with the download URL or
:class:`Failed` with the error message. Starting another export while one
runs (or after one ended) replaces it: the earlier watch stops, and nothing
it might still report reaches the state. The earlier export itself goes on
in the database, where its audit record keeps it.

The controller holds an :class:`~bufdir_export.client.services.ExportService`,
never a database connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from .._errors import BufdirExportError
from .._models import (
    ErrorCode,
    ExportFailure,
    ExportRequest,
    ExportStatus,
    ExportSuccess,
    ExportUpdate,
    result_of,
)
from .services import ExportService

__all__ = ["ExportController", "ExportState", "Failed", "Loading", "Succeeded"]


@dataclass(frozen=True, slots=True)
class Loading:
    """An export is under way (``export_id`` is None until the row exists)."""

    status: ExportStatus
    export_id: UUID | None = None
    progress: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Succeeded:
    result: ExportSuccess

    @property
    def download_url(self) -> str | None:
        """The file's link; None for an export with nothing to report."""
        return self.result.download_url


@dataclass(frozen=True, slots=True)
class Failed:
    """The export failed, was cancelled, or could not be asked for at all."""

    message: str
    error_code: ErrorCode | None = None
    export_id: UUID | None = None


ExportState = Loading | Succeeded | Failed | None
Listener = Callable[[ExportState], None]


class ExportController:
    """The state of the latest export, for a screen to show."""

    def __init__(self, service: ExportService, *, timeout: float | None = None) -> None:
        self._service = service
        self._timeout = timeout
        self._state: ExportState = None
        self._listeners: list[Listener] = []
        self._generation = 0
        self._following: asyncio.Task[None] | None = None

    @property
    def state(self) -> ExportState:
        return self._state

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every new state; returns the unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def start_export(self, request: ExportRequest) -> None:
        """Ask for an export and follow it until it ends or another replaces it."""
        self._generation += 1
        generation = self._generation
        if self._following is not None:
            self._following.cancel()
        self._set(generation, Loading(ExportStatus.INITIALISED))
        following = asyncio.create_task(self._follow(generation, request))
        self._following = following
        try:
            # Not `await following`: its cancellation by a later start is not ours.
            await asyncio.wait({following})
        finally:
            if not following.done():  # our own caller cancelled us
                following.cancel()
            if self._following is following:
                self._following = None

    async def aclose(self) -> None:
        """Stop following; the state stays as it is."""
        if self._following is not None:
            self._following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._following

    async def _follow(self, generation: int, request: ExportRequest) -> None:
        export_id: UUID | None = None
        try:
            watch = await self._service.start_export(request)
            export_id = watch.export_id
            self._set(generation, Loading(ExportStatus.INITIALISED, export_id))
            last: ExportUpdate | None = None
            async with asyncio.timeout(self._timeout):
                async for update in watch.watch():
                    last = update
                    self._set(generation, _loading(update))
            if last is None:
                raise BufdirExportError(f"export {export_id} was never seen")
            result = result_of(last.record)
        except BufdirExportError as error:
            self._set(generation, Failed(str(error), export_id=export_id))
            return
        except TimeoutError:
            message = f"export {export_id} did not end within {self._timeout:g} s"
            self._set(generation, Failed(message, export_id=export_id))
            return
        match result:
            case ExportSuccess():
                self._set(generation, Succeeded(result))
            case ExportFailure():
                message = result.error_message or f"the export was {result.status}"
                self._set(generation, Failed(message, result.error_code, result.export_id))

    def _set(self, generation: int, state: ExportState) -> None:
        if generation != self._generation:
            return  # a later export replaced this one
        self._state = state
        for listener in list(self._listeners):
            listener(state)


def _loading(update: ExportUpdate) -> Loading:
    return Loading(update.status, update.export_id, update.progress)
