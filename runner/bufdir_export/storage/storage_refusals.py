"""What a Supabase Storage answer that is not a success means, in words.

The Storage server answers HTTP 400 for nearly every refusal and puts the real
status and an error code in the JSON body (``src/http/error-handler.ts``,
``src/internal/errors/codes.ts`` of supabase/storage)::

    HTTP 400  {"statusCode": "404", "code": "NoSuchKey", "error": "not_found", ...}

Only a status of 500 is sent as HTTP 500, a database timeout as HTTP 544 and
too many connections as HTTP 429. So the cause is read from the body first
(its ``code``, then its ``statusCode``) and from the HTTP status only when
the body says nothing. A status of 423 (resource locked), 429, or 500 and
above (503 for a lock timeout or a read-only database, 544) is worth trying
again; anything else is a refusal that the same request would meet again.

The body's ``message`` is never used: the server may echo anything there.
The code is used only when it is a plain identifier, as the server's codes are.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .._errors import StorageError, StorageUnavailable

__all__ = ["Refusal", "describe_refusal", "refusal_of"]

_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
# Codes whose meaning is the same whatever the body's status says.
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "not_found"})
_KEY_REFUSED_CODES = frozenset({"AccessDenied", "InvalidJWT", "InvalidSignature", "Unauthorized"})
_EXISTS_CODES = frozenset({"KeyAlreadyExists", "ResourceAlreadyExists", "Duplicate"})


@dataclass(frozen=True, slots=True)
class Refusal:
    """The server's answer: its HTTP status, and the status and code of its body."""

    http_status: int
    body_status: int | None = None
    code: str | None = None

    @property
    def status(self) -> int:
        """The status that says what happened: the body's, else the HTTP one."""
        return self.body_status if self.body_status is not None else self.http_status

    @property
    def transient(self) -> bool:
        """Worth trying again: locked, too many requests, or the server's own failure."""
        return self.status in (423, 429) or self.status >= 500 or self.http_status >= 500


def refusal_of(http_status: int, body: bytes) -> Refusal:
    """Read the status and code from the body of an answer with ``http_status``."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return Refusal(http_status)
    if not isinstance(parsed, dict):
        return Refusal(http_status)
    raw_status = str(parsed.get("statusCode"))
    body_status = int(raw_status) if raw_status.isdigit() else None
    code = None
    for candidate in (parsed.get("code"), parsed.get("error")):
        if isinstance(candidate, str) and _CODE.fullmatch(candidate):
            code = candidate
            break
    return Refusal(http_status, body_status, code)


def describe_refusal(
    refusal: Refusal, *, operation: str, bucket: str, path: str, noun: str
) -> StorageError:
    """The error for ``refusal`` of ``operation`` on ``path`` in ``bucket``, its
    message naming the cause; :class:`StorageUnavailable` when it is transient.

    ``noun`` names what ``path`` is ("attachment", "export file").
    """
    what = f"{operation} {bucket}/{path}"
    tag = _tag(refusal)
    if refusal.transient:
        return StorageUnavailable(f"{what} failed: the Storage server is unavailable ({tag})")
    code, status = refusal.code, refusal.status
    if code == "NoSuchBucket":
        return StorageError(f"{what} failed: bucket {bucket} does not exist ({tag})")
    if code in _NOT_FOUND_CODES or (code is None and status == 404):
        return StorageError(f"{noun} {path} not found in bucket {bucket} ({tag})")
    if code in _KEY_REFUSED_CODES or (code is None and status in (401, 403)):
        return StorageError(
            f"{what} failed: the Storage server refused the service key ({tag}); "
            "check SUPABASE_SERVICE_ROLE_KEY and SUPABASE_URL"
        )
    if code in _EXISTS_CODES or (code is None and status == 409):
        return StorageError(f"{what} failed: the object already exists ({tag})")
    if code == "EntityTooLarge" or (code is None and status == 413):
        return StorageError(f"{what} failed: the file is larger than the bucket allows ({tag})")
    if code == "InvalidKey":
        return StorageError(f"{what} failed: the Storage server refused the object name ({tag})")
    if code == "InvalidMimeType" or (code is None and status == 415):
        return StorageError(f"{what} failed: the bucket does not accept this file type ({tag})")
    return StorageError(f"{what} failed: refused ({tag})")


def _tag(refusal: Refusal) -> str:
    """``NoSuchKey, status 404`` or ``HTTP 502``: what the server said, briefly."""
    parts = []
    if refusal.code is not None:
        parts.append(refusal.code)
    if refusal.body_status is not None:
        parts.append(f"status {refusal.body_status}")
    if refusal.body_status is None or refusal.body_status != refusal.http_status:
        parts.append(f"HTTP {refusal.http_status}")
    return ", ".join(parts)
