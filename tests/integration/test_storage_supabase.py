"""Supabase Storage through its REST API, against the double of the Storage
server in :mod:`tests.doubles.storage_api`, whose docstring is the contract it
keeps with the real server: refusals as HTTP 400 with the real status and code
in the body, service keys and signed URLs as verified JWTs, transient faults as
the server and a gateway in front of it answer them."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import os
import socket
import time
import traceback
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from bufdir_export import StorageError, StorageUnavailable
from bufdir_export._paths import export_file_path
from bufdir_export.core.ports import GeneratedFile
from bufdir_export.storage.supabase_storage import SupabaseStorage
from tests.doubles.storage_api import (
    BAD_GATEWAY,
    DATABASE_TIMEOUT,
    INTERNAL,
    LOCK_TIMEOUT,
    LOCKED,
    READ_ONLY,
    SLOW_DOWN,
    STALL,
    Fault,
    StorageApiDouble,
    serve,
    service_key,
)

SECRET = "storage-double-jwt-secret-SECRET-0123456789"
KEY = service_key(SECRET)
EXPORTS = "bufdir-exports"
ATTACHMENTS = "activity-attachments"
ORG, EXPORT = uuid.uuid4(), uuid.uuid4()
PATH = export_file_path(ORG, EXPORT, "bufdir-rapport-2025.xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


@pytest.fixture
async def api() -> AsyncIterator[tuple[StorageApiDouble, str]]:
    double = StorageApiDouble(SECRET, buckets={EXPORTS: None, ATTACHMENTS: None})
    async with serve(double) as url:
        yield double, url


Api = tuple[StorageApiDouble, str]
MakeStorage = Callable[..., SupabaseStorage]


@pytest.fixture
async def make_storage(api: Api) -> AsyncIterator[MakeStorage]:
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


def _file(
    tmp_path: Path, content: bytes = b"PK\x03\x04 the report", content_type: str = XLSX
) -> GeneratedFile:
    path = tmp_path / f"report-{uuid.uuid4().hex}.xlsx"
    path.write_bytes(content)
    return GeneratedFile(path, "bufdir-rapport-2025.xlsx", content_type, len(content), 1)


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
    """Neither the key nor a token, nor the server's own message, in the error."""
    secrets = (KEY, "Bearer", "token=", "apikey", "upstream failure", SECRET)
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


async def _list(storage: SupabaseStorage, tmp_path: Path) -> object:
    return [path async for path in storage.export_paths()]


async def _remove(storage: SupabaseStorage, tmp_path: Path) -> object:
    await storage.delete([PATH])
    return None


OPERATIONS = pytest.mark.parametrize(
    ("operation", "words"),
    [
        (_upload, f"storing {EXPORTS}/{PATH}"),
        (_sign, f"signing {EXPORTS}/{PATH}"),
        (_read, f"reading {ATTACHMENTS}/hlf/a1/liste.pdf"),
        (_list, f"listing {EXPORTS}/"),
        (_remove, f"removing {EXPORTS}/{PATH}"),
    ],
    ids=["upload", "sign", "read_attachment", "list", "remove"],
)


def _stock(double: StorageApiDouble) -> None:
    double.put(EXPORTS, PATH, b"the stored report", XLSX)
    double.put(ATTACHMENTS, "hlf/a1/liste.pdf", b"%PDF-1.4", PDF)


# Uploading -------------------------------------------------------------------------


async def test_upload_posts_the_exact_bytes_to_the_export_path_with_the_key_and_upsert(
    api: Api, storage: SupabaseStorage, tmp_path: Path
) -> None:
    double, _ = api
    content = os.urandom(200_000) + b"\r\n--boundary-lookalike\r\n" + bytes(range(256))

    await storage.upload(PATH, _file(tmp_path, content))

    [request] = double.requests
    assert request.method == "POST"
    assert request.path == f"/storage/v1/object/{EXPORTS}/{ORG}/{EXPORT}/bufdir-rapport-2025.xlsx"
    assert request.headers["apikey"] == KEY  # for the API gateway in front of Storage
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["x-upsert"] == "true"
    file_name, content_type, data = request.parts["file"]
    assert data == content
    assert file_name == "bufdir-rapport-2025.xlsx"
    assert content_type == XLSX
    assert request.parts["cacheControl"][2] == b"0"
    assert int(request.headers["Content-Length"]) > len(content)
    stored = double.objects[(EXPORTS, PATH)]
    assert (stored.content_type, stored.data, stored.cache_control) == (XLSX, content, "max-age=0")


async def test_a_second_upload_of_the_same_export_overwrites_the_first_and_keeps_its_id(
    api: Api, storage: SupabaseStorage, tmp_path: Path
) -> None:
    double, _ = api
    await storage.upload(PATH, _file(tmp_path, b"first run"))
    first = double.objects[(EXPORTS, PATH)].id
    await storage.upload(PATH, _file(tmp_path, b"second run"))

    assert double.objects[(EXPORTS, PATH)].data == b"second run"
    assert double.objects[(EXPORTS, PATH)].id == first
    assert len(double.requests) == 2


async def test_a_large_file_arrives_whole(
    api: Api, storage: SupabaseStorage, tmp_path: Path
) -> None:
    double, _ = api
    content = os.urandom(12 * 1024 * 1024 + 7)

    await storage.upload(PATH, _file(tmp_path, content))

    assert double.objects[(EXPORTS, PATH)].data == content


async def test_an_upload_streams_the_file_from_disk_rather_than_reading_it_whole(
    api: Api, storage: SupabaseStorage, tmp_path: Path
) -> None:
    double, _ = api
    double.digest_only = True
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

    [request] = double.requests
    assert request.digests["file"] == (size, digest.hexdigest())
    assert peak < size // 4, f"{peak} bytes held at once for a {size}-byte file"


async def test_an_upload_retried_after_transient_faults_sends_the_whole_file_each_time(
    api: Api, storage: SupabaseStorage, tmp_path: Path
) -> None:
    double, _ = api
    double.fail(LOCK_TIMEOUT, times=2)
    content = os.urandom(300_000)

    await storage.upload(PATH, _file(tmp_path, content))

    assert len(double.requests) == 3
    assert [r.parts["file"][2] == content for r in double.requests] == [True, True, True]
    assert double.objects[(EXPORTS, PATH)].data == content


async def test_a_csv_is_stored_as_text_csv_without_its_charset_so_its_bom_must_carry_it(
    api: Api, storage: SupabaseStorage, tmp_path: Path
) -> None:
    content = "\ufeffKommune;Aktivitet\r\nTromsø;Møte\r\n".encode()
    path = export_file_path(ORG, EXPORT, "bufdir-rapport-2025.csv")

    await storage.upload(path, _file(tmp_path, content, "text/csv; charset=utf-8"))
    signed = await storage.sign(path, timedelta(minutes=5))
    async with httpx.AsyncClient() as anyone:
        fetched = await anyone.get(signed.url)

    assert fetched.headers["Content-Type"] == "text/csv"
    assert fetched.content.decode("utf-8-sig").startswith("Kommune;Aktivitet\r\nTromsø")


async def test_storing_into_a_bucket_that_does_not_exist_says_so(
    api: Api, storage: SupabaseStorage, tmp_path: Path
) -> None:
    double, _ = api
    del double.buckets[EXPORTS]

    with pytest.raises(StorageError) as raised:
        await storage.upload(PATH, _file(tmp_path))

    assert str(raised.value) == (
        f"storing {EXPORTS}/{PATH} failed: bucket {EXPORTS} does not exist "
        "(NoSuchBucket, status 404, HTTP 400)"
    )
    assert len(double.requests) == 1
    _never_leaks(raised.value)


async def test_a_file_over_the_buckets_size_limit_says_so(
    api: Api, storage: SupabaseStorage, tmp_path: Path
) -> None:
    double, _ = api
    double.buckets[EXPORTS] = 10

    with pytest.raises(StorageError) as raised:
        await storage.upload(PATH, _file(tmp_path, b"x" * 11))

    assert str(raised.value) == (
        f"storing {EXPORTS}/{PATH} failed: the file is larger than the bucket allows "
        "(EntityTooLarge, status 413, HTTP 400)"
    )
    assert len(double.requests) == 1


# Signing ---------------------------------------------------------------------------


async def test_sign_gives_an_absolute_url_under_the_server_that_works_until_the_ttl(
    api: Api, storage: SupabaseStorage
) -> None:
    double, base = api
    _stock(double)
    before = datetime.now(UTC)

    signed = await storage.sign(PATH, timedelta(hours=24))

    assert signed.url.startswith(f"{base}/storage/v1/object/sign/{EXPORTS}/{PATH}?token=")
    [request] = double.requests
    assert request.method == "POST"
    assert request.path == f"/storage/v1/object/sign/{EXPORTS}/{PATH}"
    assert request.json == {"expiresIn": "86400"}
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert signed.expires_at.tzinfo is not None
    expected = before + timedelta(hours=24)
    assert abs((signed.expires_at - expected).total_seconds()) < 2
    async with httpx.AsyncClient() as anyone:  # no key: the token is enough
        fetched = await anyone.get(signed.url)
        head = await anyone.head(signed.url)
        part = await anyone.get(signed.url, headers={"Range": "bytes=4-9"})
    assert fetched.status_code == 200
    assert fetched.content == b"the stored report"
    assert fetched.headers["Accept-Ranges"] == "bytes"
    assert (
        fetched.headers["ETag"]
        == f'"{hashlib.md5(b"the stored report", usedforsecurity=False).hexdigest()}"'
    )
    expires = parsedate_to_datetime(fetched.headers["Expires"])
    assert abs((expires - signed.expires_at).total_seconds()) < 2
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["Content-Length"] == str(len(b"the stored report"))
    assert (part.status_code, part.content) == (206, b"stored")


async def test_a_signed_url_opens_its_own_file_only(api: Api, storage: SupabaseStorage) -> None:
    double, _ = api
    _stock(double)
    other = export_file_path(ORG, uuid.uuid4(), "bufdir-rapport-2025.xlsx")
    double.put(EXPORTS, other, b"another organisation's report", XLSX)

    signed = await storage.sign(PATH, timedelta(hours=1))
    token = httpx.URL(signed.url).params["token"]
    forged = jwt.encode(
        {"url": f"{EXPORTS}/{other}", "scope": "download"},
        "not-the-projects-jwt-secret-0123456789abcdef",
    )
    async with httpx.AsyncClient() as anyone:
        elsewhere = await anyone.get(signed.url.replace(PATH, other))
        tampered = await anyone.get(signed.url.replace(token, forged))

    assert elsewhere.status_code == 400
    assert elsewhere.json()["code"] == "InvalidSignature"
    assert tampered.status_code == 400
    assert tampered.json()["code"] == "InvalidJWT"
    assert b"another organisation" not in elsewhere.content + tampered.content


async def test_a_signed_url_stops_working_when_its_ttl_is_over(
    api: Api, storage: SupabaseStorage
) -> None:
    double, _ = api
    _stock(double)

    # Expiry is in whole seconds (the token's iat and exp): 3 s leaves at least
    # 2 s for the first download, however loaded the machine.
    signed = await storage.sign(PATH, timedelta(seconds=3))
    async with httpx.AsyncClient() as anyone:
        assert (await anyone.get(signed.url)).status_code == 200
        wait = signed.expires_at + timedelta(seconds=1.1) - datetime.now(UTC)
        await asyncio.sleep(max(0.0, wait.total_seconds()))
        expired = await anyone.get(signed.url)

    assert expired.status_code == 400
    assert expired.json() == {
        "statusCode": "400",
        "code": "InvalidJWT",
        "error": "InvalidJWT",
        "message": '"exp" claim timestamp check failed',
    }


async def test_sign_sends_whole_seconds_and_refuses_a_ttl_under_one(
    api: Api, storage: SupabaseStorage
) -> None:
    double, _ = api
    _stock(double)

    signed = await storage.sign(PATH, timedelta(days=7, milliseconds=900))
    with pytest.raises(ValueError, match="a second at least"):
        await storage.sign(PATH, timedelta(milliseconds=999))

    [request] = double.requests
    assert request.json == {"expiresIn": str(7 * 24 * 3600)}
    lifetime = signed.expires_at - datetime.now(UTC)
    assert timedelta(days=7) - timedelta(seconds=3) < lifetime <= timedelta(days=7)


@pytest.mark.parametrize(
    "answer",
    [
        "https://elsewhere.example/storage/v1/object/sign/x?token=abc",
        "//elsewhere.example/object/sign/x?token=abc",
        "",
        f"/object/sign/{EXPORTS}/{ORG}/{EXPORT}/other.xlsx?token=abc",
        f"/object/sign/{EXPORTS}/{PATH}",
        f"/object/sign/{EXPORTS}/{PATH}?token=",
    ],
)
async def test_a_signed_url_not_of_that_file_is_refused(
    api: Api, storage: SupabaseStorage, answer: str
) -> None:
    double, _ = api
    _stock(double)
    double.signed_url = answer

    with pytest.raises(StorageError, match=r"held no signed URL of that file$") as raised:
        await storage.sign(PATH, timedelta(days=1))

    assert len(double.requests) == 1
    _never_leaks(raised.value)


async def test_signing_a_missing_file_names_the_file_and_the_bucket(
    api: Api, storage: SupabaseStorage
) -> None:
    double, _ = api

    with pytest.raises(StorageError) as e:
        await storage.sign(PATH, timedelta(days=1))

    assert str(e.value) == (
        f"export file {PATH} not found in bucket {EXPORTS} (NoSuchKey, status 404, HTTP 400)"
    )
    assert not isinstance(e.value, StorageUnavailable)
    assert len(double.requests) == 1
    _never_leaks(e.value)


# Attachments -----------------------------------------------------------------------


async def test_attachments_are_read_from_their_bucket_with_the_key(
    api: Api, storage: SupabaseStorage
) -> None:
    double, _ = api
    double.put(ATTACHMENTS, "hlf/a1/mote liste (1).pdf", b"%PDF-1.4 x", PDF)

    assert await storage.read_attachment("hlf/a1/mote liste (1).pdf") == b"%PDF-1.4 x"

    [request] = double.requests
    assert request.method == "GET"
    assert request.path == f"/storage/v1/object/{ATTACHMENTS}/hlf/a1/mote liste (1).pdf"
    assert request.headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("name", ["missing.pdf", "møteliste.pdf"], ids=["missing", "not-ascii"])
async def test_a_missing_attachment_is_named_with_its_bucket_at_once(
    api: Api, storage: SupabaseStorage, name: str
) -> None:
    # A name outside ASCII cannot be stored (InvalidKey), so it is never found.
    double, _ = api

    with pytest.raises(StorageError) as e:
        await storage.read_attachment(f"hlf/a1/{name}")

    assert str(e.value) == (
        f"attachment hlf/a1/{name} not found in bucket {ATTACHMENTS} "
        "(NoSuchKey, status 404, HTTP 400)"
    )
    assert not isinstance(e.value, StorageUnavailable)
    assert len(double.requests) == 1
    _never_leaks(e.value)


# Transient faults and refusals -------------------------------------------------------


@OPERATIONS
async def test_two_transient_faults_then_success_is_retried(
    api: Api, storage: SupabaseStorage, tmp_path: Path, operation: Operation, words: str
) -> None:
    double, _ = api
    _stock(double)
    double.fail(READ_ONLY, times=1)
    double.fail(LOCK_TIMEOUT, times=1)

    await operation(storage, tmp_path)

    assert len(double.requests) == 3
    assert len({(r.method, r.path) for r in double.requests}) == 1


TRANSIENT = pytest.mark.parametrize(
    ("fault", "tag"),
    [
        (LOCK_TIMEOUT, "LockTimeout, status 503, HTTP 400"),
        (READ_ONLY, "DatabaseReadOnly, status 503, HTTP 400"),
        (LOCKED, "ResourceLocked, status 423, HTTP 400"),
        (DATABASE_TIMEOUT, "DatabaseTimeout, status 544"),
        (SLOW_DOWN, "SlowDown, status 429"),
        (INTERNAL, "InternalError, status 500"),
        (BAD_GATEWAY, "HTTP 502"),
    ],
    ids=["lock-timeout", "read-only", "locked", "db-timeout", "slow-down", "internal", "gateway"],
)


@TRANSIENT
async def test_every_transient_answer_is_tried_again(
    api: Api, storage: SupabaseStorage, fault: Fault, tag: str
) -> None:
    double, _ = api
    _stock(double)
    double.fail(fault, times=2)

    assert await storage.read_attachment("hlf/a1/liste.pdf") == b"%PDF-1.4"
    assert len(double.requests) == 3


@OPERATIONS
@TRANSIENT
async def test_a_store_that_keeps_failing_is_unavailable_after_exactly_the_attempts(
    api: Api,
    make_storage: MakeStorage,
    tmp_path: Path,
    operation: Operation,
    words: str,
    fault: Fault,
    tag: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    double, _ = api
    _stock(double)
    double.always = fault
    storage = make_storage(attempts=4)

    with caplog.at_level(logging.DEBUG), pytest.raises(StorageUnavailable) as raised:
        await operation(storage, tmp_path)

    assert str(raised.value) == f"{words} failed: the Storage server is unavailable ({tag})"
    assert len(double.requests) == 4
    _never_leaks(raised.value)
    assert KEY not in caplog.text
    assert "upstream failure" not in caplog.text


@OPERATIONS
@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        (
            Fault(400, 403, "AccessDenied", "Unauthorized"),
            "the Storage server refused the service key (AccessDenied, status 403, HTTP 400); "
            "check SUPABASE_SERVICE_ROLE_KEY and SUPABASE_URL",
        ),
        (
            Fault(400, 404, "NoSuchBucket", "Bucket not found"),
            "bucket {bucket} does not exist (NoSuchBucket, status 404, HTTP 400)",
        ),
        (
            Fault(400, 409, "KeyAlreadyExists", "Duplicate"),
            "the object already exists (KeyAlreadyExists, status 409, HTTP 400)",
        ),
        (
            Fault(400, 413, "EntityTooLarge", "Payload too large"),
            "the file is larger than the bucket allows (EntityTooLarge, status 413, HTTP 400)",
        ),
        (
            Fault(400, 400, "InvalidKey"),
            "the Storage server refused the object name (InvalidKey, status 400)",
        ),
        (
            Fault(400, 415, "InvalidMimeType", "invalid_mime_type"),
            "the bucket does not accept this file type (InvalidMimeType, status 415, HTTP 400)",
        ),
        (Fault(400, 400, "InvalidRequest"), "refused (InvalidRequest, status 400)"),
    ],
    ids=["denied", "no-bucket", "exists", "too-large", "bad-key", "mime", "other"],
)
async def test_a_refusal_names_its_cause_after_exactly_one_request(
    api: Api,
    storage: SupabaseStorage,
    tmp_path: Path,
    operation: Operation,
    words: str,
    fault: Fault,
    cause: str,
) -> None:
    double, _ = api
    _stock(double)
    double.always = fault
    bucket = words.split()[1].split("/")[0]

    with pytest.raises(StorageError) as raised:
        await operation(storage, tmp_path)

    assert type(raised.value) is StorageError
    assert str(raised.value) == f"{words} failed: {cause.format(bucket=bucket)}"
    assert len(double.requests) == 1
    _never_leaks(raised.value)


async def test_retries_wait_longer_each_time(
    api: Api, make_storage: MakeStorage, tmp_path: Path
) -> None:
    double, _ = api
    double.always = READ_ONLY
    storage = make_storage(attempts=4, first_wait=0.05, max_wait=0.1)

    with pytest.raises(StorageUnavailable):
        await storage.upload(PATH, _file(tmp_path))

    at = [request.at for request in double.requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(at)]
    assert len(gaps) == 3
    assert gaps[0] >= 0.045
    assert gaps[1] >= 0.095
    assert gaps[2] >= 0.095


async def test_an_outage_shorter_than_the_budget_is_ridden_out(
    api: Api, make_storage: MakeStorage, tmp_path: Path
) -> None:
    double, _ = api
    double.down_until = time.monotonic() + 0.8
    storage = make_storage(attempts=None, outage_budget_seconds=5, first_wait=0.05, max_wait=0.2)

    await storage.upload(PATH, _file(tmp_path, b"after the outage"))

    assert double.objects[(EXPORTS, PATH)].data == b"after the outage"
    assert len(double.requests) >= 4
    assert double.requests[-1].at >= double.down_until


async def test_an_outage_longer_than_the_budget_gives_up_within_it(
    api: Api, make_storage: MakeStorage, tmp_path: Path
) -> None:
    double, _ = api
    double.always = READ_ONLY
    storage = make_storage(attempts=None, outage_budget_seconds=0.6, first_wait=0.05, max_wait=0.1)

    with pytest.raises(StorageUnavailable, match=r"unavailable \(DatabaseReadOnly"):
        await storage.upload(PATH, _file(tmp_path))

    at = [request.at for request in double.requests]
    assert len(at) >= 5  # 0, 0.05, 0.15, 0.25, 0.35, ...
    assert at[-1] - at[0] < 0.6  # no try begins after the budget


@pytest.mark.parametrize("operation", [_sign, _read, _upload], ids=["sign", "read", "upload"])
async def test_a_stalled_store_times_out_as_unavailable(
    api: Api, make_storage: MakeStorage, tmp_path: Path, operation: Operation
) -> None:
    double, _ = api
    _stock(double)
    double.always = STALL
    storage = make_storage(timeout_seconds=0.2)

    with pytest.raises(StorageUnavailable, match=r"failed: timed out$") as raised:
        await operation(storage, tmp_path)

    assert len(double.requests) == 3
    _never_leaks(raised.value)


async def test_a_stall_then_an_answer_is_retried_and_succeeds(
    api: Api, make_storage: MakeStorage
) -> None:
    double, _ = api
    _stock(double)
    double.fail(STALL, times=1)
    storage = make_storage(timeout_seconds=0.2)

    assert await storage.read_attachment("hlf/a1/liste.pdf") == b"%PDF-1.4"
    assert len(double.requests) == 2


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


@pytest.mark.parametrize(
    "key",
    [
        service_key("another-projects-jwt-secret-0123456789abcdef"),
        service_key(SECRET, lifetime=-60),
        "not-a-jwt",
    ],
    ids=["other-project", "expired", "not-a-jwt"],
)
async def test_a_wrong_key_is_refused_at_once_named_and_never_shown(
    api: Api, make_storage: MakeStorage, tmp_path: Path, key: str
) -> None:
    double, _ = api
    storage = make_storage(service_key=key)

    with pytest.raises(StorageError) as raised:
        await storage.upload(PATH, _file(tmp_path))

    assert type(raised.value) is StorageError
    assert str(raised.value) == (
        f"storing {EXPORTS}/{PATH} failed: the Storage server refused the service key "
        "(AccessDenied, status 403, HTTP 400); check SUPABASE_SERVICE_ROLE_KEY and SUPABASE_URL"
    )
    assert key not in repr(raised.value)
    assert len(double.requests) == 1
    _never_leaks(raised.value)


async def test_the_anon_key_in_place_of_the_service_key_cannot_store(
    api: Api, make_storage: MakeStorage, tmp_path: Path
) -> None:
    double, _ = api
    storage = make_storage(service_key=service_key(SECRET, role="anon"))

    with pytest.raises(StorageError, match=r"refused the service key \(AccessDenied"):
        await storage.upload(PATH, _file(tmp_path))

    assert double.objects == {}


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
    api: Api, storage: SupabaseStorage, tmp_path: Path, path: str
) -> None:
    double, _ = api
    with pytest.raises(ValueError, match="not an export file path"):
        await storage.upload(path, _file(tmp_path))
    with pytest.raises(ValueError, match="not an export file path"):
        await storage.sign(path, timedelta(days=1))
    assert double.requests == []


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
    api: Api, storage: SupabaseStorage, path: str
) -> None:
    double, _ = api
    with pytest.raises(ValueError, match="not an attachment path"):
        await storage.read_attachment(path)
    assert double.requests == []


async def test_a_file_name_with_two_dots_in_one_segment_is_a_fine_attachment_path(
    api: Api, storage: SupabaseStorage
) -> None:
    double, _ = api
    double.put(ATTACHMENTS, "hlf/a1/rapport..v2.pdf", b"%PDF v2", PDF)

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
    api: Api, storage: SupabaseStorage, tmp_path: Path
) -> None:
    double, _ = api
    await storage.upload(PATH, _file(tmp_path))
    missing = export_file_path(ORG, uuid.uuid4(), "bufdir-rapport-2025.csv")

    await storage.delete([PATH, missing])

    assert double.objects == {}
    request = double.requests[-1]
    assert (request.method, request.path) == ("DELETE", f"/storage/v1/object/{EXPORTS}")
    assert request.json == {"prefixes": [PATH, missing]}


async def test_removing_many_files_sends_a_thousand_names_at_most_per_request(
    api: Api, storage: SupabaseStorage
) -> None:
    double, _ = api
    paths = [export_file_path(ORG, uuid.uuid4(), "bufdir-rapport-2025.csv") for _ in range(2345)]
    for path in paths:
        double.put(EXPORTS, path, b"x", "text/csv")

    await storage.delete(paths)

    assert double.objects == {}
    sizes = [len(r.json["prefixes"]) for r in double.requests if r.method == "DELETE"]
    assert sizes == [1000, 1000, 345]


async def test_removing_refuses_a_path_outside_an_exports_folder(storage: SupabaseStorage) -> None:
    with pytest.raises(ValueError, match="not a path in an export's folder"):
        await storage.delete(["activity-attachments/nhf/x.pdf"])


async def test_a_refused_removal_names_the_path_and_not_the_key(
    api: Api, storage: SupabaseStorage
) -> None:
    double, _ = api
    double.always = Fault(400, 403, "AccessDenied", "Unauthorized")

    with pytest.raises(StorageError) as caught:
        await storage.delete([PATH])

    assert str(caught.value).startswith(
        f"removing {EXPORTS}/{PATH} failed: the Storage server refused the service key"
    )
    assert KEY not in str(caught.value)


async def test_listing_walks_every_page_of_the_export_bucket_only(
    api: Api, storage: SupabaseStorage
) -> None:
    double, _ = api
    paths = {
        export_file_path(uuid.uuid4(), uuid.uuid4(), "bufdir-rapport-2025.xlsx")
        for _ in range(2100)
    }
    for path in paths:
        double.put(EXPORTS, path, b"x", XLSX)
    double.put(ATTACHMENTS, "nhf/a1/x.pdf", b"x", PDF)

    listed = [path async for path in storage.export_paths()]

    assert sorted(listed) == sorted(paths)
    assert len(listed) == len(paths)
    pages = [r for r in double.requests if r.path.endswith(f"/object/list-v2/{EXPORTS}")]
    assert len(pages) == 3
    assert pages[0].json == {"limit": 1000, "prefix": ""}
    assert "cursor" in pages[1].json


async def test_listing_an_empty_bucket_yields_nothing(storage: SupabaseStorage) -> None:
    assert [path async for path in storage.export_paths()] == []
