"""Send and Bind have the same bounds as the reads: a trickling, silent or huge answer ends
within the attempt deadline as a clear error, and neither call is ever repeated after it (the
code may have been sent, the phone bound)."""

from __future__ import annotations

import time

import pytest

from scanner.client.sdk import RdClient
from scanner.errors import ApiError, ConnectionFailed

from .conftest import fast_settings
from .proxy import Fault

SEND = "SendVerificationCodeForBindSecureMobilePhone"
BIND = "BindSecureMobilePhone"


def _operator(proxy):
    return RdClient(
        fast_settings(
            proxy,
            access_key_id="LTAI-operator",
            access_key_secret="operator-secret",
            attempt_timeout_s=1.0,
            max_attempts=5,
        )
    )


def _unbound(srv) -> str:
    return next(
        a.id
        for a in srv.state.accounts()
        if a.type == "ResourceAccount" and not a.secure_mobile_phone
    )


@pytest.mark.parametrize(
    ("fault", "error", "text"),
    [
        (
            Fault("trickle", interval_s=0.3, size=400),
            ConnectionFailed,
            "no complete answer within 1 s",
        ),
        (Fault("hang"), ConnectionFailed, "no complete answer within 1 s"),
        (Fault("huge", size=50 << 20), ApiError, "larger than the 4,194,304-byte cap"),
    ],
)
@pytest.mark.parametrize("action", [SEND, BIND])
def test_send_and_bind_are_bounded_and_never_repeated(faulty, action, fault, error, text):
    srv, proxy = faulty(6)
    proxy.add(action, fault)
    client = _operator(proxy)
    aid = _unbound(srv)
    started = time.monotonic()
    with pytest.raises(error) as raised:
        if action == SEND:
            client.send_verification_code(aid, "86-13900001111")
        else:
            client.bind_secure_mobile_phone(aid, "86-13900001111", "123456")
    assert time.monotonic() - started < 5
    assert text in str(raised.value)
    assert len(proxy.calls(action)) == 1, "a call that may have done its work was repeated"
