"""Configuration: one frozen object, read from the environment once and passed on."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ._errors import ConfigurationError

__all__ = ["Settings", "require_conninfo"]

# libpq reads these itself when no URL is given.
_LIBPQ_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")


class LogFormat(StrEnum):
    """How the runner logs: text lines, or one JSON object a line."""

    TEXT = "text"
    JSON = "json"


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

    db_role: str | None = Field(
        default="bufdir_export_runner",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="The role the runner's connections take (SET ROLE) before any work; "
        "the connecting user must be a member of it.",
    )
    reap_interval_seconds: float = Field(
        default=15.0, gt=0, description="How often each runner runs the reaper."
    )
    sweep_interval_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="How often each runner removes stored files no completed export names "
        "(0: never; `bufdir-export sweep` does it once).",
    )
    shutdown_grace_seconds: float = Field(
        default=30.0,
        ge=0,
        description="On SIGTERM, how long running exports may take to finish before "
        "they are released for another runner.",
    )

    # operating
    retention_days: int = Field(
        default=90,
        ge=0,
        description="How many days after completion an export's file is kept; then the "
        "runners delete it from storage and record when (0: keep files).",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Serve /healthz and /metrics (Prometheus) on this port "
        "(unset: not served; 0: any free port).",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="The address /healthz and /metrics listen on (0.0.0.0 in a container).",
    )
    log_format: LogFormat = Field(
        default=LogFormat.TEXT,
        description="How the runner logs: text lines, or one JSON object per line.",
    )

    # clients
    watch_poll_interval_seconds: float = Field(
        default=2.0,
        gt=0,
        description="How often a client watching an export reads it when no notification "
        "came (LISTEN wakes it at once; this is the fallback).",
    )

    # storage
    storage_backend: Literal["local", "supabase"] = Field(
        default="local",
        description="Where files go: a local directory served by the download server, "
        "or Supabase Storage.",
    )
    storage_dir: Path = Field(
        default=Path(".bufdir-export/storage"),
        description="The local backend's directory (exports and attachments).",
    )
    download_base_url: str = Field(
        default="http://127.0.0.1:8787",
        description="Public address of the download server for the local backend.",
    )
    signing_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key of the local backend's download URLs, at least 32 bytes (a secret).",
    )
    supabase_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SUPABASE_URL", "BUFDIR_EXPORT_SUPABASE_URL"),
        description="The project's API address, for Supabase Storage.",
    )
    supabase_service_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "SUPABASE_SERVICE_ROLE_KEY", "BUFDIR_EXPORT_SUPABASE_SERVICE_KEY"
        ),
        description="The service role key, for Supabase Storage (a secret).",
    )
    export_bucket: str = Field(
        default="bufdir-exports", description="Private bucket of the export files."
    )
    storage_outage_budget_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How long a Storage request that meets a transient fault (a timeout, "
        "no connection, 423, 429, 5xx) is tried again, with backoff, before the step "
        "gives up; the export then waits storage_retry_delay_seconds in the queue "
        "(or fails as storage_error when its attempts are spent).",
    )
    storage_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="The longest wait for each step of a Storage request (connecting, "
        "each read, each write): a frozen server is noticed within it.",
    )
    storage_retry_delay_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long an export given back after a Storage outage longer than "
        "the budget waits before a runner claims it again.",
    )
    attachment_bucket: str = Field(
        default="activity-attachments", description="Bucket of the activities' attachments."
    )

    @field_validator("signing_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value().encode()) < 32:
            raise ValueError("the signing secret must be at least 32 bytes")
        return secret

    @model_validator(mode="after")
    def _supabase_needs_its_address(self) -> Settings:
        if self.storage_backend == "supabase" and (
            self.supabase_url is None or self.supabase_service_key is None
        ):
            raise ValueError(
                "storage_backend 'supabase' needs SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY"
            )
        return self

    @field_validator("signed_url_ttl")
    @classmethod
    def _a_day_at_least(cls, ttl: timedelta) -> timedelta:
        if ttl < timedelta(hours=24):
            raise ValueError(f"a download link must work for at least 24 hours, not {ttl}")
        return ttl

    def required_conninfo(self) -> str:
        """:meth:`conninfo`, for commands that work on a configured database only."""
        return require_conninfo(self.conninfo())

    def conninfo(self) -> str | None:
        """The connection string to use, ``""`` for libpq's own ``PG*`` variables,
        or None when nothing is configured (then an embedded server is used)."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        if any(os.environ.get(name) for name in _LIBPQ_VARIABLES):
            return ""
        return None


def require_conninfo(conninfo: str | None) -> str:
    """``conninfo``, or a clear error when no database is configured."""
    if conninfo is None:
        raise ConfigurationError(
            "no database configured: set DATABASE_URL (or the libpq PG* variables)"
        )
    return conninfo
