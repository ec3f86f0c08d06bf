"""The attachment bundle: one zip with the report and every attachment of its activities.

Layout inside the zip::

    <report file name>
    vedlegg/<activity id>/<attachment id>-<file name>

The entry names are built from UUIDs and the attachment's own file name with
anything that could act as a directory removed, so unpacking the zip never
writes outside its folder. The zip is written to a temporary name and renamed
when complete; on any failure nothing is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import unicodedata
import uuid
import zipfile
from pathlib import Path

from ._models import ExportRecord
from ._ports import ActivitySource, Attachment, AttachmentStore, GeneratedFile

__all__ = ["ZipBundler", "zip_entry_name"]

_UNSAFE = re.compile(r"[^\w. ()+,-]")


def zip_entry_name(attachment: Attachment) -> str:
    """The attachment's place in the zip: never absolute, never with a directory of its own."""
    name = unicodedata.normalize("NFC", attachment.file_name)
    name = _UNSAFE.sub("_", name).strip(" .") or "vedlegg"
    return f"vedlegg/{attachment.activity_id}/{attachment.id}-{name[:120]}"


class ZipBundler:
    """:class:`~bufdir_export._ports.AttachmentBundler` writing a zip in ``work_dir``."""

    def __init__(self, source: ActivitySource, store: AttachmentStore, work_dir: Path) -> None:
        self._source = source
        self._store = store
        self._work_dir = work_dir

    async def bundle(self, export: ExportRecord, report: GeneratedFile) -> GeneratedFile:
        file_name = f"{Path(report.file_name).stem}-med-vedlegg.zip"
        await asyncio.to_thread(self._work_dir.mkdir, parents=True, exist_ok=True)
        target = self._work_dir / f"{export.id}-{file_name}"
        partial = self._work_dir / f".{uuid.uuid4().hex}.zip.partial"
        try:
            archive = await asyncio.to_thread(
                zipfile.ZipFile, partial, "w", zipfile.ZIP_DEFLATED, True, 6
            )
            try:
                await asyncio.to_thread(archive.write, report.path, report.file_name)
                async for attachment in self._source.attachments(export):
                    content = await self._store.read_attachment(attachment.storage_path)
                    await asyncio.to_thread(archive.writestr, zip_entry_name(attachment), content)
            finally:
                await asyncio.to_thread(archive.close)
            await asyncio.to_thread(partial.replace, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise
        return GeneratedFile(
            path=target,
            file_name=file_name,
            content_type="application/zip",
            size_bytes=target.stat().st_size,
            row_count=report.row_count,
            counted_days=report.counted_days,
        )
