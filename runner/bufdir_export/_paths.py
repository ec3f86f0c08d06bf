"""Storage paths: an export's file, built from UUIDs and a fixed file name only,
and the shape an attachment's key must have before any store is asked for it."""

from __future__ import annotations

import re
from uuid import UUID

__all__ = ["export_file_path", "export_of_object", "is_attachment_path", "is_export_file_path"]

_FILE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\.(xlsx|csv|zip)$")
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_PATH = re.compile(rf"^{_UUID}/{_UUID}/[a-z0-9][a-z0-9-]{{0,63}}\.(xlsx|csv|zip)$")
# Anything stored in an export's folder: its file, or what an upload left of one.
_IN_EXPORT_FOLDER = re.compile(
    rf"^{_UUID}/(?P<export>{_UUID})/(?!\.{{1,2}}$)[^/\\\x00-\x1f]{{1,255}}$"
)


def export_file_path(organisation_id: UUID, export_id: UUID, file_name: str) -> str:
    """``<organisation_id>/<export_id>/<file name>``; refuses any other kind of name."""
    if not _FILE_NAME.fullmatch(file_name):
        raise ValueError(f"not a report file name: {file_name!r}")
    return f"{UUID(str(organisation_id))}/{UUID(str(export_id))}/{file_name}"


def is_export_file_path(path: str) -> bool:
    """Whether ``path`` has exactly the shape :func:`export_file_path` builds."""
    return _PATH.fullmatch(path) is not None


def export_of_object(path: str) -> UUID | None:
    """The export whose folder (``<organisation_id>/<export_id>/``) holds the object
    at ``path``, whatever its name; None for a path of any other shape."""
    match = _IN_EXPORT_FOLDER.fullmatch(path)
    return None if match is None else UUID(match["export"])


def is_attachment_path(path: str) -> bool:
    """A plain relative key: no empty, ``.`` or ``..`` segment, no backslash,
    control character or ``%`` (storage3 percent-decodes keys before sending,
    so such a key would not name the object stored under it). The database's
    check on ``activity_attachments.storage_path`` is stricter still."""
    if not path or path.startswith("/"):
        return False
    if any(char in "\\%" or ord(char) < 0x20 or ord(char) == 0x7F for char in path):
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))
