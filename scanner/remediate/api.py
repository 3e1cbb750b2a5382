"""The cloud as remediation sees it: a small protocol, and its adapter over RdClient.

The values are the client's own (``scanner.client.model``): one phone value type
(``AccountPhone``) and one send-code result (``SentCode``) for the whole package.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ..client.model import AccountPhone, SentCode
from ..findings import Caller

SEND = "SendVerificationCodeForBindSecureMobilePhone"
BIND = "BindSecureMobilePhone"
GET_ACCOUNT = "GetAccount"

__all__ = [
    "BIND",
    "GET_ACCOUNT",
    "SEND",
    "AccountPhone",
    "RdClientApi",
    "RemediationApi",
    "SentCode",
]


class RemediationApi(Protocol):
    def caller_identity(self) -> Caller: ...

    def get_account_phone(self, account_id: str) -> AccountPhone: ...

    def member_tags(self, account_id: str) -> Mapping[str, str]:
        """The member's tags as the API holds them now, values unmasked (memory only)."""
        ...

    def send_code(self, account_id: str, phone_wire: str) -> SentCode: ...

    def bind(self, account_id: str, phone_wire: str, code: str) -> str: ...


class RdClientApi:
    """Adapter from ``scanner.client.sdk.RdClient`` to :class:`RemediationApi` (names only: the
    client already returns these values, masked)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def caller_identity(self) -> Caller:
        caller: Caller = self._client.caller_identity()
        return caller

    def get_account_phone(self, account_id: str) -> AccountPhone:
        phone: AccountPhone = self._client.get_account_phone(account_id)
        return phone

    def member_tags(self, account_id: str) -> Mapping[str, str]:
        tags: Mapping[str, str] = self._client.get_account_tags(account_id)
        return tags

    def send_code(self, account_id: str, phone_wire: str) -> SentCode:
        sent: SentCode = self._client.send_verification_code(account_id, phone_wire)
        return sent

    def bind(self, account_id: str, phone_wire: str, code: str) -> str:
        return str(self._client.bind_secure_mobile_phone(account_id, phone_wire, code))

    def probe_send_bind(self, master_account_id: str) -> list[str]:
        """Send and Bind probed without sending or binding (``scanner.doctor``): one line for
        each the caller may not call, or whose permission could not be told."""
        from ..doctor import DENIED, probe_remediation

        problems = []
        for p in probe_remediation(self._client, master_account_id):
            if p.result == DENIED:
                problems.append(f"{p.action} is denied: {p.detail}")
            elif p.result != "allowed":
                problems.append(f"{p.action}: permission unknown: {p.detail}")
        return problems
