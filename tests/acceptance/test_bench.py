"""Every benchmark runs (in its short form) and reports figures that make sense.

The figures themselves are BENCHMARKS.md's business; here each script must
finish, pass its own checks (files opened, rows counted, every export ended),
and write its JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


async def _bench(name: str, tmp_path: Path, server_url: str) -> dict[str, Any]:
    out = tmp_path / f"{name}.json"
    env = dict(os.environ, DATABASE_URL=server_url)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", f"bench.{name}", "--quick", "--json", str(out),
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), 600)
    assert process.returncode == 0, output.decode()[-3000:]
    document: dict[str, Any] = json.loads(out.read_text())
    assert document["benchmark"] == name
    assert document["machine"]["cores"] >= 1
    return document["figures"]


@pytest.fixture
def server_url(server: Any) -> str:
    return str(server.conninfo())


async def test_e2e_latency(tmp_path: Path, server_url: str) -> None:
    figures = await _bench("e2e_latency", tmp_path, server_url)
    assert set(figures["commits"]) == {"fsync", "synchronous_commit", "full_page_writes"}
    assert 0 < figures["total_median_s"] <= figures["total_p95_s"]
    assert sum(figures["steps_median_s"].values()) <= figures["total_p95_s"] * 1.5


async def test_claim_latency(tmp_path: Path, server_url: str) -> None:
    figures = await _bench("claim_latency", tmp_path, server_url)
    for runners in ("runners_1", "runners_4"):
        assert figures[runners]["samples"] == 40
        assert 0 < figures[runners]["median_ms"] <= figures[runners]["p99_ms"]


async def test_large_exports(tmp_path: Path, server_url: str) -> None:
    figures = await _bench("large_exports", tmp_path, server_url)
    sizes = [v for v in figures.values() if isinstance(v, dict) and "rows" in v]
    assert [s["rows"] for s in sizes] == [2_000, 20_000, 50_000]
    for size in sizes:
        assert size["pipeline_rows_per_s"] > 0
        assert size["runner_peak_rss_mb"] > 10


async def test_vs_procrastinate(tmp_path: Path, server_url: str) -> None:
    figures = await _bench("vs_procrastinate", tmp_path, server_url)
    assert figures["commits"]["fsync"] in ("on", "off")
    assert figures["this state machine"]["jobs"] == figures["Procrastinate 3.10"]["jobs"] == 200
    assert figures["ours_over_procrastinate"] > 0


async def test_xlsx_writers(tmp_path: Path, server_url: str) -> None:
    figures = await _bench("xlsx_writers", tmp_path, server_url)
    writers = {k: v for k, v in figures.items() if isinstance(v, dict)}
    assert len(writers) == 6
    assert {"exceljs 4.4 streaming (Deno)", "SheetJS 0.18 (Deno)"} <= set(writers)
    assert all(w["rows_per_s"] > 0 and w["file_bytes"] > 0 for w in writers.values())
