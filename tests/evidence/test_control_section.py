"""The framework mapping reaches report.json and the Control section; --framework narrows it;
a mapping written for another control is refused before any API call."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from scanner.resources import default_frameworks_path

from ..conftest import child_process_env
from .conftest import Scanned, run


def test_report_json_records_the_mapping_and_reports_show_it(scanned: Scanned) -> None:
    scan = json.loads((scanned.out / "report.json").read_text(encoding="utf-8"))["scan"]
    fw = scan["frameworks"]
    assert fw["control"] == scan["policy"]["id"] and fw["source"] == "frameworks.yaml"
    assert fw["selected"] == [] and len(fw["items"]) == 17
    md = (scanned.out / "report.md").read_text(encoding="utf-8")
    assert "## Control" in md
    assert "| MLPS 2.0, GB/T 22239-2019 level 3 | 8.1.4.1 d) " in md
    html = (scanned.out / "report.html").read_text(encoding="utf-8")
    assert '<section id="control">' in html and "CSA Cloud Controls Matrix v4.0" in html


def test_report_framework_filter(scanned: Scanned, tmp_path: Path) -> None:
    code, out = run(
        "report", str(scanned.out / "report.json"), "--format", "md,html",
        "--output-dir", str(tmp_path), "--framework", "mlps",
    )  # fmt: skip
    assert code == 0, out
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "8.1.4.2 a)" in md and "A.8.5" not in md and "Shown: mlps" in md
    code, out = run(
        "report", str(scanned.out / "report.json"), "--output-dir", str(tmp_path),
        "--framework", "pci-dss",
    )  # fmt: skip
    assert code == 2 and "no framework 'pci-dss'" in out


def test_scan_refuses_a_mapping_for_another_control(tmp_path: Path) -> None:
    other = tmp_path / "frameworks.yaml"
    text = default_frameworks_path().read_text(encoding="utf-8")
    other.write_text(text.replace("control: rd-member-secure-mobile-phone", "control: other"))
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "scanner", "scan", "--endpoint", "127.0.0.1:9", "--protocol"),
            *("http", "--frameworks", str(other), "--no-history", "--output-dir", str(tmp_path)),
        ],
        env=child_process_env(("LTAI-auditor", "auditor-secret"), HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "is for control 'other', but the policy is 'rd-member-secure-mobile-phone'" in (
        proc.stderr
    )
    assert "Traceback" not in proc.stderr and not (tmp_path / "report.json").exists()


def test_report_json_and_evidence_block_name_the_control_as_of_and_exemptions(
    scanned: Scanned,
) -> None:
    scan = json.loads((scanned.out / "report.json").read_text(encoding="utf-8"))["scan"]
    policy = scan["policy"]
    assert policy["title"].startswith("Every Resource Directory member account")
    assert (
        "verification codes" in policy["rationale"]
        and "BindSecureMobilePhone" in (policy["remediation"])
    )
    assert scan["as_of"] == scan["started_at"][:10]
    assert scan["exemptions"] == {
        "name": "my-exemptions.yaml",
        "digest": policy["exemptions_digest"],
        "count": 2,
    }
    html = (scanned.out / "report.html").read_text(encoding="utf-8")
    # as of the scan's own date: not repeated (issue 8: shown only when it is another date)
    assert "Judged as of" not in html
    assert f"<dt>Control</dt><dd>{policy['title']}</dd>" in html
    assert "<dt>Related controls</dt><dd>CIS Alibaba Cloud Foundations Benchmark 2.0.0 1.1" in html
    assert "my-exemptions.yaml (2 entries)" in html and "1 with a named approver" in html
    md = (scanned.out / "report.md").read_text(encoding="utf-8")
    assert "Judged as of" not in md
    assert f"| Control | {policy['title']} |" in md
    assert "| Exemptions | my-exemptions.yaml (2 entries) `sha256:" in md


def test_report_lang_from_the_environment(scanned: Scanned, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scanner.cli import main

    result = CliRunner().invoke(
        main,
        [
            *("report", str(scanned.out / "report.json"), "--format", "md,html,action-plan"),
            *("--output-dir", str(tmp_path)),
        ],
        env={"RDSCAN_LANG": "zh-CN"},
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.md").read_text(encoding="utf-8").startswith("# 安全手机合规审计")
    assert '<html lang="zh-CN">' in (tmp_path / "report.html").read_text(encoding="utf-8")
    plan = (tmp_path / "action-plan.csv").read_text(encoding="utf-8")
    assert plan.startswith("\ufeff账号ID,显示名称,资源夹") and "负责人,完成期限" in plan
    bad = CliRunner().invoke(main, ["report", str(scanned.out / "report.json"), "--lang", "fr"])
    assert bad.exit_code == 2 and "unknown report language 'fr'" in bad.output


def test_the_control_in_chinese_comes_from_the_policy_zh_cn_block(
    scanned: Scanned, tmp_path: Path
) -> None:
    """report.json keeps the policy's zh-CN texts (title, rationale, remediation; each related
    control's framework and title); a zh-CN report shows them, an English one does not."""
    record = json.loads((scanned.out / "report.json").read_text(encoding="utf-8"))
    policy = record["scan"]["policy"]
    zh = policy["translations"]["zh-CN"]
    assert set(zh) == {"title", "rationale", "remediation"} and "安全手机" in zh["title"]
    related = policy["related_controls"]
    assert [c["translations"]["zh-CN"]["title"] for c in related] == [
        "避免使用 root 身份",
        "确保 root 身份已启用多因素认证",
    ]
    code, out = run(
        "report", str(scanned.out / "report.json"), "--format", "md,html",
        "--output-dir", str(tmp_path), "--lang", "zh-CN",
    )  # fmt: skip
    assert code == 0, out
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert f"| 控制项 | {zh['title']} |" in md
    assert policy["title"] not in md and policy["rationale"][:40] not in md
    assert "CIS 阿里云基础安全基准 2.0.0 1.3 确保 root 身份已启用多因素认证" in md
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert zh["title"] in html and policy["title"] not in html
    english = (scanned.out / "report.md").read_text(encoding="utf-8")
    assert f"| Control | {policy['title']} |" in english and zh["title"] not in english
