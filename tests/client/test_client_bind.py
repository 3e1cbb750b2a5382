"""Send/Bind through RdClient against the emulator, and the errors a remediation can meet."""

from __future__ import annotations

import pytest

from scanner.client.sdk import RdClient
from scanner.errors import ApiError, AuthError


@pytest.fixture
def directory(start_emulator, make_fixture):
    data = make_fixture(40)
    srv = start_emulator(data)
    unbound = next(
        a["id"]
        for a in data["accounts"]
        if a["type"] == "ResourceAccount"
        and a["status"] == "CreateSuccess"
        and not a.get("secure_mobile_phone")
    )
    return srv, unbound


def test_send_then_bind_then_getaccount_shows_the_phone(directory, make_settings):
    srv, account_id = directory
    client = RdClient(make_settings(srv, "operator"))
    assert client.get_account_phone(account_id).has_secure_mobile_phone is False
    sent = client.send_verification_code(account_id, "86-13900009999")
    assert sent.request_id
    assert sent.expires_at.endswith("Z")
    code = srv.outbox()[-1]["code"]
    request_id = client.bind_secure_mobile_phone(account_id, "86-13900009999", code)
    assert request_id
    phone = client.get_account_phone(account_id)
    assert phone.has_secure_mobile_phone is True
    assert phone.secure_mobile_phone_masked == "86-139****9999"
    assert client.api_calls() == {
        "GetAccount": 2,
        "SendVerificationCodeForBindSecureMobilePhone": 1,
        "BindSecureMobilePhone": 1,
    }


def test_a_wrong_code_is_a_business_error_not_retried(directory, make_settings):
    srv, account_id = directory
    client = RdClient(make_settings(srv, "operator"))
    client.send_verification_code(account_id, "86-13900009999")
    with pytest.raises(ApiError) as info:
        client.bind_secure_mobile_phone(account_id, "86-13900009999", "000000x")
    err = info.value
    assert err.code.startswith("Invalid")
    assert err.status is not None and 400 <= err.status < 500
    assert err.action == "BindSecureMobilePhone"
    assert client.api_calls()["BindSecureMobilePhone"] == 1


def test_auditor_may_not_bind_and_is_told_how_to_fix_it(directory, make_settings):
    srv, account_id = directory
    client = RdClient(make_settings(srv, "auditor"))
    with pytest.raises(AuthError) as info:
        client.send_verification_code(account_id, "86-13900009999")
    assert info.value.code == "NoPermission"
    assert info.value.status == 403
    assert "print-policy" in (info.value.hint or "")
    assert srv.outbox() == []


SEND = "SendVerificationCodeForBindSecureMobilePhone"


def test_send_and_bind_are_not_repeated_after_a_5xx(directory, make_settings):
    """A 5xx may have delivered the SMS (or bound): report it, never send a second time."""
    srv, account_id = directory
    client = RdClient(make_settings(srv, "operator"))
    srv.script_fault(action=SEND, count=1, code="ServiceUnavailable", status=503)
    with pytest.raises(ApiError) as err:
        client.send_verification_code(account_id, "86-13900009999")
    assert err.value.status == 503
    assert srv.call_counts()[SEND] == 1
    client.send_verification_code(account_id, "86-13900009999")
    code = srv.outbox()[-1]["code"]
    srv.script_fault(action="BindSecureMobilePhone", count=1, code="InternalError", status=500)
    with pytest.raises(ApiError):
        client.bind_secure_mobile_phone(account_id, "86-13900009999", code)
    assert srv.call_counts()["BindSecureMobilePhone"] == 1


def test_send_is_retried_after_throttling(directory, make_settings):
    """Throttling is answered before the call is processed, so a retry is safe."""
    srv, account_id = directory
    client = RdClient(make_settings(srv, "operator"))
    srv.script_fault(action=SEND, count=2, code="Throttling.User", status=400)
    sent = client.send_verification_code(account_id, "86-13900009999")
    assert sent.request_id
    assert srv.call_counts()[SEND] == 3
    assert len(srv.outbox()) == 1
