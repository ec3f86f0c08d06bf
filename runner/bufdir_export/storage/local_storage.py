"""Local storage: files in a directory, fetched through signed URLs from the download server.

Exports live at ``<root>/exports/<organisation_id>/<export_id>/<file name>``;
the app's attachments at ``<root>/attachments/<storage path>``. Nothing is
ever read or written outside those two folders.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from .._errors import StorageError
from .._paths import is_attachment_path, is_export_file_path
from ..core.ports import GeneratedFile, SignedUrl
from .signing import UrlSigner

__all__ = ["LocalStorage"]


def _now() -> datetime:
    return datetime.now(UTC)


class LocalStorage:
    """:class:`~bufdir_export.core.ports.Storage` and ``AttachmentStore`` on a local directory."""

    def __init__(
        self, root: Path, signer: UrlSigner, *, clock: Callable[[], datetime] = _now
    ) -> None:
        self._exports = root / "exports"
        self._attachments = root / "attachments"
        self._signer = signer
        self._clock = clock

    def export_file(self, path: str) -> Path:
        """Where the export file of ``path`` lives (which may not exist)."""
        if not is_export_file_path(path):
            raise ValueError(f"not an export file path: {path!r}")
        return self._exports.joinpath(*PurePosixPath(path).parts)

    def attachment_file(self, storage_path: str) -> Path:
        """Where the attachment of ``storage_path`` lives; refuses any way out of the folder."""
        if not is_attachment_path(storage_path):
            raise ValueError(f"not an attachment path: {storage_path!r}")
        return self._attachments.joinpath(*storage_path.split("/"))

    async def upload(self, path: str, file: GeneratedFile) -> None:
        target = self.export_file(path)
        try:
            await asyncio.to_thread(_replace_atomically, target, file.path)
        except OSError as error:
            raise StorageError(f"storing {path} failed ({error.strerror or 'I/O error'})") from None

    async def sign(self, path: str, ttl: timedelta) -> SignedUrl:
        expires_at = (self._clock() + ttl).replace(microsecond=0)
        return SignedUrl(url=self._signer.sign(path, expires_at), expires_at=expires_at)

    async def read_attachment(self, storage_path: str) -> bytes:
        source = self.attachment_file(storage_path)
        try:
            return await asyncio.to_thread(source.read_bytes)
        except FileNotFoundError:
            raise StorageError(f"attachment {storage_path} is missing") from None
        except OSError as error:
            raise StorageError(
                f"reading attachment {storage_path} failed ({error.strerror or 'I/O error'})"
            ) from None

    async def put_attachment(self, storage_path: str, content: bytes) -> None:
        """Store an attachment as the app would (for the demo and tests)."""
        target = self.attachment_file(storage_path)
        await asyncio.to_thread(_replace_atomically, target, content)


def _replace_atomically(target: Path, source: Path | bytes) -> None:
    """``target`` holds ``source`` (a file to copy, or bytes) whole, or is untouched."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    if isinstance(source, Path):
        shutil.copyfile(source, partial)
    else:
        partial.write_bytes(source)
    os.replace(partial, target)
