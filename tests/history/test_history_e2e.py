"""The history under real `rdscan scan` processes: a killed scan, two scans at once."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from scanner.emulator import EmulatorServer
from scanner.history import History

from ..conftest import SAMPLE_CALLERS, child_process_env


def _scan_cmd(srv: EmulatorServer, tmp_path: Path, name: str, history: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "scanner",
        "scan",
        "--endpoint",
        srv.endpoint,
        "--protocol",
        "http",
        "--history",
        str(history),
        "--output-dir",
        str(tmp_path / name),
        "--format",
        "json",
        "--no-progress",
    ]


def _env(tmp_path: Path) -> dict[str, str]:
    return child_process_env(SAMPLE_CALLERS["auditor"], HOME=str(tmp_path / "home"))


def test_a_scan_killed_midway_leaves_the_history_as_it_was(
    emulator: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    history = tmp_path / "history.sqlite"
    fast = emulator(rate_limit=1000)
    first = subprocess.run(
        _scan_cmd(fast, tmp_path, "r0", history),
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert first.returncode in (0, 1), first.stderr
    before = history.read_bytes()
    slow = emulator(rate_limit=1000, latency_ms=300)
    proc = subprocess.Popen(
        [*_scan_cmd(slow, tmp_path, "r1", history), "--concurrency", "1"],
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while sum(slow.call_counts().values()) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)  # the scan is reading members now
    proc.kill()
    proc.wait(10)
    assert history.read_bytes() == before
    assert len(History(history).scans()) == 1


def test_two_scans_into_one_history_at_once_both_land(
    emulator: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    history = tmp_path / "history.sqlite"
    srv = emulator(rate_limit=1000)
    procs = [
        subprocess.Popen(
            _scan_cmd(srv, tmp_path, name, history),
            env=_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode in (0, 1), err
        assert "not recorded" not in err
    scans = History(history).scans()
    assert len(scans) == 2 and scans[0].id != scans[1].id
    assert all(len(History(history).members(s.id)) == s.members for s in scans)
