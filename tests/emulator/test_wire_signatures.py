"""Wire fidelity of routing and signatures, checked with signers written here from the docs
(alibaba-rd-api.md 4.4 and 4.6), not with the emulator's own ``signing`` module, and with the
old ``aliyun-python-sdk-core`` (CommonRequest), which other-language SDKs resemble."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_resourcemanager20200331.client import Client as RmClient

MEMBER = "1000000000419707"  # in the sample: fd-legc01, display name mobile-legacy-53
KEY, SECRET = "LTAI-auditor", "auditor-secret"


def _now(delta: timedelta = timedelta(0)) -> str:
    return (datetime.now(timezone.utc) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pct(value: str) -> str:
    """The RPC percent-encoding as the old SDKs write it (quote, then the three fix-ups)."""
    encoded = quote(value.encode("utf-8"), safe="")
    return encoded.replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def _raw(srv: Any, method: str, target: str, body: bytes = b"", headers=None):
    """-> (status, content-type, raw body) over one fresh connection."""
    conn = http.client.HTTPConnection(*srv.address, timeout=10)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True, skip_host=True)
        for name, value in headers or []:
            conn.putheader(name, value)
        if body or method == "POST":
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read()
    finally:
        conn.close()


def _rpc(
    srv: Any,
    action: str,
    params: dict[str, str],
    *,
    method: str = "GET",
    in_body: bool = False,
    version: str = "2020-03-31",
    secret: str = SECRET,
    **common: str,
):
    """A legacy RPC request signed by the 4.6 recipe; -> (status, content-type, raw body)."""
    all_params = {
        "Action": action,
        "Version": version,
        "Format": "JSON",
        "AccessKeyId": KEY,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": _now(),
        **params,
        **common,
    }
    canonical = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(all_params.items()))
    to_sign = f"{method}&{_pct('/')}&{_pct(canonical)}"
    mac = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    all_params["Signature"] = base64.b64encode(mac).decode()
    encoded = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in all_params.items())
    host = [("Host", srv.endpoint)]
    if in_body:
        ctype = ("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
        return _raw(srv, method, "/", encoded.encode(), [*host, ctype])
    return _raw(srv, method, "/?" + encoded, b"", host)


def _json(result) -> tuple[int, dict[str, Any]]:
    status, ctype, data = result
    assert ctype.startswith("application/json"), (status, ctype, data[:200])
    return status, json.loads(data)


# ---- legacy RPC (HMAC-SHA1) ---------------------------------------------------------------------
@pytest.mark.parametrize(("method", "in_body"), [("GET", False), ("POST", False), ("POST", True)])
def test_legacy_rpc_query_or_form_body_with_awkward_values(emulator, method, in_body):
    srv = emulator()
    keyword = "mobile-legacy-53 ~*é/+"  # space, ~, *, unicode, / and + all in one value
    status, body = _json(
        _rpc(
            srv,
            "ListAccountsForParent",
            {"ParentFolderId": "fd-legc01", "QueryKeyword": keyword, "IncludeTags": "true"},
            method=method,
            in_body=in_body,
        )
    )
    assert status == 200, body
    assert body["TotalCount"] == 0  # the keyword matches no one, but the signature held
    status, body = _json(
        _rpc(srv, "GetAccount", {"AccountId": MEMBER}, method=method, in_body=in_body,
             version="2022-04-19")
    )  # fmt: skip
    assert status == 200 and body["Account"]["HasSecureMobilePhone"] is False


def test_legacy_rpc_checks_timestamp_nonce_method_and_secret(emulator):
    srv = emulator()
    expired = _json(_rpc(srv, "GetResourceDirectory", {}, Timestamp=_now(timedelta(hours=-1))))
    assert (expired[0], expired[1]["Code"]) == (400, "InvalidTimeStamp.Expired")
    future = _json(_rpc(srv, "GetResourceDirectory", {}, Timestamp=_now(timedelta(hours=1))))
    assert future[1]["Code"] == "InvalidTimeStamp.Expired"
    bad = _json(_rpc(srv, "GetResourceDirectory", {}, Timestamp="27/11/2026 10:00"))
    assert (bad[0], bad[1]["Code"]) == (400, "InvalidTimeStamp.Format")
    nonce = uuid.uuid4().hex
    assert _json(_rpc(srv, "GetResourceDirectory", {}, SignatureNonce=nonce))[0] == 200
    reused = _json(_rpc(srv, "GetResourceDirectory", {}, SignatureNonce=nonce))
    assert (reused[0], reused[1]["Code"]) == (400, "SignatureNonceUsed")
    method = _json(_rpc(srv, "GetResourceDirectory", {}, SignatureMethod="HMAC-SHA256"))
    assert (method[0], method[1]["Code"]) == (400, "InvalidSignatureMethod")
    assert method[1]["Message"] == "Specified signature method is not valid."
    wrong = _json(_rpc(srv, "GetResourceDirectory", {}, secret="not-the-secret"))
    assert (wrong[0], wrong[1]["Code"]) == (400, "SignatureDoesNotMatch")
    # old SDKs split the message on ':' and compare the tail with their own string to sign
    assert wrong[1]["Message"].split("server string to sign is:", 1)[1].startswith("GET&%2F&")


def test_legacy_format_xml_answers_xml(emulator):
    srv = emulator()
    status, ctype, data = _rpc(srv, "GetAccount", {"AccountId": MEMBER, "IncludeTags": "true"},
                               version="2022-04-19", Format="XML")  # fmt: skip
    assert (status, ctype) == (200, "text/xml;charset=utf-8")
    root = ET.fromstring(data)
    assert root.tag == "GetAccountResponse"
    assert root.findtext("Account/AccountId") == MEMBER
    assert root.findtext("Account/HasSecureMobilePhone") == "false"
    assert root.findtext("RequestId")
    status, ctype, data = _rpc(srv, "ListAccounts", {"PageSize": "3"}, Format="xml")
    accounts = ET.fromstring(data).findall("Accounts/Account")
    assert status == 200 and len(accounts) == 3
    status, ctype, data = _rpc(srv, "GetAccount", {"AccountId": "1234567890123456"},
                               Format="XML")  # fmt: skip
    error = ET.fromstring(data)
    assert (status, ctype, error.tag) == (404, "text/xml;charset=utf-8", "Error")
    assert error.findtext("Code") == "EntityNotExists.Account"
    assert error.findtext("HostId") == "resourcemanager.aliyuncs.com"


# ---- the old aliyun-python-sdk-core through CommonRequest ----------------------------------
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_old_python_core_sdk_common_request(emulator, method):
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    srv = emulator()

    def request(client: AcsClient, action: str, version: str, **params: str) -> dict[str, Any]:
        req = CommonRequest(domain=srv.endpoint, version=version, action_name=action)
        req.set_protocol_type("http")
        req.set_method(method)
        for key, value in params.items():
            req.add_query_param(key, value)
        return json.loads(client.do_action_with_exception(req))

    client = AcsClient(KEY, SECRET, "cn-hangzhou")
    listed = request(client, "ListAccounts", "2020-03-31", PageSize="5", IncludeTags="true")
    assert listed["PageSize"] == 5 and len(listed["Accounts"]["Account"]) == 5
    got = request(client, "GetAccount", "2022-04-19", AccountId=MEMBER)
    assert got["Account"]["HasSecureMobilePhone"] is False
    with pytest.raises(ServerException) as err:
        request(
            AcsClient(KEY, "wrong", "cn-hangzhou"), "GetAccount", "2022-04-19", AccountId=MEMBER
        )
    assert (err.value.get_http_status(), err.value.get_error_code()) == (
        400,
        "SignatureDoesNotMatch",
    )
    with pytest.raises(ServerException) as err:
        request(client, "GetAccount", "2022-04-19", AccountId="1234567890123456")
    assert (err.value.get_http_status(), err.value.get_error_code()) == (
        404,
        "EntityNotExists.Account",
    )


def test_old_python_core_sdk_body_params_and_sts_token(emulator):
    from aliyunsdkcore.auth.credentials import StsTokenCredential
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    srv = emulator()
    cred = StsTokenCredential("STS.auditor-session", "sts-secret", "sts-token-auditor")
    client = AcsClient(region_id="cn-hangzhou", credential=cred)
    req = CommonRequest(domain=srv.endpoint, version="2022-04-19", action_name="GetAccount")
    req.set_protocol_type("http")
    req.set_method("POST")
    req.add_body_params("AccountId", MEMBER)
    assert json.loads(client.do_action_with_exception(req))["Account"]["AccountId"] == MEMBER


# ---- ACS3 details ----------------------------------------------------------------------------
def _acs3_headers(
    srv: Any,
    action: str,
    query: list[tuple[str, str]],
    body: bytes = b"",
    *,
    extra: list[tuple[str, str]] = (),  # type: ignore[assignment]
    algorithm: str = "ACS3-HMAC-SHA256",
    digest: str = "sha256",
) -> list[tuple[str, str]]:
    """Headers of an ACS3 request signed by the 4.4 recipe (repeated headers allowed)."""
    headers = [
        ("host", srv.endpoint),
        ("x-acs-action", action),
        ("x-acs-version", "2020-03-31"),
        ("x-acs-date", _now()),
        ("x-acs-signature-nonce", uuid.uuid4().hex),
        ("x-acs-content-sha256", hashlib.new(digest, body).hexdigest()),
        *extra,
    ]
    names = sorted({n.lower() for n, _ in headers})
    canonical_headers = "".join(
        n + ":" + ",".join(sorted(v.strip() for k, v in headers if k.lower() == n)) + "\n"
        for n in names
    )
    canonical_query = "&".join(f"{k}={quote(v, safe='~')}" for k, v in sorted(query))
    canonical = "\n".join(
        ["POST", "/", canonical_query, canonical_headers, ";".join(names),
         hashlib.new(digest, body).hexdigest()]
    )  # fmt: skip
    to_sign = f"{algorithm}\n{hashlib.new(digest, canonical.encode()).hexdigest()}"
    sig = hmac.new(SECRET.encode(), to_sign.encode(), digest).hexdigest()
    auth = f"{algorithm} Credential={KEY},SignedHeaders={';'.join(names)},Signature={sig}"
    return [*headers, ("Authorization", auth)]


def test_acs3_form_body_is_read_and_covered_by_the_payload_hash(emulator):
    srv = emulator()
    body = urlencode({"AccountId": MEMBER, "IncludeTags": "true"}).encode()
    ctype = ("content-type", "application/x-www-form-urlencoded")
    headers = _acs3_headers(srv, "GetAccount", [], body, extra=[ctype])
    status, got = _json(_raw(srv, "POST", "/", body, headers))
    assert status == 200 and got["Account"]["AccountId"] == MEMBER
    # the same signed headers with another body: the payload hash no longer matches
    tampered = urlencode({"AccountId": "1512345678901234"}).encode()
    status, got = _json(_raw(srv, "POST", "/", tampered, headers))
    assert (status, got["Code"]) == (400, "SignatureDoesNotMatch")


def test_acs3_repeated_headers_spaces_and_awkward_query(emulator):
    srv = emulator()
    query = [("PageSize", "2"), ("Tag.1.Key", "env"), ("Tag.1.Value", "a b*~é/+")]
    extra = [("x-acs-custom", "  second  "), ("x-acs-custom", "first"), ("x-acs-x", " a  b ")]
    headers = _acs3_headers(srv, "ListAccounts", query, extra=extra)
    target = "/?" + urlencode(query)  # quote_plus on the wire, as the Python SDK sends it
    status, got = _json(_raw(srv, "POST", target, b"", headers))
    assert status == 200, got
    assert got["TotalCount"] == 0 and got["PageSize"] == 2
    # the same query written with %20 instead of + and ~ escaped decodes to the same values
    target = "/?PageSize=2&Tag.1.Key=env&Tag.1.Value=a%20b%2A%7E%C3%A9%2F%2B"
    status, got = _json(_raw(srv, "POST", target, b"", _acs3_headers(srv, "ListAccounts", query)))
    assert status == 200, got


def test_acs3_sm3_and_unsupported_algorithms(emulator, sdk_config):
    srv = emulator()
    client = RmClient(sdk_config(srv, signature_algorithm="ACS3-HMAC-SM3"))
    got = client.get_account(rm_models.GetAccountRequest(account_id=MEMBER)).body
    assert got.account.account_id == MEMBER
    headers = _acs3_headers(
        srv, "GetResourceDirectory", [], algorithm="ACS3-HMAC-SM3", digest="sm3"
    )
    assert _json(_raw(srv, "POST", "/", b"", headers))[0] == 200
    headers = [
        (n, v.replace("ACS3-HMAC-SHA256", "ACS3-RSA-SHA256") if n == "Authorization" else v)
        for n, v in _acs3_headers(srv, "GetResourceDirectory", [])
    ]
    status, got = _json(_raw(srv, "POST", "/", b"", headers))
    assert (status, got["Code"]) == (400, "InvalidSignatureMethod")
    headers = [
        (n, "ACS3-HMAC-SHA256 Credential=LTAI-auditor" if n == "Authorization" else v)
        for n, v in _acs3_headers(srv, "GetResourceDirectory", [])
    ]
    status, got = _json(_raw(srv, "POST", "/", b"", headers))
    assert (status, got["Code"]) == (400, "IncompleteSignature")


def test_method_route_and_version_errors_are_json(emulator):
    srv = emulator()
    status, got = _json(_raw(srv, "PUT", "/", b"", [("Host", srv.endpoint)]))
    assert (status, got["Code"]) == (400, "UnsupportedHTTPMethod")
    status, got = _json(_raw(srv, "DELETE", "/?Action=ListAccounts&Version=2020-03-31"))
    assert (status, got["Code"]) == (400, "UnsupportedHTTPMethod")
    status, got = _json(_raw(srv, "GET", "/favicon.ico", b"", [("Host", srv.endpoint)]))
    assert status == 400 and got["Code"].startswith("MissingParameter")
    headers = [
        (n, "1999-01-01" if n == "x-acs-version" else v)
        for n, v in _acs3_headers(srv, "ListAccounts", [])
    ]
    status, got = _json(_raw(srv, "POST", "/", b"", headers))
    assert (status, got["Code"]) == (404, "InvalidApi.NotFound")
    assert {"RequestId", "HostId", "Recommend", "Message"} <= set(got)
