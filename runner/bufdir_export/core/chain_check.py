"""The audit chain's rules, checked from the stored rows alone.

The database chains every event of an organisation to the one before it
(``bufdir_private.audit_event_hash``) and pins an export's request and
result in its events (``bufdir_private.audit_event_pins``). This module
recomputes each hash on its own, from the columns as stored, so a verifier
needs none of the database's functions: someone who changed the rows with
the triggers switched off cannot hide it by changing those functions too.

What one organisation's chain must satisfy, checked in this order:

1. each event's hash is the hash of its content and of its ``prev_hash``;
2. each ``prev_hash`` is the hash of the event it follows: an export's first
   event (its request) follows the organisation's previous request (the
   first: none), and every later event the export's previous one;
3. the organisation's head names its newest request and that event's hash;
4. every export has events: the first is its request (nothing -> initialised),
   the last names its status, and the columns they pin still hold the pinned
   values; every event belongs to one of the organisation's exports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["ChainBreak", "ChainEvent", "ChainExport", "ChainHead", "check_chain", "event_hash"]

_VERSION = "bufdir-export audit event v1"
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
class ChainHead:
    event_id: int | None
    hash: str | None


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """Where the chain breaks first: the export and event, and why."""

    reason: str
    export_id: str | None = None
    event_id: int | None = None


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


def check_chain(
    events: Iterable[ChainEvent], head: ChainHead | None, exports: Sequence[ChainExport]
) -> tuple[ChainBreak | None, int]:
    """The first break of one organisation's chain (None when it holds), and
    how many events were walked to find it. ``events`` in id order."""
    by_export: dict[str, list[ChainEvent]] = {}
    last_request: ChainEvent | None = None
    count = 0
    for event in events:
        count += 1
        if event.hash != event_hash(event.prev_hash, event):
            return _at(event, _CHANGED), count
        branch = by_export.setdefault(event.export_id, [])
        # An export's first event follows the organisation's previous request;
        # every later one the export's previous event.
        before = branch[-1] if branch else last_request
        if event.prev_hash != (before.hash if before is not None else None):
            return _at(event, _not_following(before, first=not branch)), count
        if not branch:
            last_request = event
        branch.append(event)

    broken = _check_head(head, last_request) or _check_exports(exports, by_export)
    return broken, count


_CHANGED = (
    "its content does not match its hash: it was changed, or written without the audit trigger"
)


def _not_following(before: ChainEvent | None, *, first: bool) -> str:
    if before is None:
        return "it names an event before it, but the organisation has none: events were deleted"
    which = "the organisation's previous request" if first else "the export's previous event"
    return (
        f"it does not follow event {before.id} ({which}): an event between them was deleted,"
        " or this one was inserted or changed"
    )


def _at(event: ChainEvent, why: str) -> ChainBreak:
    return ChainBreak(f"event {event.id}: {why}", export_id=event.export_id, event_id=event.id)


def _check_head(head: ChainHead | None, last: ChainEvent | None) -> ChainBreak | None:
    """The head names the organisation's newest request."""
    if last is None:
        if head is not None and head.event_id is not None:
            return ChainBreak(
                f"the chain's head names event {head.event_id}, but the organisation has no"
                " events: they were deleted",
                event_id=head.event_id,
            )
        return None
    if head is None or (head.event_id, head.hash) != (last.id, last.hash):
        named = "nothing" if head is None else f"event {head.event_id}"
        return _at(
            last,
            f"the newest request, but the chain's head names {named}: newer exports were"
            " deleted, or the head was changed",
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
