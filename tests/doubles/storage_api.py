"""A double of the Supabase Storage API (``/storage/v1``), in memory, with faults on demand.

It answers the routes the runner calls as supabase/storage answers them. The
contract it keeps, read from that server's source (``src/http/error-handler.ts``,
``src/internal/errors/codes.ts``, ``src/http/plugins/jwt.ts``,
``src/http/routes/object/*.ts``, ``src/storage/object.ts``,
``src/storage/limits.ts``, ``src/storage/uploader.ts``):

Errors
    The body is ``{"statusCode": "<status>", "code": <code>, "error": <error
    or code>, "message": ...}``. The HTTP status is 400 for every refusal;
    500 only when the body's status is 500; 544 for ``DatabaseTimeout``; 429
    for ``SlowDown`` (too many database connections). So a missing object is
    HTTP 400 with ``{"statusCode": "404", "code": "NoSuchKey", "error":
    "not_found"}``, and a read-only database HTTP 400 with status 503
    (``DatabaseReadOnly``), a lock timeout 503 (``LockTimeout``), a locked
    resource 423 (``ResourceLocked``).

Authentication
    ``Authorization: Bearer <JWT>``, verified with the project's JWT secret
    (HS256); the ``apikey`` header is the API gateway's, not Storage's, and is
    ignored here. A token that does not verify is HTTP 400 with status 403,
    ``AccessDenied``, error ``Unauthorized``. The ``service_role`` role sees
    every object; any other role sees none (row-level security on
    ``storage.objects``, with no policy for it): reads find nothing
    (``NoSuchKey``), uploads are ``AccessDenied`` (status 403).

Upload (``POST /object/<bucket>/<name>``, multipart)
    The bucket must exist (``NoSuchBucket``, status 404, error "Bucket not
    found"); the name must match ``^[A-Za-z0-9_/!.*'() &$=@;:+,?-]*$`` and not
    be empty (``InvalidKey``, status 400): a name with letters outside ASCII
    is refused. An existing object without ``x-upsert: true`` is
    ``KeyAlreadyExists`` (status 409, error "Duplicate"); an upsert keeps the
    object's id. A file larger than the bucket's limit is ``EntityTooLarge``
    (status 413). The content type is the file part's, without its
    parameters (``text/csv; charset=utf-8`` is stored as ``text/csv``); the
    ``cacheControl`` field is stored as ``max-age=<value>``. The answer is
    ``{"Id": <object id>, "Key": "<bucket>/<name>"}``.

Download (``GET``/``HEAD /object/[authenticated/]<bucket>/<name>``)
    The bytes with ``Content-Type``, ``Content-Length``, ``ETag`` (the quoted
    MD5), ``Last-Modified``, ``Cache-Control`` and ``Accept-Ranges: bytes``; a
    ``Range`` of bytes is answered 206 with ``Content-Range``, a range that
    cannot be served 400 ``InvalidRange``; ``HEAD`` sends the headers alone.

Signing (``POST /object/sign/<bucket>/<name>``, ``{"expiresIn": n}``)
    ``expiresIn`` must be an integer of 1 or more (a string of digits is
    taken as one; otherwise HTTP 400, ``InvalidRequest``). The object must
    exist (``NoSuchKey``). The answer is ``{"signedURL":
    "/object/sign/<bucket>/<name>?token=<JWT>"}``, the token signed with the
    secret and holding ``url`` ("<bucket>/<name>"), ``scope`` ("download"),
    ``iat`` and ``exp``.

Signed download (``GET``/``HEAD /object/sign/<bucket>/<name>?token=``)
    No authorisation header. A token that does not verify is ``InvalidJWT``
    (status 400; "signature verification failed"), an expired one too
    (``"exp" claim timestamp check failed``); a token of another object or
    scope is ``InvalidSignature`` (status 400). Then as a download, with an
    ``Expires`` header at the token's expiry.

Removing (``DELETE /object/<bucket>``, ``{"prefixes": [names]}``)
    At least one name and at most 1,000 (``InvalidRequest`` otherwise). The
    names are exact object names (``name = ANY($2)``). 200 with the objects
    removed; a name with no object is simply not among them.

Listing (``POST /object/list-v2/<bucket>``, ``limit``, ``prefix``, ``cursor``)
    Without ``with_delimiter``: every object whose name starts with the
    prefix, folders flattened, ordered by name (``COLLATE "C"``), at most
    ``min(limit or 1000, 1000)``: ``{"hasNext", "nextCursor", "folders": [],
    "objects": [{id, name, metadata, created_at, updated_at,
    last_accessed_at}]}``; ``nextCursor`` is base64 of ``"l:<last name>"``; a
    cursor that does not decode is ``InvalidParameter``.

Faults are what the server, or a proxy in front of it, answers under trouble:
one of the error bodies above with a transient status, an HTML page from a
gateway, or no answer for a while. Their messages echo the request's
authorisation header, as a careless server might, so a test can check the
client never repeats a server's message.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import jwt
from aiohttp import BodyPartReader, web

__all__ = [
    "BAD_GATEWAY",
    "DATABASE_TIMEOUT",
    "INTERNAL",
    "LOCKED",
    "LOCK_TIMEOUT",
    "READ_ONLY",
    "SLOW_DOWN",
    "STALL",
    "Fault",
    "Recorded",
    "StorageApiDouble",
    "StoredObject",
    "serve",
    "service_key",
]

_VALID_KEY = re.compile(r"[A-Za-z0-9_/!.*'() &$=@;:+,?-]+")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_PER_REQUEST = 1000


def service_key(secret: str, role: str = "service_role", lifetime: int = 86_400) -> str:
    """A project API key as Supabase issues it: a JWT of ``role``, signed with the secret."""
    now = int(time.time())
    claims = {"iss": "supabase", "role": role, "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, secret, algorithm="HS256")


@dataclass(frozen=True)
class Fault:
    """One bad answer: an error body with its HTTP status, an HTML page, or a stall."""

    http_status: int = 400
    body_status: int = 503
    code: str = "DatabaseReadOnly"
    error: str | None = None
    html: bool = False
    stall: bool = False


LOCK_TIMEOUT = Fault(400, 503, "LockTimeout", "acquiring_lock_timeout")
READ_ONLY = Fault(400, 503, "DatabaseReadOnly")
LOCKED = Fault(400, 423, "ResourceLocked")
DATABASE_TIMEOUT = Fault(544, 544, "DatabaseTimeout")
SLOW_DOWN = Fault(429, 429, "SlowDown", "too_many_connections")
INTERNAL = Fault(500, 500, "InternalError", "internal")
BAD_GATEWAY = Fault(502, 502, "", html=True)  # a gateway in front of the server
STALL = Fault(stall=True)  # held until the double is released
_HELD = Fault(stall=True, code="held")


@dataclass
class StoredObject:
    id: str
    content_type: str
    data: bytes
    cache_control: str = "no-cache"
    last_modified: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def etag(self) -> str:
        return f'"{hashlib.md5(self.data, usedforsecurity=False).hexdigest()}"'


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body_length: int
    at: float
    json: Any = None
    parts: dict[str, tuple[str | None, str | None, bytes]] = field(default_factory=dict)
    digests: dict[str, tuple[int, str]] = field(default_factory=dict)


class _Refused(Exception):
    """An error answer, rendered as the server renders it."""

    def __init__(self, status: int, code: str, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.error = status, code, message, error


def _answer(status: int, code: str, message: str, error: str | None = None) -> web.Response:
    if code == "SlowDown":
        http = 429
    elif code == "DatabaseTimeout":
        http = 544
    else:
        http = 500 if status == 500 else 400
    body = {"statusCode": str(status), "code": code, "error": error or code, "message": message}
    return web.json_response(body, status=http)


@dataclass
class StorageApiDouble:
    """The Storage API's state, its faults and the requests it was sent."""

    secret: str
    buckets: dict[str, int | None] = field(default_factory=dict)  # name: size limit
    objects: dict[tuple[str, str], StoredObject] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    faults: deque[Fault] = field(default_factory=deque)
    always: Fault | None = None
    outage: Fault = READ_ONLY
    down_until: float = 0.0  # time.monotonic() until which every request meets ``outage``
    stall_until: float = 0.0  # ... until which every request is held
    signed_url: str | None = None  # what signing answers instead of the real URL
    digest_only: bool = False  # keep only the length and SHA-256 of an uploaded file
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def fail(self, fault: Fault, times: int) -> None:
        """Answer the next ``times`` requests with ``fault``."""
        self.faults.extend([fault] * times)

    def put(self, bucket: str, name: str, data: bytes, content_type: str) -> StoredObject:
        """Store an object as an upload would have."""
        stored = StoredObject(str(uuid.uuid4()), content_type, data)
        self.objects[(bucket, name)] = stored
        return stored

    def application(self) -> web.Application:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_route("*", "/storage/v1/{tail:.+}", self.handle)
        return app

    # The server ---------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        recorded = await self._record(request)
        fault = self._fault_now()
        if fault is _HELD:  # a stall window: held until it ends, then served
            await asyncio.sleep(max(0.0, self.stall_until - time.monotonic()))
            fault = None
        if fault is not None:
            return await self._misbehave(fault, request)
        try:
            return self._route(request, recorded)
        except _Refused as refused:
            return _answer(refused.status, refused.code, refused.message, refused.error)

    def _fault_now(self) -> Fault | None:
        if self.faults:
            return self.faults.popleft()
        now = time.monotonic()
        if now < self.stall_until:
            return _HELD
        if now < self.down_until:
            return self.outage
        return self.always

    async def _misbehave(self, fault: Fault, request: web.Request) -> web.StreamResponse:
        if fault.stall:
            await asyncio.wait_for(self.released.wait(), timeout=30)
        if fault.html:
            return web.Response(
                status=fault.http_status, text="<html>Bad gateway</html>", content_type="text/html"
            )
        echo = f"{request.headers.get('Authorization', '')} {request.query_string}"
        body = {
            "statusCode": str(fault.body_status),
            "code": fault.code,
            "error": fault.error or fault.code,
            "message": f"upstream failure for {echo}",
        }
        return web.json_response(body, status=fault.http_status)

    def _route(self, request: web.Request, recorded: Recorded) -> web.StreamResponse:
        tail = request.match_info["tail"]
        method = request.method
        if tail.startswith("object/sign/") and method in ("GET", "HEAD"):
            return self._signed_download(request, *self._where(tail, "object/sign/"))
        role = self._role(request)
        if tail.startswith("object/list-v2/") and method == "POST":
            return self._list_v2(tail.removeprefix("object/list-v2/"), recorded, role)
        if tail.startswith("object/sign/") and method == "POST":
            return self._sign(*self._where(tail, "object/sign/"), recorded, role)
        if tail.startswith("object/") and "/" not in tail.removeprefix("object/"):
            if method == "DELETE":
                return self._delete(tail.removeprefix("object/"), recorded, role)
        elif tail.startswith("object/authenticated/") and method in ("GET", "HEAD"):
            return self._download(request, *self._where(tail, "object/authenticated/"), role)
        elif tail.startswith("object/") and method == "POST":
            return self._upload(request, *self._where(tail, "object/"), recorded, role)
        elif tail.startswith("object/") and method in ("GET", "HEAD"):
            return self._download(request, *self._where(tail, "object/"), role)
        return web.json_response(
            {
                "statusCode": 404,
                "error": "Not Found",
                "message": f"Route {method}:{tail} not found",
            },
            status=404,
        )

    @staticmethod
    def _where(tail: str, prefix: str) -> tuple[str, str]:
        bucket, _, name = tail.removeprefix(prefix).partition("/")
        return bucket, name

    def _role(self, request: web.Request) -> str:
        token = re.sub(r"^Bearer\s+", "", request.headers.get("Authorization", ""), flags=re.I)
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"])
        except jwt.PyJWTError as error:
            raise _Refused(403, "AccessDenied", str(error), "Unauthorized") from None
        return str(claims.get("role", "anon"))

    def _visible(self, bucket: str, name: str, role: str) -> StoredObject:
        found = self.objects.get((bucket, name)) if role == "service_role" else None
        if found is None:
            raise _Refused(404, "NoSuchKey", "Object not found", "not_found")
        return found

    def _upload(
        self, request: web.Request, bucket: str, name: str, recorded: Recorded, role: str
    ) -> web.Response:
        if bucket not in self.buckets:
            raise _Refused(404, "NoSuchBucket", "Bucket not found", "Bucket not found")
        if not _VALID_KEY.fullmatch(name):
            raise _Refused(400, "InvalidKey", f"Invalid key: {name}")
        if role != "service_role":
            raise _Refused(
                403, "AccessDenied", "new row violates row-level security policy", "Unauthorized"
            )
        existing = self.objects.get((bucket, name))
        if existing is not None and request.headers.get("x-upsert") != "true":
            raise _Refused(409, "KeyAlreadyExists", "The resource already exists", "Duplicate")
        _, content_type, data = recorded.parts.get("file", (None, None, b""))
        size = recorded.digests["file"][0] if "file" in recorded.digests else len(data)
        limit = self.buckets[bucket]
        if limit is not None and size > limit:
            raise _Refused(
                413, "EntityTooLarge", "The object exceeded the maximum allowed size",
                "Payload too large",
            )  # fmt: skip
        cache = recorded.parts.get("cacheControl", (None, None, b"3600"))[2].decode()
        stored = StoredObject(
            existing.id if existing is not None else str(uuid.uuid4()),
            (content_type or "application/octet-stream").split(";")[0].strip(),
            data,
            f"max-age={cache}",
        )
        self.objects[(bucket, name)] = stored
        return web.json_response({"Id": stored.id, "Key": f"{bucket}/{name}"})

    def _download(
        self,
        request: web.Request,
        bucket: str,
        name: str,
        role: str,
        expires: datetime | None = None,
    ) -> web.Response:
        found = self._visible(bucket, name, role)
        headers = {
            "Content-Type": found.content_type,
            "ETag": found.etag,
            "Last-Modified": format_datetime(found.last_modified, usegmt=True),
            "Cache-Control": found.cache_control,
            "Accept-Ranges": "bytes",
        }
        if expires is not None:
            headers["Expires"] = format_datetime(expires, usegmt=True)
        body, status = found.data, 200
        wanted = request.headers.get("Range")
        if wanted is not None:
            start, end = _byte_range(wanted, len(found.data))
            body, status = found.data[start : end + 1], 206
            headers["Content-Range"] = f"bytes {start}-{end}/{len(found.data)}"
        headers["Content-Length"] = str(len(body))
        if request.method == "HEAD":
            return web.Response(status=status, headers=headers)
        return web.Response(status=status, body=body, headers=headers)

    def _sign(self, bucket: str, name: str, recorded: Recorded, role: str) -> web.Response:
        body = recorded.json if isinstance(recorded.json, dict) else {}
        raw = body.get("expiresIn")
        if isinstance(raw, str) and raw.isdigit():
            raw = int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
            raise _Refused(400, "InvalidRequest", "body/expiresIn must be integer >= 1")
        self._visible(bucket, name, role)
        if self.signed_url is not None:
            return web.json_response({"signedURL": self.signed_url})
        now = int(time.time())
        claims = {"url": f"{bucket}/{name}", "scope": "download", "iat": now, "exp": now + raw}
        token = jwt.encode(claims, self.secret, algorithm="HS256")
        return web.json_response({"signedURL": f"/object/sign/{bucket}/{name}?token={token}"})

    def _signed_download(self, request: web.Request, bucket: str, name: str) -> web.Response:
        token = request.query.get("token")
        if not token:
            raise _Refused(400, "InvalidRequest", "querystring must have required property 'token'")
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"])
        except jwt.ExpiredSignatureError:
            raise _Refused(400, "InvalidJWT", '"exp" claim timestamp check failed') from None
        except jwt.PyJWTError:
            raise _Refused(400, "InvalidJWT", "signature verification failed") from None
        if claims.get("scope") != "download":
            raise _Refused(400, "InvalidSignature", "Token is not scoped for download")
        if claims.get("url") != f"{bucket}/{name}":
            raise _Refused(400, "InvalidSignature", "Invalid signature")
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
        return self._download(request, bucket, name, "service_role", expires)

    def _delete(self, bucket: str, recorded: Recorded, role: str) -> web.Response:
        body = recorded.json if isinstance(recorded.json, dict) else {}
        names = body.get("prefixes")
        if not isinstance(names, list) or not names:
            raise _Refused(400, "InvalidRequest", "body/prefixes must NOT have fewer than 1 items")
        if len(names) > _PER_REQUEST:
            raise _Refused(400, "InvalidRequest", "Bulk object requests are limited to 1000")
        removed = []
        for name in names if role == "service_role" else []:
            gone = self.objects.pop((bucket, name), None)
            if gone is not None:
                removed.append({"bucket_id": bucket, "name": name, "id": gone.id})
        return web.json_response(removed)

    def _list_v2(self, bucket: str, recorded: Recorded, role: str) -> web.Response:
        if bucket not in self.buckets:
            raise _Refused(404, "NoSuchBucket", "Bucket not found", "Bucket not found")
        body = recorded.json if isinstance(recorded.json, dict) else {}
        limit = min(int(body.get("limit") or _PER_REQUEST), _PER_REQUEST)
        prefix = str(body.get("prefix") or "")
        after = ""
        if body.get("cursor"):
            decoded = base64.b64decode(body["cursor"]).decode()
            if not decoded.startswith("l:"):
                raise _Refused(400, "InvalidParameter", "Invalid continuation token")
            after = decoded.removeprefix("l:")
        visible = self.objects if role == "service_role" else {}
        names = sorted(
            (n for (b, n) in visible if b == bucket and n.startswith(prefix)),
            key=lambda n: n.encode(),
        )
        names = [n for n in names if n.encode() > after.encode()]
        page, more = names[:limit], len(names) > limit
        listed = []
        for name in page:
            stored = self.objects[(bucket, name)]
            stamp = stored.last_modified.isoformat().replace("+00:00", "Z")
            listed.append(
                {
                    "id": stored.id,
                    "name": name,
                    "metadata": {"size": len(stored.data), "mimetype": stored.content_type},
                    "created_at": stamp,
                    "updated_at": stamp,
                    "last_accessed_at": stamp,
                }
            )
        cursor = base64.b64encode(f"l:{page[-1]}".encode()).decode() if more else None
        return web.json_response(
            {"hasNext": more, "nextCursor": cursor, "folders": [], "objects": listed}
        )

    # Reading requests -----------------------------------------------------------

    async def _record(self, request: web.Request) -> Recorded:
        recorded = Recorded(
            method=request.method,
            path=request.path,
            query=dict(request.query),
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
                    data = bytes(await part.read())
                recorded.body_length += len(data)
                recorded.parts[part.name or ""] = (
                    part.filename, part.headers.get("Content-Type"), data,
                )  # fmt: skip
        else:
            raw = await request.read()
            recorded.body_length = len(raw)
            if request.content_type == "application/json" and raw:
                recorded.json = json.loads(raw)
        self.requests.append(recorded)
        return recorded


def _byte_range(header: str, size: int) -> tuple[int, int]:
    """The first and last byte of a ``bytes=`` range of an object of ``size`` bytes."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.groups() == ("", ""):
        raise _Refused(400, "InvalidRange", "invalid range provided", "invalid_range")
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start > end or start >= size:
        raise _Refused(400, "InvalidRange", "invalid range provided", "invalid_range")
    return start, end


async def _digest(part: BodyPartReader) -> tuple[int, str]:
    digest, length = hashlib.sha256(), 0
    while chunk := await part.read_chunk():
        digest.update(chunk)
        length += len(chunk)
    return length, digest.hexdigest()


@asynccontextmanager
async def serve(double: StorageApiDouble) -> AsyncIterator[str]:
    """Serve ``double`` on a free loopback port: yields the project URL (without
    ``/storage/v1``), as ``SUPABASE_URL`` holds it."""
    runner = web.AppRunner(
        double.application(), access_log=None, handler_cancellation=True, shutdown_timeout=5
    )
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        double.released.set()
        await runner.cleanup()
