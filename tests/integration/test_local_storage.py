"""Local storage and its download server, over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bufdir_export import StorageError
from bufdir_export._paths import export_file_path
from bufdir_export.core.ports import GeneratedFile
from bufdir_export.storage.download_server import DownloadServer
from bufdir_export.storage.local_storage import LocalStorage
from bufdir_export.storage.signing import UrlSigner

SECRET = b"local-signing-secret-0123456789abcdef"
ORG, EXPORT = uuid.uuid4(), uuid.uuid4()
PATH = export_file_path(ORG, EXPORT, "bufdir-rapport-2025.xlsx")


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[LocalStorage, UrlSigner, str]]:
    server = DownloadServer(
        LocalStorage(tmp_path / "store", UrlSigner(SECRET, "http://unused")),
        UrlSigner(SECRET, "http://unused"),
        port=0,
    )
    base = await server.start()
    signer = UrlSigner(SECRET, base)
    storage = LocalStorage(tmp_path / "store", signer)
    try:
        yield storage, signer, base
    finally:
        await server.stop()


def _report(tmp_path: Path, content: bytes = b"PK\x03\x04 report bytes") -> GeneratedFile:
    path = tmp_path / "report.xlsx"
    path.write_bytes(content)
    return GeneratedFile(path, "bufdir-rapport-2025.xlsx", "application/x", len(content), 3)


async def _get(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(url)


async def _raw_get(base: str, target: str) -> int:
    """The status of a GET sent byte for byte (an HTTP client would normalise the path)."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])


async def test_a_stored_file_is_downloaded_through_its_signed_url(
    served: tuple[LocalStorage, UrlSigner, str], tmp_path: Path
) -> None:
    storage, _, base = served
    report = _report(tmp_path)
    await storage.upload(PATH, report)
    signed = await storage.sign(PATH, timedelta(hours=24))

    response = await _get(signed.url)

    assert response.status_code == 200
    assert response.content == report.path.read_bytes()
    assert 'filename="bufdir-rapport-2025.xlsx"' in response.headers["content-disposition"]
    assert signed.url.startswith(f"{base}/files/{PATH}?")
    lifetime = signed.expires_at - datetime.now(UTC)
    assert timedelta(hours=23, minutes=59) < lifetime <= timedelta(hours=24)


async def test_a_tampered_expired_or_foreign_url_is_refused(
    served: tuple[LocalStorage, UrlSigner, str], tmp_path: Path
) -> None:
    storage, signer, base = served
    await storage.upload(PATH, _report(tmp_path))
    good = (await storage.sign(PATH, timedelta(hours=24))).url
    other = export_file_path(ORG, uuid.uuid4(), "bufdir-rapport-2025.xlsx")
    await storage.upload(other, _report(tmp_path))
    expired = signer.sign(PATH, datetime.now(UTC) - timedelta(seconds=1))
    path_part, query = good.split("?")

    refused = {
        "tampered signature": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "longer expiry": good.replace("expires=", "expires=9"),
        "expired": expired,
        "another export's path": f"{base}/files/{other}?{query}",
    }
    for case, url in refused.items():
        assert (await _get(url)).status_code == 403, case
    assert (await _get(path_part)).status_code == 400  # no signature at all
    assert (await _get(good)).status_code == 200


async def test_traversal_and_encoded_slashes_never_reach_the_disk(
    served: tuple[LocalStorage, UrlSigner, str], tmp_path: Path
) -> None:
    storage, signer, base = served
    await storage.upload(PATH, _report(tmp_path))
    query = (await storage.sign(PATH, timedelta(hours=24))).url.split("?")[1]
    org, export, name = PATH.split("/")
    for target in (
        f"/files/{org}/{export}/..%2F..%2Fsecret.xlsx?{query}",
        f"/files/{org}%2F{export}%2F{name}?{query}",
        f"/files/{org}/{export}/../{export}/{name}?{query}",
        f"/files/{org}/{export}/%2e%2e/{name}?{query}",
        f"/files/{org}/{export}/x%5C..%5C{name}?{query}",
    ):
        assert await _raw_get(base, target) in (400, 403, 404), target
    with pytest.raises(ValueError, match="not an export file path"):
        storage.export_file(f"{org}/../{name}")
    with pytest.raises(ValueError, match="not an export file path"):
        signer.sign("../../etc/passwd", datetime.now(UTC) + timedelta(days=1))


async def test_a_file_no_longer_stored_is_gone(
    served: tuple[LocalStorage, UrlSigner, str], tmp_path: Path
) -> None:
    storage, _, _ = served
    await storage.upload(PATH, _report(tmp_path))
    url = (await storage.sign(PATH, timedelta(hours=24))).url
    storage.export_file(PATH).unlink()

    answer = await _get(url)
    assert (answer.status_code, answer.text) == (
        410,
        "this file is no longer stored: ask for the export again\n",
    )


async def test_attachments_are_read_from_their_folder_only(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path, UrlSigner(SECRET, "http://unused"))
    await storage.put_attachment("nhf/a1/deltakerliste.pdf", b"%PDF-1.4")
    (tmp_path / "secret.txt").write_text("not an attachment")

    assert await storage.read_attachment("nhf/a1/deltakerliste.pdf") == b"%PDF-1.4"
    with pytest.raises(StorageError, match=r"attachment nhf/a1/missing\.pdf is missing"):
        await storage.read_attachment("nhf/a1/missing.pdf")
    for hostile in ("../secret.txt", "/etc/passwd", "nhf//x", "nhf\\..\\x", "a/\0", "", "./x"):
        with pytest.raises(ValueError, match="not an attachment path"):
            await storage.read_attachment(hostile)


async def test_an_upload_replaces_the_file_whole(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store", UrlSigner(SECRET, "http://unused"))
    await storage.upload(PATH, _report(tmp_path, b"first"))
    await storage.upload(PATH, _report(tmp_path, b"second run"))

    assert storage.export_file(PATH).read_bytes() == b"second run"
    assert [p.name for p in storage.export_file(PATH).parent.iterdir()] == [
        "bufdir-rapport-2025.xlsx"
    ]


# Removing and listing, and an upload stopped half-way ------------------------------


async def test_listing_names_every_file_under_exports_and_nothing_else(
    tmp_path: Path, served: tuple[LocalStorage, UrlSigner, str]
) -> None:
    storage, _, _ = served
    other = export_file_path(ORG, uuid.uuid4(), "bufdir-rapport-2025.csv")
    await storage.upload(PATH, _report(tmp_path))
    await storage.upload(other, _report(tmp_path))
    await storage.put_attachment("nhf/a1/deltakerliste.pdf", b"%PDF-1.4")

    assert [path async for path in storage.export_paths()] == sorted([PATH, other])


async def test_removing_files_removes_them_and_their_folder_and_a_missing_one_is_fine(
    tmp_path: Path, served: tuple[LocalStorage, UrlSigner, str]
) -> None:
    storage, _, _ = served
    await storage.upload(PATH, _report(tmp_path))
    partial = f"{ORG}/{EXPORT}/.bufdir-rapport-2025.xlsx.partial"
    storage.export_file(PATH).with_name(".bufdir-rapport-2025.xlsx.partial").write_bytes(b"PK")

    await storage.delete([PATH, partial, export_file_path(ORG, uuid.uuid4(), "x.csv")])

    assert [path async for path in storage.export_paths()] == []
    assert not storage.export_file(PATH).parent.exists()


@pytest.mark.parametrize("path", ["../attachments/nhf/a1/x.pdf", f"{ORG}/{EXPORT}/..", "x"])
async def test_removing_refuses_a_path_outside_an_exports_folder(
    served: tuple[LocalStorage, UrlSigner, str], path: str
) -> None:
    storage, _, _ = served
    with pytest.raises(ValueError, match="not a path in an export's folder"):
        await storage.delete([path])


async def test_an_upload_cancelled_half_way_leaves_nothing_behind_even_later(
    tmp_path: Path, served: tuple[LocalStorage, UrlSigner, str]
) -> None:
    storage, _, _ = served
    big = tmp_path / "big.zip"
    await asyncio.to_thread(_write_zeros, big, 256 * 1024 * 1024)
    file = GeneratedFile(big, "bufdir-rapport-2025.zip", "application/zip", 0, 1)
    path = export_file_path(ORG, EXPORT, "bufdir-rapport-2025.zip")
    folder = storage.export_file(path).parent

    upload = asyncio.create_task(storage.upload(path, file))
    await asyncio.to_thread(_wait_for_a_file_in, folder)  # the copy has begun
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload

    # upload() returned only once its thread was done with the file: nothing
    # can land there now, neither the file nor its partial copy.
    assert await asyncio.to_thread(lambda: list(folder.iterdir())) == []


def _wait_for_a_file_in(folder: Path) -> None:
    while not (folder.exists() and any(folder.iterdir())):
        time.sleep(0.001)


def _write_zeros(path: Path, size: int) -> None:
    with path.open("wb") as file:
        file.truncate(size)
