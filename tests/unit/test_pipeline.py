"""The orchestrator with fakes: order of steps, statuses before steps, failures, endings."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, assert_never

import pytest

from bufdir_export._errors import (
    DatabaseUnavailable,
    LeaseLost,
    StepFailed,
    StorageError,
    StorageUnavailable,
)
from bufdir_export._models import (
    ErrorCode,
    ExportFailure,
    ExportRecord,
    ExportResult,
    ExportScope,
    ExportStatus,
    ExportSuccess,
    ReportBasis,
)
from bufdir_export.core.pipeline import ExportPipeline
from bufdir_export.core.ports import (
    Activity,
    Attachment,
    ClaimedExport,
    ColumnLayout,
    GeneratedFile,
    Progress,
    RowMapping,
    SignedUrl,
    SummaryTable,
)
from tests.support import BASIS, NOW, export_record


class Boom(Exception):
    """A collaborator's failure, carrying text that must never reach the row."""


@dataclass
class World:
    """Every fake, one shared call log, and what each fake should do."""

    tmp: Path
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    export: ExportRecord | None = None
    scope: ExportScope | None = ExportScope.ORGANISATION
    total: int = 3
    counted_with_claim: bool = True  # else the claim leaves the count to the step
    config_versions: list[int | None] = field(default_factory=list)  # named to generating_file
    fail_in: str | None = None
    lose_at: ExportStatus | None = None
    then: ExportStatus = ExportStatus.CANCELLED
    then_claimed_again: bool = False  # by the time the loss is found
    lose_in_complete: bool = False  # the completion finds the export gone
    lose_in_defer: bool = False  # giving the export back finds it gone
    stored: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.export is None:
            self.export = export_record()

    def step(self, name: str, *detail: Any) -> None:
        self.calls.append((name, *detail))
        if self.fail_in == name:
            raise Boom("password=hunter2 at db.internal")

    # AuditService -------------------------------------------------------
    async def claim(self) -> ClaimedExport | None:
        self.calls.append(("claim",))
        if self.export is None:
            return None
        if self.scope is None:
            return ClaimedExport(self.export, None, None)
        basis = dataclasses.replace(BASIS, scope=self.scope)
        return ClaimedExport(self.export, basis, self.total if self.counted_with_claim else None)

    async def current(self, export_id: uuid.UUID) -> ExportRecord:
        self.calls.append(("current",))
        assert self.export is not None
        attempts = self.export.attempts + (1 if self.then_claimed_again else 0)
        return self.export.model_copy(update={"status": self.then, "attempts": attempts})

    async def advance(
        self, export: ExportRecord, to: ExportStatus, *, config_version: int | None = None
    ) -> ExportRecord:
        self.calls.append(("advance", to))
        if to is ExportStatus.GENERATING_FILE:
            self.config_versions.append(config_version)
        if self.lose_at == to:
            raise LeaseLost("gone", sqlstate="XB008")
        return export.model_copy(update={"status": to})

    async def progress(self, export: ExportRecord, rows_done: int, rows_total: int) -> None:
        self.calls.append(("progress", rows_done, rows_total))

    async def complete(
        self, export: ExportRecord, stored: GeneratedFile, file_path: str, url: SignedUrl
    ) -> ExportRecord:
        self.calls.append(("complete", file_path))
        if self.lose_in_complete:
            raise LeaseLost("gone", sqlstate="XB008")
        return export.model_copy(
            update={
                "status": ExportStatus.COMPLETED,
                "row_count": stored.row_count,
                "file_size_bytes": stored.size_bytes,
                "file_path": file_path,
                "download_url": url.url,
                "download_url_expires_at": url.expires_at,
            }
        )

    async def complete_empty(self, export: ExportRecord) -> ExportRecord:
        self.calls.append(("complete_empty",))
        return export.model_copy(update={"status": ExportStatus.COMPLETED_EMPTY, "row_count": 0})

    async def fail(self, export: ExportRecord, code: ErrorCode, message: str) -> ExportRecord:
        self.calls.append(("fail", export.status, code, message))
        return export.model_copy(
            update={"status": ExportStatus.FAILED, "error_code": code, "error_message": message}
        )

    async def release(self, export: ExportRecord) -> None:
        self.calls.append(("release",))

    async def defer(self, export: ExportRecord, delay: timedelta) -> ExportRecord:
        self.calls.append(("defer", export.status, delay))
        if self.lose_in_defer:
            raise LeaseLost("gone", sqlstate="XB008")
        return export.model_copy(update={"status": ExportStatus.INITIALISED, "runner_id": None})

    @contextlib.asynccontextmanager
    async def hold(self, export: ExportRecord) -> AsyncIterator[None]:
        self.calls.append(("hold",))
        try:
            yield
        finally:
            self.calls.append(("unhold",))

    # ActivitySource ------------------------------------------------------
    async def count(self, export: ExportRecord) -> int:
        self.step("count")
        return self.total

    async def stream(self, export: ExportRecord) -> AsyncIterator[Activity]:
        self.calls.append(("stream",))
        for _ in range(self.total):
            yield Activity(
                id=uuid.uuid4(),
                chapter_name="NHF Oslo",
                county_code="03",
                county_name="Oslo",
                municipality_number="0301",
                peer_mentor_id=uuid.uuid4(),
                activity_type_code="samtalegruppe",
                activity_type_name="Samtalegruppe",
                activity_date=date(2025, 3, 1),
                duration_minutes=60,
                participant_count=4,
                contact_method="in_person",
                in_norway=True,
            )

    async def attachments(self, export: ExportRecord) -> AsyncIterator[Attachment]:
        self.calls.append(("attachments",))
        none: tuple[Attachment, ...] = ()
        for attachment in none:
            yield attachment

    # ColumnMapper --------------------------------------------------------
    async def prepare(self, export: ExportRecord) -> RowMapping:
        self.step("prepare")
        return _Mapping()

    # FileGenerator -------------------------------------------------------
    async def generate(
        self,
        export: ExportRecord,
        mapping: RowMapping,
        rows: AsyncIterator[Activity],
        total: int,
        progress: Progress,
        *,
        basis: ReportBasis,
    ) -> GeneratedFile:
        self.step("generate", basis.scope)
        one_pass = mapping.begin()
        written = [one_pass.map(row) async for row in rows]
        await progress(len(written), total)
        return self._file("bufdir-rapport.xlsx", len(written))

    # AttachmentBundler ---------------------------------------------------
    async def bundle(self, export: ExportRecord, report: GeneratedFile) -> GeneratedFile:
        self.step("bundle")
        return self._file("bufdir-rapport.zip", report.row_count)

    # Storage -------------------------------------------------------------
    async def upload(self, path: str, file: GeneratedFile) -> None:
        self.step("upload", path, file.file_name)
        self.stored.add(path)

    async def delete(self, paths: Sequence[str]) -> None:
        self.step("delete", *paths)
        self.stored.difference_update(paths)

    async def export_paths(self) -> AsyncIterator[str]:
        for path in sorted(self.stored):
            yield path

    async def sign(self, path: str, ttl: timedelta) -> SignedUrl:
        self.step("sign", path, ttl)
        return SignedUrl(url=f"http://files.test/{path}?token=t", expires_at=NOW + ttl)

    def _file(self, name: str, rows: int) -> GeneratedFile:
        path = self.tmp / f"{uuid.uuid4().hex}-{name}"
        path.write_bytes(b"x" * 10)
        return GeneratedFile(path, name, "application/octet-stream", 10, rows)

    def pipeline(self, **options: Any) -> ExportPipeline:
        return ExportPipeline(
            audit=self,
            activities=self,
            mapper=self,
            generator=self,
            bundler=self,
            storage=self,
            url_ttl=timedelta(hours=24),
            **options,
        )

    def names(self) -> list[str]:
        """The calls, without the lease keeping around them."""
        return [
            call[0] if call[0] != "advance" else f"advance:{call[1]}"
            for call in self.calls
            if call[0] not in ("hold", "unhold")
        ]


class _Mapping:
    columns: Sequence[ColumnLayout] = (ColumnLayout("Dato", kind="date"),)
    organisation_name = "Organisasjonen"
    version = 1

    def begin(self) -> _Pass:
        return _Pass()


class _Pass:
    counted = 0

    def map(self, activity: Activity) -> Sequence[object]:
        return (activity.activity_date,)

    def summary(self) -> SummaryTable:
        return SummaryTable(columns=(), rows=(), totals=())


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def _describe(result: ExportResult | None) -> str:
    match result:
        case ExportSuccess(status=status):
            return f"success:{status}"
        case ExportFailure(status=status, error_code=code):
            return f"failure:{status}:{code}"
        case None:
            return "none"
        case _:
            assert_never(result)


async def test_the_steps_run_in_order_each_after_its_status(world: World) -> None:
    result = await world.pipeline().run_export()

    assert world.names() == [
        "claim",
        "advance:mapping_columns",
        "prepare",
        "advance:generating_file",
        "generate",
        "stream",
        "progress",
        "advance:storing_file",
        "upload",
        "sign",
        "complete",
    ]
    assert isinstance(result, ExportSuccess)
    assert result.status == ExportStatus.COMPLETED
    assert result.row_count == 3
    assert world.export is not None
    expected_path = f"{world.export.organisation_id}/{world.export.id}/bufdir-rapport.xlsx"
    assert result.file_path == expected_path
    assert ("upload", expected_path, "bufdir-rapport.xlsx") in world.calls
    assert world.config_versions == [1]  # the file's configuration, named as it begins
    assert ("sign", expected_path, timedelta(hours=24)) in world.calls
    assert list(world.tmp.iterdir()) == []  # the local file is gone once stored


async def test_a_count_the_claim_left_is_taken_in_the_querying_step(world: World) -> None:
    world.counted_with_claim = False
    result = await world.pipeline().run_export()

    assert world.names()[:3] == ["claim", "count", "advance:mapping_columns"]
    assert isinstance(result, ExportSuccess)
    assert result.row_count == 3


async def test_the_export_is_claimed_before_any_collaborator_is_called(world: World) -> None:
    await world.pipeline().run_export()
    assert world.calls[0] == ("claim",)


async def test_nothing_waiting_means_nothing_called(world: World) -> None:
    world.export = None
    assert await world.pipeline().run_export() is None
    assert world.calls == [("claim",)]


async def test_zero_rows_complete_empty_with_no_file(world: World) -> None:
    world.total = 0
    result = await world.pipeline().run_export()

    assert _describe(result) == "success:completed_empty"
    assert isinstance(result, ExportSuccess)
    assert (result.row_count, result.file_path, result.download_url) == (0, None, None)
    assert world.names()[-1] == "complete_empty"
    assert not {"prepare", "generate", "upload", "sign"} & set(world.names())


async def test_without_attachments_the_bundler_is_never_called(world: World) -> None:
    await world.pipeline().run_export()
    assert "bundle" not in world.names()
    assert "advance:bundling_attachments" not in world.names()


async def test_with_attachments_the_bundle_is_what_gets_stored(world: World) -> None:
    world.export = export_record(include_attachments=True)
    result = await world.pipeline().run_export()

    names = world.names()
    assert names.index("generate") < names.index("advance:bundling_attachments")
    assert names.index("advance:bundling_attachments") < names.index("bundle")
    assert names.index("bundle") < names.index("advance:storing_file")
    assert isinstance(result, ExportSuccess)
    assert result.file_path is not None
    assert result.file_path.endswith("/bufdir-rapport.zip")
    assert list(world.tmp.iterdir()) == []


@pytest.mark.parametrize(
    ("step", "status", "code"),
    [
        ("count", ExportStatus.QUERYING_ACTIVITIES, ErrorCode.QUERY_ERROR),
        ("prepare", ExportStatus.MAPPING_COLUMNS, ErrorCode.INVALID_CONFIG),
        ("generate", ExportStatus.GENERATING_FILE, ErrorCode.GENERATION_ERROR),
        ("bundle", ExportStatus.BUNDLING_ATTACHMENTS, ErrorCode.STORAGE_ERROR),
        ("upload", ExportStatus.STORING_FILE, ErrorCode.STORAGE_ERROR),
        ("sign", ExportStatus.STORING_FILE, ErrorCode.STORAGE_ERROR),
    ],
)
async def test_a_failing_step_fails_the_export_with_its_code_then_propagates(
    world: World, step: str, status: ExportStatus, code: ErrorCode
) -> None:
    world.export = export_record(include_attachments=True)
    world.fail_in = step
    world.counted_with_claim = step != "count"

    with pytest.raises(Boom):
        await world.pipeline().run_export()

    failures = [call for call in world.calls if call[0] == "fail"]
    assert len(failures) == 1
    _, failed_in, failed_code, message = failures[0]
    assert (failed_in, failed_code) == (status, code)
    assert "Boom" in message
    assert "hunter2" not in message
    assert "complete" not in world.names()
    assert list(world.tmp.iterdir()) == []  # no partial file is left behind


async def test_a_step_that_names_its_failure_keeps_its_code_and_message(world: World) -> None:
    async def broken(export: ExportRecord) -> RowMapping:
        raise StepFailed(ErrorCode.INVALID_CONFIG, "column 'Dato': no field 'dato'")

    world.prepare = broken  # type: ignore[method-assign]

    with pytest.raises(StepFailed):
        await world.pipeline().run_export()

    assert world.calls[-2] == (
        "fail",
        ExportStatus.MAPPING_COLUMNS,
        ErrorCode.INVALID_CONFIG,
        "column 'Dato': no field 'dato'",
    )


async def test_a_requester_who_left_the_organisation_is_refused(world: World) -> None:
    world.scope = None
    result = await world.pipeline().run_export()

    assert _describe(result) == "failure:failed:forbidden"
    assert world.names() == ["claim", "fail"]


async def test_a_cancellation_between_steps_is_respected_not_overwritten(world: World) -> None:
    world.lose_at = ExportStatus.GENERATING_FILE
    result = await world.pipeline().run_export()

    assert _describe(result) == "failure:cancelled:None"
    assert "fail" not in world.names()
    assert "generate" not in world.names()


async def test_an_export_lost_to_another_runner_ends_this_pass_quietly(world: World) -> None:
    world.lose_at = ExportStatus.STORING_FILE
    world.then = ExportStatus.GENERATING_FILE  # re-queued and claimed elsewhere
    world.then_claimed_again = True

    assert await world.pipeline().run_export() is None
    assert "fail" not in world.names()
    assert "upload" not in world.names()
    assert list(world.tmp.iterdir()) == []


async def test_an_export_another_claim_completed_is_not_this_passs_result(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.lose_at = ExportStatus.STORING_FILE
    world.then = ExportStatus.COMPLETED
    world.then_claimed_again = True

    with caplog.at_level("WARNING", logger="bufdir_export.core.pipeline"):
        assert await world.pipeline().run_export() is None
    assert "upload" not in world.names()
    assert any("claim 1 lost" in record.getMessage() for record in caplog.records)


async def test_the_lease_is_held_from_the_claim_to_the_end(world: World) -> None:
    await world.pipeline().run_export()

    assert world.calls[1] == ("hold",)
    assert world.calls[-1] == ("unhold",)
    assert [c[0] for c in world.calls].count("hold") == 1


async def test_a_cancelled_run_gives_the_export_back_and_writes_no_failure(
    world: World, tmp_path: Path
) -> None:
    started = asyncio.Event()

    async def stuck(*_: Any, **__: Any) -> GeneratedFile:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("never reached")

    world.generate = stuck  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(world.pipeline().run_export())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    names = world.names()
    assert names[-1] == "release"
    assert "fail" not in names
    assert world.calls[-2:] == [("unhold",), ("release",)]
    assert await asyncio.to_thread(lambda: list(tmp_path.iterdir())) == []


async def test_a_storage_error_keeps_its_own_safe_message(world: World) -> None:
    async def refused(path: str, file: GeneratedFile) -> None:
        raise StorageError(f"storing {path} failed (HTTP 413)")

    world.upload = refused  # type: ignore[method-assign]
    with pytest.raises(StorageError):
        await world.pipeline().run_export()

    fail = next(call for call in world.calls if call[0] == "fail")
    assert fail[1:3] == (ExportStatus.STORING_FILE, ErrorCode.STORAGE_ERROR)
    assert fail[3].startswith("storing the file failed: storing ")
    assert fail[3].endswith("(HTTP 413)")


# What this claim stored, when its export does not complete ------------------------


async def test_a_file_stored_for_an_export_cancelled_before_completing_is_removed(
    world: World,
) -> None:
    world.lose_in_complete = True  # cancelled while storing: the completion is refused

    result = await world.pipeline().run_export()

    assert _describe(result) == "failure:cancelled:None"
    uploaded = next(call for call in world.calls if call[0] == "upload")[1]
    assert ("delete", uploaded) in world.calls
    assert world.stored == set()


async def test_a_file_stored_for_an_export_that_failed_is_removed(world: World) -> None:
    world.fail_in = "sign"

    with pytest.raises(Boom):
        await world.pipeline().run_export()

    names = world.names()
    assert names.index("fail") < names.index("delete")  # once failed, never before
    assert world.stored == set()


async def test_an_upload_that_failed_is_removed_too_as_it_may_have_landed(world: World) -> None:
    world.fail_in = "upload"

    with pytest.raises(Boom):
        await world.pipeline().run_export()

    assert "delete" in world.names()


async def test_the_file_of_an_export_another_claim_holds_is_left_to_that_claim(
    world: World,
) -> None:
    world.lose_in_complete = True
    world.then = ExportStatus.STORING_FILE  # re-queued and claimed again meanwhile
    world.then_claimed_again = True

    assert await world.pipeline().run_export() is None
    assert "delete" not in world.names()  # the same path: it may be the other claim's file


async def test_a_failure_before_storing_removes_nothing_from_storage(world: World) -> None:
    world.fail_in = "generate"

    with pytest.raises(Boom):
        await world.pipeline().run_export()

    assert "delete" not in world.names()


async def test_a_completed_export_keeps_its_file(world: World) -> None:
    result = await world.pipeline().run_export()

    assert _describe(result) == "success:completed"
    assert "delete" not in world.names()
    assert len(world.stored) == 1


async def test_a_file_that_cannot_be_removed_is_left_to_the_sweep_and_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.lose_in_complete = True

    async def refused(paths: Sequence[str]) -> None:
        raise StorageError("removing a file failed (HTTP 503)")

    world.delete = refused  # type: ignore[method-assign]
    with caplog.at_level("WARNING", logger="bufdir_export.core.pipeline"):
        result = await world.pipeline().run_export()

    assert _describe(result) == "failure:cancelled:None"
    assert any("until the sweep removes it" in r.getMessage() for r in caplog.records)


# A Storage outage longer than the store's own retries -------------------------------


async def _outage(path: str, file: GeneratedFile) -> None:
    raise StorageUnavailable(f"storing {path} failed: the Storage server is unavailable")


@pytest.mark.parametrize("attempt", [1, 2])
async def test_an_outage_with_attempts_left_gives_the_export_back_for_the_delay(
    world: World, attempt: int
) -> None:
    world.export = export_record(attempts=attempt)
    world.upload = _outage  # type: ignore[method-assign]

    with pytest.raises(StorageUnavailable):
        await world.pipeline(max_attempts=3, storage_retry_delay=timedelta(seconds=90)).run_export()

    assert ("defer", ExportStatus.STORING_FILE, timedelta(seconds=90)) in world.calls
    assert [call for call in world.calls if call[0] == "fail"] == []
    assert [call for call in world.calls if call[0] == "delete"] == []  # the next claim upserts


async def test_an_outage_on_the_last_attempt_fails_the_export_as_storage_error(
    world: World,
) -> None:
    world.export = export_record(attempts=3)
    world.upload = _outage  # type: ignore[method-assign]

    with pytest.raises(StorageUnavailable):
        await world.pipeline(max_attempts=3).run_export()

    assert [call[0] for call in world.calls if call[0] in ("defer", "fail")] == ["fail"]
    fail = next(call for call in world.calls if call[0] == "fail")
    assert fail[1:3] == (ExportStatus.STORING_FILE, ErrorCode.STORAGE_ERROR)
    assert fail[3].startswith("storing the file failed: storing ")
    assert fail[3].endswith(" failed: the Storage server is unavailable")


async def test_an_outage_while_signing_gives_the_export_back_too(world: World) -> None:
    async def down(path: str, ttl: timedelta) -> SignedUrl:
        raise StorageUnavailable(f"signing {path} failed: timed out")

    world.sign = down  # type: ignore[method-assign]

    with pytest.raises(StorageUnavailable):
        await world.pipeline().run_export()

    assert [call[0] for call in world.calls if call[0] in ("upload", "defer", "fail")] == [
        "upload",
        "defer",
    ]


async def test_an_export_lost_while_being_given_back_is_neither_failed_nor_unstored(
    world: World,
) -> None:
    world.upload = _outage  # type: ignore[method-assign]
    world.lose_in_defer = True

    with pytest.raises(StorageUnavailable):
        await world.pipeline().run_export()

    assert [call[0] for call in world.calls if call[0] in ("defer", "fail", "delete")] == ["defer"]


async def test_a_refusal_is_not_given_back_but_fails_at_once(world: World) -> None:
    async def refused(path: str, file: GeneratedFile) -> None:
        raise StorageError(f"storing {path} failed: bucket bufdir-exports does not exist")

    world.upload = refused  # type: ignore[method-assign]

    with pytest.raises(StorageError):
        await world.pipeline().run_export()

    assert [call[0] for call in world.calls if call[0] in ("defer", "fail")] == ["fail"]


async def test_a_database_fault_while_bundling_starts_the_zip_over(world: World) -> None:
    world.export = export_record(include_attachments=True)
    bundled = world.bundle
    faults = [DatabaseUnavailable("the connection was lost")]

    async def flaky(export: ExportRecord, report: GeneratedFile) -> GeneratedFile:
        if faults:
            world.calls.append(("bundle-broken",))
            raise faults.pop()
        return await bundled(export, report)

    world.bundle = flaky  # type: ignore[method-assign]

    result = await world.pipeline().run_export()

    assert _describe(result) == "success:completed"
    assert [call[0] for call in world.calls if call[0].startswith("bundle")] == [
        "bundle-broken",
        "bundle",
    ]


async def test_a_storage_outage_while_bundling_gives_the_export_back_at_once(
    world: World,
) -> None:
    world.export = export_record(include_attachments=True)

    async def down(export: ExportRecord, report: GeneratedFile) -> GeneratedFile:
        world.calls.append(("bundle-down",))
        raise StorageUnavailable("reading activity-attachments/x failed: timed out")

    world.bundle = down  # type: ignore[method-assign]

    with pytest.raises(StorageUnavailable):
        await world.pipeline().run_export()

    assert [call[0] for call in world.calls if call[0] in ("bundle-down", "defer", "fail")] == [
        "bundle-down",
        "defer",
    ]


async def _database_gone(export: ExportRecord, report: GeneratedFile) -> GeneratedFile:
    raise DatabaseUnavailable("the connection was lost")


async def test_a_database_fault_that_outlasts_the_retries_gives_the_export_back(
    world: World,
) -> None:
    world.export = export_record(include_attachments=True, attempts=1)
    world.bundle = _database_gone  # type: ignore[method-assign]

    with pytest.raises(DatabaseUnavailable):
        await world.pipeline(max_attempts=3).run_export()

    assert [call[0] for call in world.calls if call[0] in ("release", "defer", "fail")] == [
        "release"
    ]


async def test_a_database_fault_on_the_last_attempt_fails_the_export(world: World) -> None:
    world.export = export_record(include_attachments=True, attempts=3)
    world.bundle = _database_gone  # type: ignore[method-assign]

    with pytest.raises(DatabaseUnavailable):
        await world.pipeline(max_attempts=3).run_export()

    assert [call[0] for call in world.calls if call[0] in ("release", "defer", "fail")] == ["fail"]
