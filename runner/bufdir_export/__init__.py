"""Bufdir annual report exports, driven by a state machine in PostgreSQL.

The public API, for an app or a script that asks for exports and for a
plugin author:

- the client: :class:`ClientApp` wires the export service, the audit log
  and the UI controller from one frozen :class:`Settings`; the services
  are the interfaces :class:`ExportService`, :class:`ExportWatch` and
  :class:`AuditLog`;
- the UI controller (:class:`ExportController`) and its states;
- the typed records and results the client returns;
- the plugin contract (:class:`CountingPlugin`, :class:`PluginPass`,
  :class:`Verdict`; see ``docs/plugins.md``);
- the exceptions, as one hierarchy (see :mod:`bufdir_export._errors`).

Everything else (the runner, the adapters, the command line, the tooling)
lives in the subpackages and may change between releases; ``docs/design.md``
describes them.
"""

from ._errors import (
    AuditAppendOnly,
    BufdirExportError,
    ConfigurationError,
    ConfigVersionKept,
    DatabaseError,
    DatabaseUnavailable,
    EmbeddedPostgresError,
    ExportFinished,
    ExportNotFound,
    ExportRejected,
    InvalidColumnConfig,
    InvalidTransition,
    LeaseLost,
    LeaseNotExpired,
    MigrationError,
    NotRetryable,
    PermissionDenied,
    RequestImmutable,
    RunnerOwnedColumn,
    StepFailed,
    StorageError,
    StorageUnavailable,
    TooManyExports,
    TransactionConflict,
    UsageError,
    ValueRejected,
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
from .report.plugins import CountingPlugin, PluginPass, Verdict

__all__ = [
    "AuditAppendOnly",
    "AuditEntry",
    "AuditLog",
    "BufdirExportError",
    "Caller",
    "ClientApp",
    "ConfigVersionKept",
    "ConfigurationError",
    "CountingPlugin",
    "DatabaseError",
    "DatabaseUnavailable",
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
    "InvalidTransition",
    "LeaseLost",
    "LeaseNotExpired",
    "Loading",
    "MigrationError",
    "NotRetryable",
    "PermissionDenied",
    "PluginPass",
    "RequestImmutable",
    "RunnerOwnedColumn",
    "Settings",
    "StepFailed",
    "StorageError",
    "StorageUnavailable",
    "Succeeded",
    "TooManyExports",
    "TransactionConflict",
    "UsageError",
    "ValueRejected",
    "Verdict",
    "WaitTimedOut",
]
