"""The public API: what ``bufdir_export`` exports is there, and every exception
of the documented hierarchy is among it."""

from __future__ import annotations

import re

import bufdir_export
from bufdir_export import _errors


def test_every_exported_name_exists() -> None:
    missing = [name for name in bufdir_export.__all__ if not hasattr(bufdir_export, name)]
    assert missing == []
    assert len(set(bufdir_export.__all__)) == len(bufdir_export.__all__)


def test_every_documented_exception_is_public() -> None:
    documented = set(re.findall(r"[├└]── (\w+)", _errors.__doc__ or ""))
    assert "WaitTimedOut" in documented
    assert documented <= set(bufdir_export.__all__)
    for name in documented:
        assert issubclass(getattr(_errors, name), bufdir_export.BufdirExportError)


def test_a_plugin_author_and_an_app_find_what_they_need() -> None:
    wanted = {
        "ClientApp", "ExportController", "ExportRequest", "ExportSuccess", "ExportFailure",
        "Settings", "CountingPlugin", "PluginPass", "Verdict", "StepFailed", "ErrorCode",
    }  # fmt: skip
    assert wanted <= set(bufdir_export.__all__)


def test_the_tooling_is_not_public() -> None:
    tooling = {"migrate", "Queries", "load_queries", "EmbeddedPostgres", "discover_migrations"}
    assert tooling.isdisjoint(bufdir_export.__all__)
    assert not any(hasattr(bufdir_export, name) for name in tooling)


def test_a_usage_mistake_a_refusal_a_missing_export_and_a_failed_step_differ() -> None:
    kinds = [
        bufdir_export.UsageError,
        bufdir_export.DatabaseError,
        bufdir_export.ExportNotFound,
        bufdir_export.StepFailed,
    ]
    for kind in kinds:
        others = [other for other in kinds if other is not kind]
        assert not any(issubclass(kind, other) for other in others), kind
