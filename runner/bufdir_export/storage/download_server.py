"""The download server of the local storage backend: serves an export file to a valid signed URL.

``GET /files/<organisation_id>/<export_id>/<file name>?expires=...&signature=...``

- 200 with the file, as an attachment, when the signature covers exactly
  that path and has not expired;
- 400 when the query lacks ``expires`` or ``signature``, or the path holds
  an encoded slash, a backslash or a dot segment;
- 403 when the signature does not match or has expired;
- 410 when the file is not there any more (its retention ended, or the
  sweep removed it): the signature shows it was there once.

Why a URL was refused is logged (without the signature) and never echoed
back in more detail than the status line.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass

from aiohttp import web

from .local_storage import LocalStorage
from .signing import InvalidSignature, UrlSigner

__all__ = ["DownloadServer", "download_app"]

log = logging.getLogger(__name__)

_STORAGE = web.AppKey("storage", LocalStorage)
_SIGNER = web.AppKey("signer", UrlSigner)


async def _download(request: web.Request) -> web.StreamResponse:
    raw = request.raw_path.split("?", 1)[0].lower()
    if "%2f" in raw or "%5c" in raw or "\\" in raw or "/./" in raw or "/../" in raw:
        raise web.HTTPBadRequest(text="malformed download path\n")
    expires = request.query.get("expires")
    signature = request.query.get("signature")
    if not expires or not signature:
        raise web.HTTPBadRequest(text="a download URL needs expires and signature\n")
    path = request.match_info["path"]
    try:
        request.app[_SIGNER].verify(path, expires, signature)
    except InvalidSignature as refused:
        log.info("download refused: %s", refused.reason)
        raise web.HTTPForbidden(text="this download link is not valid (any more)\n") from None
    file = request.app[_STORAGE].export_file(path)
    if not file.is_file():
        raise web.HTTPGone(text="this file is no longer stored: ask for the export again\n")
    return web.FileResponse(
        file,
        headers={
            "Content-Disposition": f'attachment; filename="{file.name}"',
            "Cache-Control": "private, no-store",
        },
    )


def download_app(storage: LocalStorage, signer: UrlSigner) -> web.Application:
    """The aiohttp application (for embedding, and for tests)."""
    app = web.Application()
    app[_STORAGE] = storage
    app[_SIGNER] = signer
    app.router.add_get("/files/{path:.+}", _download)
    return app


@dataclass
class DownloadServer:
    """The download server, listening on ``host:port`` until :meth:`stop`."""

    storage: LocalStorage
    signer: UrlSigner
    host: str = "127.0.0.1"
    port: int = 8787
    _runner: web.AppRunner | None = None

    async def start(self) -> str:
        """Start listening; returns the base URL (with the real port when ``port`` was 0)."""
        sock = socket.create_server((self.host, self.port), reuse_port=False)
        self.port = sock.getsockname()[1]
        self._runner = web.AppRunner(download_app(self.storage, self.signer), access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
