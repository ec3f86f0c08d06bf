"""The column mapper on PostgreSQL: the organisation's active configuration,
loaded, checked and compiled for one export."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from .._errors import InvalidColumnConfig, StepFailed
from .._models import ErrorCode, ExportRecord
from ..core.observer import UNOBSERVED, Observer
from ..core.retry import retry_transient
from ..report.config_checks import check_activity_types, parse_column_config
from ..report.mapping import ConfiguredMapping
from ..report.plugins import PluginRegistry
from .error_translation import translate_error
from .queries import Queries

__all__ = ["PostgresColumnMapper"]


class PostgresColumnMapper:
    """:class:`~bufdir_export.core.ports.ColumnMapper` reading ``bufdir_column_configs``.

    A missing or broken configuration fails the export with ``invalid_config``
    and a message naming the version and the JSON path of the problem.
    """

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        queries: Queries,
        plugins: PluginRegistry,
        *,
        observer: Observer = UNOBSERVED,
    ) -> None:
        self._pool = pool
        self._queries = queries
        self._plugins = plugins
        self._observer = observer

    async def prepare(self, export: ExportRecord) -> ConfiguredMapping:
        async def load() -> tuple[str, int | None, Any, list[str]]:
            return await self._load(export)

        name, version, document, type_codes = await retry_transient(load, observer=self._observer)
        if version is None:
            raise StepFailed(
                ErrorCode.INVALID_CONFIG, "the organisation has no active column configuration"
            )
        try:
            config = parse_column_config(document)
            check_activity_types(config, type_codes)
            return ConfiguredMapping(
                config, organisation_name=name, version=version, plugins=self._plugins
            )
        except InvalidColumnConfig as error:
            raise StepFailed(
                ErrorCode.INVALID_CONFIG, f"column configuration version {version}: {error}"
            ) from None

    async def _load(self, export: ExportRecord) -> tuple[str, int | None, Any, list[str]]:
        params = {"organisation_id": export.organisation_id}
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(self._queries["active_column_config"], params)
                found = await cursor.fetchone()
                cursor = await conn.execute(self._queries["activity_type_codes"], params)
                codes = [str(code) for (code,) in await cursor.fetchall()]
        except psycopg.Error as error:
            raise translate_error(error) from error
        if found is None:
            raise StepFailed(ErrorCode.INVALID_CONFIG, "the organisation no longer exists")
        name, version, document = found
        return str(name), version, document, codes
