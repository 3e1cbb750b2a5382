"""Member statuses: documented active ones evaluated, documented transitional or leaving ones
the policy leaves out SKIPPED with the reason, unknown ones evaluated and said out loud."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.engine import evaluate, unknown_statuses
from scanner.findings import Status
from scanner.policy import ACTIVE_STATUSES, Exemptions, load_policy
from scanner.resources import default_policy_path

TODAY = dt.date(2026, 11, 27)


@pytest.fixture
def shipped():
    return load_policy(default_policy_path())


@pytest.mark.parametrize("status", ACTIVE_STATUSES)
def test_every_documented_active_status_is_evaluated(shipped, make_member, make_inventory, status):
    m = make_member(status=status, has_secure_mobile_phone=False)
    (r,) = evaluate(shipped, Exemptions(), make_inventory(m), TODAY)
    assert r.result is Status.FAIL
    assert "not one rdscan knows" not in r.reason


@pytest.mark.parametrize(
    "status", ["CreateVerifying", "CreateFailed", "CreateExpired", "CreateCancelled", "Removed"]
)
def test_documented_transitional_statuses_the_policy_leaves_out_are_skipped_with_the_reason(
    shipped, make_member, make_inventory, status
):
    m = make_member(status=status, has_secure_mobile_phone=False)
    (r,) = evaluate(shipped, Exemptions(), make_inventory(m), TODAY)
    assert r.result is Status.SKIPPED
    assert f"member status {status} is not one the policy covers" in r.reason


@pytest.mark.parametrize("status", ["Suspended", "", "createsuccess"])
def test_an_unknown_status_is_evaluated_like_an_active_member_and_said(
    shipped, make_member, make_inventory, status
):
    bad = make_member(status=status, has_secure_mobile_phone=False)
    good = make_member(status=status, has_secure_mobile_phone=True)
    inventory = make_inventory(bad, good)
    r_bad, r_good = evaluate(shipped, Exemptions(), inventory, TODAY)
    assert r_bad.result is Status.FAIL and r_good.result is Status.PASS
    for r in (r_bad, r_good):
        assert "is not one rdscan knows from the documentation" in r.reason
        assert "evaluated like an active member" in r.reason
    assert unknown_statuses(inventory) == {status: 2}


def test_an_unknown_status_listed_in_scope_is_in_scope(make_policy, make_member, make_inventory):
    policy = make_policy(statuses=("CreateSuccess", "Suspended"))
    m = make_member(status="Suspended", has_secure_mobile_phone=False)
    (r,) = evaluate(policy, Exemptions(), make_inventory(m), TODAY)
    assert r.result is Status.FAIL


def test_policy_validate_accepts_any_status_and_warns_about_unknown_ones(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text(
        "id: p1\ntitle: T\nseverity: low\nrationale: r\nremediation: m\n"
        "scope:\n  statuses: [CreateSucess, SwitchSuccess, Frozen]\n"
    )
    result = CliRunner().invoke(main, ["policy", "validate", str(p)])
    assert result.exit_code == 0, result.output
    assert f"{p}: OK (policy p1)" in result.output
    assert f"{p}:7: scope.statuses item: 'CreateSucess' is not a documented" in result.output
    assert "did you mean CreateSuccess?" in result.output
    assert "'Frozen' is not a documented member status" in result.output
    assert "'SwitchSuccess'" not in result.output
    policy = load_policy(p)
    assert policy.scope.statuses == ("CreateSucess", "SwitchSuccess", "Frozen")
    assert len(policy.warnings) == 2
