"""The deployment files, as far as this machine can run them: the systemd unit
verified by systemd-analyze and its command stopped by SIGTERM as systemd
stops it; the container's entry command run directly, with the container's
environment, until its own health check passes; the example environment
naming only settings that exist."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bufdir_export._settings import Settings
from tests.acceptance.test_cli import ENTRY_POINT, environment_without_libpq
from tests.integration.conftest import SECRET

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNIT = DEPLOY / "bufdir-export.service"
CONTAINERFILE = DEPLOY / "Containerfile"
ENV_EXAMPLE = DEPLOY / "runner.env.example"


def _unit_values(key: str) -> list[str]:
    return [
        line.split("=", 1)[1]
        for line in UNIT.read_text().splitlines()
        if line.startswith(f"{key}=")
    ]


def _instructions() -> list[tuple[str, str]]:
    """The Containerfile's instructions (keyword, arguments), continuations joined."""
    joined = CONTAINERFILE.read_text().replace("\\\n", " ")
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
        for line in joined.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _instruction(keyword: str) -> list[str]:
    return [arguments for name, arguments in _instructions() if name == keyword]


def _example_environment() -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _local_runner_environment(database: str, tmp_path: Path) -> dict[str, str]:
    """What a test adds so that a runner works here: this test's database and local storage."""
    return {
        "DATABASE_URL": database,
        "BUFDIR_EXPORT_STORAGE_BACKEND": "local",
        "BUFDIR_EXPORT_SIGNING_SECRET": SECRET,
        "BUFDIR_EXPORT_STORAGE_DIR": str(tmp_path / "storage"),
        "BUFDIR_EXPORT_DOWNLOAD_BASE_URL": "http://127.0.0.1:0",
        "BUFDIR_EXPORT_DB_ROLE": "bufdir_export_runner",
        "BUFDIR_EXPORT_METRICS_PORT": str(_free_port()),
    }


async def _start(command: list[str], env: dict[str, str], log: Path) -> Any:
    out = await asyncio.to_thread(log.open, "wb")
    with out:
        return await asyncio.create_subprocess_exec(*command, env=env, stdout=out, stderr=out)


async def _until_started(process: Any, log: Path) -> None:
    async with asyncio.timeout(30):
        while b" started" not in (written := await asyncio.to_thread(log.read_bytes)):
            assert process.returncode is None, written.decode()
            await asyncio.sleep(0.05)


async def _stop_with_sigterm(process: Any, within: float) -> int:
    process.send_signal(signal.SIGTERM)
    return int(await asyncio.wait_for(process.wait(), within))


def test_the_example_environment_names_only_settings_that_exist() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    unprefixed = {"DATABASE_URL", "SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY"}
    names = set(_example_environment())
    assert names - unprefixed, "the example sets no runner setting"
    unknown = {
        name
        for name in names - unprefixed
        if not name.startswith("BUFDIR_EXPORT_") or name[len("BUFDIR_EXPORT_") :] not in fields
    }
    assert unknown == set()
    assert "CHANGE-ME" in ENV_EXAMPLE.read_text()  # placeholders, never a secret


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("BUFDIR_EXPORT_REQUIRE_SYSTEMD") == "1":
            pytest.fail("systemd-analyze is required here but not installed")
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    # Where this checkout has what the unit names on a server.
    environment = tmp_path / "runner.env"
    shutil.copy(ENV_EXAMPLE, environment)
    text = UNIT.read_text()
    (executable, *_), environment_file = (
        _unit_values("ExecStart")[0].split(),
        _unit_values("EnvironmentFile")[0],
    )
    unit = tmp_path / UNIT.name
    unit.write_text(
        text.replace(executable, str(ENTRY_POINT)).replace(environment_file, str(environment))
    )

    checked = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, check=False
    )

    assert (checked.returncode, checked.stderr.strip()) == (0, "")
    assert _unit_values("KillSignal") == ["SIGTERM"]
    assert _unit_values("Restart") == ["on-failure"]
    grace = float(Settings.model_fields["shutdown_grace_seconds"].default)
    assert float(_unit_values("TimeoutStopSec")[0]) > grace  # the grace, and a margin


async def test_the_unit_s_command_runs_and_stops_on_sigterm(database: str, tmp_path: Path) -> None:
    _, *arguments = shlex.split(_unit_values("ExecStart")[0])
    env = environment_without_libpq()
    env |= _example_environment() | _local_runner_environment(database, tmp_path)
    log = tmp_path / "unit.log"
    process = await _start([str(ENTRY_POINT), *arguments], env, log)
    await _until_started(process, log)

    code = await _stop_with_sigterm(process, float(_unit_values("TimeoutStopSec")[0]))

    assert code == 0, log.read_text()
    lines = [json.loads(line) for line in log.read_text().splitlines()]  # LOG_FORMAT=json
    assert lines[-1]["message"].endswith("0 given back")


async def test_the_container_s_command_passes_its_own_health_check(
    database: str, tmp_path: Path
) -> None:
    assert _instruction("FROM") == ["python:3.11-slim"]
    user = _instruction("USER")[-1]
    assert user not in ("root", "0")
    env = environment_without_libpq()
    for arguments in _instruction("ENV"):
        env |= dict(pair.split("=", 1) for pair in shlex.split(arguments))
    assert env["BUFDIR_EXPORT_METRICS_HOST"] == "0.0.0.0"  # noqa: S104 (probed from outside)
    env |= _local_runner_environment(database, tmp_path)
    entrypoint = json.loads(_instruction("ENTRYPOINT")[-1])
    command = json.loads(_instruction("CMD")[-1])
    assert entrypoint == ["bufdir-export"]
    health = json.loads(_instruction("HEALTHCHECK")[-1].split(" CMD ", 1)[1])
    assert health[0] == "python"
    log = tmp_path / "container.log"
    process = await _start([str(ENTRY_POINT), *command], env, log)
    await _until_started(process, log)

    async with asyncio.timeout(30):
        while True:
            checked = await asyncio.create_subprocess_exec(
                sys.executable, *health[1:], env=env,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            if await checked.wait() == 0:
                break
            await asyncio.sleep(0.2)
    code = await _stop_with_sigterm(process, 60)

    assert code == 0, log.read_text()
    assert all(json.loads(line)["runner"] for line in log.read_text().splitlines())
