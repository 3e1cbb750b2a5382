"""The pure engine: one result per member, every rule, exemptions, scope, exit codes."""

from __future__ import annotations

import datetime as dt

import pytest

from scanner.engine import (
    MISSING_FLAG_REASON,
    evaluate,
    exit_code,
    soon_to_expire,
    unused_exemptions,
)
from scanner.findings import Remediation, Severity, Status
from scanner.policy import CloudAccountRule, Exemptions, TagRule

TODAY = dt.date(2026, 11, 27)
NONE = Exemptions()


def one(policy, exemptions, inventory, **kw):
    (result,) = evaluate(policy, exemptions, inventory, TODAY, **kw)
    return result


# ------------------------------------------------------------------------ basic statuses


def test_phone_bound_passes_with_info_severity(make_policy, make_member, make_inventory):
    m = make_member(has_secure_mobile_phone=True, secure_mobile_phone_masked="86-139****1234")
    r = one(make_policy(), NONE, make_inventory(m))
    assert r.result is Status.PASS
    assert r.severity is Severity.INFO
    assert r.remediation is Remediation.NONE
    assert r.secure_mobile_phone_masked == "86-139****1234"
    assert r.exemption is None
    assert "bound" in r.reason


def test_resource_account_without_phone_fails_with_api_remediation(
    make_policy, make_member, make_inventory
):
    m = make_member(type="ResourceAccount", has_secure_mobile_phone=False)
    r = one(make_policy(severity=Severity.CRITICAL), NONE, make_inventory(m))
    assert r.result is Status.FAIL
    assert r.severity is Severity.CRITICAL
    assert r.remediation is Remediation.API
    assert "BindSecureMobilePhone" in r.reason


def test_cloud_account_without_phone_fails_manual_by_default(
    make_policy, make_member, make_inventory
):
    m = make_member(type="CloudAccount", status="InviteSuccess", has_secure_mobile_phone=False)
    r = one(make_policy(), NONE, make_inventory(m))
    assert r.result is Status.FAIL
    assert r.remediation is Remediation.MANUAL
    assert r.severity is Severity.HIGH
    assert "CloudAccount" in r.reason and "console" in r.reason


def test_cloud_account_rule_severity_override(make_policy, make_member, make_inventory):
    m = make_member(type="CloudAccount", has_secure_mobile_phone=False)
    policy = make_policy(cloud=CloudAccountRule(Status.FAIL, Severity.LOW))
    r = one(policy, NONE, make_inventory(m))
    assert (r.result, r.severity, r.remediation) == (Status.FAIL, Severity.LOW, Remediation.MANUAL)
    # ResourceAccounts keep the policy severity
    ra = make_member(type="ResourceAccount", has_secure_mobile_phone=False)
    assert one(policy, NONE, make_inventory(ra)).severity is Severity.HIGH


def test_cloud_account_rule_skipped(make_policy, make_member, make_inventory):
    policy = make_policy(cloud=CloudAccountRule(Status.SKIPPED))
    no_phone = make_member(type="CloudAccount", has_secure_mobile_phone=False)
    with_phone = make_member(type="CloudAccount", has_secure_mobile_phone=True)
    resource = make_member(type="ResourceAccount", has_secure_mobile_phone=False)
    a, b, c = evaluate(policy, NONE, make_inventory(no_phone, with_phone, resource), TODAY)
    assert a.result is Status.SKIPPED and a.severity is Severity.INFO
    assert "cloud_account_without_phone" in a.reason
    assert b.result is Status.PASS
    assert c.result is Status.FAIL


def test_unknown_member_type_is_never_guessed_fixable(make_policy, make_member, make_inventory):
    m = make_member(type="FutureAccount", has_secure_mobile_phone=False)
    r = one(make_policy(cloud=CloudAccountRule(Status.SKIPPED)), NONE, make_inventory(m))
    assert (r.result, r.remediation) == (Status.FAIL, Remediation.MANUAL)
    assert "FutureAccount" in r.reason


def test_read_error_is_error_with_the_error_as_reason(make_policy, make_member, make_inventory):
    err = "GetAccount: NoPermission You are not authorized (HTTP 403, RequestId R1)"
    m = make_member(has_secure_mobile_phone=None, read_error=err)
    r = one(make_policy(severity=Severity.MEDIUM), NONE, make_inventory(m))
    assert r.result is Status.ERROR
    assert r.reason == err
    assert r.severity is Severity.MEDIUM
    assert r.has_secure_mobile_phone is None


def test_read_error_wins_over_a_stale_flag(make_policy, make_member, make_inventory):
    m = make_member(has_secure_mobile_phone=True, read_error="throttled")
    assert one(make_policy(), NONE, make_inventory(m)).result is Status.ERROR


def test_missing_flag_is_error_never_pass(make_policy, make_member, make_inventory):
    m = make_member(has_secure_mobile_phone=None)
    r = one(make_policy(), NONE, make_inventory(m))
    assert r.result is Status.ERROR
    assert r.reason == MISSING_FLAG_REASON


def test_error_is_not_exempted(make_policy, make_member, make_inventory, make_exemptions):
    m = make_member(has_secure_mobile_phone=None, read_error="boom")
    ex = make_exemptions(("account", m.account_id, TODAY + dt.timedelta(days=100)))
    r = one(make_policy(), ex, make_inventory(m))
    assert r.result is Status.ERROR and r.exemption is None


def test_pass_is_not_marked_exempt(make_policy, make_member, make_inventory, make_exemptions):
    m = make_member(has_secure_mobile_phone=True)
    ex = make_exemptions(("account", m.account_id, TODAY + dt.timedelta(days=100)))
    r = one(make_policy(), ex, make_inventory(m))
    assert r.result is Status.PASS and r.exemption is None


def test_one_result_per_member_in_order_and_fields_copied(make_policy, make_member, make_inventory):
    members = [
        make_member(
            display_name=f"m{i}",
            has_secure_mobile_phone=i % 2 == 0,
            tags={"env": "prod"},
            folder_id="fd-apps",
        )
        for i in range(7)
    ]
    results = evaluate(make_policy(), NONE, make_inventory(*members), TODAY)
    assert [r.account_id for r in results] == [m.account_id for m in members]
    r = results[3]
    assert r.display_name == "m3"
    assert r.folder_path == "Root/Production/Apps"
    assert r.folder_id == "fd-apps"
    assert r.tags == (("env", "prod"),)
    assert r.type == "ResourceAccount" and r.member_status == "CreateSuccess"


def test_folder_path_falls_back_to_inventory(make_policy, make_member, make_inventory):
    m = make_member(folder_id="fd-team", folder_path="")
    assert one(make_policy(), NONE, make_inventory(m)).folder_path == "Root/Sandbox/Team"


def test_empty_inventory_gives_no_results(make_policy, make_inventory):
    assert evaluate(make_policy(), NONE, make_inventory(), TODAY) == ()


# ------------------------------------------------------------------------------- scope


@pytest.mark.parametrize(
    ("scope", "member_kw", "needle"),
    [
        ({"types": ("ResourceAccount",)}, {"type": "CloudAccount"}, "type CloudAccount"),
        ({"statuses": ("CreateSuccess",)}, {"status": "PromoteVerifying"}, "PromoteVerifying"),
        ({"exclude_folders": ("Root/Sandbox",)}, {"folder_id": "fd-team"}, "Root/Sandbox"),
        ({"exclude_folders": ("fd-sbx",)}, {"folder_id": "fd-team"}, "fd-sbx"),
        ({"include_folders": ("Root/Production",)}, {"folder_id": "fd-sbx"}, "Root/Production"),
        ({"exclude_tags": (TagRule("env", "dev"),)}, {"tags": {"env": "dev"}}, "env=dev"),
        ({"exclude_tags": (TagRule("temp"),)}, {"tags": {"temp": "x"}}, "temp=x"),
        ({"include_tags": (TagRule("env", "prod"),)}, {"tags": {"env": "dev"}}, "env=prod"),
        ({"include_tags": (TagRule("env"),)}, {"tags": {}}, "none of the tags"),
    ],
)
def test_out_of_scope_is_skipped_with_the_rule(
    make_policy, make_member, make_inventory, scope, member_kw, needle
):
    m = make_member(has_secure_mobile_phone=False, **member_kw)
    r = one(make_policy(**scope), NONE, make_inventory(m))
    assert r.result is Status.SKIPPED
    assert r.severity is Severity.INFO
    assert r.reason.startswith("Out of scope")
    assert needle in r.reason


@pytest.mark.parametrize(
    ("scope", "member_kw"),
    [
        ({"types": ("ResourceAccount", "CloudAccount")}, {"type": "CloudAccount"}),
        ({"statuses": ("CreateSuccess", "InviteSuccess")}, {"status": "InviteSuccess"}),
        ({"exclude_folders": ("Root/Sandbox",)}, {"folder_id": "fd-sbxprod"}),  # not a prefix
        ({"exclude_folders": ("Root/Sandbox/Team",)}, {"folder_id": "fd-sbx"}),  # parent stays
        ({"include_folders": ("Root/Production",)}, {"folder_id": "fd-apps"}),
        ({"include_folders": ("fd-prod",)}, {"folder_id": "fd-apps"}),
        ({"include_folders": ("Root",)}, {"folder_id": "fd-team"}),
        ({"exclude_tags": (TagRule("env", "dev"),)}, {"tags": {"env": "prod"}}),
        ({"include_tags": (TagRule("env"),)}, {"tags": {"env": "anything"}}),
        ({"include_tags": (TagRule("a", "1"), TagRule("b", "2"))}, {"tags": {"b": "2"}}),
    ],
)
def test_in_scope_is_evaluated(make_policy, make_member, make_inventory, scope, member_kw):
    m = make_member(has_secure_mobile_phone=False, **member_kw)
    assert one(make_policy(**scope), NONE, make_inventory(m)).result is Status.FAIL


def test_scope_wins_over_read_error(make_policy, make_member, make_inventory):
    """Scope is decided from the listing: an excluded member never makes a scan incomplete."""
    m = make_member(folder_id="fd-sbx", has_secure_mobile_phone=None, read_error="throttled")
    r = one(make_policy(exclude_folders=("Root/Sandbox",)), NONE, make_inventory(m))
    assert r.result is Status.SKIPPED


def test_scope_rules_checked_type_status_folder_tag(make_policy, make_member, make_inventory):
    policy = make_policy(
        types=("ResourceAccount",),
        statuses=("CreateSuccess",),
        exclude_folders=("fd-sbx",),
        exclude_tags=(TagRule("env"),),
    )
    m = make_member(
        type="CloudAccount", status="InviteSuccess", folder_id="fd-sbx", tags={"env": "x"}
    )
    m2 = make_member(status="InviteSuccess", folder_id="fd-sbx", tags={"env": "x"})
    m3 = make_member(folder_id="fd-sbx", tags={"env": "x"})
    m4 = make_member(tags={"env": "x"})
    reasons = [r.reason for r in evaluate(policy, NONE, make_inventory(m, m2, m3, m4), TODAY)]
    assert "member type CloudAccount" in reasons[0]
    assert "member status InviteSuccess" in reasons[1]
    assert "folder" in reasons[2]
    assert "tag" in reasons[3]


# -------------------------------------------------------------------------- exemptions


def test_valid_account_exemption_makes_exempt(
    make_policy, make_member, make_inventory, make_exemptions
):
    m = make_member()
    ex = make_exemptions(("account", m.account_id, TODAY + dt.timedelta(days=200)))
    r = one(make_policy(), ex, make_inventory(m))
    assert r.result is Status.EXEMPT
    assert r.severity is Severity.HIGH
    assert r.remediation is Remediation.API
    info = r.exemption
    assert info is not None
    assert info.scope == f"account:{m.account_id}"
    assert (info.owner, info.ticket, info.reason) == ("owner1@example.com", "SEC-1", "reason 1")
    assert info.expired is False and info.days_left == 200
    assert info.expires == (TODAY + dt.timedelta(days=200)).isoformat()
    assert "SEC-1" in r.reason and "reason 1" in r.reason
    assert "expires in" not in r.reason  # not soon


def test_expired_exemption_fails_again_with_info(
    make_policy, make_member, make_inventory, make_exemptions
):
    m = make_member()
    expires = TODAY - dt.timedelta(days=3)
    ex = make_exemptions(("account", m.account_id, expires))
    r = one(make_policy(), ex, make_inventory(m))
    assert r.result is Status.FAIL
    assert r.exemption is not None
    assert r.exemption.expired is True and r.exemption.days_left == -3
    assert f"expired on {expires.isoformat()}" in r.reason


def test_exemption_applies_through_its_last_day(
    make_policy, make_member, make_inventory, make_exemptions
):
    m = make_member()
    r = one(make_policy(), make_exemptions(("account", m.account_id, TODAY)), make_inventory(m))
    assert r.result is Status.EXEMPT
    assert r.exemption is not None and r.exemption.days_left == 0
    assert "expires today" in r.reason
    tomorrow = TODAY + dt.timedelta(days=1)
    (late,) = evaluate(
        make_policy(),
        make_exemptions(("account", m.account_id, TODAY)),
        make_inventory(m),
        tomorrow,
    )
    assert late.result is Status.FAIL and late.exemption is not None and late.exemption.expired


@pytest.mark.parametrize(("days", "soon"), [(0, True), (1, True), (30, True), (31, False)])
def test_soon_to_expire(make_policy, make_member, make_inventory, make_exemptions, days, soon):
    m = make_member()
    ex = make_exemptions(("account", m.account_id, TODAY + dt.timedelta(days=days)))
    results = evaluate(make_policy(), ex, make_inventory(m), TODAY)
    assert results[0].result is Status.EXEMPT
    assert bool(soon_to_expire(results)) is soon
    assert ("expire" in results[0].reason.split("SEC-1")[0]) is soon


def test_soon_days_is_configurable(make_policy, make_member, make_inventory, make_exemptions):
    m = make_member()
    ex = make_exemptions(("account", m.account_id, TODAY + dt.timedelta(days=45)))
    results = evaluate(make_policy(), ex, make_inventory(m), TODAY, soon_days=60)
    assert "expires in 45 days" in results[0].reason
    assert soon_to_expire(results, 60) == list(results)
    assert soon_to_expire(results) == []
    with pytest.raises(ValueError):
        evaluate(make_policy(), ex, make_inventory(m), TODAY, soon_days=-1)


def test_folder_exemption_covers_sub_folders_by_path_and_id(
    make_policy, make_member, make_inventory, make_exemptions
):
    later = TODAY + dt.timedelta(days=90)
    team = make_member(folder_id="fd-team")
    sbx = make_member(folder_id="fd-sbx")
    trap = make_member(folder_id="fd-sbxprod")
    prod = make_member(folder_id="fd-prod")
    inv = make_inventory(team, sbx, trap, prod)
    for target in ("Root/Sandbox", "fd-sbx", "Root/Sandbox/"):
        ex = make_exemptions(("folder", target.rstrip("/"), later))
        got = [r.result for r in evaluate(make_policy(), ex, inv, TODAY)]
        assert got == [Status.EXEMPT, Status.EXEMPT, Status.FAIL, Status.FAIL], target
    r = evaluate(make_policy(), make_exemptions(("folder", "fd-sbx", later)), inv, TODAY)[0]
    assert r.exemption is not None and r.exemption.scope == "folder:fd-sbx"


def test_account_exemption_beats_folder_exemption(
    make_policy, make_member, make_inventory, make_exemptions
):
    m = make_member(folder_id="fd-team")
    valid = TODAY + dt.timedelta(days=90)
    expired = TODAY - dt.timedelta(days=1)
    # account valid, folder expired -> EXEMPT by the account
    ex = make_exemptions(("folder", "Root/Sandbox", expired), ("account", m.account_id, valid))
    r = one(make_policy(), ex, make_inventory(m))
    assert r.result is Status.EXEMPT and r.exemption is not None
    assert r.exemption.scope == f"account:{m.account_id}"
    # account expired, folder valid -> the account's own (expired) exemption decides: FAIL
    ex = make_exemptions(("folder", "Root/Sandbox", valid), ("account", m.account_id, expired))
    r = one(make_policy(), ex, make_inventory(m))
    assert r.result is Status.FAIL and r.exemption is not None
    assert r.exemption.scope == f"account:{m.account_id}" and r.exemption.expired


def test_nearest_folder_exemption_wins(make_policy, make_member, make_inventory, make_exemptions):
    m = make_member(folder_id="fd-team")
    ex = make_exemptions(
        ("folder", "Root", TODAY + dt.timedelta(days=5)),
        ("folder", "fd-team", TODAY - dt.timedelta(days=5)),
        ("folder", "Root/Sandbox", TODAY + dt.timedelta(days=50)),
    )
    r = one(make_policy(), ex, make_inventory(m))
    assert r.result is Status.FAIL
    assert r.exemption is not None and r.exemption.scope == "folder:fd-team"
    # an id names an ancestor as well as a path does: the nearer one wins either way
    ex2 = make_exemptions(
        ("folder", "fd-sbx", TODAY - dt.timedelta(days=5)),
        ("folder", "Root/Sandbox/Team", TODAY + dt.timedelta(days=5)),
    )
    r3 = one(make_policy(), ex2, make_inventory(m))
    assert r3.result is Status.EXEMPT
    assert r3.exemption is not None and r3.exemption.scope == "folder:Root/Sandbox/Team"
    ex3 = make_exemptions(
        ("folder", "Root/Sandbox", TODAY - dt.timedelta(days=5)),
        ("folder", "fd-team", TODAY + dt.timedelta(days=5)),
    )
    assert one(make_policy(), ex3, make_inventory(m)).result is Status.EXEMPT
    other = make_member(folder_id="fd-sbx")
    r2 = one(make_policy(), ex, make_inventory(other))
    assert r2.result is Status.EXEMPT
    assert r2.exemption is not None and r2.exemption.scope == "folder:Root/Sandbox"


def test_cloud_account_exempt_keeps_manual_remediation(
    make_policy, make_member, make_inventory, make_exemptions
):
    m = make_member(type="CloudAccount")
    ex = make_exemptions(("account", m.account_id, TODAY + dt.timedelta(days=90)))
    r = one(make_policy(), ex, make_inventory(m))
    assert r.result is Status.EXEMPT and r.remediation is Remediation.MANUAL


def test_skipped_member_is_not_exempted(make_policy, make_member, make_inventory, make_exemptions):
    m = make_member(folder_id="fd-sbx")
    ex = make_exemptions(("account", m.account_id, TODAY + dt.timedelta(days=90)))
    r = one(make_policy(exclude_folders=("fd-sbx",)), ex, make_inventory(m))
    assert r.result is Status.SKIPPED and r.exemption is None


def test_unused_exemptions(make_member, make_inventory, make_exemptions):
    m = make_member(folder_id="fd-team")
    later = TODAY + dt.timedelta(days=9)
    ex = make_exemptions(
        ("account", m.account_id, later),
        ("account", "1999999999999999", later),
        ("folder", "Root/Sandbox", later),
        ("folder", "Root/Production", later),
    )
    unused = unused_exemptions(ex, make_inventory(m))
    assert [e.scope for e in unused] == ["account:1999999999999999", "folder:Root/Production"]


def test_folder_cycle_does_not_hang(make_policy, make_member, make_exemptions):
    from scanner.inventory.model import Directory, Folder, Inventory

    folders = {
        "fd-a": Folder("fd-a", "A", "fd-b", "Root/A"),
        "fd-b": Folder("fd-b", "B", "fd-a", "Root/B"),
    }
    m = make_member(folder_id="fd-a", folder_path="Root/A")
    inv = Inventory(Directory("rd", "r", "1"), folders, (m,))
    ex = make_exemptions(("folder", "fd-b", TODAY))
    assert one(make_policy(), ex, inv).result is Status.EXEMPT


# -------------------------------------------------------------------------- exit codes


def _results(make_policy, make_member, make_inventory, *specs):
    members = []
    for kind in specs:
        if kind == "pass":
            members.append(make_member(has_secure_mobile_phone=True))
        elif kind == "fail":
            members.append(make_member(has_secure_mobile_phone=False))
        elif kind == "cloudfail":
            members.append(make_member(type="CloudAccount", has_secure_mobile_phone=False))
        elif kind == "error":
            members.append(make_member(has_secure_mobile_phone=None, read_error="x"))
        elif kind == "skipped":  # out of scope: a status the policy does not cover
            members.append(make_member(status="CreateVerifying", has_secure_mobile_phone=False))
    policy = make_policy(
        severity=Severity.HIGH,
        cloud=CloudAccountRule(Status.FAIL, Severity.LOW),
        statuses=("CreateSuccess",),
    )
    return evaluate(policy, NONE, make_inventory(*members), TODAY)


@pytest.mark.parametrize(
    ("specs", "fail_on", "code"),
    [
        ((), Severity.INFO, 3),  # nothing listed: nothing was checked
        (("skipped", "skipped"), None, 3),  # every member SKIPPED: nothing was checked
        (("skipped", "pass"), Severity.INFO, 0),
        (("pass", "pass"), Severity.INFO, 0),
        (("pass", "fail"), Severity.INFO, 1),
        (("pass", "fail"), Severity.HIGH, 1),
        (("pass", "fail"), Severity.CRITICAL, 0),
        (("pass", "fail"), None, 0),
        (("cloudfail",), Severity.MEDIUM, 0),
        (("cloudfail",), Severity.LOW, 1),
        (("error",), None, 3),
        (("pass", "error"), Severity.INFO, 3),
        (("fail", "error"), Severity.INFO, 3),  # ERROR wins over FAIL
        (("error", "fail", "pass"), Severity.INFO, 3),
    ],
)
def test_exit_code(make_policy, make_member, make_inventory, specs, fail_on, code):
    results = _results(make_policy, make_member, make_inventory, *specs)
    assert exit_code(results, fail_on) == code


def test_exit_code_defaults_to_any_fail(make_policy, make_member, make_inventory):
    results = _results(make_policy, make_member, make_inventory, "cloudfail")
    assert exit_code(results) == 1


def test_exempt_and_skipped_do_not_fail(make_policy, make_member, make_inventory, make_exemptions):
    a = make_member()
    b = make_member(folder_id="fd-sbx")
    ex = make_exemptions(("account", a.account_id, TODAY))
    results = evaluate(make_policy(exclude_folders=("fd-sbx",)), ex, make_inventory(a, b), TODAY)
    assert [r.result for r in results] == [Status.EXEMPT, Status.SKIPPED]
    assert exit_code(results, Severity.INFO) == 0
