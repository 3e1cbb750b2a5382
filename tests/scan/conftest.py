"""Run `rdscan` as a real process against an in-test emulator, as CI and cron would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from scanner.emulator import EmulatorServer

from ..conftest import child_process_env

Run = Callable[..., subprocess.CompletedProcess[str]]


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
            env=child_process_env(
                key, HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "home" / "data")
            ),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
