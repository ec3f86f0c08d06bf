"""The memory of a pure function over few distinct arguments, bounded.

A counting rule's verdict, a summary's plan for a row, a formatted date: each
depends on a few values that repeat across an export, so each is worked out
once per distinct key. When a memo holds ``limit`` keys it forgets them all
and starts again, so that unexpectedly many distinct keys cost time, never
memory. Lookups are the dictionary's own ``get``.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["BoundedMemo"]

V = TypeVar("V")


class BoundedMemo(Generic[V]):
    __slots__ = ("_known", "_limit", "get")

    def __init__(self, limit: int) -> None:
        self._known: dict[Hashable, V] = {}
        self._limit = limit
        self.get = self._known.get

    def remember(self, key: Hashable, value: V) -> V:
        """Keep ``value`` for ``key`` (forgetting everything first when full); return it."""
        if len(self._known) >= self._limit:
            self._known.clear()
        self._known[key] = value
        return value

    def __len__(self) -> int:
        return len(self._known)
