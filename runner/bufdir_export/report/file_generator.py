"""The file generator: activities from an async stream into an xlsx or CSV file on disk.

Rows are fetched on the event loop and mapped and written in a worker thread,
a batch at a time, the next batch being fetched while the last one is
written. The event loop stays free for heartbeats and notifications, and
memory holds two batches, whatever the size of the export.

The file is written under a temporary name and renamed when complete; on any
failure (or cancellation) nothing is left behind. Everything done to the file
happens in one thread of its own (:class:`~bufdir_export.report.file_thread.FileThread`),
so the clean-up after a cancellation never races the write it interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from .._models import (
    ExportFormat,
    ExportRecord,
    ExportScope,
    ReportBasis,
    base_year,
    period_text,
)
from ..core.ports import (
    Activity,
    ColumnLayout,
    GeneratedFile,
    MappingPass,
    Progress,
    RowMapping,
    SummaryTable,
)
from .file_thread import FileThread, PartialFile, sha256_of
from .sheet_writers import AUDIT_HEAD_PROPERTY, CsvRowWriter, ReportInfo, RowWriter
from .xlsx_writer import XlsxRowWriter

__all__ = ["WRITERS", "StreamingFileGenerator", "WriterFactory", "report_file_name"]

_CONTENT_TYPES = {
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.CSV: "text/csv; charset=utf-8",
}


def report_file_name(export: ExportRecord) -> str:
    """``bufdir-rapport-<year>.<format>`` (or ``<from year>-<to year>``)."""
    first, last = export.period_start.year, export.period_end.year
    years = str(first) if first == last else f"{first}-{last}"
    return f"bufdir-rapport-{years}.{export.format.value}"


WriterFactory = Callable[[Path, Sequence[ColumnLayout], ReportInfo], RowWriter]
"""Opens a :class:`RowWriter` on a path, for the columns, with the file's description."""

WRITERS: Mapping[ExportFormat, WriterFactory] = {
    ExportFormat.XLSX: XlsxRowWriter,
    ExportFormat.CSV: CsvRowWriter,
}


class StreamingFileGenerator:
    """:class:`~bufdir_export.core.ports.FileGenerator` writing into ``work_dir``."""

    def __init__(
        self,
        work_dir: Path,
        *,
        batch_size: int = 1_000,
        writers: Mapping[ExportFormat, WriterFactory] = WRITERS,
    ) -> None:
        self._work_dir = work_dir
        self._batch_size = batch_size
        self._writers = writers

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
        file_name = report_file_name(export)
        await asyncio.to_thread(self._work_dir.mkdir, parents=True, exist_ok=True)
        period = period_text(export.period_start, export.period_end)
        year = base_year(export.period_start, export.period_end)
        info = ReportInfo(
            title=f"Bufdir-rapport, grunnlagsår {year}" if year else f"Bufdir-rapport {period}",
            organisation=mapping.organisation_name,
            description=f"Likepersonsaktiviteter {period}, eksport {export.id}",
            export_id=str(export.id),
            generated_at=datetime.now(UTC),
            audit_head=_audit_head(basis),
        )
        job = _Job(
            self._writers[export.format],
            PartialFile(
                partial=self._work_dir / f".{uuid.uuid4().hex}.{export.format.value}.partial",
                target=self._work_dir / f"{export.id}-{file_name}",
            ),
        )
        # A new pass each time: a retried file starts from empty sums.
        mapping_pass = mapping.begin()
        async with FileThread("report-file") as thread:
            try:
                writer = await thread.run(job.open, list(mapping.columns), info)
                written = await self._pump(thread, writer, mapping_pass, rows, total, progress)
                summary = _with_notes(mapping_pass.summary(), mapping, period, year, basis)
                await thread.run(job.finish, summary)
                digest = await thread.run(sha256_of, job.file.target)
            except BaseException:
                # After whatever the thread is still doing for this file.
                await thread.run_to_end(job.discard)
                raise
            finally:
                with contextlib.suppress(Exception):
                    await _aclose(rows)
        target = job.file.target
        return GeneratedFile(
            path=target,
            file_name=file_name,
            content_type=_CONTENT_TYPES[export.format],
            size_bytes=target.stat().st_size,
            row_count=written,
            counted_days=mapping_pass.counted,
            sha256=digest,
        )

    async def _pump(
        self,
        thread: FileThread,
        writer: RowWriter,
        mapping: MappingPass,
        rows: AsyncIterator[Activity],
        total: int,
        progress: Progress,
    ) -> int:
        written = 0
        writing: asyncio.Future[None] | None = None
        try:
            while True:
                batch = await _next_batch(rows, self._batch_size)
                if writing is not None:
                    await writing
                    await progress(written, max(total, written))
                if not batch:
                    return written
                writing = thread.submit(_write, writer, mapping, batch)
                written += len(batch)
        finally:
            if writing is not None and not writing.cancel() and not writing.cancelled():
                writing.exception()  # ended, and not awaited because something else failed


def _write(writer: RowWriter, mapping: MappingPass, batch: Sequence[Activity]) -> None:
    writer.write_rows([mapping.map(activity) for activity in batch])


class _Job:
    """One file being generated. The methods run in the file's thread, one at a time."""

    def __init__(self, open_writer: WriterFactory, file: PartialFile) -> None:
        self._open_writer = open_writer
        self.file = file
        self._writer: RowWriter | None = None

    def open(self, columns: Sequence[ColumnLayout], info: ReportInfo) -> RowWriter:
        self._writer = self._open_writer(self.file.partial, columns, info)
        return self._writer

    def finish(self, summary: SummaryTable) -> None:
        assert self._writer is not None  # noqa: S101 - opened before
        self._writer.close(summary)
        self.file.complete()

    def discard(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.discard()
        self.file.remove()


def _audit_head(basis: ReportBasis) -> str:
    """The audit event the report was made after, as the file names it: id and hash."""
    return f"hendelse {basis.audit_event_id}, sha256 {basis.audit_hash}"


def _with_notes(
    summary: SummaryTable,
    mapping: RowMapping,
    period: str,
    year: int | None,
    basis: ReportBasis,
) -> SummaryTable:
    version = "standard" if mapping.version is None else f"versjon {mapping.version}"
    return dataclasses.replace(
        summary,
        notes=(
            ("Organisasjon", mapping.organisation_name),
            *_period_notes(period, year),
            ("Omfang", _SCOPE_NOTES[basis.scope]),
            ("Kolonneoppsett", version),
            ("Tellende", _COUNTING_NOTE),
            *summary.notes,
            (AUDIT_HEAD_PROPERTY, _audit_head(basis)),
        ),
    )


def _period_notes(period: str, year: int | None) -> tuple[tuple[str, str], ...]:
    if year is not None:
        return (("Grunnlagsår", str(year)), ("Periode", period))
    return (("Periode", f"{period}. {_NOT_A_CALENDAR_YEAR}"),)


# What the report holds, in the words of the one who reads it.
_SCOPE_NOTES = {
    ExportScope.ORGANISATION: "Alle organisasjonens aktiviteter i perioden",
    ExportScope.OWN: "Bare aktivitetene bestilleren selv har registrert (bestilleren er medlem)",
}
_COUNTING_NOTE = (
    "Aktivitetsdager som teller etter Bufdirs regler. Arket Aktiviteter viser "
    "hver aktivitet, og for dem som ikke teller, årsaken."
)
_NOT_A_CALENDAR_YEAR = (
    "Ikke et kalenderår: Bufdir teller aktivitet per kalenderår (grunnlagsåret), "
    "så tallene kan ikke sendes som de er."
)


async def _next_batch(rows: AsyncIterator[Activity], size: int) -> list[Activity]:
    batch: list[Activity] = []
    async for activity in rows:
        batch.append(activity)
        if len(batch) >= size:
            break
    return batch


async def _aclose(rows: AsyncIterator[Activity]) -> None:
    close = getattr(rows, "aclose", None)
    if close is not None:
        await close()
