"""Who is calling: verify the ACS3 or legacy RPC signature, the timestamp, nonce and STS token."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from typing import Any

from . import signing
from .errors import ApiFault
from .fixture import CallerSpec, Fixture
from .sts import SessionStore

MAX_SKEW_S = 15 * 60


@dataclass(frozen=True)
class Incoming:
    """One request as it arrived. ``query`` and ``form`` are decoded (key, value) pairs."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    form: tuple[tuple[str, str], ...]
    body: bytes
    header_values: Callable[[str], list[str]]

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return values[0] if values else None

    @cached_property
    def params(self) -> dict[str, str]:
        """API parameters: the form body, then the query (the query wins); first value of each."""
        merged: dict[str, str] = {}
        for k, v in self.form:
            merged.setdefault(k, v)
        seen: set[str] = set()
        for k, v in self.query:
            if k not in seen:
                merged[k] = v
                seen.add(k)
        return merged


def signature_mismatch(string_to_sign: str, why: str = "") -> ApiFault:
    base = "Specified signature is not matched with our calculation."
    if why:
        base += f" {why}"
    return ApiFault("SignatureDoesNotMatch", f"{base} server string to sign is:{string_to_sign}")


def _parse_time(value: str | None) -> float:
    if not value:
        raise ApiFault("InvalidTimeStamp.Format")
    text = value.strip()
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            continue
    try:  # ISO 8601 with an explicit offset (+08:00)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ApiFault("InvalidTimeStamp.Format") from None
    if parsed.tzinfo is None:
        raise ApiFault("InvalidTimeStamp.Format")
    return parsed.timestamp()


class Authenticator:
    def __init__(
        self,
        fixture: Fixture,
        clock: Callable[[], float] = time.time,
        sessions: SessionStore | None = None,
    ) -> None:
        self._fixture = fixture
        self._sessions = sessions or SessionStore(clock)
        self._clock = clock
        self._lock = threading.Lock()
        self._nonces: dict[tuple[str, str], float] = {}
        self._next_prune = 0.0

    def authenticate(self, req: Incoming) -> CallerSpec:
        authorization = req.header("authorization")
        if authorization:
            return self._acs3(req, authorization)
        params = req.params
        if "Signature" in params or "AccessKeyId" in params:
            return self._rpc(req, params)
        raise ApiFault("MissingAccessKeyId")

    # ---- ACS3 (section 4.4) -----------------------------------------------------------
    def _acs3(self, req: Incoming, authorization: str) -> CallerSpec:
        auth = signing.parse_authorization(authorization)
        if auth is None:
            raise ApiFault("IncompleteSignature")
        if auth.algorithm not in signing.ACS3_ALGORITHMS:
            raise ApiFault("InvalidSignatureMethod")
        caller = self._caller(auth.access_key_id)
        payload_hash = signing.hash_hex(auth.algorithm, req.body)
        string_to_sign = signing.acs3_string_to_sign(
            algorithm=auth.algorithm,
            method=req.method,
            path=req.path,
            query=(*req.query, *self._signed_form(req)),
            header_values=req.header_values,
            signed_headers=auth.signed_headers,
            hashed_payload=req.header("x-acs-content-sha256") or payload_hash,
        )
        declared = req.header("x-acs-content-sha256")
        if declared is not None and declared.strip().lower() != payload_hash:
            raise signature_mismatch(
                string_to_sign, "The x-acs-content-sha256 header does not match the body."
            )
        expected = signing.acs3_signature(auth.algorithm, caller.access_key_secret, string_to_sign)
        if not signing.signatures_equal(expected, auth.signature.lower()):
            raise signature_mismatch(string_to_sign)
        self._check_time(req.header("x-acs-date"))
        self._check_nonce(caller, req.header("x-acs-signature-nonce"))
        self._check_token(caller, req.header("x-acs-security-token"))
        return caller

    @staticmethod
    def _signed_form(req: Incoming) -> tuple[tuple[str, str], ...]:
        # The ACS3 canonical query covers only the query string; a form body is covered by
        # the payload hash. Kept as a hook: nothing extra is signed.
        return ()

    # ---- legacy RPC HMAC-SHA1 (section 4.6) ---------------------------------------------
    def _rpc(self, req: Incoming, params: dict[str, str]) -> CallerSpec:
        key_id = params.get("AccessKeyId")
        if not key_id:
            raise ApiFault("MissingAccessKeyId")
        method = params.get("SignatureMethod", "HMAC-SHA1")
        if method != "HMAC-SHA1":
            raise ApiFault("InvalidSignatureMethod")
        signature = params.get("Signature")
        if not signature:
            raise ApiFault("IncompleteSignature")
        caller = self._caller(key_id)
        pairs = [(k, v) for k, v in (*req.form, *req.query) if k != "Signature"]
        string_to_sign = signing.rpc_string_to_sign(req.method, pairs)
        expected = signing.rpc_signature(caller.access_key_secret, string_to_sign)
        if not signing.signatures_equal(expected, signature):
            raise signature_mismatch(string_to_sign)
        self._check_time(params.get("Timestamp"))
        self._check_nonce(caller, params.get("SignatureNonce"))
        self._check_token(caller, params.get("SecurityToken"))
        return caller

    def update_caller(self, access_key_id: str, **changes: Any) -> None:
        """Replace a caller of the fixture (e.g. ``active=False``); KeyError when unknown."""
        with self._lock:
            callers = self._fixture.callers
            if not any(c.access_key_id == access_key_id for c in callers):
                raise KeyError(access_key_id)
            self._fixture = dataclasses.replace(
                self._fixture,
                callers=tuple(
                    dataclasses.replace(c, **changes) if c.access_key_id == access_key_id else c
                    for c in callers
                ),
            )

    # ---- shared checks ---------------------------------------------------------------------
    def _caller(self, key_id: str) -> CallerSpec:
        caller = self._fixture.caller(key_id) or self._sessions.get(key_id)
        if caller is None:
            raise ApiFault("InvalidAccessKeyId.NotFound")
        if not caller.active:
            raise ApiFault("InvalidAccessKeyId.Inactive")
        return caller

    def _check_time(self, value: str | None) -> None:
        when = _parse_time(value)
        if abs(self._clock() - when) > MAX_SKEW_S:
            raise ApiFault("InvalidTimeStamp.Expired")

    def _check_nonce(self, caller: CallerSpec, nonce: str | None) -> None:
        if not nonce:
            raise ApiFault("MissingSignatureNonce")
        now = self._clock()
        key = (caller.access_key_id, nonce)
        with self._lock:
            if now >= self._next_prune:
                self._nonces = {k: t for k, t in self._nonces.items() if t > now}
                self._next_prune = now + 60
            if self._nonces.get(key, 0) > now:
                raise ApiFault("SignatureNonceUsed")
            self._nonces[key] = now + 2 * MAX_SKEW_S

    def _check_token(self, caller: CallerSpec, token: str | None) -> None:
        """A token of another caller: MismatchWithAccessKey; one nobody issued: Malformed."""
        if caller.security_token is None:
            if token:
                raise ApiFault(self._token_problem(token))
            return
        if not token:
            raise ApiFault("MissingSecurityToken")
        if not signing.signatures_equal(token, caller.security_token):
            raise ApiFault(self._token_problem(token))
        if caller.security_token_expired or (
            caller.expires_at is not None and caller.expires_at <= self._clock()
        ):
            raise ApiFault("InvalidSecurityToken.Expired")

    def _token_problem(self, token: str) -> str:
        known = [c.security_token for c in self._fixture.callers if c.security_token]
        issued = any(signing.signatures_equal(token, t) for t in (*known, *self._sessions.tokens()))
        return (
            "InvalidSecurityToken.MismatchWithAccessKey"
            if issued
            else ("InvalidSecurityToken.Malformed")
        )
