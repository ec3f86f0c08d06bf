"""Bufdir annual report exports, driven by a state machine in PostgreSQL.

The public API: settings, the migrator, the embedded server, and the
exceptions (see :mod:`bufdir_export._errors` for the hierarchy).
"""

from ._embedded import EmbeddedPostgres
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
)
from ._migrations import Migration, MigrationReport, discover_migrations, migrate
from ._queries import Queries, load_queries
from ._settings import Settings

__all__ = [
    "AuditAppendOnly",
    "BufdirExportError",
    "ConfigurationError",
    "DatabaseError",
    "DatabaseUnavailable",
    "EmbeddedPostgres",
    "EmbeddedPostgresError",
    "ExportFinished",
    "ExportNotFound",
    "ExportRejected",
    "InvalidColumnConfig",
    "InvalidRequest",
    "InvalidTransition",
    "LeaseLost",
    "LeaseNotExpired",
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
    "discover_migrations",
    "load_queries",
    "migrate",
]
