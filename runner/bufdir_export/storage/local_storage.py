"""Local storage: files in a directory, fetched through signed URLs from the download server.

Exports live at ``<root>/exports/<organisation_id>/<export_id>/<file name>``;
the app's attachments at ``<root>/attachments/<storage path>``. Nothing is
ever read or written outside those two folders.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from .._errors import StorageError
from .._paths import export_of_object, is_attachment_path, is_export_file_path
from ..core.ports import GeneratedFile, SignedUrl
from .signing import UrlSigner

__all__ = ["LocalStorage"]

_CHUNK = 1024 * 1024


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
        """Copy ``file`` to ``path``. Cancelled, the copy stops at its next chunk
        and leaves nothing; this returns (raising the cancellation) only once the
        thread is done with the file, so nothing lands there afterwards."""
        target = self.export_file(path)
        stop = threading.Event()
        copying = asyncio.ensure_future(
            asyncio.to_thread(_replace_atomically, target, file.path, stop)
        )
        try:
            await asyncio.shield(copying)
        except asyncio.CancelledError:
            stop.set()
            with contextlib.suppress(Exception):
                await copying
            raise
        except OSError as error:
            raise StorageError(f"storing {path} failed ({error.strerror or 'I/O error'})") from None

    async def delete(self, paths: Sequence[str]) -> None:
        files = [self._in_export_folder(path) for path in paths]
        try:
            await asyncio.to_thread(_delete, files)
        except OSError as error:
            reason = error.strerror or "I/O error"
            raise StorageError(f"removing export files failed ({reason})") from None

    async def export_paths(self) -> AsyncIterator[str]:
        for path in await asyncio.to_thread(_files_under, self._exports):
            yield path

    def _in_export_folder(self, path: str) -> Path:
        if export_of_object(path) is None:
            raise ValueError(f"not a path in an export's folder: {path!r}")
        return self._exports.joinpath(*PurePosixPath(path).parts)

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


def _replace_atomically(
    target: Path, source: Path | bytes, stop: threading.Event | None = None
) -> None:
    """``target`` holds ``source`` (a file to copy, or bytes) whole, or is untouched;
    once ``stop`` is set, the copy ends at its next chunk and leaves nothing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        if isinstance(source, Path):
            with source.open("rb") as reader, partial.open("wb") as writer:
                while chunk := reader.read(_CHUNK):
                    if stop is not None and stop.is_set():
                        raise _Stopped
                    writer.write(chunk)
        else:
            partial.write_bytes(source)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _delete(files: Sequence[Path]) -> None:
    for file in files:
        file.unlink(missing_ok=True)
        # The export's folder goes with its last file.
        with contextlib.suppress(OSError):
            file.parent.rmdir()


def _files_under(root: Path) -> list[str]:
    """Every file under ``root``, as a relative path with ``/``."""
    if not root.is_dir():
        return []
    return sorted(
        str(PurePosixPath(*file.relative_to(root).parts))
        for file in root.rglob("*")
        if file.is_file()
    )


class _Stopped(Exception):
    """The copy was told to stop."""
