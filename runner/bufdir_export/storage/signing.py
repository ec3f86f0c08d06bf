"""Signed download URLs for the local storage backend: HMAC-SHA256, an expiry, one path.

A URL is ``<base>/files/<path>?expires=<unix seconds>&signature=<base64url>``,
where the signature covers the path and the expiry. It is refused when the
signature does not match (tampered, or made for another path), when it has
expired, or when the path is not one an export file can have.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from .._errors import BufdirExportError
from .._paths import is_export_file_path

__all__ = ["InvalidSignature", "UrlSigner"]


class InvalidSignature(BufdirExportError):
    """A download URL that must not be served; ``reason`` says why, for the log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid download URL: {reason}")
        self.reason = reason


class UrlSigner:
    def __init__(self, secret: bytes, base_url: str) -> None:
        if len(secret) < 32:
            raise ValueError("the signing secret must be at least 32 bytes")
        self._secret = secret
        self.base_url = base_url

    @property
    def base_url(self) -> str:
        """Where the download server answers (set once its port is known)."""
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        self._base_url = value.rstrip("/")

    def _signature(self, path: str, expires: int) -> str:
        digest = hmac.new(self._secret, f"{path}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign(self, path: str, expires_at: datetime) -> str:
        if not is_export_file_path(path):
            raise ValueError(f"not an export file path: {path!r}")
        expires = int(expires_at.timestamp())
        query = urlencode({"expires": expires, "signature": self._signature(path, expires)})
        return f"{self._base_url}/files/{quote(path)}?{query}"

    def verify(
        self, path: str, expires: str, signature: str, *, now: datetime | None = None
    ) -> None:
        """Return if the URL may be served; raise :class:`InvalidSignature` otherwise."""
        if not is_export_file_path(path):
            raise InvalidSignature("not an export file path")
        if not expires.isdigit() or len(expires) > 12:
            raise InvalidSignature("malformed expiry")
        expected = self._signature(path, int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise InvalidSignature("signature does not match")
        moment = now or datetime.now(UTC)
        if int(expires) <= moment.timestamp():
            raise InvalidSignature("expired")
