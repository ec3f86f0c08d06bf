"""Where an export's file is stored: built from UUIDs and a fixed file name only."""

from __future__ import annotations

import re
from uuid import UUID

__all__ = ["export_file_path"]

_FILE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\.(xlsx|csv|zip)$")


def export_file_path(organisation_id: UUID, export_id: UUID, file_name: str) -> str:
    """``<organisation_id>/<export_id>/<file name>``; refuses any other kind of name."""
    if not _FILE_NAME.fullmatch(file_name):
        raise ValueError(f"not a report file name: {file_name!r}")
    return f"{UUID(str(organisation_id))}/{UUID(str(export_id))}/{file_name}"
