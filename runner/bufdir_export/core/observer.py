"""What the runner tells whoever watches it: claims, steps, endings, faults.

The pipeline, the runner loop and the adapters call an :class:`Observer`;
the metrics (:mod:`bufdir_export.observability.metrics`) implement it, and
:data:`UNOBSERVED` does nothing, for whoever runs without them. Every call is
cheap and never raises: it only counts.
"""

from __future__ import annotations

from typing import Protocol

from .._models import ExportRecord, ExportResult, ExportStatus

__all__ = ["UNOBSERVED", "Observer", "Unobserved"]


class Observer(Protocol):
    def claimed(self, export: ExportRecord) -> None:
        """This runner claimed ``export`` (as the claim returned it)."""
        ...

    def step_took(self, step: ExportStatus, seconds: float) -> None:
        """A step of the pipeline ended (well or not) after ``seconds``."""
        ...

    def ended(self, export: ExportRecord, result: ExportResult | None) -> None:
        """This runner is done with a claimed export: ``result`` is its end, or
        None when it was lost to another claim or given back."""
        ...

    def lease_lost(self) -> None:
        """A guarded write found the export no longer held by this claim."""
        ...

    def retried(self, fault: str) -> None:
        """A transient fault (the exception's class name) is being retried."""
        ...

    def deferred(self) -> None:
        """An export was given back to the queue for a later attempt."""
        ...


class Unobserved:
    """An :class:`Observer` that keeps nothing."""

    def claimed(self, export: ExportRecord) -> None:
        return None

    def step_took(self, step: ExportStatus, seconds: float) -> None:
        return None

    def ended(self, export: ExportRecord, result: ExportResult | None) -> None:
        return None

    def lease_lost(self) -> None:
        return None

    def retried(self, fault: str) -> None:
        return None

    def deferred(self) -> None:
        return None


UNOBSERVED: Observer = Unobserved()
