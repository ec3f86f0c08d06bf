"""What every command of the command line shares: its consoles, one-line
errors, and the parsing of dates and users."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from functools import wraps
from typing import Any, NoReturn, ParamSpec, TypeVar

import psycopg
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from .._errors import BufdirExportError, UsageError
from ..postgres.error_translation import translate_error

__all__ = ["err", "fail", "one_line_errors", "out", "parse_date", "parse_since", "run"]

out = Console()
err = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")


def one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Every expected failure ends as one line on stderr: exit code 2 for a
    usage mistake, 1 for anything else."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except psycopg.Error as error:
            fail(str(translate_error(error)))
        except UsageError as error:
            fail(str(error), code=2)
        except BufdirExportError as error:
            fail(str(error))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(map(str, first["loc"]))
            fail(f"invalid setting {where}: {first['msg']}")

    return wrapper


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def run(coroutine: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coroutine)


def parse_date(option: str, text: str) -> date:
    """A date as people type it here: 2025-01-31 or 31.01.2025."""
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise UsageError(f"{option} must be a date (YYYY-MM-DD or dd.mm.yyyy), not {text!r}")


def parse_since(text: str) -> datetime:
    """A moment: an ISO date or date and time (local time when no zone is given)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        try:
            moment = datetime.combine(parse_date("--since", text), datetime.min.time())
        except UsageError:
            raise UsageError(
                f"--since must be a date or an ISO date and time, not {text!r}"
            ) from None
    return moment if moment.tzinfo is not None else moment.astimezone()
