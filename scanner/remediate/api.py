"""The cloud as remediation sees it: a small protocol, and its adapter over RdClient."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..findings import Caller
from ..phones import mask_phone

SEND = "SendVerificationCodeForBindSecureMobilePhone"
BIND = "BindSecureMobilePhone"
GET_ACCOUNT = "GetAccount"

# ---- the cloud, as remediation sees it -----------------------------------------------------


@dataclass(frozen=True)
class PhoneState:
    has_secure_mobile_phone: bool | None
    secure_mobile_phone_masked: str | None
    account_type: str | None = None  # as GetAccount says now (None: not reported)


@dataclass(frozen=True)
class SentCode:
    expires_at: str  # RFC 3339 UTC as the API returned it ("" when absent)
    request_id: str


class RemediationApi(Protocol):
    def caller_identity(self) -> Caller: ...

    def get_account_phone(self, account_id: str) -> PhoneState: ...

    def send_code(self, account_id: str, phone_wire: str) -> SentCode: ...

    def bind(self, account_id: str, phone_wire: str, code: str) -> str: ...


class RdClientApi:
    """Adapter from ``scanner.client.RdClient`` to :class:`RemediationApi`."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def caller_identity(self) -> Caller:
        caller: Caller = self._client.caller_identity()
        return caller

    def get_account_phone(self, account_id: str) -> PhoneState:
        got = self._client.get_account_phone(account_id)
        return PhoneState(
            has_secure_mobile_phone=got.has_secure_mobile_phone,
            secure_mobile_phone_masked=mask_phone(got.secure_mobile_phone_masked),
            account_type=getattr(got, "account_type", None),
        )

    def send_code(self, account_id: str, phone_wire: str) -> SentCode:
        sent = self._client.send_verification_code(account_id, phone_wire)
        return SentCode(expires_at=str(sent.expiration or ""), request_id=str(sent.request_id))

    def bind(self, account_id: str, phone_wire: str, code: str) -> str:
        return str(self._client.bind_secure_mobile_phone(account_id, phone_wire, code))
