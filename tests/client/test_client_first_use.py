"""Bad input, credentials as a first user meets them: one clear message naming the problem and the
fix, a non-zero exit, nothing lost or half-written, no traceback (moved here from
test_ux_regressions.py)."""

from __future__ import annotations

import pytest

from ..cli_helpers import (
    _conn,
    _rdscan,
)


def test_role_arn_failure_prints_no_sdk_traceback_or_signed_url(emulator):
    srv = emulator()
    role = "acs:ram::1512345678901234:role/rdscan-audit"
    proc = _rdscan("scan", *_conn(srv), "--no-history", "--role-arn", role)
    assert proc.returncode == 2, proc.stderr
    # the failure names the role and STS's own error (this emulator build serves no AssumeRole)
    assert proc.stderr.startswith(f"Error: cannot assume role {role}: STS AssumeRole answered")
    assert "set ALIBABA_CLOUD_ACCESS_KEY_ID" not in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Signature=" not in proc.stderr and "AccessKeyId=" not in proc.stderr
    assert "auditor-secret" not in proc.stderr + proc.stdout


def test_a_corrupt_aliyun_cli_config_is_named_not_reported_as_a_missing_profile(
    tmp_path, monkeypatch
):
    from scanner.client.sdk import RdClient
    from scanner.client.settings import Settings
    from scanner.errors import CredentialsError

    (tmp_path / ".aliyun").mkdir()
    (tmp_path / ".aliyun" / "config.json").write_text('{"profiles": [ {"name": "audit", ')
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", str(tmp_path / "none.ini"))
    settings = Settings(endpoint="127.0.0.1:1", protocol="http", profile="audit")
    with pytest.raises(CredentialsError) as info:
        RdClient(settings).caller_identity()
    assert "is not a valid aliyun CLI config" in info.value.message
    assert info.value.hint is not None and "repair" in info.value.hint
