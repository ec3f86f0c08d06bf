"""Supabase Storage through its REST API, against a local HTTP server that plays the API.

The server answers the endpoints storage3 calls (upload, sign, authenticated
download, and the signed download itself) the way Supabase does, checks the
key on every request, records each request, and can be told to fail: an
error status some number of times or always, an HTML page instead of JSON,
or a stall longer than the client's timeout.

Removing and listing follow supabase/storage's own source
(``src/http/routes/object/deleteObjects.ts`` and ``listObjectsV2.ts``,
``src/storage/object.ts``, ``src/storage/database/pg.ts``):

- ``DELETE /object/<bucket>`` with ``{"prefixes": [names]}``: at least one
  name (400 otherwise), at most 1,000 (``MAX_OBJECTS_PER_REQUEST``; more is
  400 ``InvalidRequest``). The names are exact object names, not prefixes
  (``name = ANY($2)``). 200 with the objects removed; a name with no object
  is simply not among them.
- ``POST /object/list-v2/<bucket>`` with ``limit``, ``prefix``, ``cursor``
  and no ``with_delimiter``: every object whose name starts with the prefix,
  folders flattened, ordered by name (``COLLATE "C"``), at most
  ``min(limit or 1000, 1000)``. The answer is ``{"hasNext", "nextCursor",
  "folders": [], "objects": [{id, name, metadata, created_at, updated_at,
  last_accessed_at}]}``; ``nextCursor`` is base64 of ``"l:<last name>"`` and
  the next page starts after that name; a cursor that does not decode is 400.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import logging
import os
import socket
import time
import traceback
import tracemalloc
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import BodyPartReader, web

from bufdir_export import StorageError, StorageUnavailable
from bufdir_export._paths import export_file_path
from bufdir_export.core.ports import GeneratedFile
from bufdir_export.storage.supabase_storage import SupabaseStorage

KEY = "service-key-SECRET-1234"
TOKEN = "signed-TOKEN-5678"
EXPORTS = "bufdir-exports"
ATTACHMENTS = "activity-attachments"
ORG, EXPORT = uuid.uuid4(), uuid.uuid4()
PATH = export_file_path(ORG, EXPORT, "bufdir-rapport-2025.xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# The fake Storage API ------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One bad answer: ``status`` with Supabase's JSON error body (which echoes
    the key and a token, as a careless server might), an HTML page, or a stall."""

    status: int = 503
    html: bool = False
    stall: bool = False


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body_length: int
    at: float
    json: Any = None
    parts: dict[str, tuple[str | None, str | None, bytes]] = field(default_factory=dict)
    digests: dict[str, tuple[int, str]] = field(default_factory=dict)


@dataclass
class FakeStorageApi:
    requests: list[Recorded] = field(default_factory=list)
    objects: dict[tuple[str, str], tuple[str, bytes]] = field(default_factory=dict)
    faults: deque[Fault] = field(default_factory=deque)
    always: Fault | None = None
    missing_status: int = 404
    signed_url: str | None = None  # what the sign endpoint answers instead of a relative URL
    digest_only: bool = False  # keep only the length and SHA-256 of the uploaded file
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def fail(self, fault: Fault, times: int) -> None:
        self.faults.extend([fault] * times)

    def _error(
        self, status: int, code: str, message: str, body_status: int | None = None
    ) -> web.Response:
        return web.json_response(
            {"statusCode": str(body_status or status), "error": code, "message": message},
            status=status,
        )

    async def _record(self, request: web.Request) -> Recorded:
        recorded = Recorded(
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            body_length=0,
            at=time.monotonic(),
        )
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                assert isinstance(part, BodyPartReader)
                if self.digest_only and part.name == "file":
                    recorded.digests["file"] = await _digest(part)
                    recorded.body_length += recorded.digests["file"][0]
                    data = b""
                else:
                    data = await part.read()
                recorded.body_length += len(data)
                recorded.parts[part.name or ""] = (
                    part.filename,
                    part.headers.get("Content-Type"),
                    bytes(data),
                )
        else:
            body = await request.read()
            recorded.body_length = len(body)
            if request.content_type == "application/json":
                recorded.json = await request.json()
        self.requests.append(recorded)
        return recorded

    async def handle(self, request: web.Request) -> web.StreamResponse:
        recorded = await self._record(request)
        fault = self.faults.popleft() if self.faults else self.always
        if fault is not None:
            if fault.stall:
                await asyncio.wait_for(self.released.wait(), timeout=10)
            if fault.html:
                return web.Response(
                    status=fault.status, text="<html>Bad gateway</html>", content_type="text/html"
                )
            return self._error(fault.status, "Oops", f"apikey {KEY}, token {TOKEN}")

        tail = request.match_info["tail"]
        if tail.startswith("object/sign/") and request.method == "GET":
            return self._signed_download(request, tail.removeprefix("object/sign/"))
        if (
            recorded.headers.get("apikey") != KEY
            or recorded.headers.get("Authorization") != f"Bearer {KEY}"
        ):
            return self._error(400, "Unauthorized", "invalid signature", body_status=403)
        if tail.startswith("object/list-v2/") and request.method == "POST":
            return self._list_v2(tail.removeprefix("object/list-v2/"), recorded)
        bucket_only = tail.startswith("object/") and "/" not in tail.removeprefix("object/")
        if bucket_only and request.method == "DELETE":
            return self._delete(tail.removeprefix("object/"), recorded)
        if tail.startswith("object/sign/") and request.method == "POST":
            return self._sign(tail.removeprefix("object/sign/"), recorded)
        if tail.startswith("object/") and request.method == "POST":
            return self._upload(request, tail.removeprefix("object/"), recorded)
        if tail.startswith("object/") and request.method == "GET":
            return self._download(tail.removeprefix("object/"))
        return web.Response(status=418)

    def _object(self, key: str) -> tuple[str, str]:
        bucket, _, name = key.partition("/")
        return bucket, name

    def _upload(self, request: web.Request, key: str, recorded: Recorded) -> web.Response:
        where = self._object(key)
        if where in self.objects and request.headers.get("x-upsert") != "true":
            return self._error(400, "Duplicate", "The resource already exists", body_status=409)
        _, content_type, data = recorded.parts["file"]
        self.objects[where] = (content_type or "", data)
        return web.json_response({"Key": key, "Id": str(uuid.uuid4())})

    def _delete(self, bucket: str, recorded: Recorded) -> web.Response:
        body = recorded.json if isinstance(recorded.json, dict) else {}
        names = body.get("prefixes")
        if not isinstance(names, list) or not names:
            return self._error(400, "InvalidRequest", "body/prefixes must have at least 1 item")
        if len(names) > 1000:
            return self._error(
                400, "InvalidRequest", "Bulk object requests are limited to 1000 objects"
            )
        removed = []
        for name in names:
            if self.objects.pop((bucket, name), None) is not None:
                removed.append({"bucket_id": bucket, "name": name})
        return web.json_response(removed)

    def _list_v2(self, bucket: str, recorded: Recorded) -> web.Response:
        body = recorded.json if isinstance(recorded.json, dict) else {}
        limit = min(int(body.get("limit") or 1000), 1000)
        prefix = str(body.get("prefix") or "")
        after = ""
        if body.get("cursor"):
            decoded = base64.b64decode(body["cursor"]).decode()
            if not decoded.startswith("l:"):
                return self._error(400, "InvalidParameter", "Invalid continuation token")
            after = decoded.removeprefix("l:")
        names = sorted(
            (name for (b, name) in self.objects if b == bucket and name.startswith(prefix)),
            key=lambda name: name.encode(),
        )
        names = [name for name in names if name.encode() > after.encode()]
        page, more = names[:limit], len(names) > limit
        stamp = "2026-12-01T12:00:00.000Z"
        return web.json_response(
            {
                "hasNext": more,
                "nextCursor": base64.b64encode(f"l:{page[-1]}".encode()).decode() if more else None,
                "folders": [],
                "objects": [
                    {
                        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
                        "name": name,
                        "metadata": {},
                        "created_at": stamp,
                        "updated_at": stamp,
                        "last_accessed_at": stamp,
                    }
                    for name in page
                ],
            }
        )

    def _sign(self, key: str, recorded: Recorded) -> web.Response:
        if self._object(key) not in self.objects:
            return self._error(self.missing_status, "not_found", "Object not found", 404)
        assert isinstance(recorded.json, dict)
        signed_url = self.signed_url
        if signed_url is None:
            signed_url = f"/object/sign/{key}?token={TOKEN}"
        return web.json_response({"signedURL": signed_url})

    def _download(self, key: str) -> web.Response:
        found = self.objects.get(self._object(key))
        if found is None:
            return self._error(self.missing_status, "not_found", "Object not found", 404)
        return web.Response(body=found[1], content_type=found[0] or "application/octet-stream")

    def _signed_download(self, request: web.Request, key: str) -> web.Response:
        if request.query.get("token") != TOKEN:
            return self._error(400, "InvalidJWT", "invalid token", body_status=400)
        return self._download(key)


async def _digest(part: BodyPartReader) -> tuple[int, str]:
    digest, length = hashlib.sha256(), 0
    while chunk := await part.read_chunk():
        digest.update(chunk)
        length += len(chunk)
    return length, digest.hexdigest()


@pytest.fixture
async def api() -> AsyncIterator[tuple[FakeStorageApi, str]]:
    fake = FakeStorageApi()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/storage/v1/{tail:.+}", fake.handle)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        fake.released.set()
        await runner.cleanup()


MakeStorage = Callable[..., SupabaseStorage]


@pytest.fixture
async def make_storage(api: tuple[FakeStorageApi, str]) -> AsyncIterator[MakeStorage]:
    made: list[SupabaseStorage] = []

    def make(**overrides: Any) -> SupabaseStorage:
        options: dict[str, Any] = {
            "url": api[1],
            "service_key": KEY,
            "export_bucket": EXPORTS,
            "attachment_bucket": ATTACHMENTS,
            "attempts": 3,
            "timeout_seconds": 5.0,
            "first_wait": 0.001,
            "max_wait": 0.01,
        } | overrides
        client = SupabaseStorage(options.pop("url"), options.pop("service_key"), **options)
        made.append(client)
        return client

    try:
        yield make
    finally:
        for client in made:
            await client.aclose()


@pytest.fixture
def storage(make_storage: MakeStorage) -> SupabaseStorage:
    return make_storage()


def _file(tmp_path: Path, content: bytes = b"PK\x03\x04 the report") -> GeneratedFile:
    path = tmp_path / f"report-{uuid.uuid4().hex}.xlsx"
    path.write_bytes(content)
    return GeneratedFile(path, "bufdir-rapport-2025.xlsx", XLSX, len(content), 1)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        link = pending.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        pending.extend(e for e in (link.__cause__, link.__context__) if e is not None)


def _never_leaks(error: BaseException) -> None:
    secrets = (KEY, "Bearer", TOKEN, "apikey")
    for link in _chain(error):
        for text in (str(link), repr(link), repr(link.args)):
            for secret in secrets:
                assert secret not in text, f"{secret!r} in {type(link).__name__}: {text}"
    printed = "".join(traceback.format_exception(error))
    for secret in secrets:
        assert secret not in printed
    assert error.__cause__ is None
    assert error.__context__ is None


Operation = Callable[[SupabaseStorage, Path], Awaitable[object]]


async def _upload(storage: SupabaseStorage, tmp_path: Path) -> object:
    await storage.upload(PATH, _file(tmp_path))
    return None


async def _sign(storage: SupabaseStorage, tmp_path: Path) -> object:
    return await storage.sign(PATH, timedelta(days=1))


async def _read(storage: SupabaseStorage, tmp_path: Path) -> object:
    return await storage.read_attachment("hlf/a1/liste.pdf")


OPERATIONS = pytest.mark.parametrize(
    ("operation", "words"),
    [
        (_upload, f"storing {EXPORTS}/{PATH}"),
        (_sign, f"signing {EXPORTS}/{PATH}"),
        (_read, f"reading {ATTACHMENTS}/hlf/a1/liste.pdf"),
    ],
    ids=["upload", "sign", "read_attachment"],
)


def _stock(fake: FakeStorageApi) -> None:
    fake.objects[(EXPORTS, PATH)] = (XLSX, b"the stored report")
    fake.objects[(ATTACHMENTS, "hlf/a1/liste.pdf")] = ("application/pdf", b"%PDF-1.4")


# Uploading -------------------------------------------------------------------------


async def test_upload_posts_the_exact_bytes_to_the_export_path_with_the_key_and_upsert(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage, tmp_path: Path
) -> None:
    fake, _ = api
    content = os.urandom(200_000) + b"\r\n--boundary-lookalike\r\n" + bytes(range(256))

    await storage.upload(PATH, _file(tmp_path, content))

    [request] = fake.requests
    assert request.method == "POST"
    assert request.path == f"/storage/v1/object/{EXPORTS}/{ORG}/{EXPORT}/bufdir-rapport-2025.xlsx"
    assert request.headers["apikey"] == KEY
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["x-upsert"] == "true"
    file_name, content_type, data = request.parts["file"]
    assert data == content
    assert file_name == "bufdir-rapport-2025.xlsx"
    assert content_type == XLSX
    assert request.parts["cacheControl"][2] == b"0"
    assert int(request.headers["Content-Length"]) > len(content)
    assert fake.objects[(EXPORTS, PATH)] == (XLSX, content)


async def test_a_second_upload_of_the_same_export_overwrites_the_first(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage, tmp_path: Path
) -> None:
    fake, _ = api
    await storage.upload(PATH, _file(tmp_path, b"first run"))
    await storage.upload(PATH, _file(tmp_path, b"second run"))

    assert fake.objects[(EXPORTS, PATH)][1] == b"second run"
    assert len(fake.requests) == 2


async def test_a_large_file_arrives_whole(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage, tmp_path: Path
) -> None:
    fake, _ = api
    content = os.urandom(12 * 1024 * 1024 + 7)

    await storage.upload(PATH, _file(tmp_path, content))

    assert fake.objects[(EXPORTS, PATH)][1] == content


async def test_an_upload_streams_the_file_from_disk_rather_than_reading_it_whole(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage, tmp_path: Path
) -> None:
    fake, _ = api
    fake.digest_only = True
    path, digest, size = tmp_path / "big.xlsx", hashlib.sha256(), 24 * 1024 * 1024
    with path.open("wb") as out:
        for _ in range(size // (1024 * 1024)):
            block = os.urandom(1024 * 1024)
            out.write(block)
            digest.update(block)

    tracemalloc.start()
    try:
        await storage.upload(PATH, GeneratedFile(path, "r.xlsx", XLSX, size, 1))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    [request] = fake.requests
    assert request.digests["file"] == (size, digest.hexdigest())
    assert peak < size // 4, f"{peak} bytes held at once for a {size}-byte file"


async def test_an_upload_retried_after_503s_sends_the_whole_file_each_time(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage, tmp_path: Path
) -> None:
    fake, _ = api
    fake.fail(Fault(503), times=2)
    content = os.urandom(300_000)

    await storage.upload(PATH, _file(tmp_path, content))

    assert len(fake.requests) == 3
    assert [r.parts["file"][2] == content for r in fake.requests] == [True, True, True]
    assert fake.objects[(EXPORTS, PATH)][1] == content


# Signing ---------------------------------------------------------------------------


async def test_sign_gives_an_absolute_url_under_the_server_that_works_until_the_ttl(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage
) -> None:
    fake, base = api
    _stock(fake)
    before = datetime.now(UTC)

    signed = await storage.sign(PATH, timedelta(hours=24))

    assert signed.url == f"{base}/storage/v1/object/sign/{EXPORTS}/{PATH}?token={TOKEN}"
    [request] = fake.requests
    assert request.method == "POST"
    assert request.path == f"/storage/v1/object/sign/{EXPORTS}/{PATH}"
    assert request.json == {"expiresIn": "86400"}
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert signed.expires_at.tzinfo is not None
    expected = before + timedelta(hours=24)
    assert abs((signed.expires_at - expected).total_seconds()) < 2
    async with httpx.AsyncClient() as anyone:  # no key: the token is enough
        fetched = await anyone.get(signed.url)
    assert fetched.status_code == 200
    assert fetched.content == b"the stored report"


async def test_sign_sends_whole_seconds_and_refuses_a_ttl_under_one(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage
) -> None:
    fake, _ = api
    _stock(fake)

    signed = await storage.sign(PATH, timedelta(days=7, milliseconds=900))
    with pytest.raises(ValueError, match="a second at least"):
        await storage.sign(PATH, timedelta(milliseconds=999))

    [request] = fake.requests
    assert request.json == {"expiresIn": str(7 * 24 * 3600)}
    lifetime = signed.expires_at - datetime.now(UTC)
    assert timedelta(days=7) - timedelta(seconds=3) < lifetime <= timedelta(days=7)


@pytest.mark.parametrize(
    "answer",
    [
        f"https://elsewhere.example/storage/v1/object/sign/x?token={TOKEN}",
        f"//elsewhere.example/object/sign/x?token={TOKEN}",
        "",
        f"/object/sign/{EXPORTS}/{ORG}/{EXPORT}/other.xlsx?token={TOKEN}",
        f"/object/sign/{EXPORTS}/{PATH}",
        f"/object/sign/{EXPORTS}/{PATH}?token=",
    ],
)
async def test_a_signed_url_not_of_that_file_is_refused(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage, answer: str
) -> None:
    fake, _ = api
    _stock(fake)
    fake.signed_url = answer

    with pytest.raises(StorageError, match=r"held no signed URL of that file$") as raised:
        await storage.sign(PATH, timedelta(days=1))

    assert len(fake.requests) == 1
    _never_leaks(raised.value)


async def test_signing_a_missing_file_is_refused_with_the_http_status(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage
) -> None:
    fake, _ = api
    fake.missing_status = 400  # what Supabase answers, with "statusCode": "404" in the body

    with pytest.raises(StorageError, match=rf"signing {EXPORTS}/{PATH} failed: HTTP 400") as e:
        await storage.sign(PATH, timedelta(days=1))

    assert not isinstance(e.value, StorageUnavailable)
    assert len(fake.requests) == 1
    _never_leaks(e.value)


# Attachments -----------------------------------------------------------------------


async def test_attachments_are_read_from_their_bucket_with_the_key(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage
) -> None:
    fake, _ = api
    fake.objects[(ATTACHMENTS, "hlf/a1/møte liste.pdf")] = ("application/pdf", b"%PDF-1.4 x")

    assert await storage.read_attachment("hlf/a1/møte liste.pdf") == b"%PDF-1.4 x"

    [request] = fake.requests
    assert request.method == "GET"
    assert request.path == f"/storage/v1/object/{ATTACHMENTS}/hlf/a1/møte liste.pdf"
    assert request.headers["apikey"] == KEY
    assert request.headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("status", [404, 400])
async def test_a_missing_attachment_is_a_storage_error_at_once(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage, status: int
) -> None:
    fake, _ = api
    fake.missing_status = status

    with pytest.raises(StorageError, match=rf"hlf/a1/missing\.pdf failed: HTTP {status}") as e:
        await storage.read_attachment("hlf/a1/missing.pdf")

    assert not isinstance(e.value, StorageUnavailable)
    assert len(fake.requests) == 1
    _never_leaks(e.value)


# Transient faults and refusals -------------------------------------------------------


@OPERATIONS
async def test_two_503s_then_success_is_retried(
    api: tuple[FakeStorageApi, str],
    storage: SupabaseStorage,
    tmp_path: Path,
    operation: Operation,
    words: str,
) -> None:
    fake, _ = api
    _stock(fake)
    fake.fail(Fault(503), times=2)

    await operation(storage, tmp_path)

    assert len(fake.requests) == 3
    assert len({(r.method, r.path) for r in fake.requests}) == 1


@OPERATIONS
@pytest.mark.parametrize("fault", [Fault(503), Fault(429), Fault(502, html=True)])
async def test_a_store_that_keeps_failing_is_unavailable_after_exactly_the_attempts(
    api: tuple[FakeStorageApi, str],
    make_storage: MakeStorage,
    tmp_path: Path,
    operation: Operation,
    words: str,
    fault: Fault,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake, _ = api
    _stock(fake)
    fake.always = fault
    storage = make_storage(attempts=4)

    with caplog.at_level(logging.DEBUG), pytest.raises(StorageUnavailable) as raised:
        await operation(storage, tmp_path)

    assert str(raised.value) == f"{words} failed: HTTP {fault.status}"
    assert len(fake.requests) == 4
    _never_leaks(raised.value)
    assert KEY not in caplog.text
    assert TOKEN not in caplog.text


@OPERATIONS
@pytest.mark.parametrize("status", [400, 401, 403, 409, 413])
async def test_a_refusal_is_a_storage_error_after_exactly_one_request(
    api: tuple[FakeStorageApi, str],
    storage: SupabaseStorage,
    tmp_path: Path,
    operation: Operation,
    words: str,
    status: int,
) -> None:
    fake, _ = api
    _stock(fake)
    fake.always = Fault(status)

    with pytest.raises(StorageError) as raised:
        await operation(storage, tmp_path)

    assert type(raised.value) is StorageError
    assert str(raised.value) == f"{words} failed: HTTP {status}"
    assert len(fake.requests) == 1
    _never_leaks(raised.value)


async def test_retries_wait_longer_each_time(
    api: tuple[FakeStorageApi, str], make_storage: MakeStorage, tmp_path: Path
) -> None:
    fake, _ = api
    fake.always = Fault(503)
    storage = make_storage(attempts=4, first_wait=0.05, max_wait=0.1)

    with pytest.raises(StorageUnavailable):
        await storage.upload(PATH, _file(tmp_path))

    at = [request.at for request in fake.requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(at)]
    assert len(gaps) == 3
    assert gaps[0] >= 0.045
    assert gaps[1] >= 0.095
    assert gaps[2] >= 0.095


@pytest.mark.parametrize("operation", [_sign, _read, _upload], ids=["sign", "read", "upload"])
async def test_a_stalled_store_times_out_as_unavailable(
    api: tuple[FakeStorageApi, str],
    make_storage: MakeStorage,
    tmp_path: Path,
    operation: Operation,
) -> None:
    fake, _ = api
    _stock(fake)
    fake.always = Fault(stall=True)
    storage = make_storage(timeout_seconds=0.2)

    with pytest.raises(StorageUnavailable, match=r"failed: timed out$") as raised:
        await operation(storage, tmp_path)

    assert len(fake.requests) == 3
    _never_leaks(raised.value)


async def test_a_stall_then_an_answer_is_retried_and_succeeds(
    api: tuple[FakeStorageApi, str], make_storage: MakeStorage
) -> None:
    fake, _ = api
    _stock(fake)
    fake.fail(Fault(stall=True), times=1)
    storage = make_storage(timeout_seconds=0.2)

    assert await storage.read_attachment("hlf/a1/liste.pdf") == b"%PDF-1.4"
    assert len(fake.requests) == 2


async def test_nobody_listening_is_unavailable_after_the_attempts(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with SupabaseStorage(
        f"http://127.0.0.1:{port}",
        KEY,
        export_bucket=EXPORTS,
        attachment_bucket=ATTACHMENTS,
        attempts=2,
        first_wait=0.001,
    ) as storage:
        with pytest.raises(StorageUnavailable, match=r"storing .* failed: ConnectError") as e:
            await storage.upload(PATH, _file(tmp_path))
    _never_leaks(e.value)


async def test_a_wrong_key_is_refused_at_once_and_never_shown(
    api: tuple[FakeStorageApi, str], make_storage: MakeStorage, tmp_path: Path
) -> None:
    fake, _ = api
    storage = make_storage(service_key="service-key-WRONG-9999")

    with pytest.raises(StorageError) as raised:
        await storage.upload(PATH, _file(tmp_path))

    assert type(raised.value) is StorageError
    assert str(raised.value).endswith("failed: HTTP 400")
    assert "WRONG" not in repr(raised.value)
    assert len(fake.requests) == 1
    _never_leaks(raised.value)


async def test_neither_the_client_nor_its_repr_show_the_key(storage: SupabaseStorage) -> None:
    assert KEY not in repr(storage)
    assert KEY not in str(storage)


# Paths -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "../x.xlsx",
        f"{PATH}/../../etc",
        f"{ORG}/../{EXPORT}/r.xlsx",
        "a/b/c.xlsx",
        f"/{PATH}",
        f"{ORG}//{EXPORT}/r.xlsx",
        PATH.replace("/", "\\"),
        f"{PATH}\0",
        PATH.upper(),
        f"{ORG}/{EXPORT}/r.exe",
        "",
    ],
)
async def test_bad_export_paths_are_refused_before_any_request(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage, tmp_path: Path, path: str
) -> None:
    fake, _ = api
    with pytest.raises(ValueError, match="not an export file path"):
        await storage.upload(path, _file(tmp_path))
    with pytest.raises(ValueError, match="not an export file path"):
        await storage.sign(path, timedelta(days=1))
    assert fake.requests == []


@pytest.mark.parametrize(
    "path",
    [
        "../secret",
        "hlf/../../secret",
        "hlf/..",
        "a//b",
        "/abs",
        "a\\b",
        "a/./b",
        "a/b/",
        "a/b\0.pdf",
        "a/b\n.pdf",
        "a/%2e%2e/b",
        "",
    ],
)
async def test_bad_attachment_paths_are_refused_before_any_request(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage, path: str
) -> None:
    fake, _ = api
    with pytest.raises(ValueError, match="not an attachment path"):
        await storage.read_attachment(path)
    assert fake.requests == []


async def test_a_file_name_with_two_dots_in_one_segment_is_a_fine_attachment_path(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage
) -> None:
    fake, _ = api
    fake.objects[(ATTACHMENTS, "hlf/a1/rapport..v2.pdf")] = ("application/pdf", b"%PDF v2")

    assert await storage.read_attachment("hlf/a1/rapport..v2.pdf") == b"%PDF v2"


def test_the_constructor_refuses_what_cannot_work() -> None:
    with pytest.raises(ValueError, match="http"):
        SupabaseStorage("ftp://x", KEY, export_bucket=EXPORTS, attachment_bucket=ATTACHMENTS)
    with pytest.raises(ValueError, match="attempts") as raised:
        SupabaseStorage(
            "http://x", KEY, export_bucket=EXPORTS, attachment_bucket=ATTACHMENTS, attempts=0
        )
    assert KEY not in str(raised.value)


# Removing and listing -------------------------------------------------------------


async def test_removing_sends_the_exact_names_and_a_missing_one_is_no_error(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage, tmp_path: Path
) -> None:
    fake, _ = api
    await storage.upload(PATH, _file(tmp_path))
    missing = export_file_path(ORG, uuid.uuid4(), "bufdir-rapport-2025.csv")

    await storage.delete([PATH, missing])

    assert fake.objects == {}
    request = fake.requests[-1]
    assert (request.method, request.path) == ("DELETE", f"/storage/v1/object/{EXPORTS}")
    assert request.json == {"prefixes": [PATH, missing]}


async def test_removing_many_files_sends_a_thousand_names_at_most_per_request(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage
) -> None:
    fake, _ = api
    paths = [export_file_path(ORG, uuid.uuid4(), "bufdir-rapport-2025.csv") for _ in range(2345)]
    for path in paths:
        fake.objects[(EXPORTS, path)] = ("text/csv", b"x")

    await storage.delete(paths)

    assert fake.objects == {}
    sizes = [len(r.json["prefixes"]) for r in fake.requests if r.method == "DELETE"]
    assert sizes == [1000, 1000, 345]


async def test_removing_refuses_a_path_outside_an_exports_folder(storage: SupabaseStorage) -> None:
    with pytest.raises(ValueError, match="not a path in an export's folder"):
        await storage.delete(["activity-attachments/nhf/x.pdf"])


async def test_a_refused_removal_names_the_path_and_not_the_key(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage
) -> None:
    fake, _ = api
    fake.always = Fault(status=403)

    with pytest.raises(StorageError) as caught:
        await storage.delete([PATH])

    assert str(caught.value) == f"removing {EXPORTS}/{PATH} failed: HTTP 403"
    assert KEY not in str(caught.value)


async def test_listing_walks_every_page_of_the_export_bucket_only(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage
) -> None:
    fake, _ = api
    paths = {
        export_file_path(uuid.uuid4(), uuid.uuid4(), "bufdir-rapport-2025.xlsx")
        for _ in range(2100)
    }
    for path in paths:
        fake.objects[(EXPORTS, path)] = (XLSX, b"x")
    fake.objects[(ATTACHMENTS, "nhf/a1/x.pdf")] = ("application/pdf", b"x")

    listed = [path async for path in storage.export_paths()]

    assert sorted(listed) == sorted(paths)
    assert len(listed) == len(paths)
    pages = [r for r in fake.requests if r.path.endswith(f"/object/list-v2/{EXPORTS}")]
    assert len(pages) == 3
    assert pages[0].json == {"limit": 1000, "prefix": ""}
    assert "cursor" in pages[1].json


async def test_listing_an_empty_bucket_yields_nothing(storage: SupabaseStorage) -> None:
    assert [path async for path in storage.export_paths()] == []
