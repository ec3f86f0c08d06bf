"""Finding the server binaries for the embedded PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from bufdir_export import EmbeddedPostgresError
from bufdir_export.tools.embedded import find_bindir


def test_the_machine_has_server_binaries() -> None:
    bindir = find_bindir()
    assert (bindir / "initdb").is_file()
    assert (bindir / "postgres").is_file()


def test_a_configured_directory_without_a_server_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedPostgresError, match="no initdb and postgres"):
        find_bindir(tmp_path)


def test_a_configured_directory_with_a_server_is_used(tmp_path: Path) -> None:
    for name in ("initdb", "postgres"):
        (tmp_path / name).write_text("#!/bin/sh\n")
    assert find_bindir(tmp_path) == tmp_path
