"""Conditions in the column configuration: CEL, compiled once, never ``eval``.

CEL (the Common Expression Language of Kubernetes and Google's IAM) is
side-effect free and always terminates; the ``cel`` package compiles it in
Rust. An expression is compiled once per export and checked to read only
fields the mapping offers. Its result depends on nothing but the fields it
reads, so each distinct combination of them is evaluated once and
remembered: over a real year, a few hundred evaluations answer every row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cel

from .._errors import InvalidColumnConfig
from ..core.memo import BoundedMemo

__all__ = ["Expression", "ExpressionFailed"]

_MEMO_LIMIT = 65_536


class ExpressionFailed(Exception):
    """An expression failed on one row, or gave something else than true or false."""


class Expression:
    """A compiled CEL condition over a row of named fields."""

    __slots__ = ("_memo", "_program", "source", "variables")

    def __init__(self, program: cel.Program, source: str, variables: tuple[str, ...]) -> None:
        self._program = program
        self.source = source
        self.variables = variables
        self._memo: BoundedMemo[bool] = BoundedMemo(_MEMO_LIMIT)

    @classmethod
    def compile(cls, source: str, *, path: str, fields: frozenset[str]) -> Expression:
        """Compile ``source``, or raise :class:`InvalidColumnConfig` at ``path``."""
        try:
            program = cel.compile(source)
        except (ValueError, RuntimeError) as error:
            raise InvalidColumnConfig(path, f"does not compile: {_first_line(error)}") from None
        variables = tuple(program.variables())
        for name in variables:
            if name not in fields:
                known = ", ".join(sorted(fields))
                raise InvalidColumnConfig(path, f"unknown field {name!r} (known: {known})")
        return cls(program, source, variables)

    def holds(self, row: Mapping[str, Any]) -> bool:
        """Whether the condition is true for ``row``."""
        key = tuple(row[name] for name in self.variables)
        known = self._memo.get(key)
        if known is not None:
            return known
        try:
            result = self._program.execute({name: row[name] for name in self.variables})
        except Exception as error:  # the extension raises plain built-in exceptions
            raise ExpressionFailed(f"{self.source!r} failed: {_first_line(error)}") from None
        if not isinstance(result, bool):
            raise ExpressionFailed(f"{self.source!r} gave {type(result).__name__}, not true/false")
        return self._memo.remember(key, result)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
