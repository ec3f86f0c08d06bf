"""Signed download URLs: bound to one path, expiring, refused when touched."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from bufdir_export._paths import export_file_path
from bufdir_export.storage.signing import InvalidSignature, UrlSigner

SECRET = b"s" * 32
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PATH = export_file_path(uuid.uuid4(), uuid.uuid4(), "bufdir-rapport.xlsx")


def _parts(url: str) -> tuple[str, str, str]:
    split = urlsplit(url)
    query = parse_qs(split.query)
    return unquote(split.path.removeprefix("/files/")), query["expires"][0], query["signature"][0]


def _signed(expires_in: timedelta = timedelta(hours=24)) -> tuple[str, str, str]:
    return _parts(UrlSigner(SECRET, "http://127.0.0.1:8080").sign(PATH, NOW + expires_in))


def test_a_fresh_url_for_its_path_is_served() -> None:
    path, expires, signature = _signed()
    assert path == PATH
    UrlSigner(SECRET, "http://x").verify(path, expires, signature, now=NOW)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda p, e, s: (p, e, s[:-2] + ("AA" if s[-2:] != "AA" else "BB")), "signature"),
        (lambda p, e, s: (p, str(int(e) + 3600), s), "signature"),
        (
            lambda p, e, s: (
                export_file_path(uuid.uuid4(), uuid.uuid4(), "bufdir-rapport.xlsx"),
                e,
                s,
            ),
            "signature",
        ),
        (lambda p, e, s: (p.replace("rapport.xlsx", "rapport.csv"), e, s), "signature"),
        (lambda p, e, s: (p + "/../../etc/passwd", e, s), "path"),
        (lambda p, e, s: ("../" + p, e, s), "path"),
        (lambda p, e, s: (p.replace("/", "%2F", 1), e, s), "path"),
        (lambda p, e, s: (p, "-1", s), "expiry"),
        (lambda p, e, s: (p, "1e9", s), "expiry"),
    ],
    ids=[
        "tampered",
        "extended",
        "other-export",
        "other-file",
        "traversal",
        "dotdot-prefix",
        "encoded-slash",
        "negative-expiry",
        "float-expiry",
    ],
)
def test_a_touched_url_is_refused(change: object, reason: str) -> None:
    path, expires, signature = change(*_signed())  # type: ignore[operator]
    with pytest.raises(InvalidSignature, match=reason):
        UrlSigner(SECRET, "http://x").verify(path, expires, signature, now=NOW)


def test_an_expired_url_is_refused() -> None:
    path, expires, signature = _signed(timedelta(hours=24))
    with pytest.raises(InvalidSignature, match="expired"):
        UrlSigner(SECRET, "http://x").verify(
            path, expires, signature, now=NOW + timedelta(hours=25)
        )


def test_another_secret_does_not_verify() -> None:
    path, expires, signature = _signed()
    with pytest.raises(InvalidSignature, match="signature"):
        UrlSigner(b"t" * 32, "http://x").verify(path, expires, signature, now=NOW)


def test_only_export_paths_are_signed_and_short_secrets_refused() -> None:
    with pytest.raises(ValueError, match="not an export file path"):
        UrlSigner(SECRET, "http://x").sign("../secret.xlsx", NOW)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        UrlSigner(b"short", "http://x")
