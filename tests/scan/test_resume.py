"""`rdscan scan --resume`: a scan killed midway (kill -9) goes on from its checkpoint and ends
with the same members and results as a scan that was never interrupted, with fewer GetAccount
calls; a checkpoint of another scan is refused, naming the difference."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from scanner.emulator import generate_fixture
from scanner.inventory.checkpoint import FILE_NAME

from ..conftest import child_process_env

MEMBERS = 240


def _start(srv, out: Path, tmp_path: Path, *extra: str) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    cmd = [sys.executable, "-m", "scanner", "scan", "--endpoint", srv.endpoint]
    cmd += ["--protocol", "http", "--no-history", "--output-dir", str(out), "--no-progress"]
    env = child_process_env(("LTAI-auditor", "auditor-secret"), HOME=str(tmp_path / "home"))
    return subprocess.Popen(
        [*cmd, *extra],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out + err


def _reads(checkpoint: Path) -> int:
    try:
        return checkpoint.read_text(encoding="utf-8").count('{"read":')
    except FileNotFoundError:
        return 0


def _members(report: Path) -> list[tuple[object, ...]]:
    data = json.loads(report.read_text(encoding="utf-8"))
    return sorted(
        (
            a["account_id"],
            a["display_name"],
            a["folder_path"],
            a["result"],
            a["severity"],
            a["reason"],
            a["has_secure_mobile_phone"],
            a["secure_mobile_phone_masked"],
        )
        for a in data["accounts"]
    )


def test_a_scan_killed_midway_resumes_to_the_same_results(emulator, tmp_path):
    data = generate_fixture(accounts=MEMBERS, seed=5, missing_ratio=0.3)
    # GetAccount slow enough (100/s) to be killed midway, the rest fast
    srv = emulator(data, rate_limit=1000, latency_ms=5)
    whole, cut = tmp_path / "whole", tmp_path / "cut"

    code, output = _finish(_start(srv, whole, tmp_path, "--rate", "100"))
    assert code == 1, output  # members FAIL
    assert not (whole / FILE_NAME).exists()  # complete: no checkpoint left

    proc = _start(srv, cut, tmp_path, "--rate", "100")
    deadline = time.monotonic() + 60
    while _reads(cut / FILE_NAME) < MEMBERS // 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    done_before = _reads(cut / FILE_NAME)
    assert MEMBERS // 3 <= done_before < MEMBERS
    assert not (cut / "report.json").exists()

    code, output = _finish(_start(srv, cut, tmp_path, "--resume", "--rate", "100"))
    assert code == 1, output
    assert _members(cut / "report.json") == _members(whole / "report.json")
    resumed = json.loads((cut / "report.json").read_text(encoding="utf-8"))["scan"]
    assert resumed["api_calls"]["GetAccount"] <= MEMBERS - done_before
    assert any(w.startswith("resumed scan:") for w in resumed["warnings"])
    assert "resumed scan" in (cut / "report.html").read_text(encoding="utf-8")
    assert not (cut / FILE_NAME).exists()


def test_a_checkpoint_of_another_scan_is_refused(emulator, tmp_path, rdscan):
    srv = emulator(generate_fixture(accounts=30, seed=3), rate_limit=1000)
    out = tmp_path / "out"
    # no checkpoint at all
    result = rdscan(srv, "scan", "--no-history", "--output-dir", str(out), "--resume")
    assert result.returncode == 2, result.stderr
    assert "no interrupted scan to resume" in result.stderr
    assert "Traceback" not in result.stderr

    # a checkpoint left by an interrupted scan (made here by hand: the header a scan writes)
    out.mkdir()
    header = {
        "rdscan_checkpoint": 1,
        "tool_version": "0.0.1",
        "policy_id": "x",
        "policy_digest": "sha256:0",
        "exemptions_digest": "",
        "site": "cn",
        "endpoint": srv.endpoint,
        "output_dir": str(out.absolute()),
        "scan_id": "scan-old",
        "started_at": "2026-11-30T00:00:00Z",
    }

    def refused(**changes: str) -> str:
        (out / FILE_NAME).write_text(json.dumps({**header, **changes}) + "\n", encoding="utf-8")
        result = rdscan(srv, "scan", "--no-history", "--output-dir", str(out), "--resume")
        assert result.returncode == 2, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        assert srv.call_counts().get("GetAccount", 0) == 0  # refused before reading anyone
        return result.stderr

    assert "rdscan version is '0.0.1'" in refused()
    from scanner import __version__

    assert "policy is 'x'" in refused(tool_version=__version__)
    # the right scan, but the checkpoint was made for another output folder
    from scanner.policy import load_policy
    from scanner.resources import default_policy_path

    policy = load_policy(default_policy_path())
    same = {"tool_version": __version__, "policy_id": policy.id, "policy_digest": policy.digest}
    assert "output folder" in refused(**same, output_dir=str(tmp_path / "elsewhere"))
    # ... and of another resource directory
    (out / FILE_NAME).write_text(
        json.dumps({**header, **same}) + "\n" + json.dumps({"directory": "rd-other"}) + "\n",
        encoding="utf-8",
    )
    result = rdscan(srv, "scan", "--no-history", "--output-dir", str(out), "--resume")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "resource directory rd-other" in result.stderr
    assert srv.call_counts().get("GetAccount", 0) == 0
