"""The composition root of a runner: every service wired from the settings.

Constructing :class:`RunnerApp` connects to nothing and creates no file;
:meth:`RunnerApp.open` opens the pool (and the download server for local
storage), and :meth:`RunnerApp.close` closes everything again.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from ._errors import BufdirExportError, ConfigurationError, DatabaseUnavailable
from ._settings import Settings
from .core.observer import Observer
from .core.pipeline import ExportPipeline
from .core.ports import AttachmentStore, Storage
from .core.retention import Purger
from .core.runner import Runner
from .core.sweep import Sweeper
from .observability.health_server import HealthServer
from .observability.metrics import Metrics
from .postgres.acting import act_as_role
from .postgres.activities import PostgresActivities
from .postgres.column_mapper import PostgresColumnMapper
from .postgres.listener import PostgresListener
from .postgres.pool import runner_pool
from .postgres.queries import Queries, load_queries
from .postgres.runner_audit import PostgresAudit
from .report.bundler import ZipBundler
from .report.file_generator import StreamingFileGenerator
from .report.plugins import PluginRegistry
from .storage.download_server import DownloadServer
from .storage.local_storage import LocalStorage
from .storage.signing import UrlSigner
from .storage.supabase_storage import SupabaseStorage

__all__ = ["RunnerApp"]


class RunnerApp:
    """A runner and what it needs, for one database."""

    def __init__(
        self,
        settings: Settings,
        conninfo: str,
        *,
        serve_downloads: bool = True,
        queries: Queries | None = None,
        plugins: PluginRegistry | None = None,
    ) -> None:
        self.settings = settings
        self._queries = queries or load_queries()
        self._conninfo = conninfo
        # Created by the first file written into it; removed by close().
        self._work_dir = Path(tempfile.gettempdir()) / f"bufdir-export-{secrets.token_hex(8)}"
        self.pool: AsyncConnectionPool[Any] = runner_pool(
            conninfo,
            max_size=settings.concurrency + 2,
            configure=self._configure,
            timeout=settings.connect_timeout_seconds,
        )
        # The runner's observer: its metrics, served when METRICS_PORT is set.
        self.metrics = Metrics(settings.runner_id, queue=lambda: self.audit.waiting())
        lease = timedelta(seconds=settings.lease_seconds)
        self.audit = PostgresAudit(
            self.pool,
            self._queries,
            runner_id=settings.runner_id,
            lease=lease,
            observer=self.metrics,
        )
        self.activities = PostgresActivities(self.pool, self._queries, observer=self.metrics)
        self._url_signer: UrlSigner | None = None
        self.local_storage: LocalStorage | None = None
        self.download_server: DownloadServer | None = None
        self.storage: Storage
        attachments: AttachmentStore
        if settings.storage_backend == "supabase":
            supabase = _supabase_storage(settings, self.metrics)
            self.storage = attachments = supabase
        else:
            self._url_signer = _url_signer(settings)
            self.local_storage = LocalStorage(settings.storage_dir, self._url_signer)
            self.storage = attachments = self.local_storage
            if serve_downloads:
                self.download_server = DownloadServer(
                    self.local_storage, self._url_signer, host=_host(settings), port=_port(settings)
                )
        self.public_url = settings.download_base_url
        self.pipeline = ExportPipeline(
            audit=self.audit,
            activities=self.activities,
            mapper=PostgresColumnMapper(
                self.pool,
                self._queries,
                plugins or PluginRegistry.installed(),
                observer=self.metrics,
            ),
            generator=StreamingFileGenerator(self._work_dir),
            bundler=ZipBundler(self.activities, attachments, self._work_dir),
            storage=self.storage,
            url_ttl=settings.signed_url_ttl,
            max_attempts=settings.max_attempts,
            storage_retry_delay=timedelta(seconds=settings.storage_retry_delay_seconds),
            observer=self.metrics,
        )
        self.listener = PostgresListener(
            conninfo, self._queries, connect_timeout=settings.connect_timeout_seconds
        )
        self.runner = Runner(
            self.pipeline,
            self.audit,
            self.listener,
            concurrency=settings.concurrency,
            poll_interval=settings.poll_interval_seconds,
            reap_interval=settings.reap_interval_seconds,
            max_attempts=settings.max_attempts,
            grace=settings.shutdown_grace_seconds,
            sweeper=Sweeper(self.storage, self.audit),
            sweep_interval=settings.sweep_interval_seconds,
            purger=self.purger(),
        )
        self.health_server: HealthServer | None = None
        if settings.metrics_port is not None:
            self.health_server = HealthServer(
                self.metrics,
                [
                    ("database", self._database_answers),
                    ("listener", self._listener_connected),
                    ("workers", self._workers_run),
                ],
                host=settings.metrics_host,
                port=settings.metrics_port,
            )

    def purger(self, retention_days: int | None = None) -> Purger | None:
        """What deletes files whose retention ended (``RETENTION_DAYS``, or
        ``retention_days``); None when files are kept (0)."""
        days = self.settings.retention_days if retention_days is None else retention_days
        if days == 0:
            return None
        return Purger(self.storage, self.audit, timedelta(days=days))

    async def _database_answers(self) -> str | None:
        try:
            await self.audit.ping()
        except BufdirExportError as error:
            return f"no answer ({type(error).__name__})"
        return None

    async def _listener_connected(self) -> str | None:
        return None if self.listener.connected.is_set() else "not connected (reconnecting)"

    async def _workers_run(self) -> str | None:
        return self.runner.problem()

    async def _configure(self, conn: psycopg.AsyncConnection[Any]) -> None:
        if self.settings.db_role is not None:
            await act_as_role(conn, self._queries, self.settings.db_role)
        await conn.commit()

    async def _probe(self) -> None:
        """One connection made as the pool makes its own, so that a refusal at
        start-up says its cause (the pool would only time out)."""
        timeout = self.settings.connect_timeout_seconds
        try:
            conn = await psycopg.AsyncConnection.connect(
                self._conninfo, connect_timeout=max(1, round(timeout))
            )
        except psycopg.OperationalError as error:
            raise DatabaseUnavailable(_connection_failure(error)) from None
        async with conn:
            await self._configure(conn)

    async def open(self) -> None:
        """Open the pool; a database that does not answer in time is one
        DatabaseUnavailable, not a log line per attempt (once open, every
        reconnection is logged)."""
        timeout = self.settings.connect_timeout_seconds
        pool_log = logging.getLogger("psycopg.pool")
        level = pool_log.level
        await self._probe()
        pool_log.setLevel(logging.CRITICAL)
        try:
            await self.pool.open(wait=True, timeout=timeout)
        except PoolTimeout:
            await self.pool.close()
            raise DatabaseUnavailable(
                f"cannot connect to the database within {timeout:g} s"
                " (check DATABASE_URL and that the server is up)"
            ) from None
        finally:
            pool_log.setLevel(level)
        if self.download_server is not None and self._url_signer is not None:
            started = await self.download_server.start()
            if _port(self.settings) == 0:  # a free port was taken: link to it
                self._url_signer.base_url = started
                self.public_url = started
        if self.health_server is not None:
            try:
                await self.health_server.start()
            except OSError as error:
                await self.close()
                server = self.health_server
                raise ConfigurationError(
                    f"cannot serve /healthz and /metrics on {server.host}:{server.port}:"
                    f" {error.strerror or type(error).__name__}"
                ) from None

    async def close(self) -> None:
        if self.health_server is not None:
            await self.health_server.stop()
        if self.download_server is not None:
            await self.download_server.stop()
        await self.pool.close()
        if isinstance(self.storage, SupabaseStorage):
            await self.storage.aclose()
        shutil.rmtree(self._work_dir, ignore_errors=True)


def _connection_failure(error: psycopg.OperationalError) -> str:
    """libpq's reason, without its preamble: "Connection refused", "timeout
    expired", or what the server said ("password authentication failed for
    user ..."). libpq never puts the password in it."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reason = (lines[0] if lines else type(error).__name__).rsplit(" failed: ", 1)[-1]
    if reason.startswith("FATAL:"):
        return f"the database refused the connection: {reason.removeprefix('FATAL:').strip()}"
    return (
        f"cannot connect to the database: {reason} (check DATABASE_URL and that the server is up)"
    )


def _url_signer(settings: Settings) -> UrlSigner:
    if settings.signing_secret is None:
        raise ConfigurationError(
            "local storage signs its download URLs: set BUFDIR_EXPORT_SIGNING_SECRET "
            "(at least 32 bytes)"
        )
    return UrlSigner(
        settings.signing_secret.get_secret_value().encode(), settings.download_base_url
    )


def _supabase_storage(settings: Settings, observer: Observer) -> SupabaseStorage:
    url, key = settings.supabase_url, settings.supabase_service_key
    if url is None or key is None:
        raise ConfigurationError("Supabase Storage needs SUPABASE_URL and its service key")
    return SupabaseStorage(
        url,
        key.get_secret_value(),
        export_bucket=settings.export_bucket,
        attachment_bucket=settings.attachment_bucket,
        outage_budget_seconds=settings.storage_outage_budget_seconds,
        timeout_seconds=settings.storage_timeout_seconds,
        observer=observer,
    )


def _host(settings: Settings) -> str:
    return urlsplit(settings.download_base_url).hostname or "127.0.0.1"


def _port(settings: Settings) -> int:
    address = urlsplit(settings.download_base_url)
    if address.port is not None:
        return address.port  # 0: any free port
    return 443 if address.scheme == "https" else 80
