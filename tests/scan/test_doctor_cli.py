"""`rdscan doctor` end to end: a real process, the real SDKs, the emulator over HTTP(S)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import child_process_env

AUDITOR = ("LTAI-auditor", "auditor-secret")


def _doctor(tmp_path: Path, srv, *args: str, key=AUDITOR, protocol="http", **env: str):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "scanner",
            "doctor",
            "--endpoint",
            srv.endpoint,
            "--protocol",
            protocol,
            *args,
        ],
        env=child_process_env(key, HOME=str(tmp_path / "home"), **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_good_caller_exits_0_with_every_section(tmp_path, emulator):
    srv = emulator()
    proc = _doctor(tmp_path, srv)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    # the source, the key id shortened
    assert "environment (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET) [default/env]" in out
    assert "LTAI...tor" in out
    assert "auditor-secret" not in out + proc.stderr
    assert "acs:ram::1512345678901234:user/auditor" in out
    assert "Caller is       management account" in out
    for action in ("ListAccounts", "GetAccount", "ListFoldersForParent"):
        assert any(line.startswith(action) and " allowed" in line for line in out.splitlines())
    offset = next(line for line in out.splitlines() if line.startswith("Clock offset"))
    assert abs(int(offset.split()[2])) <= 2, offset  # the Date header has 1 s resolution
    assert "none (direct)" in out
    assert any(line.startswith("GetAccount") and " 50 " in line for line in out.splitlines())
    assert "OK: a scan would work" in out
    # read-only: nothing but the probes
    counts = srv.call_counts()
    assert counts.get("GetAccount") == 1 and counts.get("ListAccounts") == 1
    assert "SendVerificationCodeForBindSecureMobilePhone" not in counts


def test_a_caller_without_get_account_exits_2_naming_it(tmp_path, emulator):
    srv = emulator()
    proc = _doctor(tmp_path, srv, key=("LTAI-lister", "lister-secret"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "First thing to fix: GetAccount is denied (scan needs it)" in proc.stdout
    assert "rdscan print-policy audit" in proc.stdout


def test_json_names_the_first_problem(tmp_path, emulator):
    srv = emulator()
    proc = _doctor(tmp_path, srv, "--format", "json", key=("LTAI-lister", "lister-secret"))
    assert proc.returncode == 2, proc.stderr
    data = json.loads(proc.stdout)
    assert data["ok"] is False and data["exit_code"] == 2
    assert data["first_problem"]["what"].startswith("GetAccount is denied")
    probes = {p["action"]: p["result"] for p in data["probes"]}
    assert probes == {
        "ListAccounts": "allowed",
        "GetAccount": "denied",
        "ListFoldersForParent": "denied",
    }
    assert data["caller"]["account_id"] == "1512345678901234"
    assert data["caller_kind"] == "management account"
    assert {q["action"]: q["paced_at"] for q in data["quotas"]}["GetAccount"] == 50.0
    assert data["credential_source"].endswith("[default/env]")
    assert "lister-secret" not in proc.stdout


def test_remediate_probes_send_and_bind_without_sending_anything(tmp_path, emulator):
    srv = emulator(sms_outbox=tmp_path / "outbox.jsonl")
    ok = _doctor(tmp_path, srv, "--remediate", "--format", "json",
                 key=("LTAI-operator", "operator-secret"))  # fmt: skip
    assert ok.returncode == 0, ok.stdout + ok.stderr
    probes = {p["action"]: p["result"] for p in json.loads(ok.stdout)["probes"]}
    assert probes["SendVerificationCodeForBindSecureMobilePhone"] == "allowed"
    assert probes["BindSecureMobilePhone"] == "allowed"
    read_only = _doctor(tmp_path, srv, "--remediate")
    assert read_only.returncode == 2
    assert (
        "First thing to fix: SendVerificationCodeForBindSecureMobilePhone is denied "
        "(remediate needs it)" in read_only.stdout
    )
    assert "rdscan print-policy remediate" in read_only.stdout
    root = _doctor(tmp_path, srv, "--remediate", key=("LTAI-root", "root-secret"))
    assert root.returncode == 2
    assert "BindSecureMobilePhone is denied" in root.stdout and "CallerIdentityError" in root.stdout
    assert "Warning: the AccessKey is the root identity's" in root.stdout
    assert srv.outbox() == []  # no SMS, ever


def test_a_member_account_is_named(tmp_path, emulator):
    srv = emulator()
    proc = _doctor(tmp_path, srv, key=("LTAI-member", "member-secret"))
    assert proc.returncode == 2
    assert "Caller is       member account" in proc.stdout
    assert "is a member of rd-3G6R01, not its management account 1512345678901234" in proc.stdout


def test_a_delegated_administrator_is_named(tmp_path, emulator):
    srv = emulator()
    proc = _doctor(tmp_path, srv, key=("LTAI-delegated", "delegated-secret"))
    assert proc.returncode == 0, proc.stdout
    assert "Caller is       delegated administrator" in proc.stdout


def test_an_outage_exits_3(tmp_path, emulator):
    srv = emulator()
    srv.script_fault("GetCallerIdentity", count=50, code="ServiceUnavailable")
    proc = _doctor(tmp_path, srv, "--max-attempts", "2", "--retry-budget", "1")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "ServiceUnavailable" in proc.stdout


@pytest.mark.parametrize("with_ca", [True, False])
def test_https_and_tls_verification(tmp_path, emulator, with_ca):
    srv = emulator(tls_dir=tmp_path / "tls")
    args = ["--ca-bundle", str(srv.ca_path)] if with_ca else []
    proc = _doctor(tmp_path, srv, *args, protocol="https")
    if with_ca:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"HTTPS, CAs from {srv.ca_path} (--ca-bundle): verified" in proc.stdout
    else:
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "First thing to fix: TLS" in proc.stdout and "--ca-bundle" in proc.stdout


def test_the_clock_offset_from_the_server_date(tmp_path, emulator):
    srv = emulator(clock_skew_s=-120)  # the server's clock 2 minutes behind: a warning
    proc = _doctor(tmp_path, srv)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    offset = next(line for line in proc.stdout.splitlines() if line.startswith("Clock offset"))
    seconds = int(offset.split()[2])
    assert 118 <= seconds <= 122, offset
    assert "Warning: the local clock is +1" in proc.stdout and "sync it (NTP)" in proc.stdout


def test_a_clock_too_far_off_is_the_first_thing_to_fix(tmp_path, emulator):
    srv = emulator(clock_skew_s=1200)  # beyond the 15 minutes the API accepts
    proc = _doctor(tmp_path, srv)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "First thing to fix: GetCallerIdentity: InvalidTimeStamp" in proc.stdout
    assert "sync it (NTP)" in proc.stdout
