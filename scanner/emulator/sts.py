"""STS AssumeRole (2015-04-01) for the roles a fixture declares, and the sessions it issues.

Wire facts (alibabacloud_sts20150401 1.2.0 ``AssumeRoleRequest`` / ``AssumeRoleResponseBody``;
alibabacloud_credentials 1.0.12 ``provider/ram_role_arn.py``):

- Request: ``RoleArn``, ``RoleSessionName``, ``DurationSeconds`` (900 s up to the role's
  maximum; default 3600), optional ``Policy``, ``ExternalId``, ``SourceIdentity``. The
  credentials provider sends it as a legacy RPC GET (HMAC-SHA1) over HTTPS only.
- Response: ``{"RequestId", "AssumedRoleUser": {"Arn", "AssumedRoleId"}, "Credentials":
  {"AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}}``; ``Expiration`` in
  ``%Y-%m-%dT%H:%M:%SZ`` (the provider parses exactly that format).
- Errors (STS FAQ "common errors of AssumeRole"): NoPermission "Roles may not be assumed by
  root accounts."; NoPermission "No permission perform sts:AssumeRole on this Role..." (the
  role does not trust the caller); InvalidParameter.RoleSessionName (2-64 of
  ``[A-Za-z0-9.@_-]``); InvalidParameter.DurationSeconds. UNVERIFIED: the HTTP statuses (the
  FAQ gives none; the emulator answers 403 and 400) and the code for a role that does not
  exist (EntityNotExist.Role, 404).

The caller also needs ``sts:AssumeRole`` in its own ``allow`` list (RAM policy
AliyunSTSAssumeRoleAccess), checked like every other action. The session's key, secret and
token are then accepted by every action until ``Expiration`` (then InvalidSecurityToken.Expired),
with the role's ``allow`` list, as an AssumedRoleUser of the role's account. ``Policy`` is
accepted and not applied (UNVERIFIED shape; rdscan does not send one).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .errors import ApiFault, missing
from .fixture import CallerSpec, RoleSpec

if TYPE_CHECKING:
    from .api import Call

_SESSION_NAME = re.compile(r"^[A-Za-z0-9.@_-]{2,64}$")
MIN_DURATION_S = 900


def expiration(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def role_id_of(role: RoleSpec) -> str:
    if role.role_id:
        return role.role_id
    digest = int(hashlib.sha256(("role:" + role.arn).encode()).hexdigest()[:15], 16)
    return str(digest % 10**16).rjust(16, "3")


class SessionStore:
    """Temporary credentials issued by AssumeRole: access key id -> caller (with expiry)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, CallerSpec] = {}

    def issue(self, role: RoleSpec, session_name: str, duration_s: int) -> CallerSpec:
        role_id = role_id_of(role)
        caller = CallerSpec(
            access_key_id="STS." + secrets.token_hex(12),
            access_key_secret=secrets.token_urlsafe(30),
            arn=f"acs:ram::{role.account_id}:assumed-role/{role.name}/{session_name}",
            identity_type="AssumedRoleUser",
            allow=role.allow,
            account_id=role.account_id,
            security_token="CAIS" + secrets.token_urlsafe(90),
            role_id=role_id,
            principal_id=f"{role_id}:{session_name}",
            expires_at=self._clock() + duration_s,
        )
        with self._lock:
            now = self._clock()
            self._sessions = {
                k: v for k, v in self._sessions.items() if (v.expires_at or 0) > now - 3600
            }
            self._sessions[caller.access_key_id] = caller
        return caller

    def get(self, access_key_id: str) -> CallerSpec | None:
        with self._lock:
            return self._sessions.get(access_key_id)

    def tokens(self) -> list[str]:
        with self._lock:
            return [c.security_token for c in self._sessions.values() if c.security_token]

    def expire_all(self) -> None:
        """Make every issued session expired (tests)."""
        with self._lock:
            past = self._clock() - 1
            self._sessions = {k: replace(v, expires_at=past) for k, v in self._sessions.items()}


def assume_role(call: Call) -> dict[str, Any]:
    caller = call.caller
    if caller.identity_type == "Account":
        raise ApiFault("NoPermission", "Roles may not be assumed by root accounts.")
    arn = (call.params.get("RoleArn") or "").strip()
    if not arn:
        raise missing("RoleArn")
    session_name = (call.params.get("RoleSessionName") or "").strip()
    if not session_name:
        raise missing("RoleSessionName")
    if not _SESSION_NAME.match(session_name):
        raise ApiFault("InvalidParameter.RoleSessionName")
    role = call.state.fixture.role(arn)
    if role is None:
        raise ApiFault("EntityNotExist.Role", f"The role not exists: {arn[:200]}.")
    raw = (call.params.get("DurationSeconds") or "").strip() or "3600"
    try:
        duration = int(raw)
    except ValueError:
        raise ApiFault("InvalidParameter.DurationSeconds") from None
    if not MIN_DURATION_S <= duration <= role.max_session_duration_s:
        raise ApiFault(
            "InvalidParameter.DurationSeconds",
            f"The Min/Max value of DurationSeconds is {MIN_DURATION_S}/"
            f"{role.max_session_duration_s} seconds.",
        )
    if caller.access_key_id not in role.trusted_callers:
        raise ApiFault(
            "NoPermission",
            "No permission perform sts:AssumeRole on this Role. Maybe the role has not been "
            "authorized to be assumed by you. Please ensure the policy of the role is correct.",
        )
    session = call.state.sessions.issue(role, session_name, duration)
    body: dict[str, Any] = {
        "AssumedRoleUser": {"Arn": session.arn, "AssumedRoleId": session.principal_id},
        "Credentials": {
            "AccessKeyId": session.access_key_id,
            "AccessKeySecret": session.access_key_secret,
            "SecurityToken": session.security_token,
            "Expiration": expiration(session.expires_at or 0),
        },
    }
    source = (call.params.get("SourceIdentity") or "").strip()
    if source:
        body["SourceIdentity"] = source
    return body
