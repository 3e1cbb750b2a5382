"""Accountable exceptions: approved_by/created, --no-exemptions (the auditor's full view),
--fail-on-expired, the exit line, and `rdscan policy lint`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.emulator import EmulatorServer, load_fixture, sample_fixture_path
from scanner.resources import policies_dir

from ..conftest import child_process_env
from .conftest import Scanned, run

EXAMPLE = policies_dir() / "exemptions.example.yaml"


@pytest.fixture(scope="module")
def srv() -> Iterator[EmulatorServer]:
    with EmulatorServer(load_fixture(sample_fixture_path()), host="127.0.0.1", port=0) as s:
        yield s


def _scan(srv: EmulatorServer, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "scanner", "scan", "--endpoint", srv.endpoint),
            *("--protocol", "http", "--output-dir", str(out), "--no-history", "--no-progress"),
            *args,
        ],
        env=child_process_env(("LTAI-auditor", "auditor-secret"), HOME=str(out)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_no_exemptions_is_the_auditors_full_view(srv: EmulatorServer, tmp_path: Path) -> None:
    proc = _scan(srv, tmp_path, "--exemptions", str(EXAMPLE), "--no-exemptions")
    assert proc.returncode == 1, proc.stderr
    assert "Auditor's view (--no-exemptions)" in proc.stdout and "was not used" in proc.stdout
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["scan"]["exemptions_ignored"] is True
    assert data["summary"]["EXEMPT"] == 0 and data["scan"]["policy"]["exemptions_digest"] is None
    assert not any(a["exemption"] for a in data["accounts"])
    assert 'id="auditor-view"' in (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "**Auditor's view:**" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_fail_on_expired_and_the_exit_line(srv: EmulatorServer, tmp_path: Path) -> None:
    # as of 2027-05-01 the account exemption of the example (expires 2027-03-31) has expired
    args = ("--exemptions", str(EXAMPLE), "--as-of", "2027-05-01", "--fail-on", "none")
    proc = _scan(srv, tmp_path / "a", *args)
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("Exit code 0: NOT compliant: ") and "FAIL" in last
    assert "the exit code ignores them (--fail-on none)" in last
    assert "compliant" not in last.replace("NOT compliant", "")
    assert "Expired exemptions: 1 (account:1000000000419707)" in proc.stdout

    proc = _scan(srv, tmp_path / "b", *args, "--fail-on-expired")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.strip().endswith("1 exemption expired (--fail-on-expired)")


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("    approved_by: SecOps@example.com\n", "approved_by 'SecOps@example.com' is the owner"),
        ("    created: 2027-04-01\n", "created 2027-04-01 is after expires 2027-03-31"),
    ],
)
def test_validate_refuses_self_approval_and_late_creation(
    tmp_path: Path, extra: str, problem: str
) -> None:
    path = tmp_path / "ex.yaml"
    path.write_text(
        "exemptions:\n  - account_id: '1000000000419707'\n    reason: r\n"
        "    owner: secops@example.com\n    ticket: T-1\n    expires: 2027-03-31\n" + extra
    )
    code, out = run("policy", "validate", str(path))
    assert code == 2 and f"{path}:7: {problem}" in out


def test_lint_lists_each_kind_with_its_line(scanned: Scanned, tmp_path: Path) -> None:
    report = json.loads((scanned.out / "report.json").read_text(encoding="utf-8"))
    passing = next(a for a in report["accounts"] if a["result"] == "PASS")
    path = tmp_path / "ex.yaml"
    path.write_text(
        "exemptions:\n"
        "  - account_id: '9999999999999999'\n"  # line 2: matches nothing
        "    reason: gone\n    owner: a@example.com\n    ticket: T-1\n    expires: 2030-01-01\n"
        "    approved_by: b@example.com\n"
        f"  - account_id: '{passing['account_id']}'\n"  # line 8: now passes, no approver
        "    reason: fixed since\n    owner: a@example.com\n    ticket: T-2\n"
        "    expires: 2030-01-01\n"
        "  - folder: Root/Development/Sandbox\n"  # line 13: expires soon
        "    reason: sandbox\n    owner: a@example.com\n    ticket: T-3\n"
        "    expires: 2027-01-10\n    approved_by: b@example.com\n"
    )
    code, out = run(
        "policy", "lint", str(path), "--directory", str(scanned.out / "report.json"),
        "--as-of", "2027-01-01",
    )  # fmt: skip
    assert code == 1, out
    lines = out.splitlines()
    assert f"{path}:2: exemption account:9999999999999999: matches no member" in lines[0]
    assert any(f"{path}:8:" in x and "names no approver" in x for x in lines)
    assert any(f"{path}:8:" in x and "now passes" in x for x in lines)
    assert any(
        f"{path}:13:" in x and "expires within 30 days: on 2027-01-10 (9 days left)" in x
        for x in lines
    )
    assert lines[-1].startswith("3 of 3 exemptions listed")
    # the example file against the sample: only the folder exemption lacks an approver
    code, out = run(
        "policy", "lint", str(EXAMPLE), "--directory", str(scanned.out / "report.json"),
        "--as-of", "2026-12-01",
    )  # fmt: skip
    assert code == 1 and out.count("names no approver") == 1 and "matches no" not in out
