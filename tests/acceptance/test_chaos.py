"""The chaos harness, short: 45 s of requests under random faults (runner
processes killed, connections terminated, the server restarted, Storage down or
stalling, a session idle in a transaction), then the rows that must be 0, files
left by exports that did not complete (after the sweep) and exports failed by a
Storage outage shorter than the budget among them."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def test_nothing_is_lost_or_done_twice_under_faults(tmp_path: Path) -> None:
    out = tmp_path / "chaos.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.chaos", "--seconds", "45", "--seed", "7",
        "--json", str(out),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), 900)
    text = output.decode()
    assert out.exists(), text[-3000:]
    figures = json.loads(out.read_text())["figures"]
    must_be_zero = {k: v for k, v in figures.items() if k.startswith("MUST BE 0")}
    assert len(must_be_zero) == 7
    assert all(value == 0 for value in must_be_zero.values()), (must_be_zero, text[-3000:])
    assert process.returncode == 0, text[-3000:]
    assert figures["exports requested"] >= 30
    assert figures["completed"] > 0
    faults = dict(part.rsplit(" ", 1) for part in figures["faults"].split(", "))
    assert {"kill", "restart", "terminate"} <= set(faults), figures["faults"]
