"""Which database the settings point at."""

from __future__ import annotations

import pytest

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
