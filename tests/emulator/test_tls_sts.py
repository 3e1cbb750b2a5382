"""HTTPS with the emulator's private CA, and STS AssumeRole for fixture roles (issue 9, point 5).
Official SDKs (and alibabacloud_credentials' RamRoleArn provider) over real HTTPS."""

from __future__ import annotations

import calendar
import os
import signal
import subprocess
import sys
import time

import pytest
from alibabacloud_credentials.client import Client as CredClient
from alibabacloud_credentials.models import Config as CredConfig
from alibabacloud_resourcedirectorymaster20220419 import models as rdm_models
from alibabacloud_resourcedirectorymaster20220419.client import Client as RdmClient
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_resourcemanager20200331.client import Client as RmClient
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config
from darabonba.exceptions import UnretryableException

MASTER = "1512345678901234"
ROLE = f"acs:ram::{MASTER}:role/rdscan-audit"
ASSUMER = ("LTAI-assumer", "assumer-secret")


def _config(srv, key, secret, token=None, ca=True):
    return Config(
        access_key_id=key,
        access_key_secret=secret,
        security_token=token,
        endpoint=srv.endpoint,
        protocol=srv.protocol,
        ca=str(srv.ca_path) if ca and srv.ca_path else None,
    )


def _assume(srv, caller=ASSUMER, arn=ROLE, session="rdscan-test", duration=None):
    client = StsClient(_config(srv, *caller))
    return client.assume_role(
        sts_models.AssumeRoleRequest(
            role_arn=arn, role_session_name=session, duration_seconds=duration
        )
    ).body


def _error(call) -> ClientException:
    with pytest.raises(ClientException) as err:
        call()
    return err.value


@pytest.fixture
def https(emulator, tmp_path):
    return emulator(tls_dir=tmp_path / "tls", rate_limit=0)


def test_https_with_the_emulators_ca(https, tmp_path):
    ca = tmp_path / "tls" / "ca.pem"
    assert https.ca_path == ca and ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert https.url.startswith("https://127.0.0.1:")
    # without the CA the certificate does not verify (first: the SDK caches one SSL context
    # per host:port and adds each CA it is given to it); plain HTTP to it gets no answer
    untrusting = RmClient(_config(https, "LTAI-auditor", "auditor-secret", ca=False))
    with pytest.raises(UnretryableException, match="CERTIFICATE_VERIFY_FAILED"):
        untrusting.get_resource_directory()
    plain = _config(https, "LTAI-auditor", "auditor-secret", ca=False)
    plain.protocol = "http"
    plain.read_timeout = 2000
    with pytest.raises(UnretryableException):
        RmClient(plain).get_resource_directory()
    client = RmClient(_config(https, "LTAI-auditor", "auditor-secret"))
    assert client.list_accounts(rm_models.ListAccountsRequest(page_size=3)).body.total_count == 59


def test_assume_role_documented_shape_and_the_session_works(https):
    before = time.time()
    body = _assume(https, duration=1200)
    creds = body.credentials
    assert creds.access_key_id.startswith("STS.") and creds.access_key_secret
    assert creds.security_token
    expires = calendar.timegm(time.strptime(creds.expiration, "%Y-%m-%dT%H:%M:%SZ"))
    assert before + 1200 - 2 <= expires <= time.time() + 1200 + 1
    assert body.assumed_role_user.arn == f"acs:ram::{MASTER}:assumed-role/rdscan-audit/rdscan-test"
    assert body.assumed_role_user.assumed_role_id.endswith(":rdscan-test")
    session = (creds.access_key_id, creds.access_key_secret, creds.security_token)
    who = StsClient(_config(https, *session)).get_caller_identity().body
    assert (who.identity_type, who.account_id) == ("AssumedRoleUser", MASTER)
    assert who.arn == body.assumed_role_user.arn
    assert who.principal_id == body.assumed_role_user.assumed_role_id
    rdm = RdmClient(_config(https, *session))
    acc = rdm.get_account(rdm_models.GetAccountRequest(account_id=MASTER)).body.account
    assert acc.account_id == MASTER
    # the role's allow list applies: read-only
    err = _error(
        lambda: rdm.bind_secure_mobile_phone(
            rdm_models.BindSecureMobilePhoneRequest(
                account_id="1000000000293003",
                secure_mobile_phone="86-13900001234",
                verification_code="123456",
            )
        )
    )
    assert (err.code, err.status_code) == ("NoPermission", 403)
    # a token that is not the session's, and an expired session
    err = _error(lambda: RmClient(_config(https, *session[:2], "forged")).get_resource_directory())
    assert err.code == "InvalidSecurityToken.Malformed"
    https.state.sessions.expire_all()
    err = _error(lambda: rdm.get_account(rdm_models.GetAccountRequest(account_id=MASTER)))
    assert err.code == "InvalidSecurityToken.Expired"


def test_assume_role_refusals(https):
    err = _error(lambda: _assume(https, caller=("LTAI-member", "member-secret")))
    assert (err.code, err.status_code) == ("NoPermission", 403)
    assert "No permission perform sts:AssumeRole on this Role" in err.data["Message"]
    err = _error(lambda: _assume(https, caller=("LTAI-root", "root-secret")))
    assert err.data["Message"] == "Roles may not be assumed by root accounts."
    err = _error(lambda: _assume(https, caller=("LTAI-auditor", "auditor-secret")))
    assert err.code == "NoPermission" and err.access_denied_detail["AuthAction"] == "sts:AssumeRole"
    err = _error(lambda: _assume(https, arn=f"acs:ram::{MASTER}:role/nope"))
    assert (err.code, err.status_code) == ("EntityNotExist.Role", 404)
    err = _error(lambda: _assume(https, duration=600))
    assert err.code == "InvalidParameter.DurationSeconds"
    err = _error(lambda: _assume(https, session="a"))
    assert err.code == "InvalidParameter.RoleSessionName"


def test_a_session_shares_its_accounts_quota(emulator, tmp_path):
    srv = emulator(tls_dir=tmp_path, rate_limits={"GetResourceDirectory": 1})
    creds = _assume(srv).credentials
    RmClient(_config(srv, "LTAI-auditor", "auditor-secret")).get_resource_directory()
    session = RmClient(
        _config(srv, creds.access_key_id, creds.access_key_secret, creds.security_token)
    )
    assert _error(session.get_resource_directory).code == "Throttling.User"


def test_credentials_ram_role_arn_provider_end_to_end(https, monkeypatch):
    """alibabacloud_credentials forces HTTPS for AssumeRole; it trusts the default verify
    paths (SSL_CERT_FILE) and certifi."""
    monkeypatch.setenv("SSL_CERT_FILE", str(https.ca_path))
    cred = CredClient(
        CredConfig(
            type="ram_role_arn",
            access_key_id=ASSUMER[0],
            access_key_secret=ASSUMER[1],
            role_arn=ROLE,
            role_session_name="rdscan-provider",
            sts_endpoint=https.endpoint,
        )
    )
    config = Config(
        credential=cred, endpoint=https.endpoint, protocol="https", ca=str(https.ca_path)
    )
    who = StsClient(config).get_caller_identity().body
    assert who.arn == f"acs:ram::{MASTER}:assumed-role/rdscan-audit/rdscan-provider"
    body = RmClient(config).list_accounts(rm_models.ListAccountsRequest(page_size=1)).body
    assert body.total_count == 59
    assert https.call_counts()["AssumeRole"] == 1


def _rdscan_cmd():
    exe = os.path.join(os.path.dirname(sys.executable), "rdscan")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "scanner"]


def test_serve_tls_dir_subprocess(tmp_path):
    tls = tmp_path / "new" / "tls"
    proc = subprocess.Popen(
        [*_rdscan_cmd(), "emulator", "serve", "--port", "0", "--tls-dir", str(tls)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        prefix = "rdscan emulator listening on https://"
        assert line.startswith(prefix), (line, proc.stderr.read() if proc.poll() else "")
        endpoint = line.strip()[len(prefix) :]
        assert endpoint.startswith("127.0.0.1:")
        client = RmClient(
            Config(
                access_key_id="LTAI-auditor",
                access_key_secret="auditor-secret",
                endpoint=endpoint,
                protocol="https",
                ca=str(tls / "ca.pem"),
            )
        )
        assert client.get_resource_directory().body.resource_directory.master_account_id == MASTER
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert f"CA certificate: {tls / 'ca.pem'}" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_clock_skew_moves_the_date_header_and_the_timestamp_check(emulator, rm):
    import http.client
    from email.utils import parsedate_to_datetime

    srv = emulator(clock_skew_s=600)
    conn = http.client.HTTPConnection(*srv.address, timeout=5)
    conn.request("POST", "/?Action=GetResourceDirectory&Version=2020-03-31")
    resp = conn.getresponse()
    resp.read()
    conn.close()
    offset = parsedate_to_datetime(resp.getheader("Date")).timestamp() - time.time()
    assert 595 <= offset <= 602
    assert rm(srv).get_resource_directory().body.request_id  # 10 min: within the 15 allowed
    late = emulator(clock_skew_s=-1200)
    with pytest.raises(ClientException) as err:
        rm(late).get_resource_directory()
    assert err.value.code == "InvalidTimeStamp.Expired"


def test_cli_refuses_a_clock_skew_that_is_not_a_number():
    from click.testing import CliRunner

    from scanner.cli import main

    for bad in ("nan", "soon", "1e12"):
        result = CliRunner().invoke(main, ["emulator", "serve", "--clock-skew", bad])
        assert result.exit_code == 2 and "--clock-skew" in result.output, result.output
