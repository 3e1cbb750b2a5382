"""Run `rdscan` as a real process against an in-test emulator, as CI and cron would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from scanner.emulator import EmulatorServer

Run = Callable[..., subprocess.CompletedProcess[str]]


def child_env(key_id: str | None, secret: str | None, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
    env.update(
        ALIBABA_CLOUD_ECS_METADATA_DISABLED="true",
        ALIBABA_CLOUD_CLI_PROFILE_DISABLED="true",
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        PYTHONUNBUFFERED="1",
    )
    if key_id:
        env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = key_id
    if secret:
        env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = secret
    return env


@pytest.fixture
def rdscan(tmp_path: Path) -> Run:
    """``rdscan(srv, *args, key=("LTAI-auditor", "auditor-secret"))`` -> CompletedProcess."""

    def run(
        srv: EmulatorServer | None,
        *args: str,
        key: tuple[str | None, str | None] = ("LTAI-auditor", "auditor-secret"),
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        conn = ["--endpoint", srv.endpoint, "--protocol", "http"] if srv else []
        cmd = [sys.executable, "-m", "scanner", *args[:1], *conn, *args[1:]]
        return subprocess.run(
            cmd,
            env=child_env(key[0], key[1], tmp_path / "home"),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
