"""NHF: one activity recorded in several local chapters counts once.

A peer mentor who belongs to two chapters sometimes has the same activity
recorded by both. NHF counts it once: an activity of the same peer mentor,
type and date as a counted one in another chapter does not count. Several
activities in the same chapter on one date are several activity days (new
participants each time) and all count. The first chapter in the report's
order keeps the activity.

Memory stays flat: the source says which activities have a copy in another
chapter (``same_day_in_other_chapter``, computed by the query over the whole
export), and only those are remembered.

Registered as ``nhf-samme-dag``; option ``reason`` overrides the text
written in ``Årsak``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import JsonValue

from .plugins import Verdict

__all__ = ["SameDayInSeveralChapters"]


class SameDayInSeveralChapters:
    """:class:`~bufdir_export.report.plugins.CountingPlugin` for NHF."""

    def __init__(self, options: Mapping[str, JsonValue]) -> None:
        unknown = set(options) - {"reason"}
        if unknown:
            raise ValueError(f"unknown option(s): {', '.join(sorted(unknown))}")
        reason = options.get("reason", "registrert i flere lokallag")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError("reason must be a non-empty text")
        self.reason = reason

    def begin(self) -> _Pass:
        return _Pass(self.reason)


class _Pass:
    def __init__(self, reason: str) -> None:
        self._reason = reason
        # (peer mentor, type, date) -> the chapter that counted it first.
        self._first_chapter: dict[tuple[Any, Any, Any], str] = {}

    @property
    def remembered(self) -> int:
        """How many (peer mentor, type, date) the pass keeps."""
        return len(self._first_chapter)

    def judge(self, row: Mapping[str, Any], verdict: Verdict) -> Verdict:
        if not verdict.counted or row["same_day_in_other_chapter"] is False:
            # Counted (or not) as the rules say: no other chapter has this
            # activity, so nothing needs remembering about it.
            return verdict
        key = (row["peer_mentor_id"], row["activity_type_code"], row["activity_date"])
        chapter: str = row["chapter_name"]
        first = self._first_chapter.setdefault(key, chapter)
        return verdict if first == chapter else Verdict(counted=False, reason=self._reason)
