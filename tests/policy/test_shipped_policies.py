"""Meta-test: every file shipped in policies/ validates clean, and the default policy says what
the design promises."""

from __future__ import annotations

import pytest

from scanner.findings import Status
from scanner.policy import MEMBER_STATUSES, check_file, load_policy
from scanner.resources import default_policy_path, policies_dir

SHIPPED = sorted(p for p in policies_dir().iterdir() if not p.name.startswith("."))


def test_policies_dir_holds_the_policy_and_an_example():
    names = {p.name for p in SHIPPED}
    assert {"secure-mobile-phone.yaml", "exemptions.example.yaml"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_file_validates_clean(path):
    check = check_file(path)
    assert check.problems == ()
    assert check.kind in ("policy", "exemptions", "frameworks")


def test_default_policy_contract():
    policy = load_policy(default_policy_path())
    assert policy.id == "rd-member-secure-mobile-phone"
    assert policy.cloud_account_without_phone.result is Status.FAIL
    assert {c.relation for c in policy.related_controls} == {"supporting"}
    assert {c.control for c in policy.related_controls} >= {"1.1", "1.3"}
    assert all(c.framework.startswith("CIS Alibaba Cloud") for c in policy.related_controls)
    # both remediation paths are explained
    assert "api" in policy.remediation and "manual" in policy.remediation
    assert "BindSecureMobilePhone" in policy.remediation
    # every member type and every status of a member that exists is covered; only members
    # whose creation never completed are skipped by default
    assert set(policy.scope.types) == {"ResourceAccount", "CloudAccount"}
    left_out = set(MEMBER_STATUSES) - set(policy.scope.statuses)
    assert left_out == {
        "CreateVerifying",
        "CreateFailed",
        "CreateExpired",
        "CreateCancelled",
        "Removed",
    }
    assert not policy.scope.exclude_folders and not policy.scope.exclude_tags
    assert not policy.scope.include_folders and not policy.scope.include_tags
