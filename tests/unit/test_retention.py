"""The purger with fakes: what it deletes, what it records, and in which order."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from bufdir_export._errors import StorageUnavailable
from bufdir_export.core.retention import Purger
from tests.unit.test_sweep import Store


@dataclass
class Trail:
    """The audit trail as the purge reads and writes it."""

    expired: list[tuple[uuid.UUID, str]]
    recorded: list[uuid.UUID] = field(default_factory=list)
    asked: list[tuple[timedelta, int]] = field(default_factory=list)

    async def expired_files(
        self, retention: timedelta, limit: int
    ) -> Sequence[tuple[uuid.UUID, str]]:
        self.asked.append((retention, limit))
        return [item for item in self.expired if item[0] not in self.recorded][:limit]

    async def record_file_deleted(self, export_id: uuid.UUID) -> None:
        self.recorded.append(export_id)


def _files(n: int) -> list[tuple[uuid.UUID, str]]:
    ids = [uuid.uuid4() for _ in range(n)]
    return [(i, f"{uuid.uuid4()}/{i}/bufdir-rapport-2025.xlsx") for i in ids]


async def test_expired_files_are_deleted_then_recorded_in_batches() -> None:
    expired = _files(5)
    kept = f"{uuid.uuid4()}/{uuid.uuid4()}/bufdir-rapport-2025.xlsx"
    store = Store({path for _, path in expired} | {kept})
    trail = Trail(expired)

    report = await Purger(store, trail, timedelta(days=90), batch=2).purge()

    assert store.objects == {kept}
    assert [len(batch) for batch in store.deletes] == [2, 2, 1]
    assert trail.recorded == [export_id for export_id, _ in expired]
    assert report.deleted == expired
    assert set(trail.asked) == {(timedelta(days=90), 2)}


async def test_a_store_that_fails_records_nothing_it_did_not_delete() -> None:
    expired = _files(2)
    store = Store({path for _, path in expired})

    async def down(paths: Sequence[str]) -> None:
        raise StorageUnavailable("delete failed: timed out")

    store.delete = down  # type: ignore[method-assign]
    trail = Trail(expired)

    with pytest.raises(StorageUnavailable):
        await Purger(store, trail, timedelta(days=1)).purge()
    assert trail.recorded == []


def test_no_retention_is_not_a_purger() -> None:
    with pytest.raises(ValueError, match="0 keeps files"):
        Purger(Store(set()), Trail([]), timedelta(0))
