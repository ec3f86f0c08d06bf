"""The one place where database errors become this package's exceptions.

Matched by SQLSTATE (and its class), never by message text.
"""

from __future__ import annotations

import psycopg

from .._errors import (
    AuditAppendOnly,
    ConfigVersionKept,
    DatabaseError,
    DatabaseUnavailable,
    ExportFinished,
    ExportNotFound,
    InvalidTransition,
    LeaseLost,
    LeaseNotExpired,
    NotRetryable,
    PermissionDenied,
    RequestImmutable,
    RunnerOwnedColumn,
    TooManyExports,
    TransactionConflict,
    ValueRejected,
)

__all__ = ["translate_error"]

_BY_SQLSTATE: dict[str, type[DatabaseError]] = {
    "XB001": InvalidTransition,
    "XB002": RequestImmutable,
    "XB003": ExportFinished,
    "XB004": RunnerOwnedColumn,
    "XB005": LeaseNotExpired,
    "XB006": AuditAppendOnly,
    "XB008": LeaseLost,
    "XB009": ConfigVersionKept,
    "XB010": TooManyExports,
    "XB011": NotRetryable,
    "42501": PermissionDenied,
    "40001": TransactionConflict,  # serialization_failure
    "40P01": TransactionConflict,  # deadlock_detected
    "57P01": DatabaseUnavailable,  # admin_shutdown
    "57P02": DatabaseUnavailable,  # crash_shutdown
    "57P03": DatabaseUnavailable,  # cannot_connect_now
}

# No such export among the caller's: not a refusal, so not a DatabaseError.
_EXPORT_NOT_FOUND = "XB007"

# A constraint whose violation means more than its class says.
_BY_CONSTRAINT: dict[str, type[DatabaseError]] = {
    # Two retries of one export at once: the one that lost the race.
    "bufdir_export_audit_retry_of_key": NotRetryable,
}

_BY_CLASS: dict[str, type[DatabaseError]] = {
    "08": DatabaseUnavailable,  # connection exception
    "22": ValueRejected,  # data exception: bad date, unknown enum value...
    "23": ValueRejected,  # integrity constraint violation
}


def translate_error(error: psycopg.Error) -> DatabaseError | ExportNotFound:
    """The project exception for a psycopg error (to be raised ``from`` it):
    a :class:`DatabaseError` by SQLSTATE, or :class:`ExportNotFound` for XB007."""
    diag = error.diag
    sqlstate = error.sqlstate or diag.sqlstate
    message = diag.message_primary or _first_line(str(error)) or type(error).__name__
    if sqlstate is None:
        # No SQLSTATE at all: the connection failed or broke on the client side.
        kind: type[DatabaseError] = (
            DatabaseUnavailable if isinstance(error, psycopg.OperationalError) else DatabaseError
        )
        return kind(message)
    if sqlstate == _EXPORT_NOT_FOUND:
        return ExportNotFound(message, sqlstate=sqlstate)
    kind = (
        _BY_SQLSTATE.get(sqlstate)
        or _BY_CONSTRAINT.get(diag.constraint_name or "")
        or _BY_CLASS.get(sqlstate[:2], DatabaseError)
    )
    return kind(message, sqlstate=sqlstate, constraint=diag.constraint_name)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
