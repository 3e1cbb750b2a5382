"""Signature algorithms, server side: ACS3-HMAC-SHA256 (and -SM3) and the legacy RPC HMAC-SHA1.

Pure functions: given what arrived, build the string to sign and the expected signature.
The algorithms follow alibaba-rd-api.md sections 4.4 (ACS3) and 4.6 (RPC v1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def percent_encode(value: str) -> str:
    """RFC 3986: everything except A-Z a-z 0-9 - _ . ~ becomes %XX (uppercase hex)."""
    return quote(value, safe="~", encoding="utf-8")


def _sm3_available() -> bool:
    try:
        hashlib.new("sm3")
    except ValueError:
        return False
    return True


_HASHES: dict[str, str] = {"ACS3-HMAC-SHA256": "sha256"}
if _sm3_available():
    _HASHES["ACS3-HMAC-SM3"] = "sm3"

ACS3_ALGORITHMS = tuple(_HASHES)


def hash_hex(algorithm: str, data: bytes) -> str:
    return hashlib.new(_HASHES[algorithm], data).hexdigest()


@dataclass(frozen=True)
class Authorization:
    algorithm: str
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> Authorization | None:
    """``<ALG> Credential=<AK>,SignedHeaders=<a;b>,Signature=<hex>``; None if malformed."""
    alg, _, rest = value.strip().partition(" ")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key.strip()] = val.strip()
    if not alg or not {"Credential", "SignedHeaders", "Signature"} <= set(fields):
        return None
    names = tuple(h.strip().lower() for h in fields["SignedHeaders"].split(";") if h.strip())
    return Authorization(alg, fields["Credential"], names, fields["Signature"])


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def acs3_string_to_sign(
    *,
    algorithm: str,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    header_values: Callable[[str], list[str]],
    signed_headers: tuple[str, ...],
    hashed_payload: str,
) -> str:
    """Steps 3-7 of section 4.4. ``header_values(name)`` returns every value received."""
    lines = []
    for name in signed_headers:
        values = sorted(v.strip() for v in header_values(name))
        lines.append(f"{name}:{','.join(values)}\n")
    canonical_request = "\n".join(
        [
            method.upper(),
            path or "/",
            canonical_query(query),
            "".join(lines),
            ";".join(signed_headers),
            hashed_payload,
        ]
    )
    return f"{algorithm}\n{hash_hex(algorithm, canonical_request.encode('utf-8'))}"


def acs3_signature(algorithm: str, secret: str, string_to_sign: str) -> str:
    digest = _HASHES[algorithm]
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), digest).hexdigest()


def rpc_string_to_sign(method: str, params: Iterable[tuple[str, str]]) -> str:
    """Legacy RPC v1: ``METHOD&%2F&percent(sorted k=v joined by &)``; Signature excluded."""
    canonical = canonical_query((k, v) for k, v in params if k != "Signature")
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical)}"


def rpc_signature(secret: str, string_to_sign: str) -> str:
    mac = hmac.new(f"{secret}&".encode(), string_to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def signatures_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
