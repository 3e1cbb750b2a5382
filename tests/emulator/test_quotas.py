"""Quotas as documented, per action and per management account (issue 9, point 1)."""

from __future__ import annotations

import time

import pytest
from alibabacloud_resourcedirectorymaster20220419 import models as rdm_models
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_tea_openapi.exceptions import ClientException
from click.testing import CliRunner

from scanner.cli import main
from scanner.emulator.limits import (
    DOCUMENTED_QUOTAS,
    UNDOCUMENTED_QUOTA,
    ApiQuota,
    QuotaOverride,
    Quotas,
    parse_rate_limit,
)

MASTER = "1512345678901234"
V2020, V2022 = "2020-03-31", "2022-04-19"


def _burst(call, limit: int) -> tuple[int, float]:
    """Call until the first Throttling.User: (successes before it, seconds taken)."""
    start = time.monotonic()
    for done in range(limit):
        try:
            call()
        except ClientException as err:
            assert err.code == "Throttling.User", err.code
            return done, time.monotonic() - start
    raise AssertionError(f"no throttling in {limit} calls")


def _within_quota(ok: int, elapsed: float, rate: float) -> None:
    # The bucket starts full (one second of quota) and refills at `rate` while we call.
    assert rate <= ok <= rate + elapsed * rate + 1, (ok, elapsed, rate)


def test_documented_table():
    q = Quotas()
    assert q.rate(V2022, "GetAccount") == 50
    assert q.rate(V2022, "ListAccounts") == 20
    assert q.rate(V2020, "ListAccounts") == 20
    assert q.rate(V2022, "ListAccountsForParent") == 50
    assert q.rate(V2020, "SendVerificationCodeForBindSecureMobilePhone") == 10
    assert q.rate(V2022, "SendVerificationCodeForBindSecureMobilePhone") == UNDOCUMENTED_QUOTA
    assert q.rate(V2020, "BindSecureMobilePhone") == q.rate(V2022, "BindSecureMobilePhone") == 20
    assert q.rate(V2020, "GetResourceDirectory") == 50
    assert q.rate(V2020, "ListFoldersForParent") == 50
    assert q.rate(V2020, "GetAccount") == q.rate(V2020, "GetFolder") == 20
    assert q.rate("2015-04-01", "GetCallerIdentity") == 20
    assert len(DOCUMENTED_QUOTAS) == 10


def test_overrides_most_specific_wins_in_any_order():
    known = ["GetAccount", "ListAccounts"]
    q = Quotas(
        [
            parse_rate_limit("GetAccount@2022-04-19=7", known),
            parse_rate_limit("getaccount=5", known),
            parse_rate_limit("1000", known),
        ]
    )
    assert q.rate(V2022, "GetAccount") == 7
    assert q.rate(V2020, "GetAccount") == 5
    assert q.rate(V2020, "ListAccounts") == 1000
    assert Quotas([QuotaOverride(0)]).rate(V2022, "GetAccount") == 0
    for bad, why in [
        ("Nope=3", "unknown action 'Nope'"),
        ("GetAccount@2099-01-01=3", "unknown API version"),
        ("fast", "is not N, ACTION=N"),
        ("GetAccount=-1", "must be a number >= 0"),
        ("nan", "must be a number >= 0"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_rate_limit(bad, known)


def test_set_rate_for_one_action_keeps_the_others():
    limiter = ApiQuota(None)
    limiter.set_rate(3, action="GetAccount")
    assert limiter.quotas.rate(V2022, "GetAccount") == 3
    assert limiter.quotas.rate(V2022, "ListAccounts") == 20
    limiter.set_rate(100)
    assert limiter.quotas.rate(V2022, "GetAccount") == 100
    limiter.set_rate(None)
    assert limiter.quotas.rate(V2022, "GetAccount") == 50


def test_getaccount_2022_allows_50_per_second_2020_20(emulator, rdm, rm):
    srv = emulator()
    assert srv.quotas()[(V2022, "GetAccount")] == 50
    new = rdm(srv)
    ok, elapsed = _burst(
        lambda: new.get_account(rdm_models.GetAccountRequest(account_id=MASTER)), 200
    )
    _within_quota(ok, elapsed, 50)
    # the 2020-03-31 GetAccount has no documented quota: its own bucket, at 20/s
    old = rm(srv)
    ok, elapsed = _burst(
        lambda: old.get_account(rm_models.GetAccountRequest(account_id=MASTER)), 200
    )
    _within_quota(ok, elapsed, 20)


def test_list_accounts_20_per_second_in_both_versions(emulator, rdm, rm):
    srv = emulator()
    for client, request in (
        (rm(srv), rm_models.ListAccountsRequest(page_size=1)),
        (rdm(srv), rdm_models.ListAccountsRequest(max_results=1)),
    ):
        ok, elapsed = _burst(lambda c=client, r=request: c.list_accounts(r), 200)
        _within_quota(ok, elapsed, 20)


def test_every_caller_of_one_account_shares_the_bucket(emulator, rm):
    srv = emulator(rate_limits={"GetResourceDirectory": 1})
    rm(srv, "auditor").get_resource_directory()
    for caller in ("operator", "sts", "root"):  # other keys and a token of the same account
        with pytest.raises(ClientException) as err:
            rm(srv, caller).get_resource_directory()
        assert err.value.code == "Throttling.User"
    # an account of its own: its own bucket (its call fails for another reason)
    with pytest.raises(ClientException) as err:
        rm(srv, "outsider").get_resource_directory()
    assert err.value.code == "ResourceDirectoryNotInUse"
    # other actions keep their documented quotas
    assert srv.quotas()[(V2020, "ListAccounts")] == 20
    assert rm(srv, "operator").list_accounts(rm_models.ListAccountsRequest()).body.request_id


def test_rate_limit_number_and_per_action(emulator, rm):
    srv = emulator(rate_limit=1000, rate_limits={"ListAccounts@2020-03-31": 1})
    client = rm(srv)
    client.list_accounts(rm_models.ListAccountsRequest())
    with pytest.raises(ClientException) as err:
        client.list_accounts(rm_models.ListAccountsRequest())
    assert err.value.code == "Throttling.User"
    for _ in range(30):
        client.get_resource_directory()
    srv.set_rate_limit(0)  # unlimited, every bucket refilled
    for _ in range(5):
        client.list_accounts(rm_models.ListAccountsRequest())


def test_cli_rejects_a_bad_rate_limit_before_serving():
    runner = CliRunner()
    for arg, needle in [
        ("Nope=3", "unknown action 'Nope'"),
        ("GetAccount=x", "is not N, ACTION=N"),
        ("-5", "must be a number >= 0"),
    ]:
        result = runner.invoke(main, ["emulator", "serve", "--rate-limit", arg])
        assert result.exit_code == 2, result.output
        assert needle in result.output
        assert "--rate-limit" in result.output
        assert "Traceback" not in result.output
