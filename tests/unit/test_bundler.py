"""The attachment bundle: the report and every attachment, safely named, or nothing at all."""

from __future__ import annotations

import asyncio
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bufdir_export import StorageError
from bufdir_export._models import ExportRecord
from bufdir_export.core.ports import Activity, Attachment, GeneratedFile
from bufdir_export.report.bundler import ZipBundler, zip_entry_name
from bufdir_export.storage.local_storage import LocalStorage
from bufdir_export.storage.signing import UrlSigner
from tests.support import export_record


class Attachments:
    """An activity source that knows only attachments."""

    def __init__(self, attachments: list[Attachment]) -> None:
        self.listed = attachments

    async def count(self, export: ExportRecord) -> int:
        raise AssertionError("the bundler does not count activities")

    async def stream(self, export: ExportRecord) -> AsyncIterator[Activity]:
        raise AssertionError("the bundler does not read activities")
        yield  # pragma: no cover

    async def attachments(self, export: ExportRecord) -> AsyncIterator[Attachment]:
        for attachment in self.listed:
            yield attachment


def _attachment(file_name: str, storage_path: str, content: bytes) -> Attachment:
    return Attachment(
        id=uuid.uuid4(),
        activity_id=uuid.uuid4(),
        storage_path=storage_path,
        file_name=file_name,
        content_type="application/octet-stream",
        size_bytes=len(content),
    )


def _report(tmp_path: Path) -> GeneratedFile:
    path = tmp_path / "work" / "report.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"report")
    return GeneratedFile(path, "bufdir-rapport-2025.xlsx", "application/x", 6, 42)


def _listing(work: Path) -> list[str]:
    return sorted(p.name for p in work.iterdir())


async def test_the_zip_holds_the_report_and_every_attachment(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "store", UrlSigner(b"s" * 32, "http://unused"))
    files = {
        "nhf/a/deltakerliste.pdf": ("Deltakerliste.pdf", b"%PDF-1.4 list"),
        "nhf/b/referat.pdf": ("Referat møte ÆØÅ.pdf", b"%PDF-1.4 minutes"),
    }
    attachments = []
    for path, (name, content) in files.items():
        await store.put_attachment(path, content)
        attachments.append(_attachment(name, path, content))
    report = _report(tmp_path)

    bundle = await ZipBundler(Attachments(attachments), store, tmp_path / "work").bundle(
        export_record(), report
    )

    assert bundle.file_name == "bufdir-rapport-2025-med-vedlegg.zip"
    assert bundle.content_type == "application/zip"
    assert bundle.row_count == 42
    assert bundle.size_bytes == bundle.path.stat().st_size
    with zipfile.ZipFile(bundle.path) as archive:
        assert archive.testzip() is None
        assert archive.read("bufdir-rapport-2025.xlsx") == b"report"
        for attachment, (_, content) in zip(attachments, files.values(), strict=True):
            assert archive.read(zip_entry_name(attachment)) == content
        assert len(archive.namelist()) == 3
        assert f"vedlegg/{attachments[1].activity_id}/{attachments[1].id}-Referat møte ÆØÅ.pdf" in (
            archive.namelist()
        )


@pytest.mark.parametrize(
    "hostile",
    ["../../etc/passwd", "..", "/abs.pdf", "a\\..\\b.pdf", "=SUM(1+1).csv", " .hidden", "x" * 300],
)
def test_entry_names_never_leave_their_folder(hostile: str) -> None:
    attachment = _attachment(hostile, "nhf/a/x", b"")
    name = zip_entry_name(attachment)

    prefix = f"vedlegg/{attachment.activity_id}/{attachment.id}-"
    assert name.startswith(prefix)
    rest = name.removeprefix(prefix)
    assert "/" not in rest
    assert "\\" not in rest
    assert ".." not in rest.split("/")
    assert 0 < len(rest) <= 120


async def test_a_missing_attachment_fails_and_leaves_no_partial_zip(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "store", UrlSigner(b"s" * 32, "http://unused"))
    await store.put_attachment("nhf/a/ok.pdf", b"ok")
    attachments = [
        _attachment("ok.pdf", "nhf/a/ok.pdf", b"ok"),
        _attachment("gone.pdf", "nhf/a/gone.pdf", b"gone"),
    ]
    report = _report(tmp_path)
    work = tmp_path / "work"

    with pytest.raises(StorageError, match=r"attachment nhf/a/gone\.pdf is missing"):
        await ZipBundler(Attachments(attachments), store, work).bundle(export_record(), report)

    assert await asyncio.to_thread(_listing, work) == ["report.xlsx"]


class StuckStore:
    """Attachment content, where the second read never ends."""

    def __init__(self) -> None:
        self.reads = 0
        self.stuck = asyncio.Event()

    async def read_attachment(self, storage_path: str) -> bytes:
        self.reads += 1
        if self.reads == 2:
            self.stuck.set()
            await asyncio.Event().wait()
        return b"content"


async def test_a_cancelled_bundle_leaves_no_partial_zip(tmp_path: Path) -> None:
    attachments = [_attachment(f"{n}.pdf", f"nhf/a/{n}.pdf", b"content") for n in range(3)]
    store = StuckStore()
    work = tmp_path / "work"
    bundler = ZipBundler(Attachments(attachments), store, work)
    task = asyncio.create_task(bundler.bundle(export_record(), _report(tmp_path)))
    await store.stuck.wait()
    assert any(name.endswith(".zip.partial") for name in await asyncio.to_thread(_listing, work))

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await asyncio.to_thread(_listing, work) == ["report.xlsx"]
