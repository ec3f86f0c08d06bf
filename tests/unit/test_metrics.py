"""The runner's metrics as an observer: what each event counts, read back from
the text format by prometheus-client's own parser."""

from __future__ import annotations

import math
from datetime import timedelta

from bufdir_export._errors import DatabaseUnavailable
from bufdir_export._models import ErrorCode, ExportFailure, ExportStatus, ExportSuccess
from bufdir_export.observability.metrics import Metrics
from tests.support import export_record, metric_samples


async def test_each_event_counts_where_an_operator_looks_for_it() -> None:
    metrics = Metrics("r-1")
    export = export_record(status=ExportStatus.QUERYING_ACTIVITIES)
    claimed = export.model_copy(update={"updated_at": export.created_at + timedelta(seconds=3)})

    metrics.claimed(claimed)
    metrics.claimed(export)
    metrics.step_took(ExportStatus.GENERATING_FILE, 0.2)
    metrics.retried("DatabaseUnavailable")
    metrics.retried("DatabaseUnavailable")
    metrics.lease_lost()
    metrics.deferred()
    metrics.ended(export, ExportFailure(export.id, ExportStatus.FAILED, ErrorCode.QUERY_ERROR, "x"))
    samples = metric_samples(await metrics.exposition())

    def value(name: str, **labels: str) -> float:
        return samples[(name, frozenset(labels.items()))]

    assert value("bufdir_export_exports_in_progress") == 1  # two claimed, one ended
    assert value("bufdir_export_claim_latency_seconds_count") == 2
    assert value("bufdir_export_claim_latency_seconds_sum") == 3
    assert value("bufdir_export_claim_latency_seconds_bucket", le="5.0") == 2
    assert value("bufdir_export_claim_latency_seconds_bucket", le="1.0") == 1
    assert value("bufdir_export_step_duration_seconds_count", step="generating_file") == 1
    assert value("bufdir_export_retries_total", fault="DatabaseUnavailable") == 2
    assert value("bufdir_export_lease_losses_total") == 1
    assert value("bufdir_export_exports_deferred_total") == 1
    finished = "bufdir_export_exports_finished_total"
    assert value(finished, status="failed", error_code="query_error") == 1
    assert value("bufdir_export_runner_info", runner_id="r-1") == 1


async def test_an_end_by_status_a_lost_export_by_nothing() -> None:
    metrics = Metrics("r-1")
    export = export_record()
    for _ in range(3):
        metrics.claimed(export)
    metrics.ended(
        export, ExportSuccess(export.id, ExportStatus.COMPLETED_EMPTY, 0, None, None, None, None)
    )
    metrics.ended(export, ExportFailure(export.id, ExportStatus.CANCELLED, None, None))
    metrics.ended(export, None)  # claimed again by another runner
    samples = metric_samples(await metrics.exposition())

    finished = {
        dict(labels)["status"]: value
        for (name, labels), value in samples.items()
        if name == "bufdir_export_exports_finished_total"
    }
    assert finished == {"completed_empty": 1, "cancelled": 1}
    assert samples[("bufdir_export_exports_in_progress", frozenset())] == 0


async def test_the_queue_is_read_at_each_scrape_and_nan_when_it_cannot_be() -> None:
    answers: list[tuple[int, float] | Exception] = [(4, 310.5), DatabaseUnavailable("down")]

    async def queue() -> tuple[int, float]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    metrics = Metrics("r-1", queue=queue)
    first = metric_samples(await metrics.exposition())
    second = metric_samples(await metrics.exposition())

    assert first[("bufdir_export_exports_waiting", frozenset())] == 4
    assert first[("bufdir_export_oldest_waiting_seconds", frozenset())] == 310.5
    assert math.isnan(second[("bufdir_export_exports_waiting", frozenset())])
    assert math.isnan(second[("bufdir_export_oldest_waiting_seconds", frozenset())])
