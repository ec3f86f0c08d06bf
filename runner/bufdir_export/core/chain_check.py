"""The audit chain's rules, checked from the stored rows alone.

The database chains every event of an organisation to the one before it
(``bufdir_private.audit_event_hash``), and every record beside its exports
(a file deleted, a configuration version used, a version activated:
``bufdir_private.audit_record_hash``) too, and pins an export's request and
result in its events (``bufdir_private.audit_event_pins``). This module
recomputes each hash on its own, from the columns as stored, so a verifier
needs none of the database's functions: someone who changed the rows with
the triggers switched off cannot hide it by changing those functions too.

An organisation's spine is the line of its requests (each export's first
event) and its records, ordered by id (a record's ``chain_id`` comes from the
events' sequence). What one organisation's chain must satisfy, checked in
this order:

1. each event's and record's hash is the hash of its content and of its
   ``prev_hash``;
2. each ``prev_hash`` is the hash of the link it follows: a request or a
   record follows the spine's previous link (the first: none), and every
   later event of an export the export's previous one;
3. the organisation's head names the spine's newest link and its hash;
4. every export has events: the first is its request (nothing -> initialised),
   the last names its status, and the columns they pin still hold the pinned
   values; every event belongs to one of the organisation's exports;
5. every record has its place in the spine, and a file deletion names a
   completed export's file and comes after the export completed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ChainBreak",
    "ChainEvent",
    "ChainExport",
    "ChainHead",
    "ChainRecord",
    "check_chain",
    "event_hash",
    "record_hash",
]

_VERSION = "bufdir-export audit event v1"
_RECORD_VERSION = "bufdir-export audit record v1"
_FILE_DELETIONS = "bufdir_export_file_deletions"
_CONFIG_VERSIONS = "bufdir_export_config_versions"
_TERMINAL = frozenset({"completed", "completed_empty", "failed", "cancelled"})


@dataclass(frozen=True, slots=True)
class ChainEvent:
    """One row of ``public.bufdir_export_audit_events``, as stored."""

    id: int
    organisation_id: str
    export_id: str
    from_status: str | None
    to_status: str
    occurred_at: datetime
    actor: str
    detail_text: str  # detail as the database writes jsonb as text
    prev_hash: str | None
    hash: str | None

    @property
    def pinned(self) -> Mapping[str, Any]:
        """The export's columns this event pins (``detail.row``)."""
        detail = json.loads(self.detail_text)
        row = detail.get("row") if isinstance(detail, dict) else None
        return row if isinstance(row, dict) else {}


@dataclass(frozen=True, slots=True)
class ChainExport:
    """One export of the organisation: its id, its status, and its row as JSON."""

    id: str
    status: str
    row: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ChainRecord:
    """One record beside the exports, as stored: a link of its organisation's spine."""

    kind: str  # its table
    chain_id: int | None
    organisation_id: str
    export_id: str | None
    content_text: str  # its row as JSON text, in UTC, without the chain's columns
    prev_hash: str | None
    hash: str | None

    @property
    def content(self) -> Mapping[str, Any]:
        content = json.loads(self.content_text)
        return content if isinstance(content, dict) else {}

    @property
    def name(self) -> str:
        """The record in words, with its place in the chain."""
        content = self.content
        if self.kind == _FILE_DELETIONS:
            what = f"the file deletion of export {self.export_id}"
        elif self.kind == _CONFIG_VERSIONS:
            what = (
                f"configuration version {content.get('version')} used by export"
                f" {self.export_id} (claim {content.get('claim')})"
            )
        else:
            what = f"the activation of configuration version {content.get('version')}"
        return f"{what} (link {self.chain_id})"


Link = ChainEvent | ChainRecord


@dataclass(frozen=True, slots=True)
class ChainHead:
    event_id: int | None
    hash: str | None


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """Where the chain breaks first: the export and event, and why."""

    reason: str
    export_id: str | None = None
    event_id: int | None = None
    # a record's chain_id, when the break is at a record
    link_id: int | None = None


def event_hash(prev_hash: str | None, event: ChainEvent) -> str:
    """The hash the database gives ``event`` after ``prev_hash``."""
    occurred = event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = "\n".join(
        [
            _VERSION,
            prev_hash or "",
            str(event.id),
            event.organisation_id,
            event.export_id,
            event.from_status or "",
            event.to_status,
            occurred,
            event.actor,
            event.detail_text,
        ]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_hash(prev_hash: str | None, record: ChainRecord) -> str:
    """The hash the database gives ``record`` after ``prev_hash``."""
    text = "\n".join(
        [
            _RECORD_VERSION,
            prev_hash or "",
            str(record.chain_id),
            record.organisation_id,
            record.kind,
            record.content_text,
        ]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_chain(
    events: Iterable[ChainEvent],
    head: ChainHead | None,
    exports: Sequence[ChainExport],
    records: Sequence[ChainRecord] = (),
) -> tuple[ChainBreak | None, int]:
    """The first break of one organisation's chain (None when it holds), and
    how many events were walked to find it. ``events`` in id order."""
    by_export: dict[str, list[ChainEvent]] = {}
    placed = sorted(
        (record for record in records if record.chain_id is not None),
        key=lambda record: record.chain_id or 0,
    )
    pending = iter(placed)
    record = next(pending, None)
    spine: Link | None = None  # the spine's newest link so far
    count = 0
    for event in events:
        # The records placed before this event, in their order.
        while record is not None and (record.chain_id or 0) < event.id:
            if (broken := _check_link(record, spine)) is not None:
                return broken, count
            spine, record = record, next(pending, None)
        count += 1
        if event.hash != event_hash(event.prev_hash, event):
            return _at(event, _CHANGED), count
        branch = by_export.setdefault(event.export_id, [])
        # An export's first event follows the spine's previous link; every
        # later one the export's previous event.
        before = branch[-1] if branch else spine
        if event.prev_hash != (before.hash if before is not None else None):
            return _at(event, _not_following(before, first=not branch)), count
        if not branch:
            spine = event
        branch.append(event)
    while record is not None:
        if (broken := _check_link(record, spine)) is not None:
            return broken, count
        spine, record = record, next(pending, None)

    broken = (
        _check_head(head, spine)
        or _check_exports(exports, by_export)
        or _check_records(records, exports, by_export)
    )
    return broken, count


_CHANGED = (
    "its content does not match its hash: it was changed, or written without the audit trigger"
)


def _not_following(before: Link | None, *, first: bool) -> str:
    if before is None:
        return (
            "it names a link before it, but the organisation has none: events or records"
            " were deleted"
        )
    if isinstance(before, ChainRecord):
        which = f"{before.name}, the organisation's previous record"
    else:
        kind = "the organisation's previous request" if first else "the export's previous event"
        which = f"event {before.id} ({kind})"
    return (
        f"it does not follow {which}: what was between them was deleted,"
        " or this one was inserted or changed"
    )


def _at(link: Link, why: str) -> ChainBreak:
    if isinstance(link, ChainRecord):
        return ChainBreak(f"{link.name}: {why}", export_id=link.export_id, link_id=link.chain_id)
    return ChainBreak(f"event {link.id}: {why}", export_id=link.export_id, event_id=link.id)


def _link_id(link: Link) -> int | None:
    return link.chain_id if isinstance(link, ChainRecord) else link.id


def _check_link(record: ChainRecord, before: Link | None) -> ChainBreak | None:
    """A record of the spine: its own hash, and the link it follows."""
    if record.hash != record_hash(record.prev_hash, record):
        return _at(record, _CHANGED)
    if record.prev_hash != (before.hash if before is not None else None):
        return _at(record, _not_following(before, first=True))
    return None


def _check_head(head: ChainHead | None, last: Link | None) -> ChainBreak | None:
    """The head names the spine's newest link."""
    if last is None:
        if head is not None and head.event_id is not None:
            return ChainBreak(
                f"the chain's head names link {head.event_id}, but the organisation has no"
                " events or records: they were deleted",
                event_id=head.event_id,
            )
        return None
    if head is None or (head.event_id, head.hash) != (_link_id(last), last.hash):
        named = "nothing" if head is None else f"link {head.event_id}"
        return _at(
            last,
            f"the spine's newest link, but the chain's head names {named}: newer exports or"
            " records were deleted, or the head was changed",
        )
    return None


def _check_exports(
    exports: Sequence[ChainExport], by_export: Mapping[str, list[ChainEvent]]
) -> ChainBreak | None:
    known = {export.id for export in exports}
    strays = [events[0] for export_id, events in by_export.items() if export_id not in known]
    if strays:
        stray = min(strays, key=lambda event: event.id)
        return _at(
            stray,
            f"its export {stray.export_id} is not among the organisation's"
            " exports: the export was deleted, or moved",
        )
    for export in sorted(exports, key=lambda e: by_export[e.id][0].id if e.id in by_export else 0):
        broken = _check_export(export, by_export.get(export.id, []))
        if broken is not None:
            return broken
    return None


def _check_export(export: ChainExport, events: Sequence[ChainEvent]) -> ChainBreak | None:
    if not events:
        return ChainBreak(
            f"export {export.id} has no events: it was written without the audit trigger",
            export_id=export.id,
        )
    first, last = events[0], events[-1]
    if first.from_status is not None or first.to_status != "initialised":
        return _at(
            first,
            f"export {export.id} does not begin with its request: its first events were deleted",
        )
    if last.to_status != export.status:
        return _at(
            last,
            f"export {export.id} is {export.status}, but its last event ends in"
            f" {last.to_status}: its status was changed, or its last events deleted",
        )
    pinning = [first, last] if export.status in _TERMINAL else [first]
    for event in pinning:
        for column, value in event.pinned.items():
            if export.row.get(column) != value:
                return _at(
                    event,
                    f"export {export.id}: {column} is"
                    f" {json.dumps(export.row.get(column))}, but this event pinned"
                    f" {json.dumps(value)}: the column was changed",
                )
    return None


def _check_records(
    records: Sequence[ChainRecord],
    exports: Sequence[ChainExport],
    by_export: Mapping[str, list[ChainEvent]],
) -> ChainBreak | None:
    for record in records:
        if record.chain_id is None or record.hash is None:
            return _at(record, "it has no place in the chain: it was written without its trigger")
    status = {export.id: export for export in exports}
    for record in records:
        if record.kind != _FILE_DELETIONS or record.export_id is None:
            continue
        export = status.get(record.export_id)
        events = by_export.get(record.export_id, [])
        path = record.content.get("file_path")
        if export is None or export.status != "completed" or export.row.get("file_path") != path:
            return _at(record, f"it names {json.dumps(path)}, which no completed export holds")
        if events and (record.chain_id or 0) < events[-1].id:
            return _at(record, f"it comes before event {events[-1].id}, which completed the export")
    return None
