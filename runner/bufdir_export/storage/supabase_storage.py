"""Supabase Storage: the export files in a private bucket, signed URLs from the Storage API.

Uploads overwrite (``x-upsert``), so an export run again after a lost lease
stores its file at the same path. A transient fault (a timeout, a connection
error, or an answer whose status is 423, 429 or 5xx, read from the body as
:mod:`.storage_refusals` explains) is tried again with exponential backoff
for as long as the outage budget allows, then raises
:class:`~bufdir_export.StorageUnavailable`; any other refusal raises
:class:`~bufdir_export.StorageError` at once, its message naming the cause.

Messages name the operation, the bucket and path, and the server's code and
status; never the service key, a header, a signed URL or the server's own
message. storage3's own exceptions carry the server's answer (which may echo
anything) and httpx's the request, so they are never chained: every error is
raised outside the handler that caught the original, with neither
``__cause__`` nor ``__context__``.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self, TypeVar
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx
from storage3 import AsyncStorageClient
from storage3.types import FileOptions, SearchV2Options
from storage3.utils import StorageException

from .._errors import StorageError, StorageUnavailable
from .._paths import export_of_object, is_attachment_path, is_export_file_path
from ..core.observer import UNOBSERVED, Observer
from ..core.ports import GeneratedFile, SignedUrl
from ..core.retry import retry_transient
from .storage_refusals import describe_refusal, refusal_of

__all__ = ["SupabaseStorage"]

T = TypeVar("T")

# What a storage3 call may raise when the store, or the way to it, fails:
# its own errors, httpx's, and the JSON and validation errors (both
# ValueError) or KeyError of an answer that is not what was expected.
_FAULTS = (StorageException, httpx.HTTPError, ValueError, KeyError)
# The most objects one request may list or remove (the server's MAX_OBJECTS_PER_REQUEST).
_PER_REQUEST = 1000


class SupabaseStorage:
    """:class:`~bufdir_export.core.ports.Storage` and
    :class:`~bufdir_export.core.ports.AttachmentStore` on Supabase Storage.

    ``timeout_seconds`` bounds each step of a request (connecting, each read,
    each write), not a whole transfer, so a large upload that keeps moving is
    never cut off, and a frozen server is noticed within that many seconds.
    A transient fault is tried again while ``outage_budget_seconds`` from the
    first try allow a wait and another try (and at most ``attempts`` tries in
    all, when given); the waits start at ``first_wait`` seconds and double up
    to ``max_wait``.

    It holds an HTTP connection pool: close it with :meth:`aclose`, or use it
    as an ``async with`` block.
    """

    def __init__(
        self,
        url: str,
        service_key: str,
        *,
        export_bucket: str,
        attachment_bucket: str,
        outage_budget_seconds: float = 60.0,
        attempts: int | None = None,
        timeout_seconds: float = 10.0,
        first_wait: float = 0.25,
        max_wait: float = 5.0,
        observer: Observer = UNOBSERVED,
    ) -> None:
        address = urlsplit(url)
        if address.scheme not in ("http", "https") or not address.netloc:
            raise ValueError("the Supabase URL must be an http(s) address")
        if address.query or address.fragment:
            raise ValueError("the Supabase URL must have no query or fragment")
        if not service_key:
            raise ValueError("the Supabase service key is empty")
        if not export_bucket or not attachment_bucket:
            raise ValueError("both bucket names are needed")
        if attempts is not None and attempts < 1:
            raise ValueError("attempts must be at least 1")
        if outage_budget_seconds < 0:
            raise ValueError("the outage budget must not be negative")
        if timeout_seconds <= 0 or first_wait < 0 or max_wait < 0:
            raise ValueError("the timeout must be positive and the waits not negative")

        self._url = url.rstrip("/")
        # With the trailing slash: storage3 warns (UserWarning) without it.
        self._storage_url = f"{self._url}/storage/v1/"
        self._export_bucket = export_bucket
        self._attachment_bucket = attachment_bucket
        self._attempts = attempts
        self._budget = outage_budget_seconds
        self._first_wait = first_wait
        self._max_wait = max_wait
        self._observer = observer
        # Our own client: storage3's default one follows redirects (and would
        # send the key along) and asks for HTTP/2. The key goes in storage3's
        # per-request headers only.
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 5.0)),
            follow_redirects=False,
        )
        self._client = AsyncStorageClient(
            self._storage_url,
            {"apikey": service_key, "Authorization": f"Bearer {service_key}"},
            http_client=self._http,
        )

    def __repr__(self) -> str:
        return (
            f"SupabaseStorage({self._url!r}, export_bucket={self._export_bucket!r}, "
            f"attachment_bucket={self._attachment_bucket!r})"
        )

    async def aclose(self) -> None:
        """Close the connection pool; the object is of no use afterwards."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # Storage -------------------------------------------------------------------

    async def upload(self, path: str, file: GeneratedFile) -> None:
        """Store ``file`` at ``path`` in the export bucket, replacing what is there."""
        if not is_export_file_path(path):
            raise ValueError(f"not an export file path: {path!r}")
        options: FileOptions = {
            "content-type": file.content_type,
            "upsert": "true",
            # Supabase sends "max-age=<this>": a re-run's file replaces the old one.
            "cache-control": "0",
        }
        bucket = self._client.from_(self._export_bucket)
        # Given a path, storage3 opens the file afresh on each attempt and httpx
        # sends it as multipart in 64 KiB reads: it is never wholly in memory.
        await self._call(
            "storing",
            self._export_bucket,
            path,
            lambda: bucket.upload(path, file.path, options),
        )

    async def sign(self, path: str, ttl: timedelta) -> SignedUrl:
        """A URL that fetches ``path`` from the export bucket until ``ttl`` from now."""
        if not is_export_file_path(path):
            raise ValueError(f"not an export file path: {path!r}")
        seconds = int(ttl.total_seconds())
        if seconds < 1:
            raise ValueError(f"a signed URL must be valid for a second at least, not {ttl}")
        # Taken before the request: the store's own clock starts a little later,
        # so the link works at least until then.
        expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)
        bucket = self._client.from_(self._export_bucket)
        signed = await self._call(
            "signing",
            self._export_bucket,
            path,
            lambda: bucket.create_signed_url(path, seconds),
        )
        # The API answers "/object/sign/<bucket>/<path>?token=..."; storage3
        # resolves that against <url>/storage/v1/. Anything else (an absolute
        # or protocol-relative answer, another object, no token) is refused
        # rather than handed out.
        url = signed.get("signedURL") or ""
        if not self._is_signed_url_of(path, url):
            raise StorageError(
                f"signing {self._export_bucket}/{path} failed: "
                "the answer held no signed URL of that file"
            )
        return SignedUrl(url=url, expires_at=expires_at)

    def _is_signed_url_of(self, path: str, url: str) -> bool:
        parts = urlsplit(url)
        where = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        expected = f"{self._storage_url}object/sign/{self._export_bucket}/{path}"
        return where == expected and bool(parse_qs(parts.query).get("token"))

    async def delete(self, paths: Sequence[str]) -> None:
        """Remove these objects from the export bucket, a thousand to a request
        (the server's limit); one that is not there is no error (the server
        answers 200 with the objects it did remove)."""
        for path in paths:
            if export_of_object(path) is None:
                raise ValueError(f"not a path in an export's folder: {path!r}")
        bucket = self._client.from_(self._export_bucket)
        for start in range(0, len(paths), _PER_REQUEST):
            batch = list(paths[start : start + _PER_REQUEST])
            await self._call(
                "removing",
                self._export_bucket,
                batch[0] if len(batch) == 1 else f"{batch[0]} and {len(batch) - 1} more",
                functools.partial(bucket.remove, batch),
            )

    async def export_paths(self) -> AsyncIterator[str]:
        """Every object of the export bucket, a page of a thousand at a time
        (``list-v2`` without a delimiter lists every key, folders flattened)."""
        bucket = self._client.from_(self._export_bucket)
        cursor: str | None = None
        while True:
            options: SearchV2Options = {"limit": _PER_REQUEST, "prefix": ""}
            if cursor is not None:
                options["cursor"] = cursor
            page = await self._call(
                "listing", self._export_bucket, "", functools.partial(bucket.list_v2, options)
            )
            for entry in page.objects:
                yield entry.name
            if not page.hasNext or not page.nextCursor:
                return
            cursor = page.nextCursor

    # AttachmentStore -----------------------------------------------------------

    async def read_attachment(self, storage_path: str) -> bytes:
        """The bytes of ``storage_path`` in the attachment bucket."""
        if not is_attachment_path(storage_path):
            raise ValueError(f"not an attachment path: {storage_path!r}")
        bucket = self._client.from_(self._attachment_bucket)
        return await self._call(
            "reading",
            self._attachment_bucket,
            storage_path,
            lambda: bucket.download(storage_path),
        )

    # --------------------------------------------------------------------------

    async def _call(
        self, operation: str, bucket: str, path: str, call: Callable[[], Awaitable[T]]
    ) -> T:
        noun = "attachment" if bucket == self._attachment_bucket else "export file"

        async def once() -> T:
            try:
                return await call()
            except _FAULTS as error:
                failure = _translate(
                    error, operation=operation, bucket=bucket, path=path, noun=noun
                )
            # Raised here, outside the handler: no __context__ to leak through.
            raise failure

        return await retry_transient(
            once,
            attempts=self._attempts,
            budget_seconds=self._budget,
            first_wait=self._first_wait,
            max_wait=self._max_wait,
            observer=self._observer,
        )


def _translate(
    error: BaseException, *, operation: str, bucket: str, path: str, noun: str
) -> StorageError:
    """Our exception for ``error``, naming the operation, the path and the cause."""
    what = f"{operation} {bucket}/{path}"
    if isinstance(error, httpx.TimeoutException):
        return StorageUnavailable(f"{what} failed: timed out")
    if isinstance(error, httpx.TransportError):
        return StorageUnavailable(f"{what} failed: {type(error).__name__}")
    response = _response_of(error)
    if response is not None:
        refusal = refusal_of(response.status_code, response.content)
        return describe_refusal(refusal, operation=operation, bucket=bucket, path=path, noun=noun)
    return StorageError(f"{what} failed: unexpected answer ({type(error).__name__})")


def _response_of(error: BaseException) -> httpx.Response | None:
    """The answer behind ``error``: storage3 raises its own exception from the
    ``HTTPStatusError`` that holds it."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        if isinstance(link, httpx.HTTPStatusError):
            return link.response
        link = link.__cause__ or link.__context__
    return None
