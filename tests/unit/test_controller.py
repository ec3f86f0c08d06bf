"""The UI controller and the client's composition root, with fakes for the database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from bufdir_export._errors import DatabaseUnavailable, PermissionDenied
from bufdir_export._models import (
    AuditEntry,
    Caller,
    ErrorCode,
    ExportRecord,
    ExportRequest,
    ExportResult,
    ExportStatus,
    ExportUpdate,
    result_of,
)
from bufdir_export._settings import Settings
from bufdir_export.client.client_app import ClientApp
from bufdir_export.client.controller import (
    ExportController,
    ExportState,
    Failed,
    Loading,
    Succeeded,
)
from bufdir_export.client.export_client import PostgresExportClient
from tests.support import NOW, export_record

S = ExportStatus
REQUEST = ExportRequest(
    organisation_id=uuid.uuid4(), period_start=date(2025, 1, 1), period_end=date(2025, 12, 31)
)
URL = "https://files.example/nhf/report.xlsx?token=t"


def ended(export_id: uuid.UUID, status: ExportStatus, **changes: Any) -> ExportRecord:
    return export_record(id=export_id, status=status, **changes)


class FakeWatch:
    """Plays a script of records; waits on ``gate`` (when given) before the last one."""

    def __init__(self, records: list[ExportRecord], gate: asyncio.Event | None = None) -> None:
        self.records = records
        self.gate = gate
        self.closed = False

    @property
    def export_id(self) -> uuid.UUID:
        return self.records[0].id

    async def watch(self) -> AsyncIterator[ExportUpdate]:
        try:
            for n, record in enumerate(self.records):
                if self.gate is not None and n == len(self.records) - 1:
                    await self.gate.wait()
                yield ExportUpdate(record.status, NOW, record)
        finally:
            self.closed = True

    async def result(self, timeout: float | None = None) -> ExportResult:  # noqa: ASYNC109
        return result_of(self.records[-1])


class FakeExports:
    """An ExportService that hands out prepared watches (or raises), in order."""

    def __init__(self, *outcomes: FakeWatch | Exception) -> None:
        self.outcomes = list(outcomes)
        self.requests: list[ExportRequest] = []

    async def organisation_id(self, slug: str) -> uuid.UUID:
        return REQUEST.organisation_id

    async def start_export(self, request: ExportRequest) -> FakeWatch:
        self.requests.append(request)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def follow(self, export_id: uuid.UUID) -> FakeWatch:
        raise NotImplementedError

    async def export(self, export_id: uuid.UUID) -> ExportRecord:
        raise NotImplementedError

    async def cancel(self, export_id: uuid.UUID) -> ExportRecord:
        raise NotImplementedError


def run_of(*statuses: ExportStatus, **last: Any) -> list[ExportRecord]:
    export_id = uuid.uuid4()
    records = [ended(export_id, status) for status in statuses[:-1]]
    return [*records, ended(export_id, statuses[-1], **last)]


COMPLETED_RUN = run_of(
    S.INITIALISED,
    S.QUERYING_ACTIVITIES,
    S.MAPPING_COLUMNS,
    S.GENERATING_FILE,
    S.STORING_FILE,
    S.COMPLETED,
    row_count=12,
    file_path="o/e/bufdir-rapport-2025.xlsx",
    file_size_bytes=4096,
    download_url=URL,
    download_url_expires_at=NOW,
)


async def reached(controller: ExportController, status: ExportStatus) -> None:
    there = asyncio.Event()
    controller.subscribe(
        lambda state: there.set() if isinstance(state, Loading) and state.status is status else None
    )
    await there.wait()


def recorded(controller: ExportController) -> list[ExportState]:
    states: list[ExportState] = []
    controller.subscribe(states.append)
    return states


def test_the_root_resolves_with_fakes_and_touches_nothing() -> None:
    """No database is configured, and none is needed to build the graph."""
    exports = FakeExports()
    app = ClientApp(Settings(_env_file=None), Caller(uuid.uuid4()), exports=exports)
    assert app.exports is exports
    assert app.controller.state is None


def test_the_root_wires_postgres_services_without_connecting() -> None:
    unreachable = "postgresql://nobody:pw@127.0.0.1:1/none"
    app = ClientApp(Settings(DATABASE_URL=unreachable), Caller(uuid.uuid4()))
    assert isinstance(app.exports, PostgresExportClient)
    assert app.controller.state is None


async def test_the_root_swaps_the_audit_log() -> None:
    entry = AuditEntry(organisation="nhf", export=export_record())

    class FakeAudit:
        async def list(self, **filters: Any) -> list[AuditEntry]:
            return [entry]

        async def show(self, export_id: uuid.UUID) -> AuditEntry:
            return entry

    app = ClientApp(Settings(_env_file=None), audit=FakeAudit())
    assert await app.audit.list() == [entry]
    assert (await app.audit.show(entry.export.id)).organisation == "nhf"


async def test_none_then_loading_then_success() -> None:
    watch = FakeWatch(COMPLETED_RUN)
    app = ClientApp(Settings(_env_file=None), exports=FakeExports(watch))
    states = recorded(app.controller)
    assert app.controller.state is None

    await app.controller.start_export(REQUEST)

    loading = [s for s in states if isinstance(s, Loading)]
    assert [s.status for s in loading] == [
        S.INITIALISED,  # before the row exists
        S.INITIALISED,  # the row, with its id
        S.INITIALISED,
        S.QUERYING_ACTIVITIES,
        S.MAPPING_COLUMNS,
        S.GENERATING_FILE,
        S.STORING_FILE,
        S.COMPLETED,  # the last update, just before the result
    ]
    assert loading[0].export_id is None
    assert {s.export_id for s in loading[1:]} == {watch.export_id}
    final = app.controller.state
    assert isinstance(final, Succeeded)
    assert states[-1] == final
    assert final.download_url == URL
    assert final.result.row_count == 12
    assert watch.closed


@pytest.mark.parametrize(
    ("run", "message", "code"),
    [
        (
            run_of(
                S.INITIALISED,
                S.QUERYING_ACTIVITIES,
                S.FAILED,
                error_code=ErrorCode.INVALID_CONFIG,
                error_message="column configuration version 2: $.columns[1]: no header",
            ),
            "column configuration version 2: $.columns[1]: no header",
            ErrorCode.INVALID_CONFIG,
        ),
        (run_of(S.INITIALISED, S.CANCELLED), "the export was cancelled", None),
    ],
)
async def test_none_then_loading_then_failure_with_the_error(
    run: list[ExportRecord], message: str, code: ErrorCode | None
) -> None:
    controller = ExportController(FakeExports(FakeWatch(run)))
    states = recorded(controller)
    await controller.start_export(REQUEST)
    assert isinstance(states[0], Loading)
    assert controller.state == Failed(message, code, run[0].id)


@pytest.mark.parametrize(
    "error",
    [
        PermissionDenied("the user may not request an export for organisation x", sqlstate="42501"),
        DatabaseUnavailable("connection to 127.0.0.1 refused"),
    ],
)
async def test_a_refused_request_is_a_failure_with_its_message(error: Exception) -> None:
    controller = ExportController(FakeExports(error))
    states = recorded(controller)
    await controller.start_export(REQUEST)
    assert states == [Loading(S.INITIALISED), Failed(str(error))]


async def test_a_second_start_replaces_a_running_first() -> None:
    gate = asyncio.Event()
    first = FakeWatch(run_of(S.INITIALISED, S.QUERYING_ACTIVITIES, S.COMPLETED), gate)
    second = FakeWatch(COMPLETED_RUN)
    controller = ExportController(FakeExports(first, second))
    states = recorded(controller)

    running_first = asyncio.create_task(controller.start_export(REQUEST))
    await reached(controller, S.QUERYING_ACTIVITIES)
    before_second = len(states)
    await controller.start_export(REQUEST)
    gate.set()  # the first export's end arrives after the second started
    await running_first

    assert first.closed  # it stopped watching
    final = controller.state
    assert isinstance(final, Succeeded)
    assert final.result.export_id == second.export_id
    after_second = states[before_second:]
    assert after_second[0] == Loading(S.INITIALISED)
    firsts = [s for s in after_second if isinstance(s, Loading) and s.export_id == first.export_id]
    assert firsts == []  # nothing of the first reached the state once replaced


async def test_a_start_after_an_end_replaces_the_result() -> None:
    failing = run_of(S.INITIALISED, S.FAILED, error_code=ErrorCode.INTERNAL, error_message="boom")
    controller = ExportController(FakeExports(FakeWatch(failing), FakeWatch(COMPLETED_RUN)))
    await controller.start_export(REQUEST)
    assert isinstance(controller.state, Failed)
    states = recorded(controller)
    await controller.start_export(REQUEST)
    assert states[0] == Loading(S.INITIALISED)  # the old failure is gone at once
    assert isinstance(controller.state, Succeeded)


async def test_cancelling_the_caller_stops_the_watch_and_keeps_the_state() -> None:
    gate = asyncio.Event()
    watch = FakeWatch(run_of(S.INITIALISED, S.QUERYING_ACTIVITIES, S.COMPLETED), gate)
    controller = ExportController(FakeExports(watch))
    task = asyncio.create_task(controller.start_export(REQUEST))
    await reached(controller, S.QUERYING_ACTIVITIES)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)
    assert watch.closed
    assert controller.state == Loading(S.QUERYING_ACTIVITIES, watch.export_id, None)


async def test_a_watch_that_outlives_the_timeout_fails_clearly() -> None:
    never = asyncio.Event()
    watch = FakeWatch(run_of(S.INITIALISED, S.COMPLETED), never)
    controller = ExportController(FakeExports(watch), timeout=0.05)
    await controller.start_export(REQUEST)
    assert controller.state == Failed(
        f"export {watch.export_id} did not end within 0.05 s", export_id=watch.export_id
    )


async def test_unsubscribe_stops_the_calls() -> None:
    controller = ExportController(FakeExports(FakeWatch(COMPLETED_RUN)))
    states: list[ExportState] = []
    unsubscribe = controller.subscribe(states.append)
    unsubscribe()
    await controller.start_export(REQUEST)
    assert isinstance(controller.state, Succeeded)
    assert states == []
