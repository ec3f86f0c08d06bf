"""One thread per file: calls in order, never two at once, clean-up after the interrupted write."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from bufdir_export.report.file_thread import FileThread, PartialFile


async def test_calls_run_in_one_thread_in_the_order_they_were_made() -> None:
    seen: list[tuple[int, int]] = []

    def record(n: int) -> int:
        seen.append((n, threading.get_ident()))
        return n * n

    async with FileThread("t") as thread:
        futures = [thread.submit(record, n) for n in range(50)]
        results = await asyncio.gather(*futures)

    assert results == [n * n for n in range(50)]
    assert [n for n, _ in seen] == list(range(50))
    [ident] = {ident for _, ident in seen}
    assert ident != threading.get_ident()


async def test_the_clean_up_after_a_cancellation_waits_for_the_interrupted_call() -> None:
    steps: list[str] = []
    entered, release = threading.Event(), threading.Event()

    def write() -> None:
        steps.append("write started")
        entered.set()
        release.wait()
        steps.append("write ended")

    def clean_up() -> str:
        steps.append("clean-up")
        return "clean"

    async with FileThread("t") as thread:
        writing = asyncio.create_task(thread.run(write))
        await asyncio.to_thread(entered.wait)
        writing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writing
        cleaning = asyncio.create_task(thread.run_to_end(clean_up))
        await asyncio.sleep(0.05)  # time enough for a second thread to start cleaning
        release.set()
        assert await cleaning == "clean"

    assert steps == ["write started", "write ended", "clean-up"]


async def test_the_clean_up_runs_even_when_its_caller_is_cancelled() -> None:
    done = threading.Event()
    release = threading.Event()

    async with FileThread("t") as thread:
        blocker = thread.submit(release.wait)
        cleaning = asyncio.create_task(thread.run_to_end(done.set))
        await asyncio.sleep(0)
        cleaning.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cleaning
        release.set()
        await blocker

    assert await asyncio.to_thread(done.wait, 10)


async def test_a_call_cancelled_before_it_started_never_runs() -> None:
    ran: list[str] = []
    release = threading.Event()

    async with FileThread("t") as thread:
        blocker = thread.submit(release.wait)
        dropped = thread.submit(ran.append, "dropped")
        dropped.cancel()
        await asyncio.sleep(0)  # the loop passes the cancellation on to the executor
        release.set()
        await blocker
        await thread.run(ran.append, "after")

    assert ran == ["after"]


def test_a_partial_file_is_renamed_once_complete_and_removed_either_way(tmp_path: Path) -> None:
    unfinished = PartialFile(tmp_path / ".a.partial", tmp_path / "a.xlsx")
    unfinished.partial.write_bytes(b"half")
    unfinished.remove()
    finished = PartialFile(tmp_path / ".b.partial", tmp_path / "b.xlsx")
    finished.partial.write_bytes(b"whole")
    finished.complete()

    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.xlsx"]
    assert finished.target.read_bytes() == b"whole"
    finished.remove()  # a step after it failed: the finished file goes too
    assert list(tmp_path.iterdir()) == []
