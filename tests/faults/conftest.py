"""Fixtures of the fault suite: the emulator behind a fault-injecting proxy, and rdscan run as a
real process through it (as CI and cron would run it)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scanner.client import bounded
from scanner.client.settings import Settings
from scanner.emulator import EmulatorServer, parse_fixture

from ..client.conftest import MASTER, build_fixture
from ..conftest import child_process_env
from .proxy import FaultProxy

AUDITOR = ("LTAI-auditor", "auditor-secret")


@pytest.fixture(autouse=True)
def _close_sdk_sessions() -> Iterator[None]:
    """Each test talks to endpoints of its own: their pooled connections are closed after it
    (the SDK keeps one session per endpoint for the life of the process; without this, the
    suite's process runs out of file descriptors below 1024 for select())."""
    yield
    bounded.close_sessions()


@pytest.fixture
def faulty() -> Iterator[Callable[..., tuple[EmulatorServer, FaultProxy]]]:
    """``faulty(members=250, **emulator_kwargs)`` -> (emulator, proxy in front of it).

    The directory has no member whose GetAccount lacks the flag: a healthy scan of it ends
    without ERROR, so an exit 3 can only come from the fault under test."""
    started: list[Any] = []

    def make(
        members: int = 250, *, sts: bool = False, **kwargs: Any
    ) -> tuple[EmulatorServer, FaultProxy]:
        kwargs.setdefault("rate_limit", 0)
        data = build_fixture(members, depth=2)
        for account in data["accounts"]:
            account.pop("omit_phone_flag", None)
        if sts:  # an assumed-role session of the management account (STS.auditor, sts-token)
            data["callers"].append(
                {
                    "access_key_id": "STS.auditor",
                    "access_key_secret": "sts-secret",
                    "security_token": "sts-token",
                    "arn": f"acs:ram::{MASTER}:assumed-role/auditor/rdscan",
                    "identity_type": "AssumedRoleUser",
                    "allow": ["resourcemanager:List*", "resourcemanager:Get*", "sts:*"],
                }
            )
        srv = EmulatorServer(parse_fixture(data), **kwargs).start()
        started.append(srv)
        proxy = FaultProxy(srv.endpoint).start()
        started.append(proxy)
        return srv, proxy

    yield make
    for thing in reversed(started):
        thing.stop()


def fast_settings(proxy: FaultProxy | EmulatorServer, **kwargs: Any) -> Settings:
    """Settings through ``proxy`` with short retries and deadlines (tests stay fast)."""
    kwargs.setdefault("rate", 1000.0)
    kwargs.setdefault("retry_base_s", 0.01)
    kwargs.setdefault("retry_cap_s", 0.05)
    kwargs.setdefault("retry_budget_s", 5.0)
    kwargs.setdefault("max_attempts", 3)
    kwargs.setdefault("access_key_id", AUDITOR[0])
    kwargs.setdefault("access_key_secret", AUDITOR[1])
    return Settings(endpoint=proxy.endpoint, protocol="http", **kwargs)


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def rdscan_via(tmp_path: Path) -> Run:
    """``rdscan_via(proxy, "scan", *args, env={...})`` -> CompletedProcess (cwd tmp_path)."""

    def run(
        proxy: FaultProxy | EmulatorServer,
        command: str,
        *args: str,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        conn = ["--endpoint", proxy.endpoint, "--protocol", "http", "--rate", "1000"]
        cmd = [sys.executable, "-m", "scanner", command, *conn, *args]
        return subprocess.run(
            cmd,
            env=child_process_env(
                AUDITOR,
                HOME=str(tmp_path / "home"),
                XDG_DATA_HOME=str(tmp_path / "home" / "data"),
                **(env or {}),
            ),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
