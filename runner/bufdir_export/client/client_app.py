"""The composition root of a client: its services wired from the settings.

Constructing :class:`ClientApp` resolves the whole graph synchronously and
touches nothing outside the process: no connection is made until a service
is used, so a missing or unreachable database is reported by the first call,
not at start-up. Any collaborator can be swapped through the constructor
(tests pass fakes; an app may pass its own service).
"""

from __future__ import annotations

from .._models import Caller
from .._settings import Settings
from ..postgres.queries import Queries, load_queries
from .audit_log import PostgresAuditLog
from .controller import ExportController
from .export_client import PostgresExportClient
from .services import AuditLog, ExportService

__all__ = ["ClientApp"]


class ClientApp:
    """The export service, the audit log and the UI controller, for one user."""

    def __init__(
        self,
        settings: Settings,
        caller: Caller | None = None,
        *,
        queries: Queries | None = None,
        exports: ExportService | None = None,
        audit: AuditLog | None = None,
        controller_timeout: float | None = None,
    ) -> None:
        self.settings = settings
        self.caller = caller
        queries = queries or load_queries()
        conninfo = settings.conninfo()
        self.exports: ExportService = exports or PostgresExportClient(
            conninfo,
            caller,
            queries,
            poll_interval=settings.watch_poll_interval_seconds,
            connect_timeout=settings.connect_timeout_seconds,
        )
        self.audit: AuditLog = audit or PostgresAuditLog(
            conninfo, caller, queries, connect_timeout=settings.connect_timeout_seconds
        )
        self.controller = ExportController(self.exports, timeout=controller_timeout)
