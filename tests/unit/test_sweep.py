"""The sweep's rule, and a sweep over a fake store: only orphans go, running exports are left."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from bufdir_export._models import ExportStatus
from bufdir_export._paths import export_file_path
from bufdir_export.core.ports import GeneratedFile, SignedUrl
from bufdir_export.core.sweep import StoredExport, Sweeper, is_orphan

ORG = uuid.uuid4()
NAME = "bufdir-rapport-2025.xlsx"


def path_of(export: uuid.UUID, name: str = NAME) -> str:
    return (
        export_file_path(ORG, export, name)
        if not name.startswith(".")
        else (f"{ORG}/{export}/{name}")
    )


@pytest.mark.parametrize(
    ("status", "names_it", "orphan"),
    [
        (ExportStatus.INITIALISED, False, False),  # re-queued: may store it again
        (ExportStatus.STORING_FILE, False, False),  # storing it right now
        (ExportStatus.GENERATING_FILE, False, False),
        (ExportStatus.COMPLETED, True, False),  # the report itself
        (ExportStatus.COMPLETED, False, True),  # an earlier claim's other file
        (ExportStatus.COMPLETED_EMPTY, False, True),
        (ExportStatus.FAILED, False, True),
        (ExportStatus.CANCELLED, False, True),
    ],
)
def test_only_an_object_no_unfinished_or_completed_export_needs_is_an_orphan(
    status: ExportStatus, names_it: bool, orphan: bool
) -> None:
    path = path_of(uuid.uuid4())
    export = StoredExport(status, path if names_it else None)
    assert is_orphan(path, export) is orphan


def test_an_object_of_an_export_that_does_not_exist_is_an_orphan() -> None:
    assert is_orphan(path_of(uuid.uuid4()), None)


@dataclass
class Store:
    """Storage as the sweep uses it: listing and removing, every call recorded."""

    objects: set[str]
    deletes: list[list[str]] = field(default_factory=list)

    async def upload(self, path: str, file: GeneratedFile) -> None:
        raise AssertionError("the sweep never uploads")

    async def sign(self, path: str, ttl: object) -> SignedUrl:
        raise AssertionError("the sweep never signs")

    async def delete(self, paths: Sequence[str]) -> None:
        self.deletes.append(list(paths))
        self.objects.difference_update(paths)

    async def export_paths(self) -> AsyncIterator[str]:
        for path in sorted(self.objects):
            yield path


@dataclass
class Ledger:
    exports: dict[uuid.UUID, StoredExport]
    asked: list[list[uuid.UUID]] = field(default_factory=list)

    async def stored_exports(
        self, export_ids: Sequence[uuid.UUID]
    ) -> Mapping[uuid.UUID, StoredExport]:
        self.asked.append(list(export_ids))
        return {i: self.exports[i] for i in export_ids if i in self.exports}


def world() -> tuple[Store, Ledger, dict[str, str]]:
    done, running, failed, gone = (uuid.uuid4() for _ in range(4))
    paths = {
        "report": path_of(done),
        "stale": path_of(done, "bufdir-rapport-2025.csv"),
        "running": path_of(running),
        "half-written": path_of(running, ".bufdir-rapport-2025.xlsx.partial"),
        "failed": path_of(failed),
        "failed-partial": path_of(failed, ".bufdir-rapport-2025.xlsx.partial"),
        "gone": path_of(gone),
        "foreign": "readme.txt",
    }
    ledger = Ledger(
        {
            done: StoredExport(ExportStatus.COMPLETED, paths["report"]),
            running: StoredExport(ExportStatus.STORING_FILE, None),
            failed: StoredExport(ExportStatus.FAILED, None),
        }
    )
    return Store(set(paths.values())), ledger, paths


@pytest.mark.parametrize("batch", [1, 3, 1000])
async def test_a_sweep_removes_the_orphans_and_nothing_else(batch: int) -> None:
    store, ledger, paths = world()

    report = await Sweeper(store, ledger, batch=batch).sweep()

    orphans = {paths[k] for k in ("stale", "failed", "failed-partial", "gone")}
    assert set(report.removed) == orphans
    assert report.kept == 3
    assert report.foreign == ("readme.txt",)
    assert store.objects == {paths[k] for k in ("report", "running", "half-written", "foreign")}
    assert all(len(asked) <= batch for asked in ledger.asked)


async def test_a_dry_run_lists_the_orphans_and_removes_none() -> None:
    store, ledger, _ = world()
    before = set(store.objects)

    report = await Sweeper(store, ledger).sweep(dry_run=True)

    assert len(report.removed) == 4
    assert store.objects == before
    assert store.deletes == []


async def test_a_store_with_no_orphan_is_asked_to_remove_nothing() -> None:
    export = uuid.uuid4()
    store = Store({path_of(export)})
    ledger = Ledger({export: StoredExport(ExportStatus.COMPLETED, path_of(export))})

    report = await Sweeper(store, ledger).sweep()

    assert report.removed == ()
    assert store.deletes == []
