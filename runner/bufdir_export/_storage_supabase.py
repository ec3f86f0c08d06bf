"""Supabase Storage: the export files in a private bucket, signed URLs from the Storage API.

Uploads overwrite (``x-upsert``), so an export run again after a lost lease
stores its file at the same path. Timeouts, connection errors, 429 and 5xx
are retried a few times with backoff and then raise
:class:`~bufdir_export.StorageUnavailable`; any other refusal raises
:class:`~bufdir_export.StorageError` at once. Messages name the operation,
the path and the HTTP status; never the service key or a signed URL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import httpx
from storage3 import AsyncStorageClient
from storage3.exceptions import StorageApiError
from storage3.utils import StorageException

from ._errors import StorageError, StorageUnavailable
from ._paths import is_export_file_path
from ._ports import GeneratedFile, SignedUrl
from ._retry import retry_transient

__all__ = ["SupabaseStorage"]

T = TypeVar("T")


class SupabaseStorage:
    """:class:`~bufdir_export._ports.Storage` and ``AttachmentStore`` on Supabase Storage."""

    def __init__(
        self,
        url: str,
        service_key: str,
        *,
        export_bucket: str,
        attachment_bucket: str,
        attempts: int = 4,
        first_wait: float = 0.2,
        timeout_seconds: float = 60.0,
    ) -> None:
        self._url = url.rstrip("/")
        headers = {"apikey": service_key, "Authorization": f"Bearer {service_key}"}
        self._http = httpx.AsyncClient(
            headers=headers, timeout=httpx.Timeout(timeout_seconds), follow_redirects=False
        )
        self._client = AsyncStorageClient(
            f"{self._url}/storage/v1/", headers, http_client=self._http
        )
        self._export_bucket = export_bucket
        self._attachment_bucket = attachment_bucket
        self._attempts = attempts
        self._first_wait = first_wait

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        async def once() -> T:
            try:
                return await call()
            except StorageApiError as error:
                status = int(error.status) if str(error.status).isdigit() else 0
                kind = StorageUnavailable if status == 429 or status >= 500 else StorageError
                raise kind(f"{what} failed (HTTP {status or error.status})") from None
            except httpx.TimeoutException:
                raise StorageUnavailable(f"{what} failed (timed out)") from None
            except httpx.TransportError as error:
                raise StorageUnavailable(f"{what} failed ({type(error).__name__})") from None
            except StorageException:
                raise StorageError(f"{what} failed (unexpected answer)") from None

        return await retry_transient(once, attempts=self._attempts, first_wait=self._first_wait)

    async def upload(self, path: str, file: GeneratedFile) -> None:
        if not is_export_file_path(path):
            raise ValueError(f"not an export file path: {path!r}")
        bucket = self._client.from_(self._export_bucket)
        await self._call(
            f"storing {path}",
            # A path: storage3 opens the file and httpx streams it from disk.
            lambda: bucket.upload(
                path,
                file.path,
                {"content-type": file.content_type, "upsert": "true", "cache-control": "no-store"},
            ),
        )

    async def sign(self, path: str, ttl: timedelta) -> SignedUrl:
        if not is_export_file_path(path):
            raise ValueError(f"not an export file path: {path!r}")
        expires_at = datetime.now(UTC).replace(microsecond=0) + ttl
        bucket = self._client.from_(self._export_bucket)
        signed = await self._call(
            f"signing {path}", lambda: bucket.create_signed_url(path, int(ttl.total_seconds()))
        )
        url = signed.get("signedURL") or signed.get("signedUrl")
        if not url:
            raise StorageError(f"signing {path} failed (no URL in the answer)")
        if url.startswith("/"):
            url = f"{self._url}/storage/v1{url}"
        return SignedUrl(url=url, expires_at=expires_at)

    async def read_attachment(self, storage_path: str) -> bytes:
        parts = storage_path.split("/")
        if (
            storage_path.startswith("/")
            or "\\" in storage_path
            or "\0" in storage_path
            or any(part in ("", ".", "..") for part in parts)
        ):
            raise ValueError(f"not an attachment path: {storage_path!r}")
        bucket = self._client.from_(self._attachment_bucket)
        return await self._call(
            f"reading attachment {storage_path}", lambda: bucket.download(storage_path)
        )
