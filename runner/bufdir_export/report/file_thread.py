"""One thread for everything done to one file on disk.

The file steps write in a worker thread so the event loop stays free. A
cancelled ``await`` stops the waiting, not the thread: with the default
executor the clean-up that follows a cancellation (close, discard, remove)
could run in a second thread while the first is still writing, and two
threads in one xlsx workbook or zip archive corrupt its state.

Here every call for one file goes to the same single thread, so the calls run
in the order they were made, never two at once, and the clean-up always comes
after the write it interrupted.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

__all__ = ["FileThread", "PartialFile", "sha256_of"]

P = ParamSpec("P")
T = TypeVar("T")


class FileThread:
    """Calls in one thread, in order. Use as ``async with FileThread(name) as thread``."""

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def __aenter__(self) -> FileThread:
        return self

    async def __aexit__(self, *_: object) -> None:
        # Calls already made still run (the thread is joined at exit at the latest).
        self._executor.shutdown(wait=False)

    def submit(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> asyncio.Future[T]:
        """Queue ``call``. Cancelling the future drops the call unless the thread
        started it before the event loop passed the cancellation on."""
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._executor, functools.partial(call, *args, **kwargs))

    async def run(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``call`` after every call made before it."""
        return await self.submit(call, *args, **kwargs)

    async def run_to_end(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Like :meth:`run`, for clean-up: a cancellation of the caller does not drop the call."""
        return await asyncio.shield(self.submit(call, *args, **kwargs))


@dataclass
class PartialFile:
    """A file written under a temporary name and renamed once complete.

    Its methods touch the disk: call them in the file's :class:`FileThread`.
    """

    partial: Path
    target: Path
    renamed: bool = False

    def complete(self) -> None:
        self.partial.replace(self.target)
        self.renamed = True

    def remove(self) -> None:
        """Remove what is on disk: the partial file, or the target if it was renamed already."""
        self.partial.unlink(missing_ok=True)
        if self.renamed:
            self.target.unlink(missing_ok=True)


def sha256_of(path: Path) -> str:
    """The sha256 of a finished file's bytes, in hex (what the audit record keeps)."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()
