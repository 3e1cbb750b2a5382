"""Helpers for the first-use (bad input) tests of every area: rdscan in-process (CliRunner) or
as a real process, with a caller of the bundled sample directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from scanner.cli import main
from scanner.emulator import EmulatorServer
from scanner.findings import Caller, Evidence, Remediation, Result, ScanResult, Severity, Status
from scanner.report.results_file import dumps

from .conftest import child_process_env

AUDITOR = ("LTAI-auditor", "auditor-secret")


OPERATOR = ("LTAI-operator", "operator-secret")


UNBOUND = "1000000000015838"  # data-prod-02 of the sample: ResourceAccount, no phone


def _env(caller: tuple[str, str] = AUDITOR, **extra: str) -> dict[str, str]:
    return {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": caller[0],
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": caller[1],
        "RDSCAN_HISTORY": "",
        **extra,
    }


def _invoke(*args: str, caller: tuple[str, str] = AUDITOR, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=_env(caller, **env))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args} raised {result.exception!r}\n{result.output}")
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _conn(srv: EmulatorServer) -> list[str]:
    return ["--endpoint", srv.endpoint, "--protocol", "http"]


def _rdscan(
    *args: str, caller: tuple[str, str] = AUDITOR, stdin: int | None = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    """rdscan as a real process (the SDK's credential chain reads the environment once)."""
    return subprocess.run(
        [sys.executable, "-m", "scanner", *args],
        env=child_process_env(caller),
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_member_report(tmp_path: Path, fixture: Any, account_id: str = UNBOUND) -> Path:
    spec = next(a for a in fixture.accounts if a.id == account_id)
    result = Result(
        account_id=spec.id,
        display_name=spec.display_name,
        type=spec.type,
        member_status=spec.status,
        folder_path="Root/Production",
        has_secure_mobile_phone=False,
        secure_mobile_phone_masked=None,
        result=Status.FAIL,
        severity=Severity.HIGH,
        reason="no secure mobile phone is bound",
        remediation=Remediation.API,
    )
    path = tmp_path / "results" / "report.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    scan = ScanResult(fixture_evidence(fixture, "scan-ux-0001"), (result,))
    path.write_text(dumps(scan), encoding="utf-8")
    return path


def fixture_evidence(fixture: Any, scan_id: str) -> Evidence:
    """The evidence of a scan of ``fixture``'s directory by the auditor, for a report.json
    written by hand."""
    rd = fixture.directory
    return Evidence(
        scan_id=scan_id,
        started_at="2026-11-27T10:00:00Z",
        finished_at="2026-11-27T10:00:05Z",
        tool_version="test",
        site=fixture.site,
        caller=Caller("acs:ram::1512345678901234:user/auditor", rd.master_account_id, "RAMUser"),
        resource_directory_id=rd.id,
        master_account_id=rd.master_account_id,
        policy_id="secure-mobile-phone",
        policy_digest="sha256:" + "0" * 64,
    )
