"""The runner's log lines: JSON objects with the fields of what they are
about, text lines as before; an exception by its kind, never its text or a trace."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from bufdir_export._settings import LogFormat
from bufdir_export.core.log_context import log_about, log_fields, logging_about
from bufdir_export.observability.logs import configure_logging


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """A stream to log to; the root logger as it was afterwards."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield io.StringIO()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in before:
        root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_a_json_line_carries_the_export_claim_and_step_it_is_about(
    stream: io.StringIO,
) -> None:
    configure_logging(LogFormat.JSON, runner_id="r-7", stream=stream)
    log = logging.getLogger("bufdir_export.test")

    log.info("before")
    with logging_about(export_id="e-1", claim=2):
        log_about(step="querying_activities")
        log.warning("claimed %s", "e-1")
        log_about(step="generating_file")
        log.info("writing")
    log.info("after")

    lines = [json.loads(line) for line in _lines(stream)]
    assert [line["message"] for line in lines] == ["before", "claimed e-1", "writing", "after"]
    assert all(line["runner"] == "r-7" and line["logger"] == "bufdir_export.test" for line in lines)
    assert [line["level"] for line in lines] == ["info", "warning", "info", "info"]
    assert [line.get("step") for line in lines] == [
        None,
        "querying_activities",
        "generating_file",
        None,
    ]
    assert {(line.get("export_id"), line.get("claim")) for line in lines[1:3]} == {("e-1", 2)}
    assert "export_id" not in lines[0]
    assert "export_id" not in lines[3]
    assert lines[0]["time"].endswith("+00:00")


def test_an_exception_is_its_kind_never_its_text_or_a_trace(
    stream: io.StringIO,
) -> None:
    log = logging.getLogger("bufdir_export.test")
    for log_format in (LogFormat.JSON, LogFormat.TEXT):
        configure_logging(log_format, runner_id="r", stream=stream)
        try:
            raise ValueError("the cause")
        except ValueError:
            log.exception("it failed")

    json_line, text_line, text_error = _lines(stream)
    assert json.loads(json_line)["error"] == "ValueError"
    assert text_line.endswith(" ERROR bufdir_export.test: it failed")
    assert text_error == "ValueError"
    assert "Traceback" not in stream.getvalue()
    assert "the cause" not in stream.getvalue()


async def test_each_task_logs_about_its_own_export() -> None:
    seen: dict[str, object] = {}

    async def worker(name: str) -> None:
        with logging_about(export_id=name):
            await asyncio.sleep(0)
            seen[name] = log_fields()["export_id"]

    await asyncio.gather(worker("a"), worker("b"))
    assert seen == {"a": "a", "b": "b"}
    assert dict(log_fields()) == {}
