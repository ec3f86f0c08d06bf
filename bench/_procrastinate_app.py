"""The same no-op steps as a Procrastinate task, for the side-by-side benchmark.

The worker: ``python -m procrastinate --app=bench._procrastinate_app.app worker``
with DATABASE_URL set.
"""

from __future__ import annotations

import asyncio
import os

from procrastinate import App, PsycopgConnector

app = App(connector=PsycopgConnector(conninfo=os.environ.get("DATABASE_URL", "")))

STEPS = 5  # query, map, generate, store, sign: nothing done in any of them


@app.task(name="bufdir_export", queue="exports")
async def run_export(export_id: str) -> None:
    for _ in range(STEPS):
        await asyncio.sleep(0)
