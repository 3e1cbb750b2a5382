"""Helpers for the emulator contract tests: SDK client factories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from alibabacloud_resourcedirectorymaster20220419.client import Client as RdmClient
from alibabacloud_resourcemanager20200331.client import Client as RmClient
from alibabacloud_sts20150401.client import Client as StsClient


@pytest.fixture
def rm(sdk_config: Callable[..., Any]) -> Callable[..., RmClient]:
    """``rm(srv, caller="auditor", **config)`` -> ResourceManager 2020-03-31 client."""
    return lambda srv, caller="auditor", **kw: RmClient(sdk_config(srv, caller, **kw))


@pytest.fixture
def rdm(sdk_config: Callable[..., Any]) -> Callable[..., RdmClient]:
    """``rdm(srv, caller="auditor", **config)`` -> ResourceDirectoryMaster 2022-04-19 client."""
    return lambda srv, caller="auditor", **kw: RdmClient(sdk_config(srv, caller, **kw))


@pytest.fixture
def sts(sdk_config: Callable[..., Any]) -> Callable[..., StsClient]:
    """``sts(srv, caller="auditor", **config)`` -> STS 2015-04-01 client."""
    return lambda srv, caller="auditor", **kw: StsClient(sdk_config(srv, caller, **kw))


# ---- raw HTTP requests, signed by hand (for what an SDK cannot be made to send) -------------
import hashlib  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

from scanner.emulator import signing  # noqa: E402


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _send(srv: Any, method: str, target: str, body: bytes, headers: dict[str, str]):
    conn = http.client.HTTPConnection(*srv.address, timeout=10)
    try:
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, json.loads(data), {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


@pytest.fixture
def acs3_call() -> Callable[..., Any]:
    """``acs3_call(srv, action, params=None, *, version, key, secret, date, nonce, token,
    body, content_sha256, sign_secret)`` -> (status, json, headers): an ACS3-signed POST."""

    def call(
        srv: Any,
        action: str,
        params: dict[str, str] | None = None,
        *,
        version: str = "2020-03-31",
        key: str = "LTAI-auditor",
        secret: str = "auditor-secret",
        date: str | None = None,
        nonce: str | None = None,
        token: str | None = None,
        body: bytes = b"",
        content_sha256: str | None = None,
        content_type: str | None = None,
        method: str = "POST",
    ):
        query = sorted((params or {}).items())
        headers = {
            "host": srv.endpoint,
            "x-acs-action": action,
            "x-acs-version": version,
            "x-acs-date": date or _now(),
            "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
            "x-acs-content-sha256": content_sha256 or hashlib.sha256(body).hexdigest(),
            "accept": "application/json",
        }
        if token is not None:
            headers["x-acs-security-token"] = token
        if content_type:
            headers["content-type"] = content_type
        names = tuple(sorted(headers))
        sts = signing.acs3_string_to_sign(
            algorithm="ACS3-HMAC-SHA256",
            method=method,
            path="/",
            query=query,
            header_values=lambda n: [headers[n]] if n in headers else [],
            signed_headers=names,
            hashed_payload=headers["x-acs-content-sha256"],
        )
        sig = signing.acs3_signature("ACS3-HMAC-SHA256", secret, sts)
        headers["Authorization"] = (
            f"ACS3-HMAC-SHA256 Credential={key},SignedHeaders={';'.join(names)},Signature={sig}"
        )
        target = "/?" + urlencode(query) if query else "/"
        return _send(srv, method, target, body, headers)

    return call


@pytest.fixture
def rpc_call() -> Callable[..., Any]:
    """``rpc_call(srv, action, params=None, *, version, key, secret, method, in_body,
    timestamp, nonce)`` -> (status, json, headers): a legacy HMAC-SHA1 RPC request."""

    def call(
        srv: Any,
        action: str,
        params: dict[str, str] | None = None,
        *,
        version: str = "2020-03-31",
        key: str = "LTAI-auditor",
        secret: str = "auditor-secret",
        method: str = "GET",
        in_body: bool = False,
        timestamp: str | None = None,
        nonce: str | None = None,
        extra: dict[str, str] | None = None,
    ):
        all_params = {
            "Action": action,
            "Version": version,
            "Format": "JSON",
            "AccessKeyId": key,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": nonce or uuid.uuid4().hex,
            "Timestamp": timestamp or _now(),
            **(params or {}),
            **(extra or {}),
        }
        sts = signing.rpc_string_to_sign(method, all_params.items())
        all_params["Signature"] = signing.rpc_signature(secret, sts)
        encoded = urlencode(all_params)
        if in_body:
            return _send(
                srv,
                method,
                "/",
                encoded.encode(),
                {"Content-Type": "application/x-www-form-urlencoded", "Host": srv.endpoint},
            )
        return _send(srv, method, "/?" + encoded, b"", {"Host": srv.endpoint})

    return call
