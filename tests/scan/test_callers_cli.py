"""Who is calling, end to end (a real process, the real SDKs, the emulator): the management
account, a member account, a delegated administrator (with and without the reads the
documentation leaves open), the root identity, an assumed role over HTTPS with the emulator's
CA."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import child_process_env

ROLE = "acs:ram::1512345678901234:role/rdscan-audit"
MASTER = "1512345678901234"
DELEGATED = "1000000000380112"


def _run(
    tmp_path: Path, srv, *args: str, key: tuple[str, str], protocol: str = "http", **env: str
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "scanner", args[0], "--endpoint", srv.endpoint,
           "--protocol", protocol, *args[1:]]  # fmt: skip
    return subprocess.run(
        cmd,
        env=child_process_env(key, HOME=str(tmp_path / "home"), **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _scan(tmp_path, srv, key, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    return _run(tmp_path, srv, "scan", "--no-history", "--format", "json", *extra, key=key, **env)


def _report(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "rdscan-report" / "report.json").read_text())


def test_a_member_account_is_told_apart_by_master_account_id_and_refused(tmp_path, emulator):
    srv = emulator()
    proc = _scan(tmp_path, srv, ("LTAI-member", "member-secret"))
    assert proc.returncode == 2, proc.stderr
    assert "belongs to account 1000000000285084, a member of resource directory" in proc.stderr
    assert f"not its management account {MASTER}" in proc.stderr
    assert "Fix: run with a RAM user or role of the management account" in proc.stderr
    assert "delegated administrator" in proc.stderr
    assert srv.call_counts().get("GetAccount", 0) == 0
    assert not (tmp_path / "rdscan-report").exists()


def test_a_delegated_administrator_scans_where_the_api_lets_it(tmp_path, emulator):
    srv = emulator()
    proc = _scan(tmp_path, srv, ("LTAI-delegated", "delegated-secret"))
    assert proc.returncode in (0, 1), proc.stderr
    assert f"scanned by account {DELEGATED}" in proc.stdout
    assert "a delegated administrator" in proc.stdout
    report = _report(tmp_path)
    assert report["summary"]["ERROR"] == 0
    assert len(report["accounts"]) == 59


def test_a_delegated_administrator_without_get_account_names_it(tmp_path, emulator, sample_fixture):
    knobs = dataclasses.replace(
        sample_fixture.undocumented, delegated_admin_reads=False, not_allowed_error="NoPermission"
    )
    srv = emulator(dataclasses.replace(sample_fixture, undocumented=knobs))
    proc = _scan(tmp_path, srv, ("LTAI-delegated", "delegated-secret"))
    assert proc.returncode == 3, proc.stderr
    # folder names: named, members still listed with paths of ids
    assert "folder names could not be read (ListFoldersForParent is not allowed" in proc.stdout
    report = _report(tmp_path)
    errors = [r for r in report["accounts"] if r["result"] == "ERROR"]
    skipped = [r for r in report["accounts"] if r["result"] == "SKIPPED"]
    assert len(errors) + len(skipped) == 59 and errors
    for r in errors:
        assert (
            "GetAccount (2022-04-19) is not allowed for this delegated administrator"
            in (r["reason"])
        )
    # one refusal is enough: the other members are not asked again
    assert srv.call_counts().get("GetAccount", 0) <= 16


@pytest.mark.parametrize("error", ["EntityNotExists.ResourceDirectory", "NoPermission"])
def test_a_delegated_administrator_refusal_is_named_whatever_the_code(
    tmp_path, emulator, sample_fixture, error
):
    knobs = dataclasses.replace(
        sample_fixture.undocumented, delegated_admin_reads=False, not_allowed_error=error
    )
    srv = emulator(dataclasses.replace(sample_fixture, undocumented=knobs))
    proc = _scan(tmp_path, srv, ("LTAI-delegated", "delegated-secret"))
    assert proc.returncode == 3, proc.stderr
    assert "not allowed for this delegated administrator" in proc.stdout
    assert error in proc.stdout


def test_the_root_identity_scans_with_a_warning(tmp_path, emulator):
    srv = emulator()
    proc = _scan(tmp_path, srv, ("LTAI-root", "root-secret"))
    assert proc.returncode in (0, 1), proc.stderr
    assert f"Warning: the caller is the root identity of account {MASTER}" in proc.stdout
    assert "use a RAM user or role" in proc.stdout
    assert any("root identity" in w for w in _report(tmp_path)["scan"]["warnings"])


def test_the_management_account_gets_no_caller_warning(tmp_path, emulator):
    srv = emulator()
    proc = _scan(tmp_path, srv, ("LTAI-auditor", "auditor-secret"))
    assert proc.returncode in (0, 1), proc.stderr
    assert "root identity" not in proc.stdout and "delegated" not in proc.stdout


# ---------------------------------------------------------------- HTTPS, CA bundle, AssumeRole


@pytest.fixture
def tls_emulator(emulator, tmp_path):
    return emulator(tls_dir=tmp_path / "tls")


def test_https_without_the_emulator_ca_says_ca_bundle(tmp_path, tls_emulator):
    proc = _scan(tmp_path, tls_emulator, ("LTAI-auditor", "auditor-secret"), "--protocol", "https")
    assert proc.returncode == 2, proc.stderr
    assert "--ca-bundle" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("how", ["--ca-bundle", "RDSCAN_CA_BUNDLE", "SSL_CERT_FILE"])
def test_role_arn_end_to_end_over_https_with_the_emulator_ca(tmp_path, tls_emulator, how):
    ca = str(tls_emulator.ca_path)
    extra = ["--ca-bundle", ca] if how == "--ca-bundle" else []
    env = {} if how == "--ca-bundle" else {how: ca}
    proc = _scan(
        tmp_path,
        tls_emulator,
        ("LTAI-assumer", "assumer-secret"),
        "--protocol", "https", "--role-arn", ROLE, *extra,
        **env,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    report = _report(tmp_path)
    assert report["scan"]["caller"]["arn"].startswith(
        "acs:ram::1512345678901234:assumed-role/rdscan-audit/"
    )
    assert report["summary"]["ERROR"] == 0
    assert tls_emulator.call_counts().get("AssumeRole") == 1


def test_an_assume_role_refusal_names_the_role_and_the_sts_error(tmp_path, tls_emulator):
    ca = str(tls_emulator.ca_path)
    proc = _scan(
        tmp_path,
        tls_emulator,
        ("LTAI-auditor", "auditor-secret"),  # not trusted by the role
        "--protocol", "https", "--role-arn", ROLE, "--ca-bundle", ca,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert f"Error: cannot assume role {ROLE}: STS AssumeRole answered " in proc.stderr
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" not in proc.stderr
    assert "auditor-secret" not in proc.stderr
