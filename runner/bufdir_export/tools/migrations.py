"""Applying supabase/migrations to any PostgreSQL, recorded as the Supabase CLI records them.

Each file runs in one transaction, statement by statement, and its record in
``supabase_migrations.schema_migrations(version, name, statements)`` is written
in the same transaction. A session advisory lock makes concurrent migrators
take turns; files already recorded are skipped, whoever applied them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from .._errors import MigrationError
from .._resources import migrations_dir, shim_file
from ..postgres.error_translation import translate_error
from ..postgres.queries import Queries
from .sql_split import split_statements

__all__ = ["Migration", "MigrationReport", "discover_migrations", "migrate"]

# The Supabase CLI's file name pattern: <version>_<name>.sql
_FILE_NAME = re.compile(r"^([0-9]+)_(.*)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    def statements(self) -> list[str]:
        return split_statements(self.path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class MigrationReport:
    applied: tuple[Migration, ...]
    already_applied: tuple[str, ...]


def discover_migrations(directory: Path | None = None) -> list[Migration]:
    """The migration files in version order (other files are ignored, as the CLI does)."""
    found = []
    for path in (directory or migrations_dir()).glob("*.sql"):
        match = _FILE_NAME.match(path.name)
        if match:
            found.append(Migration(match.group(1), match.group(2), path))
    return sorted(found, key=lambda m: m.version)


async def migrate(
    conn: psycopg.AsyncConnection[Any],
    queries: Queries,
    *,
    directory: Path | None = None,
    shim: bool = True,
) -> MigrationReport:
    """Apply what is not applied yet. ``conn`` must be in autocommit mode."""
    if not conn.autocommit:
        raise ValueError("migrate() needs a connection in autocommit mode")
    migrations = discover_migrations(directory)
    await conn.execute(queries["lock_migrations"])
    try:
        if shim:
            await _apply_script(conn, "shim", split_statements(shim_file().read_text("utf-8")))
        await conn.execute(queries["create_migrations_schema"])
        await conn.execute(queries["create_migrations_table"])
        await conn.execute(queries["add_migrations_statements_column"])
        await conn.execute(queries["add_migrations_name_column"])
        rows = await (await conn.execute(queries["applied_migrations"])).fetchall()
        done = {row[0] for row in rows}
        applied = []
        for migration in migrations:
            if migration.version in done:
                continue
            statements = migration.statements()
            async with conn.transaction():
                await _execute_all(conn, migration.version, statements)
                await conn.execute(
                    queries["record_migration"],
                    {
                        "version": migration.version,
                        "name": migration.name,
                        "statements": statements,
                    },
                )
            applied.append(migration)
        return MigrationReport(
            applied=tuple(applied),
            already_applied=tuple(m.version for m in migrations if m.version in done),
        )
    finally:
        if not conn.broken:
            await conn.execute(queries["unlock_migrations"])


async def _apply_script(
    conn: psycopg.AsyncConnection[Any], label: str, statements: Sequence[str]
) -> None:
    async with conn.transaction():
        await _execute_all(conn, label, statements)


async def _execute_all(
    conn: psycopg.AsyncConnection[Any], version: str, statements: Sequence[str]
) -> None:
    for number, statement in enumerate(statements, start=1):
        try:
            # Migration files are this project's own SQL, run as written.
            await conn.execute(statement)
        except psycopg.Error as error:
            cause = translate_error(error)
            raise MigrationError(
                f"migration {version}, statement {number}: {cause}",
                version=version,
                sqlstate=cause.sqlstate,
            ) from error
