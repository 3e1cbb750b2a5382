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


def test_default_policy_matches_the_shipped_mapping_and_speaks_chinese():
    """The policy's related controls are the CIS items of the shipped mapping (same benchmark
    name and version), and its zh-CN block gives every text a Chinese report shows."""
    from scanner.findings import translated
    from scanner.policy import load_frameworks
    from scanner.resources import default_frameworks_path

    policy = load_policy(default_policy_path())
    mapping, _ = load_frameworks(default_frameworks_path())
    cis = {(f"{i.framework} {i.version}", i.id, i.title) for i in mapping.items}
    assert {(c.framework, c.control, c.title) for c in policy.related_controls} <= cis
    for name in ("title", "rationale", "remediation"):
        text = translated(policy.translations, "zh-CN", name)
        assert text and not text.isascii(), name
    assert "安全手机" in (translated(policy.translations, "zh-CN", "title") or "")
    for c in policy.related_controls:
        assert translated(c.translations, "zh-CN", "title"), c.control
        assert "2.0.0" in (translated(c.translations, "zh-CN", "framework") or "")


def test_a_policy_zh_cn_block_is_validated_with_its_lines(tmp_path):
    text = default_policy_path().read_text(encoding="utf-8")
    bad = text.replace("zh-CN:\n  title:", "zh-CN:\n  nom: x\n  title:", 1).replace(
        "      title: 避免使用 root 身份", "      title: ''", 1
    )
    path = tmp_path / "policy.yaml"
    path.write_text(bad, encoding="utf-8")
    problems = "\n".join(check_file(path).problems)
    assert "nom" in problems and "zh-CN title must not be empty" in problems
    lines = [n + 1 for n, line in enumerate(bad.splitlines()) if "nom: x" in line or "''" in line]
    assert all(f"{path}:{n}:" in problems for n in lines), problems
