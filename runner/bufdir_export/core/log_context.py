"""What a log line is about: the export, the claim and the step a task works on.

The pipeline names them as it goes (:func:`logging_about`, :func:`log_about`);
a log formatter reads them (:func:`log_fields`), so that every line a step
logs, wherever in the code, carries them. They live in a context variable:
each worker task, and each task it starts, sees its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from types import MappingProxyType

__all__ = ["log_about", "log_fields", "logging_about"]

_NOTHING: Mapping[str, object] = MappingProxyType({})
_FIELDS: ContextVar[Mapping[str, object]] = ContextVar("bufdir_export_log_fields", default=_NOTHING)


def log_fields() -> Mapping[str, object]:
    """The fields the current task's log lines are about."""
    return _FIELDS.get()


def log_about(**fields: object) -> None:
    """Name (or rename) fields for the rest of the current block of :func:`logging_about`."""
    _FIELDS.set(MappingProxyType({**_FIELDS.get(), **fields}))


@contextlib.contextmanager
def logging_about(**fields: object) -> Iterator[None]:
    """Within the block, log lines are about ``fields``; after it, as before."""
    token = _FIELDS.set(MappingProxyType({**_FIELDS.get(), **fields}))
    try:
        yield
    finally:
        _FIELDS.reset(token)
