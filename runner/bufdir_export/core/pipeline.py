"""The export pipeline: one export, one pass, each status written before its step.

Sequencing only. What to read, how to map, how to write, where to store: all
of that lives behind the ports of :mod:`bufdir_export.core.ports`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from .._errors import (
    DATABASE_TRANSIENT,
    BufdirExportError,
    LeaseLost,
    StepFailed,
    StorageError,
    StorageUnavailable,
)
from .._models import (
    TERMINAL,
    ErrorCode,
    ExportFailure,
    ExportRecord,
    ExportResult,
    ExportStatus,
    ExportSuccess,
    ReportBasis,
    result_of,
)
from .._paths import export_file_path
from .log_context import log_about, logging_about
from .observer import UNOBSERVED, Observer
from .ports import (
    ActivitySource,
    AttachmentBundler,
    AuditService,
    ClaimedExport,
    ColumnMapper,
    FileGenerator,
    GeneratedFile,
    RowMapping,
    Storage,
)
from .retry import retry_transient

__all__ = ["ExportPipeline"]

log = logging.getLogger(__name__)

# What failed, by the status the export was in when it failed.
_FAILURE_CODES = {
    ExportStatus.QUERYING_ACTIVITIES: ErrorCode.QUERY_ERROR,
    ExportStatus.MAPPING_COLUMNS: ErrorCode.INVALID_CONFIG,
    ExportStatus.GENERATING_FILE: ErrorCode.GENERATION_ERROR,
    ExportStatus.BUNDLING_ATTACHMENTS: ErrorCode.STORAGE_ERROR,
    ExportStatus.STORING_FILE: ErrorCode.STORAGE_ERROR,
}
_STEP_NAMES = {
    ExportStatus.QUERYING_ACTIVITIES: "querying the activities",
    ExportStatus.MAPPING_COLUMNS: "mapping the columns",
    ExportStatus.GENERATING_FILE: "generating the file",
    ExportStatus.BUNDLING_ATTACHMENTS: "bundling the attachments",
    ExportStatus.STORING_FILE: "storing the file",
}
_UNFINISHED_ENDS = frozenset({ExportStatus.FAILED, ExportStatus.CANCELLED})
_NOT_A_MEMBER = "the requester is no longer a member of the organisation"


class ExportPipeline:
    """Claims an export and takes it through every step to its end.

    A step that meets a Storage outage longer than the store's own budget of
    retries gives the export back to the queue, to be claimed again after
    ``storage_retry_delay``, while it has attempts left (fewer than
    ``max_attempts``); then it fails as ``storage_error``. A database fault
    that outlasts a step's retries gives it back at once, on the same terms.

    ``observer`` is told of each claim, each step's time, each end, each lost
    lease, each retry and each export given back.
    """

    def __init__(
        self,
        *,
        audit: AuditService,
        activities: ActivitySource,
        mapper: ColumnMapper,
        generator: FileGenerator,
        bundler: AttachmentBundler,
        storage: Storage,
        url_ttl: timedelta,
        max_attempts: int = 3,
        storage_retry_delay: timedelta = timedelta(minutes=5),
        observer: Observer = UNOBSERVED,
    ) -> None:
        self._audit = audit
        self._activities = activities
        self._mapper = mapper
        self._generator = generator
        self._bundler = bundler
        self._storage = storage
        self._url_ttl = url_ttl
        self._max_attempts = max_attempts
        self._storage_retry_delay = storage_retry_delay
        self._observer = observer

    async def run_export(self) -> ExportResult | None:
        """Claim the oldest waiting export and run it; None when none waits, or
        when this runner lost the export to another one on the way.

        An exception inside a step marks the export ``failed`` (with the step's
        error code, or the code of a :class:`StepFailed`) and propagates.
        """
        claimed = await self._claim()
        if claimed is None:
            return None
        export = claimed.export
        with logging_about(export_id=str(export.id), claim=export.attempts):
            return await self._run_claimed(claimed)

    async def _run_claimed(self, claimed: ClaimedExport) -> ExportResult | None:
        export = claimed.export
        log_about(step=export.status.value)
        log.info("export %s: claimed (attempt %d)", export.id, export.attempts)
        self._observer.claimed(export)
        work = _Work(step=export.status)
        result: ExportResult | None = None
        try:
            async with self._audit.hold(export):
                result = await self._run(claimed, work)
        except LeaseLost:
            self._observer.lease_lost()
            result = await self._outcome_after_losing(export, work)
        except asyncio.CancelledError:
            await self._release(export)
            raise
        finally:
            self._step_ended(work)
            self._observer.ended(export, result or work.failed)
            _log_end(export, result or work.failed)
            for file in work.files:
                _remove(file.path)
            if work.ended_unfinished and work.stored_path is not None:
                await self._unstore(export, work.stored_path)
        return result

    async def _run(self, claimed: ClaimedExport, work: _Work) -> ExportResult:
        current = claimed.export
        try:
            basis = claimed.basis
            if basis is None:
                failed = await self._audit.fail(current, ErrorCode.FORBIDDEN, _NOT_A_MEMBER)
                return result_of(failed)
            total = claimed.activity_count
            if total is None:
                total = await self._query_activities(current)
            if total == 0:
                return result_of(await self._audit.complete_empty(current))
            current = await self._advance(current, ExportStatus.MAPPING_COLUMNS, work)
            mapping = await self._mapper.prepare(current)
            current = await self._advance(
                current, ExportStatus.GENERATING_FILE, work, config_version=mapping.version
            )
            report = await self._generate_file(current, mapping, total, basis, work.files)
            if current.include_attachments:
                current = await self._advance(current, ExportStatus.BUNDLING_ATTACHMENTS, work)
                report = await self._bundle_attachments(current, report, work.files)
            current = await self._advance(current, ExportStatus.STORING_FILE, work)
            return result_of(await self._store_and_finish(current, report, work))
        except LeaseLost:
            raise
        except StorageUnavailable as error:
            if current.attempts < self._max_attempts:
                await self._defer(current, error)
            else:
                await self._fail_step(current, error, work)
            raise
        except DATABASE_TRANSIENT as error:
            # The database went away for longer than the step's own retries
            # (a restart, a failover): not the export's fault, and the step's
            # error code would name the wrong cause. Another claim takes it up
            # once the database is back (or the reaper, if it is not back yet).
            if current.attempts < self._max_attempts:
                log.warning(
                    "export %s: back in the queue after a database fault (%s)", current.id, error
                )
                await self._release(current)
            else:
                await self._fail_step(current, error, work)
            raise
        except Exception as error:
            await self._fail_step(current, error, work)
            raise

    async def _advance(
        self,
        export: ExportRecord,
        to: ExportStatus,
        work: _Work,
        *,
        config_version: int | None = None,
    ) -> ExportRecord:
        """The next status, committed: the step before it has ended."""
        advanced = await self._audit.advance(export, to, config_version=config_version)
        self._step_ended(work)
        work.step = to
        log_about(step=to.value)
        return advanced

    def _step_ended(self, work: _Work) -> None:
        now = time.monotonic()
        self._observer.step_took(work.step, now - work.step_began)
        work.step_began = now

    async def _claim(self) -> ClaimedExport | None:
        return await self._audit.claim()

    async def _query_activities(self, export: ExportRecord) -> int:
        return await self._activities.count(export)

    async def _generate_file(
        self,
        export: ExportRecord,
        mapping: RowMapping,
        total: int,
        basis: ReportBasis,
        files: list[GeneratedFile],
    ) -> GeneratedFile:
        async def progress(done: int, of: int) -> None:
            await self._audit.progress(export, done, of)

        async def generate() -> GeneratedFile:
            # A stream broken by a transient fault starts over, from a new query.
            return await self._generator.generate(
                export, mapping, self._activities.stream(export), total, progress, basis=basis
            )

        report = await retry_transient(generate, observer=self._observer)
        files.append(report)
        return report

    async def _bundle_attachments(
        self, export: ExportRecord, report: GeneratedFile, files: list[GeneratedFile]
    ) -> GeneratedFile:
        # A database fault starts the zip over; Storage's own budget of retries
        # covers each attachment read (beyond it, the export is given back).
        async def bundle_once() -> GeneratedFile:
            return await self._bundler.bundle(export, report)

        bundle = await retry_transient(
            bundle_once, kinds=DATABASE_TRANSIENT, observer=self._observer
        )
        files.append(bundle)
        return bundle

    async def _store_and_finish(
        self, export: ExportRecord, file: GeneratedFile, work: _Work
    ) -> ExportRecord:
        path = export_file_path(export.organisation_id, export.id, file.file_name)
        # Before the upload starts: one stopped half-way may have stored it all the same.
        work.stored_path = path
        await self._storage.upload(path, file)
        url = await self._storage.sign(path, self._url_ttl)
        return await self._audit.complete(export, file, path, url)

    async def _fail_step(self, export: ExportRecord, error: Exception, work: _Work) -> None:
        """Mark the export failed by ``error`` (unless this claim no longer held it)."""
        if isinstance(error, StepFailed):
            code, message = error.code, error.message
        elif isinstance(error, StorageError):
            # Storage errors name the path and the HTTP status, never a key.
            code = ErrorCode.STORAGE_ERROR
            message = f"{_STEP_NAMES.get(export.status, 'the export')} failed: {error}"
        else:
            code = _FAILURE_CODES.get(export.status, ErrorCode.INTERNAL)
            step = _STEP_NAMES.get(export.status, "the export")
            # Only the exception's type: its text may hold what must not leak.
            message = f"{step} failed ({type(error).__name__})"
        try:
            failed = await self._audit.fail(export, code, message)
        except LeaseLost:
            self._observer.lease_lost()
            return
        work.ended_unfinished = True
        work.failed = result_of(failed)

    async def _defer(self, export: ExportRecord, error: StorageUnavailable) -> None:
        """Give the export back until the store may be up again (unless this
        claim no longer holds it: then whoever took it decides)."""
        try:
            await self._audit.defer(export, self._storage_retry_delay)
        except LeaseLost:
            self._observer.lease_lost()
            return
        self._observer.deferred()
        log.warning(
            "export %s: back in the queue for %g s after attempt %d of %d (%s)",
            export.id,
            self._storage_retry_delay.total_seconds(),
            export.attempts,
            self._max_attempts,
            error,
        )

    async def _release(self, export: ExportRecord) -> None:
        """Cancelled (the runner is stopping): give the export back, even while
        being cancelled again. If that fails, the lease runs out and the reaper
        re-queues it."""
        release = asyncio.ensure_future(self._audit.release(export))
        with contextlib.suppress(BufdirExportError, asyncio.CancelledError):
            await asyncio.shield(release)

    async def _outcome_after_losing(self, export: ExportRecord, work: _Work) -> ExportResult | None:
        """After a guarded write found the export gone: its end, if it ended under
        this claim (cancelled by its requester or an admin, or failed by the
        reaper); None when it was claimed again."""
        now = await self._audit.current(export.id)
        if now.attempts != export.attempts:
            log.warning(
                "export %s: claim %d lost (lease expired); claim %d has it, %s",
                export.id,
                export.attempts,
                now.attempts,
                now.status.value,
            )
            return None
        log.info("export %s: ended as %s while this runner held it", export.id, now.status.value)
        # Ended for good under this claim: no other claim will store at its path.
        work.ended_unfinished = now.status in _UNFINISHED_ENDS
        return result_of(now) if now.status in TERMINAL else None

    async def _unstore(self, export: ExportRecord, path: str) -> None:
        """Remove what this claim stored (or began to) for an export that did not complete."""
        try:
            await self._storage.delete([path])
        except StorageError as error:
            log.warning(
                "export %s: its file stays in storage until the sweep removes it (%s)",
                export.id,
                error,
            )
            return
        log.info("export %s: removed %s from storage", export.id, path)


@dataclass(slots=True)
class _Work:
    """What one pass over an export has made that outlives a step."""

    step: ExportStatus  # the status being worked in, and since when
    step_began: float = field(default_factory=time.monotonic)
    files: list[GeneratedFile] = field(default_factory=list)  # on local disk
    stored_path: str | None = None  # in storage, from the moment the upload began
    ended_unfinished: bool = False  # failed or cancelled, under this pass's claim
    failed: ExportResult | None = None  # failed by this pass, its step's error propagating


def _log_end(export: ExportRecord, result: ExportResult | None) -> None:
    match result:
        case ExportFailure(status=status, error_code=code) if code is not None:
            log.info("export %s: %s (%s)", export.id, status.value, code.value)
        case ExportSuccess(status=status) | ExportFailure(status=status):
            log.info("export %s: %s", export.id, status.value)
        case None:
            log.info(
                "export %s: not ended by this runner (given back, or claimed again)", export.id
            )


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
