"""The file generator: activities from an async stream into an xlsx or CSV file on disk.

Rows are fetched on the event loop and mapped and written in a worker thread,
a batch at a time, the next batch being fetched while the last one is
written. The event loop stays free for heartbeats and notifications, and
memory holds two batches, whatever the size of the export.

The file is written under a temporary name and renamed when complete; on any
failure (or cancellation) nothing is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from ._models import ExportFormat, ExportRecord
from ._ports import Activity, GeneratedFile, MappingPass, Progress, RowMapping, SummaryTable
from ._report_writers import CsvRowWriter, ReportInfo, RowWriter, XlsxRowWriter

__all__ = ["StreamingFileGenerator", "report_file_name"]

_CONTENT_TYPES = {
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.CSV: "text/csv; charset=utf-8",
}


def report_file_name(export: ExportRecord) -> str:
    """``bufdir-rapport-<year>.<format>`` (or ``<from year>-<to year>``)."""
    first, last = export.period_start.year, export.period_end.year
    years = str(first) if first == last else f"{first}-{last}"
    return f"bufdir-rapport-{years}.{export.format.value}"


class StreamingFileGenerator:
    """:class:`~bufdir_export._ports.FileGenerator` writing into ``work_dir``."""

    def __init__(self, work_dir: Path, *, batch_size: int = 1_000) -> None:
        self._work_dir = work_dir
        self._batch_size = batch_size

    async def generate(
        self,
        export: ExportRecord,
        mapping: RowMapping,
        rows: AsyncIterator[Activity],
        total: int,
        progress: Progress,
    ) -> GeneratedFile:
        file_name = report_file_name(export)
        await asyncio.to_thread(self._work_dir.mkdir, parents=True, exist_ok=True)
        target = self._work_dir / f"{export.id}-{file_name}"
        partial = self._work_dir / f".{uuid.uuid4().hex}.{export.format.value}.partial"
        period = f"{export.period_start:%d.%m.%Y}-{export.period_end:%d.%m.%Y}"
        info = ReportInfo(
            title=f"Bufdir-rapport {period}",
            organisation=mapping.organisation_name,
            description=f"Likepersonsaktiviteter {period}, eksport {export.id}",
            export_id=str(export.id),
            generated_at=datetime.now(UTC),
        )
        writer_class = XlsxRowWriter if export.format is ExportFormat.XLSX else CsvRowWriter
        writer: RowWriter | None = None
        # A new pass each time: a retried file starts from empty sums.
        mapping_pass = mapping.begin()
        try:
            opened: RowWriter = await asyncio.to_thread(
                writer_class, partial, list(mapping.columns), info
            )
            writer = opened
            written = await self._pump(opened, mapping_pass, rows, total, progress)
            summary = _with_notes(mapping_pass.summary(), mapping, period)
            await asyncio.to_thread(opened.close, summary)
            await asyncio.to_thread(partial.replace, target)
        except BaseException:
            if writer is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(asyncio.to_thread(writer.discard))
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise
        finally:
            with contextlib.suppress(Exception):
                await _aclose(rows)
        return GeneratedFile(
            path=target,
            file_name=file_name,
            content_type=_CONTENT_TYPES[export.format],
            size_bytes=target.stat().st_size,
            row_count=written,
            counted_days=mapping_pass.counted,
        )

    async def _pump(
        self,
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
                writing = asyncio.ensure_future(asyncio.to_thread(_write, writer, mapping, batch))
                written += len(batch)
        finally:
            if writing is not None and not writing.done():
                # Do not leave the thread writing into a file about to be removed.
                with contextlib.suppress(BaseException):
                    await asyncio.shield(writing)


def _write(writer: RowWriter, mapping: MappingPass, batch: Sequence[Activity]) -> None:
    writer.write_rows([mapping.map(activity) for activity in batch])


def _with_notes(summary: SummaryTable, mapping: RowMapping, period: str) -> SummaryTable:
    version = "standard" if mapping.version is None else f"versjon {mapping.version}"
    return dataclasses.replace(
        summary,
        notes=(
            ("Organisasjon", mapping.organisation_name),
            ("Periode", period),
            ("Kolonneoppsett", version),
            ("Tellende", _COUNTING_NOTE),
        ),
    )


_COUNTING_NOTE = (
    "Aktivitetsdager som teller etter Bufdirs regler. Arket Aktiviteter viser "
    "hver aktivitet, og for dem som ikke teller, årsaken."
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
