"""What the command line shows while an export runs: its steps and its rows.

:class:`ExportView` is fed the updates of a watch and renders, with rich,
one line per pipeline step (done with how long it took, running, or still
to come) and a bar of the rows written while the file is generated.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from .._models import TERMINAL, ExportRecord, ExportStatus, ExportUpdate

__all__ = ["ExportView", "describe_seconds", "live"]

S = ExportStatus
_STEPS = (
    S.INITIALISED,
    S.QUERYING_ACTIVITIES,
    S.MAPPING_COLUMNS,
    S.GENERATING_FILE,
    S.BUNDLING_ATTACHMENTS,
    S.STORING_FILE,
)
_LABELS = {
    S.INITIALISED: "waiting for a runner",
    S.QUERYING_ACTIVITIES: "querying activities",
    S.MAPPING_COLUMNS: "mapping columns",
    S.GENERATING_FILE: "generating the file",
    S.BUNDLING_ATTACHMENTS: "bundling attachments",
    S.STORING_FILE: "storing and signing",
}


@contextmanager
def live(renderable: RenderableType, console: Console) -> Iterator[None]:
    """Show ``renderable`` live while the block runs. Off a terminal, rich prints
    the last picture once without ending its line: end it, so that what follows
    starts on a line of its own."""
    with Live(renderable, console=console, refresh_per_second=10):
        yield
    if not console.is_terminal:
        console.print()


def describe_seconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


class ExportView:
    """The live picture of one export."""

    def __init__(self, title: str, *, include_attachments: bool) -> None:
        self.title = title
        self._steps = [s for s in _STEPS if include_attachments or s is not S.BUNDLING_ATTACHMENTS]
        self._began: dict[ExportStatus, datetime] = {}
        self._ended_at: datetime | None = None
        self.record: ExportRecord | None = None

    def update(self, update: ExportUpdate) -> None:
        if update.status in TERMINAL:
            self._ended_at = update.occurred_at
        elif update.status is S.INITIALISED:
            self._began.clear()  # re-queued: the steps begin again
            self._began[S.INITIALISED] = update.occurred_at
        else:
            self._began.setdefault(update.status, update.occurred_at)
        self.record = update.record

    def step_seconds(self) -> dict[ExportStatus, float]:
        """How long each finished step took."""
        starts = sorted(self._began.items(), key=lambda item: item[1])
        ends = [*(began for _, began in starts[1:]), self._ended_at]
        return {
            step: (end - began).total_seconds()
            for (step, began), end in zip(starts, ends, strict=True)
            if end is not None
        }

    def __rich__(self) -> RenderableType:
        status = self.record.status if self.record is not None else S.INITIALISED
        took = self.step_seconds()
        grid = Table.grid(padding=(0, 2))
        grid.add_column(width=1)
        grid.add_column(min_width=22)
        grid.add_column(justify="right")
        for step in self._steps:
            if step in took:
                grid.add_row(Text("✓", "green"), step_label(step), describe_seconds(took[step]))
            elif step is status:
                grid.add_row(Text("▸", "yellow"), Text(step_label(step), "bold"), "…")
            else:
                grid.add_row(Text("·", "dim"), Text(step_label(step), "dim"), "")
        parts: list[RenderableType] = [Text(self.title, "bold"), grid]
        record = self.record
        if record is not None and record.rows_total and status is S.GENERATING_FILE:
            bar = Table.grid(padding=(0, 2))
            bar.add_row(
                ProgressBar(total=record.rows_total, completed=record.rows_done or 0, width=40),
                f"{record.rows_done or 0:,} / {record.rows_total:,} rows",
            )
            parts.append(bar)
        if record is not None and record.status in TERMINAL:
            style = "red" if record.status in (S.FAILED, S.CANCELLED) else "green"
            parts.append(Text(f"{record.status}", style))
        return Group(*parts)


def step_label(step: ExportStatus) -> str:
    return _LABELS.get(step, str(step))
