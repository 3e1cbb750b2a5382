"""The merged report of `rdscan scan --targets` (targets.html, targets.md) and the terminal
summaries in zh-CN: no English word outside the data (target names, ids, ARNs, the error of a
target that could not be scanned, the members' data)."""

from __future__ import annotations

import dataclasses
import html
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from scanner.client.settings import Settings
from scanner.emulator import EmulatorServer
from scanner.exit_codes import ExitCode
from scanner.findings import ScanResult
from scanner.i18n import EXIT_MEANINGS
from scanner.multi import TargetOutcome
from scanner.policy import load_policy
from scanner.policy.model import Exemptions
from scanner.reasons import args_of, parts_of
from scanner.report.merged import merged_dict, write_merged
from scanner.resources import default_policy_path
from scanner.targets import Target

from ..conftest import SAMPLE_CALLERS, child_process_env
from .test_i18n import ALLOWED, _Text
from .test_i18n_reasons import _scan, _warnings

CJK = re.compile(r"[\u4e00-\u9fff]")


def _target(name: str) -> Target:
    policy = load_policy(default_policy_path())
    return Target(name, Settings(site="cn"), policy, default_policy_path(), Exemptions(), None, 1)


def _data(doc: dict) -> list[str]:  # type: ignore[type-arg]
    values: list[str] = []

    def add(obj: object, key: str = "") -> None:
        if key in ("warnings", "reason"):  # words, not data (their arguments are data)
            return
        if isinstance(obj, str):
            values.append(obj)
        elif isinstance(obj, dict):
            for k, v in obj.items():
                add(v, k)
        elif isinstance(obj, list):
            for v in obj:
                add(v)

    add(doc)
    values += [p for v in list(values) if "/" in v for p in v.split("/")]
    return sorted({v for v in values if v.strip()}, key=len, reverse=True)


def _english(text: str, doc: dict) -> set[str]:  # type: ignore[type-arg]
    for value in _data(doc):
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", " ", text)
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9/_.-]*[A-Za-z0-9]", text))
    allowed = ALLOWED | {"GetAccount", "HasSecureMobilePhone", "BindSecureMobilePhone", "HTTP",
                         "CloudAccount", "cloud_account_without_phone", "true", "false", "null",
                         "TLS", "JSON", "targets.json", "per-target", "remediate", "ListAccounts",
                         "TotalCount", "AccountId", "AccessKey", "RAM", "print-policy", "audit",
                         "root"}  # fmt: skip
    return words - allowed


def test_zh_cn_merged_report_is_chinese_outside_the_data(golden_scan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scan: ScanResult = _scan(golden_scan)
    said = _warnings()
    ev = dataclasses.replace(
        scan.evidence, warnings=tuple(said), warning_parts=tuple(parts_of(w) for w in said)
    )
    scan = dataclasses.replace(scan, evidence=ev)
    outcomes = [
        TargetOutcome(_target("prod"), scan),
        TargetOutcome(_target("staging"), None, "InvalidAccessKeyId.NotFound", "check the key"),
    ]
    doc = merged_dict(outcomes, exit_code=3, generated_at="2026-11-27T09:01:00Z")
    written = write_merged(doc, tmp_path, lang="zh-CN")
    page = written["html"].read_text(encoding="utf-8")
    parser = _Text()
    parser.feed(page)
    assert parser.lang == "zh-CN"
    text = " ".join(parser.parts)
    md = written["md"].read_text(encoding="utf-8")
    assert md.startswith("# 安全手机合规审计：2 个资源目录")
    md_text = html.unescape(re.sub(r"\\(.)", r"\1", md))
    for rendered in (text, md_text):
        assert not _english(rendered, doc)
        for a in doc["accounts"]:
            if a["result"] in ("FAIL", "ERROR"):
                assert a["reason"] not in rendered  # shown in Chinese, from reason_parts
        assert "目标 staging 无法扫描" in rendered
    # the English default is unchanged
    en = write_merged(doc, tmp_path / "en")["html"].read_text(encoding="utf-8")
    assert '<html lang="en">' in en and "Target staging could not be scanned" in en
    # every reason argument is shown as it is
    for a in doc["accounts"]:
        if a["result"] == "ERROR":
            for p in a["reason_parts"]:
                for v in p.get("args", {}).values():
                    assert v in text


def test_exit_meanings_are_marked_for_translation() -> None:
    assert set(EXIT_MEANINGS) == {c.meaning for c in ExitCode}


def _summary(scan: ScanResult, code: ExitCode, tmp_path: Path, **kw: object) -> str:
    from click.testing import CliRunner

    from scanner.cli.scan_cmd import ScanOptions, _print_summary, verdict_line

    opts = ScanOptions(
        policy=default_policy_path(), exemptions=None, formats=("json",),
        output_dir=tmp_path / "out", fail_on=None, history=tmp_path / "h.sqlite",
        progress=False, as_of=None, templates_dir=None, frameworks=default_policy_path(),
        lang="zh-CN", **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    written = {"json": tmp_path / "out" / "report.json"}
    removed = [tmp_path / "out" / "report.sarif"]

    def run() -> None:
        _print_summary(scan, written, code, opts, removed)
        print(verdict_line(scan, code, opts))

    import click

    @click.command()
    def cmd() -> None:
        run()

    return CliRunner().invoke(cmd, []).output


def test_zh_cn_terminal_summary(golden_scan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`rdscan scan --lang zh-CN`: headings, counts, the reasons of the members that could not
    be evaluated, the report list, the exit line and the --quiet line in Chinese, outside the
    data (ids, names, paths, the arguments of each reason)."""
    scan: ScanResult = _scan(golden_scan)
    said = _warnings()
    ev = dataclasses.replace(
        scan.evidence, warnings=tuple(said), warning_parts=tuple(parts_of(w) for w in said)
    )
    scan = dataclasses.replace(scan, evidence=ev)
    out_dir = tmp_path / "out"
    values = [str(p) for p in (out_dir / "report.json", out_dir / "report.sarif", out_dir)]
    values += [str(tmp_path / "h.sqlite")]
    for r in scan.results:
        values += [r.account_id, r.display_name, r.folder_path, *args_of(r.reason_parts)]
    values += [v for w in said for p in parts_of(w) for _, v in p.args]
    values += [ev.scan_id, ev.caller.arn, ev.resource_directory_id, ev.policy_id]
    for code in (ExitCode.INCOMPLETE, ExitCode.FAIL, ExitCode.OK, ExitCode.REPORTS_UNWRITTEN):
        out = _summary(scan, code, tmp_path)
        assert "退出码" in out.splitlines()[-2], out
        for r in scan.results:
            assert r.reason not in out
        text = out
        for v in sorted({v for v in values if v.strip()}, key=len, reverse=True):
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(v)}(?![A-Za-z0-9])", " ", text)
        words = set(re.findall(r"[A-Za-z][A-Za-z0-9/_.-]*[A-Za-z0-9]", text))
        allowed = ALLOWED | {"GetAccount", "HasSecureMobilePhone", "HTTP", "TLS", "JSON", "true",
                             "false", "null", "ResourceAccount", "CloudAccount", "fail-on",
                             "none", "sarif", "ListAccounts", "TotalCount", "AccountId",
                             "AccessKey", "RAM", "print-policy", "audit", "root"}  # fmt: skip
        assert not words - allowed, (words - allowed, out)


def test_zh_cn_scan_against_the_emulator(
    emulator: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    """The real command: a zh-CN summary from a real scan, and English stays the default."""
    srv = emulator(rate_limit=1000)
    env = child_process_env(SAMPLE_CALLERS["auditor"], HOME=str(tmp_path / "home"))
    base = [sys.executable, "-m", "scanner", "scan", "--endpoint", srv.endpoint, "--protocol",
            "http", "--no-history", "--format", "json"]  # fmt: skip
    zh = subprocess.run(
        [*base, "--lang", "zh-CN", "--output-dir", str(tmp_path / "zh")],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    en = subprocess.run(
        [*base, "--output-dir", str(tmp_path / "en")],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert zh.returncode == en.returncode == 1, zh.stdout + zh.stderr
    assert zh.stdout.splitlines()[-1].startswith("退出码 1：不合规")
    assert "覆盖范围：已评估" in zh.stdout and "报告：" in zh.stdout
    assert en.stdout.splitlines()[-1].startswith("Exit code 1: non-compliant")
