"""Supabase Storage through its REST API, against a local HTTP server that plays the API."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bufdir_export import StorageError, StorageUnavailable
from bufdir_export._paths import export_file_path
from bufdir_export._ports import GeneratedFile
from bufdir_export._storage_supabase import SupabaseStorage

KEY = "service-key-SECRET-1234"
PATH = export_file_path(uuid.uuid4(), uuid.uuid4(), "bufdir-rapport-2025.xlsx")


@dataclass
class FakeStorageApi:
    """Records every request; answers ``fail_with`` for the next ``failures`` requests."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    objects: dict[str, bytes] = field(default_factory=dict)
    failures: int = 0
    fail_with: int = 503
    stall: float = 0.0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "headers": dict(request.headers),
                "body": body,
            }
        )
        if self.stall:
            await asyncio.sleep(self.stall)
        if self.failures:
            self.failures -= 1
            return web.json_response(
                {"statusCode": str(self.fail_with), "error": "Oops", "message": f"key {KEY}"},
                status=self.fail_with,
            )
        tail = request.match_info["tail"]
        if request.method == "POST" and tail.startswith("object/sign/"):
            key = tail.removeprefix("object/sign/")
            return web.json_response({"signedURL": f"/object/sign/{key}?token=signed-token"})
        if request.method == "POST" and tail.startswith("object/"):
            key = tail.removeprefix("object/")
            self.objects[key] = body
            return web.json_response({"Key": key, "Id": str(uuid.uuid4())})
        if request.method == "GET" and tail.startswith("object/"):
            key = tail.removeprefix("object/")
            if key not in self.objects:
                return web.json_response(
                    {"statusCode": "404", "error": "not_found", "message": "Object not found"},
                    status=404,
                )
            return web.Response(body=self.objects[key])
        return web.Response(status=418)


@pytest.fixture
async def api() -> AsyncIterator[tuple[FakeStorageApi, str]]:
    fake = FakeStorageApi()
    app = web.Application(client_max_size=50 * 1024 * 1024)
    app.router.add_route("*", "/storage/v1/{tail:.+}", fake.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def storage(api: tuple[FakeStorageApi, str]) -> AsyncIterator[SupabaseStorage]:
    client = SupabaseStorage(
        api[1],
        KEY,
        export_bucket="bufdir-exports",
        attachment_bucket="activity-attachments",
        attempts=3,
        first_wait=0.01,
        timeout_seconds=0.5,
    )
    try:
        yield client
    finally:
        await client.aclose()


def _file(tmp_path: Path, content: bytes = b"PK\x03\x04 the report") -> GeneratedFile:
    path = tmp_path / "report.xlsx"
    path.write_bytes(content)
    return GeneratedFile(path, "bufdir-rapport-2025.xlsx", "application/x-test", len(content), 1)


def _never_leaks(error: BaseException) -> None:
    seen: BaseException | None = error
    while seen is not None:
        assert KEY not in str(seen)
        assert KEY not in repr(seen)
        assert "signed-token" not in str(seen)
        seen = seen.__cause__ if seen.__cause__ is not None else None
    assert error.__suppress_context__ or error.__cause__ is None


async def test_upload_puts_the_bytes_at_the_export_path_with_the_key_and_upsert(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage, tmp_path: Path
) -> None:
    fake, _ = api
    file = _file(tmp_path)

    await storage.upload(PATH, file)

    [request] = fake.requests
    assert request["method"] == "POST"
    assert request["path"] == f"/storage/v1/object/bufdir-exports/{PATH}"
    assert request["headers"]["apikey"] == KEY
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    assert request["headers"]["x-upsert"] == "true"
    assert b"PK\x03\x04 the report" in request["body"]
    assert b"application/x-test" in request["body"]


async def test_sign_gives_an_absolute_url_for_exactly_that_path(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage
) -> None:
    fake, base = api
    signed = await storage.sign(PATH, timedelta(hours=24))

    assert signed.url.startswith(f"{base}/storage/v1/object/sign/bufdir-exports/{PATH}?token=")
    assert fake.requests[0]["path"] == f"/storage/v1/object/sign/bufdir-exports/{PATH}"
    assert b'"expiresIn"' in fake.requests[0]["body"]
    assert b"86400" in fake.requests[0]["body"]
    lifetime = signed.expires_at - datetime.now(UTC)
    assert timedelta(hours=23, minutes=59) < lifetime <= timedelta(hours=24)


async def test_two_503s_then_success_is_retried(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage, tmp_path: Path
) -> None:
    fake, _ = api
    fake.failures = 2

    await storage.upload(PATH, _file(tmp_path))

    assert len(fake.requests) == 3
    assert fake.objects


async def test_a_store_that_keeps_failing_is_unavailable_after_the_attempts(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage, tmp_path: Path
) -> None:
    fake, _ = api
    fake.failures = 100

    with pytest.raises(StorageUnavailable, match=r"storing .* failed \(HTTP 503\)") as raised:
        await storage.upload(PATH, _file(tmp_path))

    assert len(fake.requests) == 3
    _never_leaks(raised.value)


async def test_a_refusal_is_not_retried(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage, tmp_path: Path
) -> None:
    fake, _ = api
    fake.failures, fake.fail_with = 1, 400

    with pytest.raises(StorageError) as raised:
        await storage.upload(PATH, _file(tmp_path))

    assert not isinstance(raised.value, StorageUnavailable)
    assert "HTTP 400" in str(raised.value)
    assert len(fake.requests) == 1
    _never_leaks(raised.value)


async def test_a_stalled_store_times_out_as_unavailable(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage
) -> None:
    fake, _ = api
    fake.stall = 2.0

    with pytest.raises(StorageUnavailable, match="timed out") as raised:
        await storage.sign(PATH, timedelta(hours=24))

    assert len(fake.requests) == 3
    _never_leaks(raised.value)


async def test_bad_paths_are_refused_before_any_request(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage, tmp_path: Path
) -> None:
    fake, _ = api
    for path in ("../x.xlsx", f"{PATH}/../../etc", "a/b/c.xlsx", f"/{PATH}"):
        with pytest.raises(ValueError, match="not an export file path"):
            await storage.upload(path, _file(tmp_path))
        with pytest.raises(ValueError, match="not an export file path"):
            await storage.sign(path, timedelta(days=1))
    for path in ("../secret", "a//b", "/abs", "a\\b", "a/./b", ""):
        with pytest.raises(ValueError, match="not an attachment path"):
            await storage.read_attachment(path)
    assert fake.requests == []


async def test_attachments_are_read_from_their_bucket(
    api: tuple[FakeStorageApi, str], storage: SupabaseStorage
) -> None:
    fake, _ = api
    fake.objects["activity-attachments/hlf/a1/liste.pdf"] = b"%PDF-1.4"

    assert await storage.read_attachment("hlf/a1/liste.pdf") == b"%PDF-1.4"
    with pytest.raises(StorageError, match="HTTP 404"):
        await storage.read_attachment("hlf/a1/missing.pdf")
    assert fake.requests[0]["path"] == "/storage/v1/object/activity-attachments/hlf/a1/liste.pdf"
