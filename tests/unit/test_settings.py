"""Which database the settings point at."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from pydantic import ValidationError

from bufdir_export._settings import Settings

LIBPQ = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*LIBPQ, "DATABASE_URL", "BUFDIR_EXPORT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_nothing_configured_means_embedded() -> None:
    assert Settings().conninfo() is None


def test_database_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:secret@db.example:5432/app")
    monkeypatch.setenv("PGHOST", "elsewhere")
    assert Settings().conninfo() == "postgresql://u:secret@db.example:5432/app"


def test_libpq_variables_alone_mean_libpq_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGHOST", "db.example")
    assert Settings().conninfo() == ""


def test_the_url_is_a_secret_in_every_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:hunter2@db.example/app")
    settings = Settings()
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings)
    assert "hunter2" not in settings.model_dump_json()


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.connect_timeout_seconds = 1  # type: ignore[misc]


def test_a_download_link_ttl_under_a_day_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUFDIR_EXPORT_SIGNED_URL_TTL", "PT23H")
    with pytest.raises(ValidationError, match="at least 24 hours"):
        Settings()


def test_runner_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUFDIR_EXPORT_SIGNED_URL_TTL", "P2D")
    monkeypatch.setenv("BUFDIR_EXPORT_CONCURRENCY", "4")
    monkeypatch.setenv("BUFDIR_EXPORT_RUNNER_ID", "runner-eu-1")
    settings = Settings()
    assert settings.signed_url_ttl == timedelta(days=2)
    assert settings.concurrency == 4
    assert settings.runner_id == "runner-eu-1"


def test_each_runner_gets_its_own_default_id() -> None:
    assert Settings().runner_id.endswith(f"-{os.getpid()}")
