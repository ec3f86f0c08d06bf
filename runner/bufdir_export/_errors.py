"""The exceptions this package raises, as one hierarchy.

::

    BufdirExportError
    ├── UsageError                  the caller asked for something malformed or unknown
    ├── ConfigurationError          settings that cannot work
    ├── InvalidColumnConfig         a column configuration is wrong (``path``, ``problem``)
    ├── ExportNotFound              no such export among those the caller may see (``export_id``)
    ├── StepFailed                  a pipeline step failed for a reason it names (``code``)
    ├── WaitTimedOut                a watch reached its timeout; the export goes on
    ├── StorageError                the file store refused or failed a request
    │   └── StorageUnavailable      it did not answer, timed out, or answered 5xx
    ├── EmbeddedPostgresError       the private throwaway server failed to start
    ├── MigrationError              a migration file failed; nothing of it was applied
    └── DatabaseError               the database refused or failed a statement (``sqlstate``)
        ├── DatabaseUnavailable     cannot connect, or the connection was lost
        ├── TransactionConflict     40001/40P01: serialization failure or deadlock
        └── ExportRejected          the export contract refused the statement
            ├── InvalidTransition   XB001: that status may not follow this one
            ├── RequestImmutable    XB002: the request never changes after insert
            ├── ExportFinished      XB003: a terminal export never changes again
            ├── RunnerOwnedColumn   XB004: a client set what the runner owns
            ├── LeaseNotExpired     XB005: re-queue before the lease expired
            ├── AuditAppendOnly     XB006: audit records are never changed or deleted
            ├── LeaseLost           XB008: a runner no longer holds the export
            ├── ConfigVersionKept   XB009: a saved column configuration never changes
            ├── TooManyExports      XB010: the requester has too many unfinished exports
            ├── NotRetryable        XB011: not failed or cancelled, or retried already
            ├── PermissionDenied    42501: RLS or a grant refused it
            └── ValueRejected       class 22 and 23: bad period, format, organisation...

A usage mistake (:class:`UsageError`) is found before the database is asked,
or by a lookup that found nothing by the name given; a refusal by the
database is a :class:`DatabaseError` whose class follows its SQLSTATE; a
missing export is :class:`ExportNotFound` whether the database said so
(XB007) or a read simply found no row; a failed step is :class:`StepFailed`.
Database errors are translated in one place,
:mod:`bufdir_export.postgres.error_translation`, by SQLSTATE and constraint
name, never by message text.

:data:`TRANSIENT` names the kinds worth retrying: the same request may well
succeed a moment later; :data:`DATABASE_TRANSIENT` those of them that come from
the database.
"""

from __future__ import annotations

from uuid import UUID

from ._models import ErrorCode, ExportStatus

__all__ = [
    "DATABASE_TRANSIENT",
    "TRANSIENT",
    "AuditAppendOnly",
    "BufdirExportError",
    "ConfigVersionKept",
    "ConfigurationError",
    "DatabaseError",
    "DatabaseUnavailable",
    "EmbeddedPostgresError",
    "ExportFinished",
    "ExportNotFound",
    "ExportRejected",
    "InvalidColumnConfig",
    "InvalidTransition",
    "LeaseLost",
    "LeaseNotExpired",
    "MigrationError",
    "NotRetryable",
    "PermissionDenied",
    "RequestImmutable",
    "RunnerOwnedColumn",
    "StepFailed",
    "StorageError",
    "StorageUnavailable",
    "TooManyExports",
    "TransactionConflict",
    "UsageError",
    "ValueRejected",
    "WaitTimedOut",
]


class BufdirExportError(Exception):
    """Base of every exception this package raises on purpose."""


class UsageError(BufdirExportError):
    """The caller asked for something malformed (a date that does not exist, an
    id that is not a UUID) or unknown (a user or organisation by a name that
    names none). Nothing was written."""


class ConfigurationError(BufdirExportError):
    """The settings cannot work (a missing binary, a TTL below the minimum...)."""


class EmbeddedPostgresError(BufdirExportError):
    """The private throwaway PostgreSQL server could not be started or stopped."""


class InvalidColumnConfig(BufdirExportError):
    """A column configuration is wrong. ``path`` is the JSON path of the first
    problem (``$.columns[2].transform.kind``), ``problem`` what is wrong there."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class MigrationError(BufdirExportError):
    """A migration failed. Its transaction was rolled back: nothing of it is applied."""

    def __init__(self, message: str, *, version: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.version = version
        self.sqlstate = sqlstate


class StepFailed(BufdirExportError):
    """A pipeline step failed for a reason it can name.

    The export is marked ``failed`` with ``code`` and this message, which
    must be fit for the requester to read: no secrets, no stack trace.
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class StorageError(BufdirExportError):
    """The file store refused or failed a request. The message names the path
    and the HTTP status, never a key or a signed URL."""


class StorageUnavailable(StorageError):
    """The file store did not answer, timed out, or answered 5xx. Usually transient."""


class ExportNotFound(BufdirExportError):
    """No such export among those the caller may see or act on: the database
    said so (``sqlstate`` XB007), or a read found no row (``sqlstate`` None).
    ``export_id`` is the export asked for, where the raiser knows it."""

    def __init__(
        self, message: str, *, export_id: UUID | None = None, sqlstate: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.export_id = export_id
        self.sqlstate = sqlstate


class WaitTimedOut(BufdirExportError):
    """Waiting for an export's end took longer than the caller allowed. The
    export itself goes on: watch it again, or cancel it."""

    def __init__(self, message: str, *, export_id: UUID, status: ExportStatus | None) -> None:
        super().__init__(message)
        self.export_id = export_id
        self.status = status


class DatabaseError(BufdirExportError):
    """The database refused or failed a statement.

    ``sqlstate`` is the five-character SQLSTATE; ``constraint`` the name of the
    violated constraint, when the database named one.
    """

    def __init__(
        self, message: str, *, sqlstate: str | None = None, constraint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate
        self.constraint = constraint

    def __str__(self) -> str:
        return f"{self.message} (SQLSTATE {self.sqlstate})" if self.sqlstate else self.message


class DatabaseUnavailable(DatabaseError):
    """No connection could be made, or an open one was lost. Usually transient."""


class TransactionConflict(DatabaseError):
    """40001 or 40P01: the transaction lost a serialization conflict or a deadlock."""


class ExportRejected(DatabaseError):
    """The database's export contract refused the statement."""


class InvalidTransition(ExportRejected):
    """XB001: the transition table does not allow this status change."""


class RequestImmutable(ExportRejected):
    """XB002: organisation, requester, period, format and attachments never change."""


class ExportFinished(ExportRejected):
    """XB003: the export is in a terminal status and never changes again."""


class RunnerOwnedColumn(ExportRejected):
    """XB004: a new export named a column that only the runner sets."""


class LeaseNotExpired(ExportRejected):
    """XB005: an in-progress export is re-queued only once its lease has expired."""


class AuditAppendOnly(ExportRejected):
    """XB006: audit records and their events are never updated, deleted or truncated."""


class LeaseLost(ExportRejected):
    """XB008: the runner no longer holds this export (lease expired, or cancelled)."""


class ConfigVersionKept(ExportRejected):
    """XB009: a saved column configuration never changes (only which one is active)."""


class TooManyExports(ExportRejected):
    """XB010: the requester already has as many unfinished exports as one may
    (``bufdir_private.export_limits``): wait for one to end, or cancel one."""


class NotRetryable(ExportRejected):
    """XB011: only a failed or cancelled export can be retried, once, with the
    same request (``public.retry_bufdir_export``)."""


class PermissionDenied(ExportRejected):
    """42501: row-level security or a missing grant refused the statement."""


class ValueRejected(ExportRejected):
    """Class 22 or 23: a value the database does not accept (a check, a foreign
    key, a type); ``constraint`` names the check where there is one."""


DATABASE_TRANSIENT: tuple[type[BufdirExportError], ...] = (
    DatabaseUnavailable,
    TransactionConflict,
)
TRANSIENT: tuple[type[BufdirExportError], ...] = (*DATABASE_TRANSIENT, StorageUnavailable)
