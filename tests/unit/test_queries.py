"""Named queries: every name the code uses exists, and the loader refuses ambiguity."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bufdir_export.postgres.queries import load_queries

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "runner" / "bufdir_export"
_USE = re.compile(r"queries\[\"([a-z_0-9]+)\"\]")


def _used_names(*directories: Path) -> set[str]:
    return {
        match.group(1)
        for directory in directories
        for path in directory.rglob("*.py")
        for match in _USE.finditer(path.read_text())
    }


def test_every_query_the_package_uses_exists() -> None:
    used = _used_names(PACKAGE)
    assert len(used) >= 10, "the scan found too few query uses to be looking in the right place"
    assert used - set(load_queries()) == set()


def test_every_query_is_used_by_the_package_or_its_tests() -> None:
    assert set(load_queries()) - _used_names(PACKAGE, ROOT / "tests") == set()


def test_a_name_defined_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("-- name: one\nselect 1;\n")
    (tmp_path / "b.sql").write_text("-- name: one\nselect 2;\n")
    with pytest.raises(ValueError, match="'one' is defined twice"):
        load_queries(tmp_path)


def test_an_empty_query_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("-- name: one\n\n-- name: two\nselect 2;\n")
    with pytest.raises(ValueError, match=r"'one' in a\.sql is empty"):
        load_queries(tmp_path)


def test_queries_keep_their_text_and_comments_between_names(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text(
        "-- header comment\n\n-- name: first\n-- what it does\nselect 1;\n\n"
        "-- name: second\nselect 2;\n"
    )
    assert dict(load_queries(tmp_path)) == {
        "first": "-- what it does\nselect 1;",
        "second": "select 2;",
    }
