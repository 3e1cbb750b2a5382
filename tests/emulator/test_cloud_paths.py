"""The paths the real cloud may take that the documentation leaves open (issue 9, points 2-4):
member statuses, Send vs Bind preconditions and their knobs, member and delegated-administrator
callers. Official SDKs over real HTTP."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

import pytest
from alibabacloud_resourcedirectorymaster20220419 import models as rdm_models
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_tea_openapi.exceptions import ClientException

from scanner.emulator import parse_fixture
from scanner.errors import FixtureError

MASTER = "1512345678901234"
ADMIN = "1000000000000005"  # a member that is a delegated administrator
PLAIN = "1000000000000006"  # a member that is not
PHONE = "86-13900001234"

BASE: dict[str, Any] = {
    "site": "cn",
    "resource_directory": {"id": "rd-1", "root_folder_id": "r-1", "master_account_id": MASTER},
    "folders": [{"id": "fd-a", "name": "A"}],
    "accounts": [
        {"id": MASTER, "display_name": "mgmt", "type": "CloudAccount",
         "secure_mobile_phone": PHONE},
        {"id": "1000000000000001", "display_name": "free", "type": "ResourceAccount"},
        {"id": "1000000000000002", "display_name": "free2", "type": "ResourceAccount"},
        {"id": "1000000000000003", "display_name": "cloud", "type": "CloudAccount",
         "secure_mobile_phone": "86-13900002222", "folder": "fd-a"},
        {"id": "1000000000000004", "display_name": "verifying", "type": "ResourceAccount",
         "status": "PromoteVerifying"},
        {"id": ADMIN, "display_name": "security", "type": "CloudAccount"},
        {"id": PLAIN, "display_name": "app", "type": "ResourceAccount"},
    ],
    "callers": [
        {"access_key_id": "K-op", "access_key_secret": "s-op",
         "arn": f"acs:ram::{MASTER}:user/op", "allow": ["*"]},
        {"access_key_id": "K-admin", "access_key_secret": "s-admin",
         "arn": f"acs:ram::{ADMIN}:user/auditor", "allow": ["*"]},
        {"access_key_id": "K-member", "access_key_secret": "s-member",
         "arn": f"acs:ram::{PLAIN}:user/dev", "allow": ["*"]},
    ],
    "delegated_administrators": [
        {"account_id": ADMIN, "service_principal": "cloudfw.aliyuncs.com"}
    ],
}  # fmt: skip
OP, ADMIN_KEY, MEMBER_KEY = ("K-op", "s-op"), ("K-admin", "s-admin"), ("K-member", "s-member")


def _fx(**undocumented: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    if undocumented:
        data["undocumented"] = undocumented
    return data


def _error(call) -> ClientException:
    with pytest.raises(ClientException) as err:
        call()
    return err.value


def _send(client, account_id, phone=PHONE):
    return client.send_verification_code_for_bind_secure_mobile_phone(
        rdm_models.SendVerificationCodeForBindSecureMobilePhoneRequest(
            account_id=account_id, secure_mobile_phone=phone
        )
    )


def _bind(client, account_id, code, phone=PHONE):
    return client.bind_secure_mobile_phone(
        rdm_models.BindSecureMobilePhoneRequest(
            account_id=account_id, secure_mobile_phone=phone, verification_code=code
        )
    )


def _get(client, account_id):
    return client.get_account(rdm_models.GetAccountRequest(account_id=account_id)).body.account


# ---- 2. member statuses ------------------------------------------------------------------------
def test_new_and_unknown_statuses_are_served_as_written(emulator, rm, rdm):
    data = _fx()
    data["accounts"][1]["status"] = "switchsuccess"
    data["accounts"][2]["status"] = "Removed"
    data["accounts"][6]["status"] = "Suspended"
    fx = parse_fixture(data, source="statuses.yaml")
    assert [w for w in fx.warnings if "status" in w] == [
        f"accounts[6] (id {PLAIN}): status 'Suspended' is not a documented member status; "
        "served as written (documented: CreateSuccess, CreateVerifying, CreateFailed, "
        "CreateExpired, CreateCancelled, PromoteVerifying, PromoteFailed, PromoteExpired, "
        "PromoteCancelled, PromoteSuccess, InviteSuccess, SwitchSuccess, Removed)"
    ]
    srv = emulator(fx)
    listed = rm(srv, OP).list_accounts(rm_models.ListAccountsRequest(page_size=100)).body
    statuses = {a.account_id: a.status for a in listed.accounts.account}
    assert statuses["1000000000000001"] == "SwitchSuccess"
    assert statuses["1000000000000002"] == "Removed"
    assert statuses[PLAIN] == "Suspended"
    assert _get(rdm(srv, OP), PLAIN).status == "Suspended"
    # not in the default bind_statuses: Bind refuses, Send delivers
    client = rdm(srv, OP)
    _send(client, PLAIN)
    err = _error(lambda: _bind(client, PLAIN, srv.outbox()[-1]["code"]))
    assert err.code == "AccountTypeMismatch"


# ---- 3. Send vs Bind, and the knobs --------------------------------------------------------------
def test_send_delivers_where_only_bind_refuses(emulator, rdm):
    srv = emulator(_fx())
    client = rdm(srv, OP)
    for member in ("1000000000000003", "1000000000000004"):  # bound CloudAccount; verifying
        assert _send(client, member).body.expiration_date
    assert [r["account_id"] for r in srv.outbox()] == ["1000000000000003", "1000000000000004"]
    err = _error(lambda: _bind(client, "1000000000000003", srv.outbox()[0]["code"]))
    assert (err.code, err.status_code) == ("AccountTypeMismatch", 409)
    # documented for Send: the site's country code, and the management account's own directory
    err = _error(lambda: _send(client, "1000000000000001", phone="1-2025550123"))
    assert (err.code, err.status_code) == ("InvalidParameter.MobileCountryCode", 409)
    err = _error(lambda: _send(client, MASTER))
    assert (err.code, err.status_code) == ("EntityAlreadyExists.ResourceDirectory", 409)


def test_daily_limit_per_member_by_default(emulator, rdm):
    srv = emulator(_fx(daily_send_limit=1))
    client = rdm(srv, OP)
    _send(client, "1000000000000001")
    _send(client, "1000000000000002")  # another member: its own count
    err = _error(lambda: _send(client, "1000000000000001"))
    assert (err.code, err.status_code) == ("SendValidateCodeExceedsLimitForAccount", 409)


def test_daily_limit_per_management_account(emulator, rdm):
    srv = emulator(_fx(daily_send_limit=2, daily_send_limit_scope="management_account"))
    client = rdm(srv, OP)
    _send(client, "1000000000000001")
    _send(client, "1000000000000002")
    err = _error(lambda: _send(client, PLAIN))  # a third member: the account's limit is spent
    assert err.code == "SendValidateCodeExceedsLimitForAccount"
    assert len(srv.outbox()) == 2


def test_code_lifetime_knob_and_its_override(emulator, rdm):
    for kwargs, ttl in (({}, 90), ({"code_ttl_s": 30}, 30)):
        srv = emulator(_fx(code_ttl_s=90), **kwargs)
        before = datetime.now(timezone.utc).timestamp()
        expires = _send(rdm(srv, OP), "1000000000000001").body.expiration_date
        when = datetime.strptime(expires, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        assert before + ttl - 2 <= when.timestamp() <= before + ttl + 5


def test_bind_statuses_knob(emulator, rdm):
    srv = emulator(_fx(bind_statuses=["PromoteVerifying"]))
    client = rdm(srv, OP)
    _send(client, "1000000000000004")
    _bind(client, "1000000000000004", srv.outbox()[-1]["code"])
    assert _get(client, "1000000000000004").has_secure_mobile_phone is True
    _send(client, "1000000000000001")  # CreateSuccess is no longer accepted
    err = _error(lambda: _bind(client, "1000000000000001", srv.outbox()[-1]["code"]))
    assert err.code == "AccountTypeMismatch"


@pytest.mark.parametrize(
    ("knobs", "cloud", "mgmt"),
    [
        ({}, (True, "86-139****2222"), (True, "86-139****1234")),
        ({"phone_flag_for_cloud_accounts": "omitted"}, (None, None), (True, "86-139****1234")),
        ({"phone_flag_for_cloud_accounts": "false"}, (False, None), (True, "86-139****1234")),
        ({"phone_flag_for_management_account": False}, (True, "86-139****2222"), (None, None)),
        ({"phone_flag_for_management_account": "false"}, (True, "86-139****2222"), (False, None)),
    ],
)
def test_phone_flag_knobs(emulator, rdm, knobs, cloud, mgmt):
    srv = emulator(_fx(**knobs))
    client = rdm(srv, OP)
    for account_id, (flag, masked) in (("1000000000000003", cloud), (MASTER, mgmt)):
        acc = _get(client, account_id)
        assert (acc.has_secure_mobile_phone, acc.secure_mobile_phone) == (flag, masked)
    assert _get(client, "1000000000000001").has_secure_mobile_phone is False  # members: as is


@pytest.mark.parametrize(
    ("knobs", "expected"),
    [
        ({"daily_send_limit_scope": "directory"}, "bad daily_send_limit_scope"),
        ({"code_ttl_s": 0}, "'code_ttl_s' must be a number >= 1"),
        ({"daily_send_limit": "five"}, "'daily_send_limit' must be a number"),
        ({"phone_flag_for_cloud_accounts": "maybe"}, "bad phone_flag_for_cloud_accounts"),
        ({"bind_statuses": [1]}, "bind_statuses must be a list"),
        ({"not_allowed_error": "Nope"}, "unknown not_allowed_error 'Nope'"),
        ({"delegated_admin_reads": "yes"}, "true or false"),
    ],
)
def test_bad_knobs_are_refused(knobs, expected):
    with pytest.raises(FixtureError) as err:
        parse_fixture(_fx(**knobs), source="knobs.yaml")
    assert expected in str(err.value) and err.value.hint


# ---- 4. member and delegated-administrator callers ---------------------------------------------
def test_member_caller_gets_its_directory_then_errors(emulator, rm, rdm):
    srv = emulator(_fx())
    member = rm(srv, MEMBER_KEY)
    rd = member.get_resource_directory().body.resource_directory
    assert (rd.resource_directory_id, rd.master_account_id) == ("rd-1", MASTER)
    err = _error(lambda: member.list_accounts(rm_models.ListAccountsRequest()))
    assert (err.code, err.status_code) == ("EntityNotExists.ResourceDirectory", 404)
    err = _error(lambda: _get(rdm(srv, MEMBER_KEY), PLAIN))
    assert err.code == "EntityNotExists.ResourceDirectory"
    err = _error(lambda: _bind(rdm(srv, MEMBER_KEY), "1000000000000001", "123456"))
    assert err.code == "CallerIdentityError"


def test_member_caller_error_knob(emulator, rdm):
    srv = emulator(_fx(not_allowed_error="NoPermission"))
    err = _error(lambda: rdm(srv, MEMBER_KEY).list_accounts(rdm_models.ListAccountsRequest()))
    assert (err.code, err.status_code) == ("NoPermission", 403)


def test_delegated_administrator_reads(emulator, rm, rdm):
    srv = emulator(_fx())
    admin_rm, admin_rdm = rm(srv, ADMIN_KEY), rdm(srv, ADMIN_KEY)
    rd = admin_rm.get_resource_directory().body.resource_directory
    assert rd.master_account_id == MASTER  # not the caller's own account
    assert admin_rm.list_accounts(rm_models.ListAccountsRequest()).body.total_count == 7
    listed = admin_rdm.list_accounts(rdm_models.ListAccountsRequest()).body
    assert listed.total_count == 7
    assert _get(admin_rdm, "1000000000000003").has_secure_mobile_phone is True  # knob default
    folders = admin_rm.list_folders_for_parent(rm_models.ListFoldersForParentRequest()).body
    assert [f.folder_id for f in folders.folders.folder] == ["fd-a"]
    err = _error(lambda: _bind(admin_rdm, "1000000000000001", "123456"))
    assert err.code == "CallerIdentityError"


def test_delegated_administrator_without_reads(emulator, rm, rdm):
    srv = emulator(_fx(delegated_admin_reads=False))
    admin_rm, admin_rdm = rm(srv, ADMIN_KEY), rdm(srv, ADMIN_KEY)
    assert admin_rdm.list_accounts(rdm_models.ListAccountsRequest()).body.total_count == 7
    assert admin_rm.get_resource_directory().body.resource_directory.resource_directory_id
    for call in (
        lambda: _get(admin_rdm, "1000000000000001"),
        lambda: admin_rm.list_folders_for_parent(rm_models.ListFoldersForParentRequest()),
        lambda: admin_rm.list_accounts_for_parent(rm_models.ListAccountsForParentRequest()),
        lambda: admin_rm.get_folder(rm_models.GetFolderRequest(folder_id="fd-a")),
    ):
        assert _error(call).code == "EntityNotExists.ResourceDirectory"


def test_delegated_administrator_must_be_a_member():
    for who in (MASTER, "1999999999999999"):
        data = _fx()
        data["delegated_administrators"] = [who]
        with pytest.raises(FixtureError) as err:
            parse_fixture(data, source="admins.yaml")
        assert "is not a member account of the directory" in str(err.value)


def test_sample_has_a_member_caller_and_a_delegated_administrator(emulator, rm):
    srv = emulator()
    for name in ("member", "delegated"):
        rd = rm(srv, name).get_resource_directory().body.resource_directory
        assert rd.master_account_id == MASTER
    listed = rm(srv, "delegated").list_accounts(rm_models.ListAccountsRequest(page_size=1)).body
    assert listed.total_count == 59
    err = _error(lambda: rm(srv, "member").list_accounts(rm_models.ListAccountsRequest()))
    assert err.code == "EntityNotExists.ResourceDirectory"


@pytest.mark.parametrize("first", [False, True])
def test_missing_parameter_before_or_after_permission(emulator, rdm, first):
    """What a read-only probe of Send (a call without parameters) learns, both ways."""
    data = _fx(missing_parameter_before_permission=first)
    data["callers"].append(
        {"access_key_id": "K-ro", "access_key_secret": "s-ro",
         "arn": f"acs:ram::{MASTER}:user/ro", "allow": ["resourcemanager:Get*"]}
    )  # fmt: skip
    srv = emulator(data)
    probe = rdm_models.SendVerificationCodeForBindSecureMobilePhoneRequest()
    denied = _error(
        lambda: rdm(srv, ("K-ro", "s-ro")).send_verification_code_for_bind_secure_mobile_phone(
            probe
        )
    )
    assert denied.code == ("MissingParameter.AccountId" if first else "NoPermission")
    allowed = _error(
        lambda: rdm(srv, OP).send_verification_code_for_bind_secure_mobile_phone(probe)
    )
    assert allowed.code == "MissingParameter.AccountId"
    assert srv.outbox() == []


def test_every_fixture_key_and_knob_is_documented():
    from pathlib import Path

    from scanner.emulator import fixture as fixture_module

    doc = (Path(__file__).parents[2] / "docs" / "fixture.md").read_text(encoding="utf-8")
    keys = (
        fixture_module._TOP_KEYS
        | fixture_module._UNDOCUMENTED_KEYS
        | fixture_module._ROLE_KEYS
        | fixture_module._ACCOUNT_KEYS
        | fixture_module._CALLER_KEYS
    )
    assert not [k for k in sorted(keys) if f"`{k}" not in doc]
