"""The runner's log lines: text for a person, or one JSON object a line for a
log pipeline (``run --log-format json``).

A JSON line holds ``time`` (UTC, ISO 8601), ``level``, ``logger``,
``message`` and ``runner``, and, where the line is about an export, its
``export_id``, ``claim`` (the attempt that holds it) and ``step`` (the status
it was in). An exception a library logs is given by its kind only, in both
formats, never with its text or a stack trace: either could hold what must
not leave the process (SECURITY.md, "What is logged").
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from types import TracebackType
from typing import TextIO, TypeAlias

from .._settings import LogFormat
from ..core.log_context import log_fields

__all__ = ["JsonFormatter", "TextFormatter", "configure_logging"]

_ExcInfo: TypeAlias = (
    tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def __init__(self, runner_id: str) -> None:
        super().__init__()
        self._runner_id = runner_id

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "runner": self._runner_id,
            **log_fields(),
        }
        if record.exc_info and record.exc_info[1] is not None:
            line["error"] = _error_text(record.exc_info[1])
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Text lines: time, level, logger and message; an exception by its kind only."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatException(self, ei: _ExcInfo) -> str:
        return _error_text(ei[1])


def _error_text(error: BaseException | None) -> str:
    return type(error).__name__


def configure_logging(
    log_format: LogFormat, *, runner_id: str, stream: TextIO | None = None
) -> logging.Handler:
    """Log at INFO and above to ``stream`` (standard error) in ``log_format``;
    the handler, which replaces any the root logger had."""
    handler = logging.StreamHandler(stream or sys.stderr)
    json_lines = log_format is LogFormat.JSON
    handler.setFormatter(JsonFormatter(runner_id) if json_lines else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)  # a library's warning is a line like any other
    return handler
