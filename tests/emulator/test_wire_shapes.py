"""Wire fidelity of response shapes, business errors, fixtures and robustness (alibaba-rd-api.md
sections 1-3 and 6, docs/fixture.md)."""

from __future__ import annotations

import copy
import json
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from alibabacloud_resourcedirectorymaster20220419 import models as rdm_models
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_tea_openapi.exceptions import ClientException

from scanner.emulator import load_fixture, parse_fixture
from scanner.errors import FixtureError

MASTER = "1512345678901234"
SMALL: dict[str, Any] = {
    "site": "cn",
    "resource_directory": {"id": "rd-W1", "root_folder_id": "r-W1", "master_account_id": MASTER},
    "folders": [{"id": "fd-w1", "name": "W", "parent": "r-W1"}],
    "accounts": [
        {"id": "1000000000000001", "display_name": "free", "type": "ResourceAccount",
         "folder": "fd-w1", "tags": {"env": "prod"}},
        {"id": "1000000000000002", "display_name": "elsewhere", "type": "ResourceAccount",
         "in_another_resource_directory": True},
        {"id": "1000000000000003", "display_name": "nameless", "type": "ResourceAccount",
         "enterprise_name_specified": False},
        {"id": "1000000000000004", "display_name": "bound", "type": "ResourceAccount",
         "secure_mobile_phone": "86-13900001234"},
    ],
    "callers": [
        {"access_key_id": "LTAI-operator", "access_key_secret": "operator-secret",
         "arn": f"acs:ram::{MASTER}:user/op", "allow": ["resourcemanager:*"]},
        {"access_key_id": "LTAI-auditor", "access_key_secret": "auditor-secret",
         "arn": f"acs:ram::{MASTER}:user/aud", "allow": ["resourcemanager:Get*", "ListAccounts"]},
    ],
}  # fmt: skip


def _small(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(SMALL)
    data.update(changes)
    return data


def _error(fn) -> ClientException:
    with pytest.raises(ClientException) as err:
        fn()
    return err.value


# ---- response shapes ----------------------------------------------------------------------------
def test_list_accounts_2020_vs_2022_shapes_and_keyword(emulator, acs3_call):
    srv = emulator()
    status, v20, _ = acs3_call(srv, "ListAccounts", {"PageSize": "3", "IncludeTags": "true"})
    assert status == 200 and {"TotalCount", "PageNumber", "PageSize", "Accounts"} <= set(v20)
    item = v20["Accounts"]["Account"][0]
    assert "ResourceDirectoryPath" in item and "Tag" in item["Tags"]
    assert "AccountName" not in item and "HasSecureMobilePhone" not in item
    # QueryKeyword is not a ListAccounts 2020-03-31 parameter: it does not filter there
    status, kw20, _ = acs3_call(srv, "ListAccounts", {"QueryKeyword": "mobile-legacy-53"})
    assert kw20["TotalCount"] == v20["TotalCount"]
    status, kw22, _ = acs3_call(
        srv, "ListAccounts", {"QueryKeyword": "mobile-legacy-53"}, version="2022-04-19"
    )
    assert status == 200 and kw22["TotalCount"] == 1
    assert {"AccountName", "DeletionStatus"} <= set(kw22["Accounts"]["Account"][0])


def test_list_accounts_2022_token_paging_takes_precedence(emulator, rdm, sample_fixture):
    srv = emulator(rate_limit=0)
    client = rdm(srv)
    seen: list[str] = []
    token = None
    while True:
        req = rdm_models.ListAccountsRequest(
            max_results=7, next_token=token, page_number=3, page_size=2
        )
        body = client.list_accounts(req).body
        seen += [a.account_id for a in body.accounts.account]
        token = body.next_token
        if not token:
            break
    assert sorted(seen) == sorted(a.id for a in sample_fixture.accounts)


def test_accounts_for_parent_has_no_path_and_filters_by_keyword(emulator, acs3_call):
    srv = emulator()
    params = {"ParentFolderId": "fd-legc01", "QueryKeyword": "MOBILE-legacy"}
    status, body, _ = acs3_call(srv, "ListAccountsForParent", params)
    assert status == 200 and body["TotalCount"] >= 1
    for item in body["Accounts"]["Account"]:
        assert "ResourceDirectoryPath" not in item and item["FolderId"] == "fd-legc01"
    status, body, _ = acs3_call(srv, "ListFoldersForParent", {"ParentFolderId": "fd-prod01"})
    assert status == 200 and {f["FolderId"] for f in body["Folders"]["Folder"]} == {
        "fd-apps01",
        "fd-data01",
    }


def test_get_caller_identity_has_every_documented_key(emulator, sts):
    srv = emulator()
    keys = {"AccountId", "Arn", "IdentityType", "PrincipalId", "UserId", "RoleId", "RequestId"}
    for caller in ("auditor", "root", "sts"):
        body = sts(srv, caller).get_caller_identity().body.to_map()
        assert keys <= set(body), caller
    role = sts(srv, "sts").get_caller_identity().body
    assert role.role_id and role.user_id == role.principal_id


def test_host_id_names_the_product_and_site(emulator, acs3_call):
    srv = emulator(_small(site="intl"))
    status, body, _ = acs3_call(srv, "GetAccount", {"AccountId": "1"}, version="2022-04-19")
    assert (status, body["HostId"]) == (404, "resourcedirectory-intl.aliyuncs.com")
    assert body["Recommend"].endswith("product=ResourceDirectoryMaster")
    status, body, _ = acs3_call(srv, "GetAccount", {"AccountId": "1"})
    assert body["HostId"] == "resourcemanager.aliyuncs.com"
    status, body, _ = acs3_call(srv, "GetCallerIdentity", version="2015-04-01", key="nobody")
    assert (status, body["HostId"]) == (404, "sts.aliyuncs.com")


# ---- business errors -------------------------------------------------------------------------
def test_account_in_another_directory_and_missing_enterprise_name(emulator, rdm):
    srv = emulator(_small())
    client = rdm(srv, ("LTAI-operator", "operator-secret"))
    phone = "86-13900005678"
    send = rdm_models.SendVerificationCodeForBindSecureMobilePhoneRequest
    bind = rdm_models.BindSecureMobilePhoneRequest
    for call in (
        lambda: client.send_verification_code_for_bind_secure_mobile_phone(
            send(account_id="1000000000000002", secure_mobile_phone=phone)
        ),
        lambda: client.bind_secure_mobile_phone(
            bind(account_id="1000000000000002", secure_mobile_phone=phone, verification_code="1")
        ),
    ):
        err = _error(call)
        assert (err.code, err.status_code) == ("NotSupport.AccountInAnotherResourceDirectory", 409)
    resp = client.send_verification_code_for_bind_secure_mobile_phone(
        send(account_id="1000000000000003", secure_mobile_phone=phone)
    )
    assert resp.body.expiration_date.endswith("Z")
    code = srv.outbox()[-1]["code"]
    err = _error(
        lambda: client.bind_secure_mobile_phone(
            bind(account_id="1000000000000003", secure_mobile_phone=phone, verification_code=code)
        )
    )
    assert (err.code, err.status_code) == ("Invalid.EnterpriseName", 409)


def test_concurrent_binds_one_wins_the_others_see_already_exists(emulator, rdm):
    srv = emulator(_small(), rate_limit=0)
    client = rdm(srv, ("LTAI-operator", "operator-secret"))
    phone, member = "86-13900005678", "1000000000000001"
    client.send_verification_code_for_bind_secure_mobile_phone(
        rdm_models.SendVerificationCodeForBindSecureMobilePhoneRequest(
            account_id=member, secure_mobile_phone=phone
        )
    )
    code = srv.outbox()[-1]["code"]
    req = rdm_models.BindSecureMobilePhoneRequest(
        account_id=member, secure_mobile_phone=phone, verification_code=code
    )
    barrier = threading.Barrier(8)

    def bind() -> str:
        barrier.wait()
        try:
            rdm(srv, ("LTAI-operator", "operator-secret")).bind_secure_mobile_phone(req)
        except ClientException as exc:
            return exc.code
        return "OK"

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(lambda _: bind(), range(8)))
    assert outcomes == ["AccountSecureMobileAlreadyExists"] * 7 + ["OK"]
    # Send documents no "already bound" error: it delivers; Bind refuses
    client.send_verification_code_for_bind_secure_mobile_phone(
        rdm_models.SendVerificationCodeForBindSecureMobilePhoneRequest(
            account_id=member, secure_mobile_phone=phone
        )
    )
    again = rdm_models.BindSecureMobilePhoneRequest(
        account_id=member, secure_mobile_phone=phone, verification_code=srv.outbox()[-1]["code"]
    )
    err = _error(lambda: client.bind_secure_mobile_phone(again))
    assert err.code == "AccountSecureMobileAlreadyExists"


def test_allow_wildcards_service_prefix_and_bare_action(emulator, rm, rdm):
    srv = emulator(_small())
    auditor = ("LTAI-auditor", "auditor-secret")
    assert rm(srv, auditor).list_accounts(rm_models.ListAccountsRequest()).body.total_count == 4
    got = rdm(srv, auditor).get_account(rdm_models.GetAccountRequest(account_id="1000000000000004"))
    assert got.body.account.has_secure_mobile_phone is True
    err = _error(
        lambda: rm(srv, auditor).list_folders_for_parent(rm_models.ListFoldersForParentRequest())
    )
    assert (err.code, err.status_code) == ("NoPermission", 403)
    assert err.data["Message"] == "User is not authorized to operate on the specified resource."
    assert err.access_denied_detail["AuthAction"] == "resourcemanager:ListFoldersForParent"
    assert {
        "AuthAction",
        "AuthPrincipalType",
        "AuthPrincipalOwnerId",
        "AuthPrincipalDisplayName",
        "NoPermissionType",
        "PolicyType",
        "EncodedDiagnosticMessage",
    } <= set(err.access_denied_detail)
    operator = ("LTAI-operator", "operator-secret")
    assert rm(srv, operator).list_folders_for_parent(rm_models.ListFoldersForParentRequest())


# ---- fixtures ------------------------------------------------------------------------------------
def test_unquoted_numeric_ids_json_files_and_minimal_directories(tmp_path, emulator, rm):
    yaml_text = (
        "resource_directory:\n"
        "  {id: rd-N1, root_folder_id: r-N1, master_account_id: 1512345678901234}\n"
        "folders: []\n"
        "accounts:\n"
        "  - {id: 1512345678901234, display_name: mgmt,\n"
        "     type: cloudaccount, status: createsuccess}\n"
        "callers:\n"
        "  - {access_key_id: K1, access_key_secret: 12345, account_id: 1512345678901234,\n"
        "     arn: 'acs:ram::1512345678901234:user/a', allow: ['*']}\n"
    )
    path = tmp_path / "only-management.yaml"
    path.write_text(yaml_text)
    fx = load_fixture(path)
    assert fx.accounts[0].id == "1512345678901234" and fx.folders == ()
    assert (fx.accounts[0].type, fx.accounts[0].status) == ("CloudAccount", "CreateSuccess")
    assert fx.callers[0].access_key_secret == "12345"
    srv = emulator(fx)
    body = rm(srv, ("K1", "12345")).list_accounts(rm_models.ListAccountsRequest()).body
    assert [a.account_id for a in body.accounts.account] == ["1512345678901234"]
    data = _small()
    data["accounts"][0]["display_name"] = "slash/and \u00e9"
    text = json.dumps(data, indent="\t").replace("/", "\\/")  # tabs and \/: JSON, not YAML
    (tmp_path / "fx.json").write_text(text)
    fx = load_fixture(tmp_path / "fx.json")
    assert fx.accounts[0].display_name == "slash/and é"
    (tmp_path / "broken.json").write_text('{"site": "cn",}')
    with pytest.raises(FixtureError) as err:
        load_fixture(tmp_path / "broken.json")
    assert "not valid JSON" in str(err.value) and err.value.hint


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["accounts"][0].update(status="Happy Day"), "bad status 'Happy Day'"),
        (lambda d: d["accounts"][0].update(folder="fd-none"), "unknown folder 'fd-none'"),
        (lambda d: d["callers"][0].update(allow=["resource manager:Get"]), "bad allow entry"),
        (lambda d: d["callers"][0].pop("access_key_secret"), "missing 'access_key_secret'"),
        (lambda d: d["callers"][0].pop("arn"), "missing 'arn'"),
        (lambda d: d["accounts"][1].update(id="1000000000000001"), "duplicate account id"),
        (lambda d: d["folders"].append({"id": "fd-x", "name": "X", "parent": "fd-x"}), "cycle"),
        (lambda d: d["accounts"][0].update(in_another_resource_directory="yes"), "true or false"),
    ],
)
def test_fixture_refusals(mutate, expected):
    data = _small()
    mutate(data)
    with pytest.raises(FixtureError) as err:
        parse_fixture(data, source="unseen.yaml")
    assert expected in str(err.value) and err.value.hint


def test_bare_allow_entry_is_kept_with_a_warning():
    fx = parse_fixture(_small())
    auditor = fx.caller("LTAI-auditor")
    assert auditor is not None and "*:ListAccounts" in auditor.allow
    assert any("ListAccounts" in w for w in fx.warnings)


# ---- robustness -------------------------------------------------------------------------------
def _unsigned_get(srv: Any) -> bytes:
    """A well-formed request the emulator answers (unsigned: with an error)."""
    line = "GET /?Action=GetResourceDirectory&Version=2020-03-31 HTTP/1.1"
    return f"{line}\r\nHost: {srv.endpoint}\r\n\r\n".encode()


def _read_response(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        rest += sock.recv(65536)
    return status, json.loads(rest[:length])


def test_many_keep_alive_connections(emulator):
    srv = emulator()
    socks = [socket.create_connection(srv.address, timeout=20) for _ in range(220)]
    try:
        for _ in range(2):  # two requests on each connection, all connections open at once
            for s in socks:
                s.sendall(_unsigned_get(srv))
            for s in socks:
                status, body = _read_response(s)
                assert (status, body["Code"]) == (400, "MissingAccessKeyId")
    finally:
        for s in socks:
            s.close()


def test_disconnect_mid_request_huge_query_oversized_body_malformed_http(emulator, capfd):
    srv = emulator()
    with socket.create_connection(srv.address, timeout=5) as s:  # body promised, never sent
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nAction=Li")
    with socket.create_connection(srv.address, timeout=5) as s:
        s.sendall(b"GET /?Action=List")  # hangs up inside the request line
    with socket.create_connection(srv.address, timeout=10) as s:
        s.sendall(b"GET /?" + b"Tag.1.Key=" + b"x" * 70_000 + b" HTTP/1.1\r\n\r\n")
        status, body = _read_response(s)
        assert status == 414 and {"Code", "Message", "RequestId"} <= set(body)
    with socket.create_connection(srv.address, timeout=10) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n")
        status, body = _read_response(s)
        assert (status, body["Code"]) == (413, "RequestEntityTooLarge")
    with socket.create_connection(srv.address, timeout=10) as s:
        s.sendall(b"\x16\x03\x01 nonsense\r\n\r\n")  # e.g. TLS spoken to the plain-HTTP port
        status, body = _read_response(s)
        assert status == 400 and "Code" in body
    # a long (but legal) query string is answered normally
    with socket.create_connection(srv.address, timeout=10) as s:
        s.sendall(
            b"GET /?Action=ListAccounts&Version=2020-03-31&QueryKeyword="
            + b"k" * 30_000
            + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        status, body = _read_response(s)
        assert (status, body["Code"]) == (400, "MissingAccessKeyId")
    time.sleep(0.2)  # let the handler threads of the hung-up clients finish
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize(
    ("action", "params", "status", "code"),
    [
        ("GetFolder", {}, 400, "MissingParameter.FolderId"),
        ("GetFolder", {"FolderId": "not a folder"}, 400, "InvalidParameter.FolderId"),
        ("ListFoldersForParent", {"ParentFolderId": "x/y"}, 400, "InvalidParameter.ParentFolderId"),
        (
            "ListAccountsForParent",
            {"ParentFolderId": "x y"},
            400,
            "InvalidParameter.ParentFolderId",
        ),
        ("ListFoldersForParent", {"ParentFolderId": "fd-gone"}, 404, "EntityNotExists.Folder"),
        ("ListFoldersForParent", {"PageSize": "101"}, 400, "InvalidParameter.PageSize"),
        ("ListAccountsForParent", {"PageNumber": "x"}, 400, "InvalidParameter.PageNumber"),
        ("GetAccount", {"AccountId": ""}, 400, "MissingParameter.AccountId"),
    ],
)
def test_parameter_error_names(emulator, acs3_call, action, params, status, code):
    srv = emulator()
    got_status, body, _ = acs3_call(srv, action, params)
    assert (got_status, body["Code"]) == (status, code)


def test_raw_shapes_of_get_actions_and_send(emulator, acs3_call):
    srv = emulator(_small())
    _, rd, _ = acs3_call(srv, "GetResourceDirectory", key="LTAI-operator", secret="operator-secret")
    assert set(rd["ResourceDirectory"]) == {
        "ResourceDirectoryId", "RootFolderId", "CreateTime", "MasterAccountId",
        "MasterAccountName", "ControlPolicyStatus", "MemberDeletionStatus", "IdentityInformation",
    }  # fmt: skip
    base = {
        "AccountId", "AccountName", "DisplayName", "EmailStatus", "FolderId",
        "IdentityInformation", "JoinMethod", "JoinTime", "Location", "ModifyTime",
        "ResourceDirectoryId", "ResourceDirectoryPath", "Status", "Type",
    }  # fmt: skip
    params = {"AccountId": "1000000000000004", "IncludeTags": "true"}
    _, v20, _ = acs3_call(srv, "GetAccount", params)
    assert set(v20["Account"]) == base | {"Tags"} and isinstance(v20["Account"]["Tags"], list)
    _, v22, _ = acs3_call(srv, "GetAccount", params, version="2022-04-19")
    assert set(v22["Account"]) == base | {"Tags", "HasSecureMobilePhone", "SecureMobilePhone"}
    assert v22["Account"]["HasSecureMobilePhone"] is True
    assert "13900001234" not in v22["Account"]["SecureMobilePhone"]  # masked
    assert v22["Account"]["ResourceDirectoryPath"] == "rd-W1/r-W1/1000000000000004"
    _, folder, _ = acs3_call(srv, "GetFolder", {"FolderId": "fd-w1"})
    assert folder["Folder"]["ParentFolderId"] == "r-W1"
    assert folder["Folder"]["ResourceDirectoryPath"] == "rd-W1/r-W1/fd-w1"
    status, sent, _ = acs3_call(
        srv,
        "SendVerificationCodeForBindSecureMobilePhone",
        {"AccountId": "1000000000000001", "SecureMobilePhone": "86-13900005678"},
        key="LTAI-operator",
        secret="operator-secret",
    )
    assert status == 200 and set(sent) == {"RequestId", "ExpirationDate"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", sent["ExpirationDate"])
