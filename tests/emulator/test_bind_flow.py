"""Send -> SMS outbox -> Bind -> GetAccount, and every business rule of Send/Bind."""

from __future__ import annotations

import json

import pytest
from alibabacloud_resourcedirectorymaster20220419 import models as rdm_models
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_tea_openapi.exceptions import ClientException

from scanner.emulator import generate_fixture, parse_fixture

PHONE = "86-13900001234"


def _bindable(fixture, n=0):
    found = [
        a
        for a in fixture.accounts
        if a.type == "ResourceAccount"
        and a.status == "CreateSuccess"
        and not a.secure_mobile_phone
        and a.enterprise_real_name_verified
    ]
    return found[n]


def _send(client, account_id, phone=PHONE, models=rm_models):
    return client.send_verification_code_for_bind_secure_mobile_phone(
        models.SendVerificationCodeForBindSecureMobilePhoneRequest(
            account_id=account_id, secure_mobile_phone=phone
        )
    )


def _bind(client, account_id, code, phone=PHONE, models=rm_models):
    return client.bind_secure_mobile_phone(
        models.BindSecureMobilePhoneRequest(
            account_id=account_id, secure_mobile_phone=phone, verification_code=code
        )
    )


def _error(call):
    with pytest.raises(ClientException) as err:
        call()
    return err.value


def test_full_flow_send_outbox_bind_get(emulator, rm, rdm, sample_fixture, tmp_path):
    outbox_file = tmp_path / "outbox.jsonl"
    srv = emulator(sms_outbox=outbox_file)
    member = _bindable(sample_fixture)
    client = rm(srv, "operator")
    sent = _send(client, member.id).body
    assert sent.request_id and sent.expiration_date.endswith("Z")
    lines = [json.loads(x) for x in outbox_file.read_text().splitlines()]
    assert len(lines) == 1
    entry = lines[0]
    assert entry["account_id"] == member.id and entry["phone"] == PHONE
    assert entry["expires_at"] == sent.expiration_date
    assert srv.outbox() == lines
    assert _bind(client, member.id, entry["code"]).body.request_id
    acc = rdm(srv).get_account(rdm_models.GetAccountRequest(account_id=member.id)).body.account
    assert acc.has_secure_mobile_phone is True
    assert acc.secure_mobile_phone == "86-139****1234"
    # only once: a second binding is refused by Bind (Send documents no such error: it delivers)
    _send(client, member.id)
    err = _error(lambda: _bind(client, member.id, srv.outbox()[-1]["code"]))
    assert (err.code, err.status_code) == ("AccountSecureMobileAlreadyExists", 409)


def test_flow_with_2022_client_and_sts_caller(emulator, rdm, sample_fixture):
    srv = emulator()
    member = _bindable(sample_fixture, 1)
    client = rdm(srv, "sts")
    _send(client, member.id, models=rdm_models)
    code = srv.outbox()[-1]["code"]
    _bind(client, member.id, code, models=rdm_models)
    acc = client.get_account(rdm_models.GetAccountRequest(account_id=member.id)).body.account
    assert acc.has_secure_mobile_phone is True


def test_wrong_and_expired_code(emulator, rm, sample_fixture):
    srv = emulator()
    member = _bindable(sample_fixture)
    client = rm(srv, "operator")
    _send(client, member.id)
    code = srv.outbox()[-1]["code"]
    wrong = "000000" if code != "000000" else "111111"
    err = _error(lambda: _bind(client, member.id, wrong))
    assert (err.code, err.status_code) == ("Invalid.VerificationCode", 409)
    err = _error(lambda: _bind(client, member.id, code, phone="86-13900009999"))
    assert err.code == "Invalid.VerificationCode"
    srv.expire_codes()
    err = _error(lambda: _bind(client, member.id, code))
    assert err.code == "Invalid.VerificationCode"


def test_daily_send_limit(emulator, rm, sample_fixture):
    srv = emulator(daily_send_limit=2)
    member = _bindable(sample_fixture)
    client = rm(srv, "operator")
    _send(client, member.id)
    _send(client, member.id)
    err = _error(lambda: _send(client, member.id))
    assert (err.code, err.status_code) == ("SendValidateCodeExceedsLimitForAccount", 409)
    assert len(srv.outbox()) == 2


def test_cloud_account_and_status_mismatch_are_binds_errors(emulator, rm, sample_fixture):
    srv = emulator()
    client = rm(srv, "operator")
    cloud = next(
        a for a in sample_fixture.accounts if a.type == "CloudAccount" and not a.secure_mobile_phone
    )
    verifying = next(a for a in sample_fixture.accounts if a.status == "PromoteVerifying")
    for member in (cloud, verifying):
        assert _send(client, member.id).body.expiration_date  # Send delivers, as the cloud may
        err = _error(lambda m=member: _bind(client, m.id, srv.outbox()[-1]["code"]))
        assert (err.code, err.status_code) == ("AccountTypeMismatch", 409)
    assert len(srv.outbox()) == 2


def test_root_identity_and_outsider_refused(emulator, rm, sample_fixture):
    srv = emulator()
    member = _bindable(sample_fixture)
    assert _send(rm(srv, "root"), member.id).body.expiration_date  # caller identity: Bind's
    err = _error(lambda: _bind(rm(srv, "root"), member.id, srv.outbox()[-1]["code"]))
    assert (err.code, err.status_code) == ("CallerIdentityError", 409)
    err = _error(lambda: _send(rm(srv, "outsider"), member.id))
    assert (err.code, err.status_code) == ("EntityNotExists.ResourceDirectory", 404)


def test_auditor_lacks_permission_to_send(emulator, rm, sample_fixture):
    srv = emulator()
    err = _error(lambda: _send(rm(srv, "auditor"), _bindable(sample_fixture).id))
    assert (err.code, err.status_code) == ("NoPermission", 403)
    assert err.access_denied_detail["AuthAction"] == (
        "resourcemanager:SendVerificationCodeForBindSecureMobilePhone"
    )


def test_bound_by_someone_else(emulator, rm, sample_fixture):
    srv = emulator()
    member = _bindable(sample_fixture)
    client = rm(srv, "operator")
    _send(client, member.id)
    code = srv.outbox()[-1]["code"]
    srv.state.bind_phone(member.id, "86-13700000000")
    err = _error(lambda: _bind(client, member.id, code))
    assert err.code == "AccountSecureMobileAlreadyExists"


def test_site_rules(emulator, rm, sample_fixture):
    srv = emulator()
    client = rm(srv, "operator")
    member = _bindable(sample_fixture)
    err = _error(lambda: _send(client, member.id, phone="1-5550100123"))
    assert (err.code, err.status_code) == ("InvalidParameter.MobileCountryCode", 409)
    err = _error(lambda: _bind(client, member.id, "123456", phone="1-5550100123"))
    assert (err.code, err.status_code) == ("NotSupport.Site.Action", 400)
    intl = parse_fixture(generate_fixture(accounts=30, seed=3, site="intl"), source="intl")
    srv2 = emulator(intl)
    target = _bindable(intl)
    err = _error(lambda: _send(rm(srv2, "operator"), target.id, phone=PHONE))
    assert err.code == "InvalidParameter.MobileCountryCode"
    assert _send(rm(srv2, "operator"), target.id, phone="65-81234567").body.expiration_date


def test_enterprise_real_name(emulator, rm, sample_fixture):
    srv = emulator()
    member = next(a for a in sample_fixture.accounts if not a.enterprise_real_name_verified)
    client = rm(srv, "operator")
    _send(client, member.id)
    err = _error(lambda: _bind(client, member.id, srv.outbox()[-1]["code"]))
    assert (err.code, err.status_code) == ("EnterpriseRealNameVerificationError", 409)


def test_missing_and_malformed_parameters(emulator, rm, sample_fixture):
    srv = emulator()
    client = rm(srv, "operator")
    err = _error(lambda: client.bind_secure_mobile_phone(rm_models.BindSecureMobilePhoneRequest()))
    assert (err.code, err.status_code) == ("MissingParameter.AccountId", 400)
    member = _bindable(sample_fixture)
    err = _error(lambda: _send(client, member.id, phone=""))
    assert err.code == "MissingParameter.SecureMobilePhone"
    err = _error(
        lambda: client.bind_secure_mobile_phone(
            rm_models.BindSecureMobilePhoneRequest(account_id=member.id, secure_mobile_phone=PHONE)
        )
    )
    assert err.code == "MissingParameter.VerificationCode"
    err = _error(lambda: _send(client, member.id, phone="13900001234"))
    assert (err.code, err.status_code) == ("InvalidParameter.SecureMobilePhone", 400)
    err = _error(lambda: _send(client, "9999999999999999"))
    assert (err.code, err.status_code) == ("EntityNotExists.Account", 404)
    err = _error(lambda: _send(client, "not-an-id"))
    assert (err.code, err.status_code) == ("InvalidParameter.AccountId", 400)
