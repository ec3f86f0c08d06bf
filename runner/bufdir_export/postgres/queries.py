"""Named queries: every ``sql/*.sql`` file holds blocks that start ``-- name: <name>``.

They are read once into a mapping of ``LiteralString`` so that no query is
ever built from strings at run time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import LiteralString

from .._resources import queries_dir

__all__ = ["Queries", "load_queries"]

_NAME = re.compile(r"^-- name: ([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)

Queries = Mapping[str, LiteralString]


def load_queries(directory: Path | None = None) -> Queries:
    """Every named query under ``directory`` (the package's ``sql/`` by default)."""
    queries: dict[str, LiteralString] = {}
    for path in sorted((directory or queries_dir()).glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        matches = list(_NAME.finditer(text))
        for match, following in zip(matches, [*matches[1:], None], strict=True):
            name = match.group(1)
            if name in queries:
                raise ValueError(f"query {name!r} is defined twice (second time in {path.name})")
            end = following.start() if following else len(text)
            body = text[match.end() : end].strip()
            if not body:
                raise ValueError(f"query {name!r} in {path.name} is empty")
            queries[name] = body
    return MappingProxyType(queries)
