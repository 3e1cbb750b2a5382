"""The values the client hands out for the phone calls (pure; no SDK import).

Source: GetAccount, SendVerificationCodeForBindSecureMobilePhone and BindSecureMobilePhone of
ResourceDirectoryMaster 2022-04-19 (Alibaba Cloud API reference, Resource Management).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..findings import ReasonPart


@dataclass(frozen=True, slots=True)  # 50,000 of them are held by a scan
class AccountPhone:
    """What GetAccount 2022-04-19 says about a member's secure mobile phone, now.

    ``has_secure_mobile_phone`` is None when the response lacks the flag (never guessed).
    ``secure_mobile_phone_masked`` is the number masked (``86-139****1234``) or None: a full
    number never leaves the client. ``account_type`` is ResourceAccount | CloudAccount as
    GetAccount says it now (None: not reported). ``problem`` says why the flag is None (reason
    parts of ``scanner.reasons``; () when it is not None): absent, null, or not a JSON boolean
    (a string, a number, an object).
    """

    has_secure_mobile_phone: bool | None
    secure_mobile_phone_masked: str | None
    account_type: str | None = None
    member_status: str | None = None  # Status as GetAccount says it now (None: not reported)
    request_id: str = ""  # the RequestId of the GetAccount call that said all this
    problem: tuple[ReasonPart, ...] = ()


@dataclass(frozen=True)
class SentCode:
    """The answer to SendVerificationCodeForBindSecureMobilePhone.

    ``expires_at``: the code's expiry, RFC 3339 UTC as the API returned it (``ExpirationDate``;
    "" when absent). ``request_id``: the RequestId of the call.
    """

    expires_at: str
    request_id: str
