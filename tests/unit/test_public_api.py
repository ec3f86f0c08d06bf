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
