"""The migrations as files: one baseline in which every function is created once, in
one file, and followed by its explicit execute privileges."""

from __future__ import annotations

import re
from collections import Counter

from bufdir_export.tools.migrations import discover_migrations

_CREATE_FUNCTION = re.compile(
    r"^create (?:or replace )?function ([a-z_]+\.[a-z_]+)\s*\(", re.IGNORECASE | re.MULTILINE
)


def _created_functions() -> list[tuple[str, str]]:
    return [
        (migration.path.name, name)
        for migration in discover_migrations()
        for name in _CREATE_FUNCTION.findall(migration.path.read_text(encoding="utf-8"))
    ]


def test_every_function_is_created_in_exactly_one_migration() -> None:
    created = _created_functions()
    counts = Counter(name for _, name in created)
    assert len(created) > 20
    assert {name: n for name, n in counts.items() if n > 1} == {}


def test_no_migration_replaces_a_function() -> None:
    replaced = [
        (migration.path.name, line)
        for migration in discover_migrations()
        for line in migration.path.read_text(encoding="utf-8").splitlines()
        if line.lower().startswith("create or replace function")
    ]
    assert replaced == []


def test_every_function_states_who_may_execute_it() -> None:
    unstated = []
    for migration in discover_migrations():
        text = migration.path.read_text(encoding="utf-8")
        for name in _CREATE_FUNCTION.findall(text):
            privileges = re.compile(
                rf"^(?:revoke|grant) execute on function {re.escape(name)}\s*\(", re.MULTILINE
            )
            if not privileges.search(text):
                unstated.append((migration.path.name, name))
    assert unstated == []
