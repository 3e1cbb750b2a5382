"""RdClient against the emulator over HTTP: identity, error mapping, hints, credentials."""

from __future__ import annotations

import os
import socket

import pytest

from scanner.client.sdk import RdClient
from scanner.client.settings import Settings
from scanner.errors import (
    ApiError,
    AuthError,
    ConnectionFailed,
    CredentialsError,
    NotFound,
    TlsError,
)
from scanner.inventory.collect import collect


@pytest.fixture
def small(start_emulator, make_fixture):
    data = make_fixture(12)
    return data, start_emulator(data)


def test_caller_identity_and_directory(small, make_settings):
    _, srv = small
    client = RdClient(make_settings(srv))
    caller = client.caller_identity()
    assert caller.arn == "acs:ram::1512345678901234:user/auditor"
    assert caller.account_id == "1512345678901234"
    assert caller.identity_type == "RAMUser"
    rd = client.get_resource_directory()
    assert (rd.id, rd.root_folder_id, rd.master_account_id) == (
        "rd-3G6R01",
        "r-Wm0001",
        "1512345678901234",
    )
    assert client.api_calls() == {"GetCallerIdentity": 1, "GetResourceDirectory": 1}


def test_wrong_secret_is_an_auth_error_naming_the_secret(small, make_settings):
    _, srv = small
    settings = make_settings(srv, access_key_secret="not-the-secret")
    with pytest.raises(AuthError) as info:
        RdClient(settings).get_resource_directory()
    err = info.value
    assert err.code == "SignatureDoesNotMatch"
    assert err.status == 400
    assert err.request_id
    assert err.action == "GetResourceDirectory"
    assert "secret" in (err.hint or "")
    assert "not-the-secret" not in str(err) + (err.hint or "")


def test_unknown_key_is_an_auth_error(small, make_settings):
    _, srv = small
    settings = make_settings(srv, access_key_id="LTAI-nobody")
    with pytest.raises(AuthError) as info:
        RdClient(settings).caller_identity()
    assert info.value.code.startswith("InvalidAccessKeyId")
    assert "ACCESS_KEY_ID" in (info.value.hint or "")
    assert RdClient(settings).throttled_count() == 0


def test_outsider_gets_not_found_with_the_management_account_hint(small, make_settings):
    _, srv = small
    client = RdClient(make_settings(srv, "outsider"))
    with pytest.raises(NotFound) as info:
        collect(client, concurrency=2)
    assert info.value.code in ("ResourceDirectoryNotInUse", "EntityNotExists.ResourceDirectory")
    assert "management account" in (info.value.hint or "")
    # a business error is never retried
    assert client.api_calls() == {"GetResourceDirectory": 1}
    assert srv.call_counts().get("GetResourceDirectory") == 1


def test_raw_message_not_the_decorated_one(small, make_settings):
    _, srv = small
    with pytest.raises(NotFound) as info:
        RdClient(make_settings(srv)).get_account_phone("1999999999999999")
    err = info.value
    assert err.code == "EntityNotExists.Account"
    assert not err.message.startswith("code:")
    assert "request id" not in err.message


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_endpoint_is_connection_failed():
    settings = Settings(
        endpoint=f"127.0.0.1:{_closed_port()}",
        protocol="http",
        access_key_id="LTAI-auditor",
        access_key_secret="auditor-secret",
        max_attempts=2,
        retry_base_s=0.01,
        connect_timeout_ms=1000,
    )
    client = RdClient(settings)
    with pytest.raises(ConnectionFailed) as info:
        client.get_resource_directory()
    assert "--endpoint" in (info.value.hint or "")
    assert "gave up after 2 attempts" in info.value.message
    assert client.api_calls() == {"GetResourceDirectory": 2}  # connection errors are retried


def test_https_against_the_plain_http_emulator_says_use_http(small):
    _, srv = small
    settings = Settings(
        endpoint=srv.endpoint, access_key_id="LTAI-auditor", access_key_secret="auditor-secret"
    )
    with pytest.raises(TlsError) as info:  # configuration (exit 2), not an outage (exit 3)
        RdClient(settings).get_resource_directory()
    assert "--protocol http" in (info.value.hint or "")
    assert info.value.exit_code == 2


def test_missing_credentials_is_a_credentials_error(small):
    _, srv = small
    client = RdClient(Settings(endpoint=srv.endpoint, protocol="http"))
    with pytest.raises(CredentialsError) as info:
        client.get_resource_directory()
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" in (info.value.hint or "")
    assert srv.call_counts() == {}
    assert client.api_calls() == {}


def test_half_an_access_key_is_a_credentials_error(small):
    _, srv = small
    settings = Settings(endpoint=srv.endpoint, protocol="http", access_key_id="LTAI-auditor")
    with pytest.raises(CredentialsError):
        RdClient(settings).caller_identity()


def test_unknown_profile_is_a_credentials_error(small, tmp_path, monkeypatch):
    _, srv = small
    monkeypatch.setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", str(tmp_path / "credentials.ini"))
    settings = Settings(endpoint=srv.endpoint, protocol="http", profile="nope")
    with pytest.raises(CredentialsError) as info:
        RdClient(settings).caller_identity()
    assert "nope" in info.value.message


def test_profile_from_a_credentials_ini(small, tmp_path, monkeypatch):
    _, srv = small
    ini = tmp_path / "credentials.ini"
    ini.write_text(
        "[scan]\ntype = access_key\naccess_key_id = LTAI-auditor\n"
        "access_key_secret = auditor-secret\n"
    )
    monkeypatch.setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", str(ini))
    settings = Settings(endpoint=srv.endpoint, protocol="http", profile="scan")
    assert RdClient(settings).caller_identity().arn.endswith("user/auditor")


def test_a_broken_profile_is_a_credentials_error(small, tmp_path, monkeypatch):
    _, srv = small
    ini = tmp_path / "credentials.ini"
    ini.write_text("[scan]\ntype = something_else\n")
    monkeypatch.setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", str(ini))
    settings = Settings(endpoint=srv.endpoint, protocol="http", profile="scan")
    with pytest.raises(CredentialsError):
        RdClient(settings).caller_identity()


def test_role_arn_that_cannot_be_assumed_is_a_credentials_error(small, make_settings):
    # the emulator has no AssumeRole (and speaks plain HTTP): the failure must be clean
    _, srv = small
    settings = make_settings(srv, role_arn="acs:ram::1512345678901234:role/rdscan-audit")
    with pytest.raises(CredentialsError) as info:
        RdClient(settings).caller_identity()
    assert "auditor-secret" not in info.value.message
    assert "AccessKeyId=" not in info.value.message and "Signature=" not in info.value.message
    assert srv.call_counts().get("GetCallerIdentity") is None


def test_a_proxy_in_the_environment_is_not_used_for_the_local_emulator(
    small, make_settings, monkeypatch
):
    _, srv = small
    # a closed port: a request sent to this "proxy" would fail
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{_closed_port()}")
    client = RdClient(make_settings(srv, max_attempts=1))
    assert client.caller_identity().account_id == "1512345678901234"


@pytest.fixture
def html_proxy():
    """A real local HTTP server answering every request like a broken proxy: 502 with HTML."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class BadGateway(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), BadGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_non_json_error_page_is_an_api_error_retried_not_a_traceback(html_proxy):
    settings = Settings(
        endpoint=html_proxy,
        protocol="http",
        access_key_id="LTAI-auditor",
        access_key_secret="auditor-secret",
        max_attempts=3,
        retry_base_s=0.01,
    )
    client = RdClient(settings)
    with pytest.raises(ApiError) as info:
        client.get_resource_directory()
    assert "unreadable response" in info.value.message
    assert "gave up after 3 attempts" in info.value.message
    assert client.api_calls() == {"GetResourceDirectory": 3}  # transient: retried


def test_a_non_json_getaccount_answer_is_an_api_error_for_that_member(html_proxy):
    settings = Settings(
        endpoint=html_proxy,
        protocol="http",
        access_key_id="LTAI-auditor",
        access_key_secret="auditor-secret",
        max_attempts=1,
    )
    with pytest.raises(ApiError) as info:
        RdClient(settings).get_account_phone("1000000000000001")
    assert info.value.action == "GetAccount"


def test_a_malformed_sts_answer_never_puts_its_secret_into_the_error():
    """alibabacloud_credentials quotes the whole AssumeRole body when it lacks a field (here the
    SecurityToken): the temporary AccessKeySecret in it must not reach the printed error."""
    from alibabacloud_credentials.exceptions import CredentialException

    from scanner.client.sdk import _classify

    body = (
        '{"RequestId": "6894B13B", "Credentials": {"AccessKeyId": "STS.NUgYrLnoC37mZZ", '
        '"AccessKeySecret": "sts-temp-secret-42", "Expiration": "2026-11-27T23:00:00Z"}}'
    )
    exc = CredentialException(f"error retrieving credentials from ram_role_arn result: {body}")
    failure = _classify(exc, "GetAccount")
    assert isinstance(failure.error, CredentialsError) and not failure.retryable
    assert "sts-temp-secret-42" not in str(failure.error)
    assert "ram_role_arn" in str(failure.error)  # still says what failed
    token = CredentialException("result: SecurityToken=CAIS-token-value&Signature=abc%2F")
    text = str(_classify(token, "GetAccount").error)
    assert "CAIS-token-value" not in text and "abc%2F" not in text


def test_a_business_error_with_a_retry_after_header_is_not_retried(small, make_settings):
    """x-acs-retry-after paces a retry of a throttled call; on a 4xx business error (here the
    member is gone) it does not make the error worth retrying, nor count as throttling."""
    data, srv = small
    srv.script_fault("GetAccount", 5, "EntityNotExists.Account", status=404, retry_after_ms=20)
    client = RdClient(make_settings(srv, max_attempts=4))
    with pytest.raises(NotFound) as info:
        client.get_account_phone(data["accounts"][0]["id"])
    assert info.value.code == "EntityNotExists.Account"
    assert client.api_calls() == {"GetAccount": 1}
    assert client.throttled_count() == 0


def test_the_retry_budget_counts_from_the_first_attempt_not_the_wait_for_a_token(
    small, make_settings
):
    """--retry-budget bounds the time a call spends retrying. Waiting for its turn in the
    client's own rate limiter (long with a low --rate and many workers) is not retrying: a call
    that waited longer than the budget must still get its retries."""
    data, srv = small
    now = [0.0]  # a fake clock that the client's sleeps advance: no real waiting

    def sleep(seconds: float) -> None:
        now[0] += seconds

    settings = make_settings(srv, rate=0.1, retry_budget_s=5.0, max_attempts=3)
    client = RdClient(settings, clock=lambda: now[0], sleep=sleep)
    client.get_account_phone(data["accounts"][0]["id"])  # takes the token: the next waits 10 s
    srv.script_fault("GetAccount", 1, "ServiceUnavailable", status=503)
    phone = client.get_account_phone(data["accounts"][1]["id"])
    assert phone.has_secure_mobile_phone is not None
    assert client.api_calls() == {"GetAccount": 3}


def test_the_loopback_proxy_bypass_leaves_the_process_environment_alone(
    small, make_settings, monkeypatch
):
    _, srv = small
    proxy = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.setenv("http_proxy", proxy)
    client = RdClient(make_settings(srv, max_attempts=1))
    assert client.caller_identity().account_id == "1512345678901234"
    assert os.environ["HTTPS_PROXY"] == proxy and os.environ["http_proxy"] == proxy
