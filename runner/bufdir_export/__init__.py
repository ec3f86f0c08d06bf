"""Bufdir annual report exports, driven by a state machine in PostgreSQL.

The public API: the client (:class:`ClientApp` wires the export service, the
audit log and the UI controller from the settings), the typed records it
returns, the migrator, the embedded server, and the exceptions (see
:mod:`bufdir_export._errors` for the hierarchy).
"""

from ._errors import (
    AuditAppendOnly,
    BufdirExportError,
    ConfigurationError,
    DatabaseError,
    DatabaseUnavailable,
    EmbeddedPostgresError,
    ExportFinished,
    ExportNotFound,
    ExportRejected,
    InvalidColumnConfig,
    InvalidRequest,
    InvalidTransition,
    LeaseLost,
    LeaseNotExpired,
    MigrationError,
    PermissionDenied,
    RequestImmutable,
    RunnerOwnedColumn,
    StepFailed,
    StorageError,
    StorageUnavailable,
    TransactionConflict,
    WaitTimedOut,
)
from ._models import (
    AuditEntry,
    Caller,
    ErrorCode,
    ExportEvent,
    ExportFailure,
    ExportFormat,
    ExportRecord,
    ExportRequest,
    ExportResult,
    ExportStatus,
    ExportSuccess,
    ExportUpdate,
)
from ._settings import Settings
from .client.client_app import ClientApp
from .client.controller import ExportController, ExportState, Failed, Loading, Succeeded
from .client.services import AuditLog, ExportService, ExportWatch
from .postgres.queries import Queries, load_queries
from .tools.embedded import EmbeddedPostgres
from .tools.migrations import Migration, MigrationReport, discover_migrations, migrate

__all__ = [
    "AuditAppendOnly",
    "AuditEntry",
    "AuditLog",
    "BufdirExportError",
    "Caller",
    "ClientApp",
    "ConfigurationError",
    "DatabaseError",
    "DatabaseUnavailable",
    "EmbeddedPostgres",
    "EmbeddedPostgresError",
    "ErrorCode",
    "ExportController",
    "ExportEvent",
    "ExportFailure",
    "ExportFinished",
    "ExportFormat",
    "ExportNotFound",
    "ExportRecord",
    "ExportRejected",
    "ExportRequest",
    "ExportResult",
    "ExportService",
    "ExportState",
    "ExportStatus",
    "ExportSuccess",
    "ExportUpdate",
    "ExportWatch",
    "Failed",
    "InvalidColumnConfig",
    "InvalidRequest",
    "InvalidTransition",
    "LeaseLost",
    "LeaseNotExpired",
    "Loading",
    "Migration",
    "MigrationError",
    "MigrationReport",
    "PermissionDenied",
    "Queries",
    "RequestImmutable",
    "RunnerOwnedColumn",
    "Settings",
    "StepFailed",
    "StorageError",
    "StorageUnavailable",
    "Succeeded",
    "TransactionConflict",
    "WaitTimedOut",
    "discover_migrations",
    "load_queries",
    "migrate",
]
