"""The attachment bundle: one zip with the report and every attachment of its activities.

Layout inside the zip::

    <report file name>
    vedlegg/<activity id>/<attachment id>-<file name>

The entry names are built from UUIDs and the attachment's own file name with
anything that could act as a directory removed, so unpacking the zip never
writes outside its folder. The zip is written to a temporary name and renamed
when complete; on any failure nothing is left behind, and as with the report
file, everything done to the zip happens in one thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import unicodedata
import uuid
import zipfile
from pathlib import Path

from .._models import ExportRecord
from ..core.ports import ActivitySource, Attachment, AttachmentStore, GeneratedFile
from .file_thread import FileThread, PartialFile, sha256_of

__all__ = ["ZipBundler", "zip_entry_name"]

_UNSAFE = re.compile(r"[^\w. ()+,-]")


def zip_entry_name(attachment: Attachment) -> str:
    """The attachment's place in the zip: never absolute, never with a directory of its own."""
    name = unicodedata.normalize("NFC", attachment.file_name)
    name = _UNSAFE.sub("_", name).strip(" .") or "vedlegg"
    return f"vedlegg/{attachment.activity_id}/{attachment.id}-{name[:120]}"


class ZipBundler:
    """:class:`~bufdir_export.core.ports.AttachmentBundler` writing a zip in ``work_dir``."""

    def __init__(self, source: ActivitySource, store: AttachmentStore, work_dir: Path) -> None:
        self._source = source
        self._store = store
        self._work_dir = work_dir

    async def bundle(self, export: ExportRecord, report: GeneratedFile) -> GeneratedFile:
        file_name = f"{Path(report.file_name).stem}-med-vedlegg.zip"
        await asyncio.to_thread(self._work_dir.mkdir, parents=True, exist_ok=True)
        zip_file = _ZipFile(
            PartialFile(
                partial=self._work_dir / f".{uuid.uuid4().hex}.zip.partial",
                target=self._work_dir / f"{export.id}-{file_name}",
            )
        )
        async with FileThread("bundle") as thread:
            try:
                await thread.run(zip_file.open)
                await thread.run(zip_file.add_file, report.path, report.file_name)
                async for attachment in self._source.attachments(export):
                    content = await self._store.read_attachment(attachment.storage_path)
                    await thread.run(zip_file.add, zip_entry_name(attachment), content)
                await thread.run(zip_file.finish)
                digest = await thread.run(sha256_of, zip_file.file.target)
            except BaseException:
                # After whatever the thread is still doing for this file.
                await thread.run_to_end(zip_file.discard)
                raise
        target = zip_file.file.target
        return GeneratedFile(
            path=target,
            file_name=file_name,
            content_type="application/zip",
            size_bytes=target.stat().st_size,
            row_count=report.row_count,
            counted_days=report.counted_days,
            sha256=digest,
        )


class _ZipFile:
    """The zip being written. The methods run in the file's thread, one at a time."""

    def __init__(self, file: PartialFile) -> None:
        self.file = file
        self._archive: zipfile.ZipFile | None = None

    def open(self) -> None:
        self._archive = zipfile.ZipFile(self.file.partial, "w", zipfile.ZIP_DEFLATED, True, 6)

    def add_file(self, path: Path, name: str) -> None:
        assert self._archive is not None  # noqa: S101 - opened before
        self._archive.write(path, name)

    def add(self, name: str, content: bytes) -> None:
        assert self._archive is not None  # noqa: S101 - opened before
        self._archive.writestr(name, content)

    def finish(self) -> None:
        assert self._archive is not None  # noqa: S101 - opened before
        self._archive.close()
        self.file.complete()

    def discard(self) -> None:
        if self._archive is not None:
            with contextlib.suppress(Exception):
                self._archive.close()
        self.file.remove()
