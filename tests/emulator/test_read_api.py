"""Read API contract: the official SDKs against the emulator over real HTTP."""

from __future__ import annotations

import pytest
from alibabacloud_resourcedirectorymaster20220419 import models as rdm_models
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_tea_openapi.exceptions import ClientException

from scanner.emulator import generate_fixture, parse_fixture

MASTER = "1512345678901234"


def test_paging_250_members_returns_each_exactly_once(emulator, rm):
    fx = parse_fixture(generate_fixture(accounts=250, seed=7), source="gen-250")
    srv = emulator(fx, rate_limit=0)
    client = rm(srv)
    seen: list[str] = []
    page = 1
    while True:
        body = client.list_accounts(
            rm_models.ListAccountsRequest(page_number=page, page_size=100)
        ).body
        assert body.total_count == 250
        assert body.page_size == 100
        seen += [a.account_id for a in body.accounts.account]
        if page * 100 >= body.total_count:
            break
        page += 1
    assert len(seen) == 250
    assert set(seen) == {a.id for a in fx.accounts}
    assert srv.call_counts()["ListAccounts"] == 3


def test_list_accounts_default_page_size_and_wrappers(emulator, rm, sample_fixture):
    srv = emulator()
    body = rm(srv).list_accounts(rm_models.ListAccountsRequest(include_tags=True)).body
    assert body.page_number == 1 and body.page_size == 10
    assert body.total_count == len(sample_fixture.accounts)
    raw = body.to_map()
    first = raw["Accounts"]["Account"][0]
    assert first["AccountId"] == MASTER
    assert first["ResourceDirectoryPath"] == f"rd-3G6R01/r-Wm0001/{MASTER}"
    assert first["Tags"]["Tag"] == [
        {"Key": "env", "Value": "shared"},
        {"Key": "owner", "Value": "cloud-team"},
    ]


def test_list_accounts_tag_filter(emulator, rm, sample_fixture):
    srv = emulator()
    req = rm_models.ListAccountsRequest(
        page_size=100,
        tag=[rm_models.ListAccountsRequestTag(key="env", value="staging")],
    )
    got = {a.account_id for a in rm(srv).list_accounts(req).body.accounts.account}
    want = {a.id for a in sample_fixture.accounts if dict(a.tags).get("env") == "staging"}
    assert got == want and got


@pytest.mark.parametrize("size", [0, 101, -1])
def test_page_size_out_of_range_is_invalid_parameter(emulator, rm, size):
    srv = emulator()
    with pytest.raises(ClientException) as err:
        rm(srv).list_accounts(rm_models.ListAccountsRequest(page_size=size))
    assert err.value.code == "InvalidParameter.PageSize"
    assert err.value.status_code == 400


def test_get_account_2022_shows_phone_flag_masked(emulator, rdm, sample_fixture):
    srv = emulator()
    with_phone = next(a for a in sample_fixture.accounts if a.secure_mobile_phone)
    without = next(a for a in sample_fixture.accounts if not a.secure_mobile_phone)
    client = rdm(srv)
    acc = client.get_account(rdm_models.GetAccountRequest(account_id=with_phone.id)).body.account
    assert acc.has_secure_mobile_phone is True
    assert acc.secure_mobile_phone and "****" in acc.secure_mobile_phone
    assert acc.secure_mobile_phone != with_phone.secure_mobile_phone
    assert acc.secure_mobile_phone.endswith(with_phone.secure_mobile_phone[-4:])
    acc = client.get_account(rdm_models.GetAccountRequest(account_id=without.id)).body.account
    assert acc.has_secure_mobile_phone is False
    assert not acc.secure_mobile_phone


def test_get_account_2020_has_no_phone_fields(emulator, rm, sample_fixture):
    srv = emulator()
    member = next(a for a in sample_fixture.accounts if a.secure_mobile_phone)
    client = rm(srv)
    from alibabacloud_tea_openapi.models import OpenApiRequest, Params
    from darabonba.runtime import RuntimeOptions

    params = Params(
        action="GetAccount",
        version="2020-03-31",
        protocol="HTTPS",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    raw = client.call_api(params, OpenApiRequest(query={"AccountId": member.id}), RuntimeOptions())[
        "body"
    ]
    assert raw["Account"]["AccountId"] == member.id
    assert "HasSecureMobilePhone" not in raw["Account"]
    assert "SecureMobilePhone" not in raw["Account"]


def test_folders_three_levels(emulator, rm):
    srv = emulator()
    client = rm(srv)
    top = client.list_folders_for_parent(rm_models.ListFoldersForParentRequest()).body
    names = {f.folder_name: f.folder_id for f in top.folders.folder}
    assert "Production" in names
    prod = client.list_folders_for_parent(
        rm_models.ListFoldersForParentRequest(parent_folder_id=names["Production"])
    ).body
    apps = next(f for f in prod.folders.folder if f.folder_name == "Apps")
    folder = client.get_folder(rm_models.GetFolderRequest(folder_id=apps.folder_id)).body.folder
    assert folder.parent_folder_id == names["Production"]
    assert (
        folder.resource_directory_path
        == f"rd-3G6R01/r-Wm0001/{names['Production']}/{apps.folder_id}"
    )


def test_get_resource_directory_and_caller_identity(emulator, rm, sts):
    srv = emulator()
    rd = rm(srv).get_resource_directory().body.resource_directory
    assert rd.resource_directory_id == "rd-3G6R01"
    assert rd.master_account_id == MASTER
    ident = sts(srv).get_caller_identity().body
    assert ident.arn == f"acs:ram::{MASTER}:user/auditor"
    assert ident.account_id == MASTER
    assert ident.identity_type == "RAMUser"


def test_legacy_v2_signature_client(emulator, rm, rdm):
    srv = emulator()
    body = (
        rm(srv, signature_algorithm="v2")
        .list_accounts(rm_models.ListAccountsRequest(page_size=3, include_tags=True))
        .body
    )
    assert len(body.accounts.account) == 3
    acc = (
        rdm(srv, signature_algorithm="v2")
        .get_account(rdm_models.GetAccountRequest(account_id=MASTER))
        .body.account
    )
    assert acc.has_secure_mobile_phone is True


def test_async_client_and_unicode_tags(emulator, rm):
    import asyncio

    srv = emulator()
    srv.state.add_account("1777000000000002", "unicode", tags={"env": "生产 环境/*~"})
    req = rm_models.ListAccountsRequest(
        include_tags=True, tag=[rm_models.ListAccountsRequestTag(key="env", value="生产 环境/*~")]
    )
    for client in (rm(srv), rm(srv, signature_algorithm="v2")):
        body = client.list_accounts(req).body
        assert [a.account_id for a in body.accounts.account] == ["1777000000000002"]
    body = asyncio.run(rm(srv).list_accounts_async(req)).body
    assert body.accounts.account[0].tags.tag[0].value == "生产 环境/*~"


def test_emulator_accepts_dict_fixture(emulator, rm):
    srv = emulator(generate_fixture(accounts=12, seed=1))
    assert rm(srv).list_accounts(rm_models.ListAccountsRequest()).body.total_count == 12
