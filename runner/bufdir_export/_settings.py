"""Configuration: one frozen object, read from the environment once and passed on."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]

# libpq reads these itself when no URL is given.
_LIBPQ_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")


class Settings(BaseSettings):
    """Everything configurable, from ``BUFDIR_EXPORT_*`` variables (and ``DATABASE_URL``).

    Without ``DATABASE_URL`` and without libpq's ``PG*`` variables, commands
    that need a database start a private throwaway PostgreSQL server from the
    server binaries found on the machine.
    """

    model_config = SettingsConfigDict(
        env_prefix="BUFDIR_EXPORT_", frozen=True, extra="ignore", populate_by_name=True
    )

    database_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "BUFDIR_EXPORT_DATABASE_URL"),
        description="libpq connection string or URL of the database "
        "(a secret: it may hold a password).",
    )
    pg_bindir: Path | None = Field(
        default=None,
        description="Directory of the PostgreSQL server binaries for the embedded server "
        "(found with pg_config or in the usual places when unset).",
    )
    connect_timeout_seconds: float = Field(default=10.0, gt=0)

    # the runner
    runner_id: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}",
        min_length=1,
        max_length=200,
        description="Names this runner in the audit events (default: host and process id).",
    )
    concurrency: int = Field(default=2, ge=1, le=64, description="Exports run at once.")
    poll_interval_seconds: float = Field(
        default=5.0, gt=0, description="How often to look for work when no notification came."
    )
    lease_seconds: int = Field(
        default=60, ge=5, description="How long a claim holds without a heartbeat."
    )
    max_attempts: int = Field(
        default=3, ge=1, description="Claims of one export before the reaper gives up on it."
    )
    signed_url_ttl: timedelta = Field(
        default=timedelta(days=7),
        description="How long a download link works; at least 24 hours.",
    )

    @field_validator("signed_url_ttl")
    @classmethod
    def _a_day_at_least(cls, ttl: timedelta) -> timedelta:
        if ttl < timedelta(hours=24):
            raise ValueError(f"a download link must work for at least 24 hours, not {ttl}")
        return ttl

    def conninfo(self) -> str | None:
        """The connection string to use, ``""`` for libpq's own ``PG*`` variables,
        or None when nothing is configured (then an embedded server is used)."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        if any(os.environ.get(name) for name in _LIBPQ_VARIABLES):
            return ""
        return None
