"""The audit chain's rules, on chains built in memory the way the database builds them."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bufdir_export.core.chain_check import (
    ChainEvent,
    ChainExport,
    ChainHead,
    check_chain,
    event_hash,
)

ORG = "00000000-0000-4000-a000-000000000001"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REQUEST = {"format": "xlsx", "organisation_id": ORG, "period_start": "2025-01-01"}
RESULT = {"row_count": 3, "file_sha256": "ab" * 32}


def _chain(
    walks: list[tuple[str, list[str]]],
) -> tuple[list[ChainEvent], ChainHead, list[ChainExport]]:
    """Exports (id, statuses after initialised), requested in order, each walked at once."""
    events: list[ChainEvent] = []
    exports = []
    last_request: ChainEvent | None = None
    for export_id, statuses in walks:
        before: ChainEvent | None = last_request
        previous_status = None
        for status in ["initialised", *statuses]:
            pins: dict[str, Any] = {}
            if previous_status is None:
                pins = REQUEST
            elif status == "completed":
                pins = RESULT
            detail = json.dumps({"row": pins} if pins else {}, separators=(", ", ": "))
            event = ChainEvent(
                id=len(events) + 1,
                organisation_id=ORG,
                export_id=export_id,
                from_status=previous_status,
                to_status=status,
                occurred_at=T0 + timedelta(seconds=len(events)),
                actor="runner:r",
                detail_text=detail,
                prev_hash=None if before is None else before.hash,
                hash=None,
            )
            event = dataclasses.replace(event, hash=event_hash(event.prev_hash, event))
            if previous_status is None:
                last_request = event
            events.append(event)
            before, previous_status = event, status
        exports.append(
            ChainExport(export_id, previous_status or "initialised", {**REQUEST, **RESULT})
        )
    assert last_request is not None
    return events, ChainHead(last_request.id, last_request.hash), exports


WALKS = [("e1", ["querying_activities", "completed"]), ("e2", ["querying_activities"])]


def test_a_chain_built_as_the_database_builds_it_holds() -> None:
    events, head, exports = _chain(WALKS)
    assert check_chain(events, head, exports) == (None, 5)


def test_the_hash_covers_every_field_and_the_hash_before() -> None:
    event = _chain(WALKS)[0][1]
    for change in (
        {"actor": "runner:x"},
        {"detail_text": '{"db_role": "postgres"}'},
        {"to_status": "failed"},
        {"occurred_at": event.occurred_at + timedelta(microseconds=1)},
        {"prev_hash": "00" * 32},
        {"export_id": "e9"},
    ):
        changed = dataclasses.replace(event, **change)
        assert event_hash(changed.prev_hash, changed) != event.hash, change


def test_each_kind_of_change_is_named_where_it_is() -> None:
    events, head, exports = _chain(WALKS)
    # A rewritten event: its own hash.
    broken, _ = check_chain(
        [events[0], dataclasses.replace(events[1], actor="x"), *events[2:]], head, exports
    )
    assert broken is not None
    assert (broken.event_id, broken.export_id) == (2, "e1")
    assert "does not match its hash" in broken.reason
    # A deleted event: the next one of the export.
    broken, _ = check_chain([events[0], *events[2:]], head, exports)
    assert broken is not None
    assert broken.event_id == 3
    assert "the export's previous event" in broken.reason
    # The first export deleted: the next request names an event that is gone.
    broken, _ = check_chain(events[3:], head, exports[1:])
    assert broken is not None
    assert broken.event_id == 4
    assert "the organisation has none" in broken.reason
    # The newest export deleted: the head names what is gone.
    broken, _ = check_chain(events[:3], head, exports[:1])
    assert broken is not None
    assert "head names event 4" in broken.reason
    # A pinned column changed.
    rewritten = [
        dataclasses.replace(exports[0], row={**REQUEST, **RESULT, "row_count": 4}),
        exports[1],
    ]
    broken, _ = check_chain(events, head, rewritten)
    assert broken is not None
    assert (broken.event_id, broken.export_id) == (3, "e1")
    assert "row_count is 4" in broken.reason
    # A status that no event reached.
    moved = [exports[0], dataclasses.replace(exports[1], status="completed")]
    broken, _ = check_chain(events, head, moved)
    assert broken is not None
    assert "ends in querying_activities" in broken.reason
    # An export without events.
    broken, _ = check_chain(events, head, [*exports, ChainExport("e3", "initialised", REQUEST)])
    assert broken is not None
    assert broken.reason.startswith("export e3 has no events")
