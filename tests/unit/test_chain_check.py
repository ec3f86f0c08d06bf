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
    ChainRecord,
    check_chain,
    event_hash,
    record_hash,
)

ORG = "00000000-0000-4000-a000-000000000001"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REQUEST = {"format": "xlsx", "organisation_id": ORG, "period_start": "2025-01-01"}
RESULT = {"row_count": 3, "file_sha256": "ab" * 32, "file_path": "o/e1/r.xlsx"}


@dataclasses.dataclass(frozen=True)
class Rec:
    """A record to write at this point of the spine: its table, export and row."""

    kind: str
    export_id: str | None
    content: dict[str, Any]


Chain = tuple[list[ChainEvent], ChainHead, list[ChainExport], list[ChainRecord]]


def _spine(steps: list[tuple[str, list[str]] | Rec]) -> Chain:
    """Exports (id, statuses after initialised), requested in order, each walked
    at once, and records between them, linked as the database links them."""
    events: list[ChainEvent] = []
    exports = []
    records: list[ChainRecord] = []
    spine: ChainEvent | ChainRecord | None = None
    for step in steps:
        position = len(events) + len(records) + 1
        if isinstance(step, Rec):
            record = ChainRecord(
                kind=step.kind,
                chain_id=position,
                organisation_id=ORG,
                export_id=step.export_id,
                content_text=json.dumps(step.content, separators=(", ", ": ")),
                prev_hash=None if spine is None else spine.hash,
                hash=None,
            )
            spine = dataclasses.replace(record, hash=record_hash(record.prev_hash, record))
            records.append(spine)
            continue
        export_id, statuses = step
        before = spine
        previous_status = None
        for status in ["initialised", *statuses]:
            pins: dict[str, Any] = {}
            if previous_status is None:
                pins = REQUEST
            elif status == "completed":
                pins = RESULT
            detail = json.dumps({"row": pins} if pins else {}, separators=(", ", ": "))
            event = ChainEvent(
                id=len(events) + len(records) + 1,
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
                spine = event
            events.append(event)
            before, previous_status = event, status
        exports.append(
            ChainExport(export_id, previous_status or "initialised", {**REQUEST, **RESULT})
        )
    assert spine is not None
    head_id = spine.chain_id if isinstance(spine, ChainRecord) else spine.id
    return events, ChainHead(head_id, spine.hash), exports, records


def _chain(
    walks: list[tuple[str, list[str]]],
) -> tuple[list[ChainEvent], ChainHead, list[ChainExport]]:
    events, head, exports, _ = _spine(list(walks))
    return events, head, exports


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
    assert "head names link 4" in broken.reason
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


DELETION = "bufdir_export_file_deletions"
VERSION_USED = "bufdir_export_config_versions"
ACTIVATION = "bufdir_column_config_activations"
WITH_RECORDS: list[tuple[str, list[str]] | Rec] = [
    Rec(ACTIVATION, None, {"id": 1, "version": 1, "actor": "role:postgres"}),
    ("e1", ["querying_activities", "completed"]),
    Rec(VERSION_USED, "e1", {"claim": 1, "version": 1, "export_id": "e1"}),
    Rec(DELETION, "e1", {"export_id": "e1", "file_path": "o/e1/r.xlsx", "actor": "runner:r"}),
    ("e2", ["querying_activities"]),
    Rec(ACTIVATION, None, {"id": 2, "version": 2, "actor": "role:postgres"}),
]


def test_records_between_the_requests_hold_as_links_of_the_spine() -> None:
    events, head, exports, records = _spine(WITH_RECORDS)
    assert head.event_id == records[-1].chain_id
    assert check_chain(events, head, exports, records) == (None, 5)
    # Without its records the chain is not whole: the first request follows one.
    broken, _ = check_chain(events, head, exports)
    assert broken is not None
    assert broken.event_id == events[0].id


def test_a_record_hash_covers_every_field_and_the_hash_before() -> None:
    record = _spine(WITH_RECORDS)[3][2]
    for change in (
        {"content_text": record.content_text.replace("r.xlsx", "s.xlsx")},
        {"chain_id": 99},
        {"organisation_id": "other"},
        {"kind": ACTIVATION},
        {"prev_hash": "00" * 32},
    ):
        changed = dataclasses.replace(record, **change)
        assert record_hash(changed.prev_hash, changed) != record.hash, change


def test_each_change_to_a_record_is_named_where_it_is() -> None:
    events, head, exports, records = _spine(WITH_RECORDS)
    activation, used, deleted, newest = records
    # A rewritten deletion: its own hash.
    rewritten = dataclasses.replace(
        deleted, content_text=deleted.content_text.replace("runner:r", "runner:x")
    )
    broken, _ = check_chain(events, head, exports, [activation, used, rewritten, newest])
    assert broken is not None
    assert (broken.link_id, broken.export_id, broken.event_id) == (deleted.chain_id, "e1", None)
    assert broken.reason.startswith(f"the file deletion of export e1 (link {deleted.chain_id})")
    assert "does not match its hash" in broken.reason
    # A deleted record in the middle: the record after it no longer follows.
    broken, _ = check_chain(events, head, exports, [activation, deleted, newest])
    assert broken is not None
    assert broken.link_id == deleted.chain_id
    assert "does not follow event 2 (the organisation's previous request)" in broken.reason
    # The first record deleted: the first request names a link that is gone.
    broken, _ = check_chain(events, head, exports, [used, deleted, newest])
    assert broken is not None
    assert broken.event_id == 2
    assert "the organisation has none" in broken.reason
    # The newest record deleted: the head names it still.
    broken, _ = check_chain(events, head, exports, [activation, used, deleted])
    assert broken is not None
    assert f"head names link {newest.chain_id}" in broken.reason
    # A record written with the triggers off, without a place in the chain.
    forged = dataclasses.replace(used, chain_id=None, hash=None, prev_hash=None)
    broken, _ = check_chain(events, head, exports, [*records, forged])
    assert broken is not None
    assert "it has no place in the chain" in broken.reason


def _deletion(statuses: list[str], path: str) -> Chain:
    """Export e1 walked through ``statuses``, then its file ``path`` deleted."""
    return _spine([("e1", statuses), Rec(DELETION, "e1", {"export_id": "e1", "file_path": path})])


def test_a_file_deletion_names_a_completed_export_after_it_completed() -> None:
    # A deletion of a file the export does not hold.
    broken, _ = check_chain(*_deletion(["querying_activities", "completed"], "o/e1/other.xlsx"))
    assert broken is not None
    assert 'it names "o/e1/other.xlsx", which no completed export holds' in broken.reason
    # Of an export that did not complete.
    broken, _ = check_chain(*_deletion(["querying_activities", "failed"], "o/e1/r.xlsx"))
    assert broken is not None
    assert "which no completed export holds" in broken.reason
    # Linked before the export completed: its completion is a later event.
    events, head, exports, records = _deletion([], "o/e1/r.xlsx")
    request = events[0]
    completion = dataclasses.replace(
        request, id=9, from_status="initialised", to_status="completed",
        detail_text=json.dumps({"row": RESULT}, separators=(", ", ": ")),
        prev_hash=request.hash,
    )  # fmt: skip
    completion = dataclasses.replace(completion, hash=event_hash(request.hash, completion))
    completed = [dataclasses.replace(exports[0], status="completed")]
    broken, _ = check_chain([request, completion], head, completed, records)
    assert broken is not None
    assert "it comes before event 9, which completed the export" in broken.reason
