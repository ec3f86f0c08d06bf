"""supabase/seed.sql holds the shipped column configurations exactly as configs/*.json."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from bufdir_export._resources import seed_file
from bufdir_export.tools.seed import (
    DEMO_ORGANISATIONS,
    config_rows,
    seed_file_configs,
    shipped_config,
    write_config_rows,
)


def test_the_seed_file_holds_each_shipped_configuration_as_it_is() -> None:
    held = seed_file_configs(seed_file().read_text(encoding="utf-8"))

    assert held == config_rows(), (
        "supabase/seed.sql differs from configs/*.json: run python -m bufdir_export.tools.seed"
    )
    found = re.findall(r"\((\d), '([a-z]+)', \$config\$(.*?)\$config\$::jsonb\)", held, re.S)
    assert [(int(n), slug) for n, slug, _ in found] == list(enumerate(DEMO_ORGANISATIONS, start=1))
    for _, slug, text in found:
        assert json.loads(text) == shipped_config(slug)


def test_rewriting_the_rows_puts_a_changed_file_back_and_changes_nothing_twice(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "seed.sql"
    shutil.copyfile(seed_file(), copy)
    text = copy.read_text(encoding="utf-8")
    copy.write_text(text.replace('"schema_version": 1', '"schema_version": 7', 1), "utf-8")

    assert write_config_rows(copy) is True
    assert copy.read_text(encoding="utf-8") == text
    assert write_config_rows(copy) is False
