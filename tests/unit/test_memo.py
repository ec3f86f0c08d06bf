"""The bounded memo: what it remembers, and that it never holds more than its limit."""

from __future__ import annotations

from bufdir_export.core.memo import BoundedMemo


def test_a_memo_answers_what_it_was_told_and_forgets_everything_when_full() -> None:
    memo: BoundedMemo[str] = BoundedMemo(3)
    assert [memo.remember(n, f"v{n}") for n in range(3)] == ["v0", "v1", "v2"]
    assert [memo.get(n) for n in range(3)] == ["v0", "v1", "v2"]

    memo.remember(3, "v3")  # full: the old keys go, the new one stays

    assert len(memo) == 1
    assert (memo.get(0), memo.get(3)) == (None, "v3")
    for n in range(1_000):
        memo.remember(n, "x")
    assert len(memo) <= 3
