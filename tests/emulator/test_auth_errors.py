"""Authentication, authorization and the error envelope."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alibabacloud_resourcedirectorymaster20220419 import models as rdm_models
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_resourcemanager20200331.client import Client as RmClient
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config

MASTER = "1512345678901234"
ENVELOPE = {"Code", "Message", "RequestId", "HostId", "Recommend"}


def _error(call):
    with pytest.raises(ClientException) as err:
        call()
    return err.value


def _client(srv, key, secret, **kw):
    return RmClient(
        Config(
            access_key_id=key,
            access_key_secret=secret,
            endpoint=srv.endpoint,
            protocol="http",
            **kw,
        )
    )


def test_wrong_secret_is_refused_with_string_to_sign(emulator):
    srv = emulator()
    err = _error(lambda: _client(srv, "LTAI-auditor", "wrong").get_resource_directory())
    assert (err.code, err.status_code) == ("SignatureDoesNotMatch", 400)
    assert set(err.data) >= ENVELOPE
    message = err.data["Message"]
    assert "server string to sign is:ACS3-HMAC-SHA256\n" in message
    assert len(message.rsplit("\n", 1)[1]) == 64


def test_wrong_secret_legacy_v2(emulator):
    srv = emulator()
    err = _error(
        lambda: _client(srv, "LTAI-auditor", "wrong", signature_algorithm="v2").list_accounts(
            rm_models.ListAccountsRequest()
        )
    )
    assert (err.code, err.status_code) == ("SignatureDoesNotMatch", 400)
    assert err.data["Message"].split("server string to sign is:")[1].startswith("POST&%2F&")


def test_unknown_access_key(emulator):
    srv = emulator()
    err = _error(lambda: _client(srv, "LTAI-nobody", "x").get_resource_directory())
    assert (err.code, err.status_code) == ("InvalidAccessKeyId.NotFound", 404)
    assert err.data["HostId"] == "resourcemanager.aliyuncs.com"
    assert err.data["Recommend"].startswith("https://api.aliyun.com/troubleshoot?q=")


def test_stale_and_malformed_date(emulator, acs3_call):
    srv = emulator()
    old = (datetime.now(timezone.utc) - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, body, _ = acs3_call(srv, "GetResourceDirectory", date=old)
    assert (status, body["Code"]) == (400, "InvalidTimeStamp.Expired")
    status, body, _ = acs3_call(srv, "GetResourceDirectory", date="yesterday")
    assert (status, body["Code"]) == (400, "InvalidTimeStamp.Format")
    status, body, _ = acs3_call(srv, "GetResourceDirectory")
    assert status == 200 and body["ResourceDirectory"]["ResourceDirectoryId"] == "rd-3G6R01"


def test_reused_nonce(emulator, acs3_call, rpc_call):
    srv = emulator()
    assert acs3_call(srv, "GetResourceDirectory", nonce="n-1")[0] == 200
    status, body, _ = acs3_call(srv, "GetResourceDirectory", nonce="n-1")
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")
    assert rpc_call(srv, "GetResourceDirectory", nonce="n-2")[0] == 200
    status, body, _ = rpc_call(srv, "GetResourceDirectory", nonce="n-2")
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")


def test_content_sha256_must_match_body(emulator, acs3_call):
    srv = emulator()
    status, body, _ = acs3_call(srv, "GetResourceDirectory", body=b"x=1", content_sha256="0" * 64)
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    assert "server string to sign is:" in body["Message"]


def test_acs3_form_body_parameters(emulator, acs3_call, sample_fixture):
    srv = emulator()
    member = sample_fixture.accounts[3]
    status, body, _ = acs3_call(
        srv,
        "GetAccount",
        body=f"AccountId={member.id}".encode(),
        content_type="application/x-www-form-urlencoded",
        version="2022-04-19",
    )
    assert status == 200 and body["Account"]["AccountId"] == member.id


@pytest.mark.parametrize("method,in_body", [("GET", False), ("POST", False), ("POST", True)])
def test_legacy_rpc_query_or_form(emulator, rpc_call, method, in_body):
    srv = emulator()
    status, body, _ = rpc_call(
        srv,
        "ListAccounts",
        {"PageSize": "2", "IncludeTags": "true"},
        method=method,
        in_body=in_body,
    )
    assert status == 200, body
    assert len(body["Accounts"]["Account"]) == 2
    assert "Tags" in body["Accounts"]["Account"][0]


def test_legacy_rpc_refusals(emulator, rpc_call):
    srv = emulator()
    status, body, _ = rpc_call(srv, "GetResourceDirectory", secret="nope")
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    status, body, _ = rpc_call(srv, "GetResourceDirectory", extra={"SignatureMethod": "MD5"})
    assert (status, body["Code"]) == (400, "InvalidSignatureMethod")
    old = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, body, _ = rpc_call(srv, "GetResourceDirectory", timestamp=old)
    assert (status, body["Code"]) == (400, "InvalidTimeStamp.Expired")


def test_sts_token(emulator, sdk_config, acs3_call, sts):
    srv = emulator()
    ident = sts(srv, "sts").get_caller_identity().body
    assert ident.identity_type == "AssumedRoleUser"
    assert ident.arn.endswith(":assumed-role/rdscan-audit/rdscan-session")
    assert ident.role_id and ident.principal_id.endswith(":rdscan-session")
    kw = {"key": "STS.auditor-session", "secret": "sts-secret"}
    status, body, _ = acs3_call(srv, "GetResourceDirectory", **kw)
    assert (status, body["Code"]) == (400, "MissingSecurityToken")
    status, body, _ = acs3_call(srv, "GetResourceDirectory", token="forged", **kw)
    assert (status, body["Code"]) == (400, "InvalidSecurityToken.Malformed")
    # a token that was issued, but to another key (here: a key that takes none)
    status, body, _ = acs3_call(srv, "GetResourceDirectory", token="sts-token-auditor")
    assert (status, body["Code"]) == (400, "InvalidSecurityToken.MismatchWithAccessKey")
    v2 = RmClient(sdk_config(srv, "sts", signature_algorithm="v2"))
    assert v2.get_resource_directory().body.resource_directory.master_account_id == MASTER


def test_no_permission_carries_access_denied_detail(emulator, rm, rdm):
    srv = emulator()
    assert rm(srv, "lister").list_accounts(rm_models.ListAccountsRequest()).body.total_count
    err = _error(
        lambda: rdm(srv, "lister").get_account(rdm_models.GetAccountRequest(account_id=MASTER))
    )
    assert (err.code, err.status_code) == ("NoPermission", 403)
    assert err.access_denied_detail["AuthAction"] == "resourcemanager:GetAccount"
    assert ENVELOPE | {"AccessDeniedDetail"} <= set(err.data)
    assert err.data["HostId"] == "resourcedirectory.aliyuncs.com"


def test_outsider_sees_no_directory(emulator, rm, sts):
    srv = emulator()
    client = rm(srv, "outsider")
    err = _error(lambda: client.list_accounts(rm_models.ListAccountsRequest()))
    assert (err.code, err.status_code) == ("EntityNotExists.ResourceDirectory", 404)
    err = _error(client.get_resource_directory)
    assert (err.code, err.status_code) == ("ResourceDirectoryNotInUse", 404)
    ident = sts(srv, "outsider").get_caller_identity().body
    assert ident.account_id == "1999999999999999"


def test_unknown_action_and_version(emulator, acs3_call):
    srv = emulator()
    status, body, _ = acs3_call(srv, "DeleteEverything")
    assert (status, body["Code"]) == (404, "InvalidApi.NotFound")
    assert set(body) >= ENVELOPE
    status, body, _ = acs3_call(srv, "ListAccounts", version="2015-04-01")
    assert (status, body["Code"]) == (404, "InvalidApi.NotFound")


def test_booleans_case_insensitive(emulator, acs3_call):
    srv = emulator()
    for value in ("True", "TRUE", "true"):
        status, body, _ = acs3_call(srv, "ListAccounts", {"IncludeTags": value, "PageSize": "1"})
        assert status == 200 and "Tags" in body["Accounts"]["Account"][0]
    status, body, _ = acs3_call(srv, "ListAccounts", {"IncludeTags": "false", "PageSize": "1"})
    assert status == 200 and "Tags" not in body["Accounts"]["Account"][0]
    status, body, _ = acs3_call(srv, "ListAccounts", {"IncludeTags": "maybe"})
    assert (status, body["Code"]) == (400, "InvalidParameter.IncludeTags")


def test_read_errors(emulator, acs3_call):
    srv = emulator()
    status, body, _ = acs3_call(srv, "GetAccount")
    assert (status, body["Code"]) == (400, "MissingParameter.AccountId")
    status, body, _ = acs3_call(srv, "GetAccount", {"AccountId": "1234567890123456"})
    assert (status, body["Code"]) == (404, "EntityNotExists.Account")
    status, body, _ = acs3_call(srv, "GetAccount", {"AccountId": "bad id!"})
    assert (status, body["Code"]) == (400, "InvalidParameter.AccountId")
    status, body, _ = acs3_call(srv, "GetFolder", {"FolderId": "fd-nothere"})
    assert (status, body["Code"]) == (404, "EntityNotExists.Folder")
    status, body, _ = acs3_call(srv, "ListAccountsForParent", {"ParentFolderId": "fd-nothere"})
    assert (status, body["Code"]) == (404, "EntityNotExists.Folder")
    status, body, _ = acs3_call(srv, "ListAccounts", {"PageNumber": "0"})
    assert (status, body["Code"]) == (400, "InvalidParameter.PageNumber")
    status, body, headers = acs3_call(srv, "ListAccounts", {"PageSize": "abc"})
    assert (status, body["Code"]) == (400, "InvalidParameter.PageSize")
    assert headers["content-type"].startswith("application/json")
    assert headers["x-acs-request-id"] == body["RequestId"]


def test_chunked_body_and_json_protocol_errors(emulator):
    import http.client
    import json
    import socket

    srv = emulator()
    conn = http.client.HTTPConnection(*srv.address, timeout=5)
    conn.request(
        "POST",
        "/?Action=GetResourceDirectory&Version=2020-03-31",
        body=iter([b"a=1", b"&b=2"]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        encode_chunked=True,
    )
    resp = conn.getresponse()
    body = json.loads(resp.read())
    assert (resp.status, body["Code"]) == (400, "MissingAccessKeyId")
    conn.close()
    with socket.create_connection(srv.address, timeout=5) as sock:
        sock.sendall(b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n")
        chunks = []
        while chunk := sock.recv(65536):  # the server closes the connection after an error
            chunks.append(chunk)
        raw = b"".join(chunks).decode()
    head, _, payload = raw.partition("\r\n\r\n")
    assert "application/json" in head
    assert set(json.loads(payload)) >= ENVELOPE


def test_stale_date_and_reused_nonce_through_the_sdk(emulator, rm):
    from darabonba.runtime import ExtendsParameters, RuntimeOptions

    srv = emulator()
    client = rm(srv)

    def call(headers):
        runtime = RuntimeOptions(extends_parameters=ExtendsParameters(headers=headers))
        return client.get_resource_directory_with_options(runtime)

    old = (datetime.now(timezone.utc) - timedelta(minutes=16)).strftime("%Y-%m-%dT%H:%M:%SZ")
    err = _error(lambda: call({"x-acs-date": old}))
    assert (err.code, err.status_code) == ("InvalidTimeStamp.Expired", 400)
    assert call({"x-acs-signature-nonce": "fixed-nonce-1"}).body.request_id
    err = _error(lambda: call({"x-acs-signature-nonce": "fixed-nonce-1"}))
    assert (err.code, err.status_code) == ("SignatureNonceUsed", 400)


def test_sts_key_without_token_through_the_sdk(emulator):
    srv = emulator()
    client = _client(srv, "STS.auditor-session", "sts-secret")
    err = _error(client.get_resource_directory)
    assert (err.code, err.status_code) == ("MissingSecurityToken", 400)
    client = _client(srv, "STS.auditor-session", "sts-secret", security_token="forged")
    err = _error(client.get_resource_directory)
    assert err.code == "InvalidSecurityToken.Malformed"


def test_fixture_extension_keys(emulator, rdm, sts):
    from scanner.emulator import generate_fixture

    data = generate_fixture(accounts=5, seed=1)
    data["accounts"][1]["omit_phone_flag"] = True
    data["callers"] += [
        {"access_key_id": "LTAI-off", "access_key_secret": "s", "active": False,
         "arn": f"acs:ram::{MASTER}:user/off", "allow": ["*"]},
        {"access_key_id": "STS.old", "access_key_secret": "s", "security_token": "t",
         "security_token_expired": True, "arn": f"acs:ram::{MASTER}:assumed-role/r/s",
         "allow": ["*"]},
        {"access_key_id": "LTAI-lists", "access_key_secret": "s",
         "arn": f"acs:ram::{MASTER}:user/l", "allow": ["resourcemanager:List*"]},
    ]  # fmt: skip
    srv = emulator(data)
    acc = (
        rdm(srv)
        .get_account(rdm_models.GetAccountRequest(account_id=data["accounts"][1]["id"]))
        .body.account
    )
    assert acc.account_id == data["accounts"][1]["id"]
    assert acc.has_secure_mobile_phone is None and acc.secure_mobile_phone is None
    err = _error(_client(srv, "LTAI-off", "s").get_resource_directory)
    assert (err.code, err.status_code) == ("InvalidAccessKeyId.Inactive", 400)
    err = _error(_client(srv, "STS.old", "s", security_token="t").get_resource_directory)
    assert err.code == "InvalidSecurityToken.Expired"
    lists = _client(srv, "LTAI-lists", "s")
    assert lists.list_accounts(rm_models.ListAccountsRequest()).body.total_count == 5
    assert lists.list_folders_for_parent(rm_models.ListFoldersForParentRequest()).body.request_id
    err = _error(lists.get_resource_directory)
    assert err.code == "NoPermission"
    root = sts(srv, "root").get_caller_identity().body
    assert (root.identity_type, root.account_id, root.arn) == (
        "Account",
        MASTER,
        f"acs:ram::{MASTER}:root",
    )
