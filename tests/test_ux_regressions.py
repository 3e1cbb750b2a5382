"""Regression tests for bad-input problems found by using rdscan as a first user would.

Each bad input gets one clear message naming the problem and the fix, a non-zero exit, nothing
lost or half-written, and no traceback. In-process (CliRunner) unless a real process is the
point (signals, a terminal, the SDK's own logging).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.emulator import EmulatorServer, generate_fixture
from scanner.errors import ConfigError
from scanner.findings import Caller, Evidence, Remediation, Result, ScanResult, Severity, Status
from scanner.report.results_file import dumps

from .conftest import child_process_env

AUDITOR = ("LTAI-auditor", "auditor-secret")
OPERATOR = ("LTAI-operator", "operator-secret")
UNBOUND = "1000000000015838"  # data-prod-02 of the sample: ResourceAccount, no phone


def _env(caller: tuple[str, str] = AUDITOR, **extra: str) -> dict[str, str]:
    return {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": caller[0],
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": caller[1],
        "RDSCAN_HISTORY": "",
        **extra,
    }


def _invoke(*args: str, caller: tuple[str, str] = AUDITOR, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=_env(caller, **env))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args} raised {result.exception!r}\n{result.output}")
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _conn(srv: EmulatorServer) -> list[str]:
    return ["--endpoint", srv.endpoint, "--protocol", "http"]


def _rdscan(
    *args: str, caller: tuple[str, str] = AUDITOR, stdin: int | None = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    """rdscan as a real process (the SDK's credential chain reads the environment once)."""
    return subprocess.run(
        [sys.executable, "-m", "scanner", *args],
        env=child_process_env(caller),
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_member_report(tmp_path: Path, fixture: Any, account_id: str = UNBOUND) -> Path:
    rd = fixture.directory
    spec = next(a for a in fixture.accounts if a.id == account_id)
    result = Result(
        account_id=spec.id,
        display_name=spec.display_name,
        type=spec.type,
        member_status=spec.status,
        folder_path="Root/Production",
        has_secure_mobile_phone=False,
        secure_mobile_phone_masked=None,
        result=Status.FAIL,
        severity=Severity.HIGH,
        reason="no secure mobile phone is bound",
        remediation=Remediation.API,
    )
    evidence = Evidence(
        scan_id="scan-ux-0001",
        started_at="2026-11-27T10:00:00Z",
        finished_at="2026-11-27T10:00:05Z",
        tool_version="test",
        site=fixture.site,
        caller=Caller("acs:ram::1512345678901234:user/auditor", rd.master_account_id, "RAMUser"),
        resource_directory_id=rd.id,
        master_account_id=rd.master_account_id,
        policy_id="secure-mobile-phone",
        policy_digest="sha256:" + "0" * 64,
    )
    path = tmp_path / "results" / "report.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(ScanResult(evidence, (result,))), encoding="utf-8")
    return path


# ---- scan: inputs that would only fail after the whole scan are checked before it -------------


def test_scan_with_a_history_that_is_not_sqlite_fails_before_scanning(emulator, tmp_path):
    srv = emulator()
    history = tmp_path / "history.sqlite"
    history.write_text("these are my notes, not a database\n")
    out = tmp_path / "out"
    code, output = _invoke("scan", *_conn(srv), "--output-dir", str(out), "--history", str(history))
    assert code == 2, output
    assert "is not a usable rdscan history" in output and "Fix:" in output
    assert srv.call_counts().get("ListAccounts", 0) == 0
    assert not out.exists()
    assert history.read_text() == "these are my notes, not a database\n"


def test_scan_output_dir_below_a_file_fails_before_scanning(emulator, tmp_path):
    srv = emulator()
    (tmp_path / "report.json").write_text("{}")
    code, output = _invoke(
        "scan", *_conn(srv), "--no-history", "--output-dir", str(tmp_path / "report.json" / "x")
    )
    assert code == 2, output
    assert "is a file, not a folder" in output and "Fix: choose another folder" in output
    assert srv.call_counts().get("ListAccounts", 0) == 0


# ---- history -------------------------------------------------------------------------------


def test_history_never_adds_tables_to_another_programs_database(emulator, tmp_path):
    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    for args in (["history", "list"], ["history", "show", "latest"]):
        code, output = _invoke(*args, "--history", str(db))
        assert code == 2, output
        assert "not an rdscan history" in output and "Fix:" in output
    srv = emulator()
    code, output = _invoke("scan", *_conn(srv), "--history", str(db), "--output-dir", "out")
    assert code == 2 and "not an rdscan history" in output
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"invoices"}


# ---- report / policy files -----------------------------------------------------------------


def test_a_template_that_fails_while_rendering_is_a_clear_error(tmp_path, sample_fixture):
    results = _one_member_report(tmp_path, sample_fixture)
    templates = tmp_path / "tpl"
    templates.mkdir()
    (templates / "report.md.j2").write_text("# Report\n{{ v.no_such_field.deeper }}\n")
    code, output = _invoke(
        "report", str(results), "--format", "md", "--templates-dir", str(templates)
    )
    assert code == 2, output
    assert "report.md.j2 line 2" in output and "no_such_field" in output
    assert "Fix: fix the template" in output
    assert not (results.parent / "report.md").exists()


def test_a_deeply_nested_yaml_is_a_problem_not_a_crash(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    code, output = _invoke("policy", "validate", str(deep))
    assert code == 2, output
    assert "nested too deeply" in output
    code, output = _invoke("scan", "--policy", str(deep))
    assert code == 2 and "nested too deeply" in output


def test_error_messages_do_not_pass_escape_sequences_to_the_terminal(tmp_path):
    name = tmp_path / "evil\x1b[31m\x07.json"
    code, output = _invoke("report", str(name))
    assert code == 2
    assert "\x1b" not in output and "\x07" not in output
    assert "evil?[31m?.json does not exist" in output


# ---- remediate -----------------------------------------------------------------------------


def test_remediate_without_a_terminal_refuses_before_anything_is_sent(
    emulator, tmp_path, sample_fixture
):
    srv = emulator()
    report = _one_member_report(tmp_path, sample_fixture)
    phones = tmp_path / "phones.csv"
    phones.write_text(f"account_id,phone\n{UNBOUND},86-13700002222\n")
    proc = _rdscan(
        "remediate", "--from", str(report), "--phones", str(phones), *_conn(srv), caller=OPERATOR
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "standard input is not a terminal" in proc.stderr
    assert "Fix: run it in a terminal" in proc.stderr and "--dry-run" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (report.parent / "remediation-journal.jsonl").exists()
    counts = srv.call_counts()
    assert counts.get("SendVerificationCodeForBindSecureMobilePhone", 0) == 0
    assert srv.outbox() == []


def test_dry_run_with_a_rule_breaking_number_exits_1(emulator, tmp_path, sample_fixture):
    srv = emulator()
    report = _one_member_report(tmp_path, sample_fixture)
    phones = tmp_path / "phones.csv"
    phones.write_text(f"account_id,phone\n{UNBOUND},1-5551234567\n")
    proc = _rdscan(
        "remediate", "--from", str(report), "--phones", str(phones), "--dry-run", *_conn(srv)
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "breaks the China-site rule" in proc.stdout
    assert "5551234567" not in proc.stdout + proc.stderr


def test_phones_csv_problems_are_named(emulator, tmp_path, sample_fixture):
    srv = emulator()
    report = _one_member_report(tmp_path, sample_fixture)
    binary = tmp_path / "phones.csv"
    binary.write_bytes(b"\xff\xfe\x00account_id\x00,\x00phone\n\xce\x01")
    code, output = _invoke(
        "remediate", "--from", str(report), "--phones", str(binary), "--dry-run", *_conn(srv)
    )
    assert code == 2, output
    assert "is not a UTF-8 text file" in output and "Fix: save it as CSV (UTF-8)" in output
    stale = tmp_path / "stale.csv"
    stale.write_text(
        f"account_id,phone\n{UNBOUND},86-13700002222\n1000000000999999,86-13700003333\n"
    )
    proc = _rdscan(
        "remediate", "--from", str(report), "--phones", str(stale), "--dry-run", *_conn(srv)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Warning: the phones file lists 1 account(s) not in the scan results" in proc.stderr
    assert "1000000000999999" in proc.stderr and "13700003333" not in proc.stdout + proc.stderr


# ---- emulator CLI --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["--port", "99999"], ["--port", "-1"], ["--rate-limit", "-5"], ["--code-ttl", "0"]],
    ids=["port-too-big", "port-negative", "negative-rate", "zero-ttl"],
)
def test_emulator_serve_refuses_impossible_numbers(args):
    code, output = _invoke("emulator", "serve", *args)
    assert code == 2, output
    assert "Error: Invalid value" in output


# ---- Ctrl-C during a scan, and the SDK's own logging (real processes) ---------------------


def test_ctrl_c_during_a_scan_exits_130_promptly_and_writes_nothing(emulator, tmp_path):
    members = 200  # at the default 20 calls/s, ~10 s of GetAccount if nothing stopped them
    srv = emulator(generate_fixture(accounts=members, seed=3), rate_limit=1000)
    out = tmp_path / "out"
    history = tmp_path / "h.sqlite"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scanner",
            "scan",
            *_conn(srv),
            "--output-dir",
            str(out),
            "--history",
            str(history),
        ],
        env=child_process_env(AUDITOR),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while srv.call_counts().get("GetAccount", 0) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child.poll() is None, "the scan ended before it could be interrupted"
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, stderr
    assert stderr.strip() == "Interrupted."
    assert "Traceback" not in stdout + stderr
    assert not out.exists() and not history.exists()
    # the reads still queued were dropped, not all performed before exiting
    assert srv.call_counts()["GetAccount"] < members


def test_role_arn_failure_prints_no_sdk_traceback_or_signed_url(emulator):
    srv = emulator()
    role = "acs:ram::1512345678901234:role/rdscan-audit"
    proc = _rdscan("scan", *_conn(srv), "--no-history", "--role-arn", role)
    assert proc.returncode == 2, proc.stderr
    # the failure names the role and STS's own error (this emulator build serves no AssumeRole)
    assert proc.stderr.startswith(f"Error: cannot assume role {role}: STS AssumeRole answered")
    assert "set ALIBABA_CLOUD_ACCESS_KEY_ID" not in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Signature=" not in proc.stderr and "AccessKeyId=" not in proc.stderr
    assert "auditor-secret" not in proc.stderr + proc.stdout


def test_history_check_creates_nothing(tmp_path):
    from scanner.history import History

    History(tmp_path / "new" / "h.sqlite").check()
    assert not (tmp_path / "new").exists()
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"\x00" * 200)
    with pytest.raises(ConfigError):
        History(bad).check()
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        History(bad / "sub" / "h.sqlite").check()


def test_no_history_yet_points_at_the_demo_history(tmp_path):
    code, output = _invoke("history", "list", "--history", str(tmp_path / "none.sqlite"))
    assert code == 2
    assert "no scan history at" in output
    assert "--history rdscan-report/history.sqlite" in output  # where `rdscan demo` put it


def test_a_corrupt_aliyun_cli_config_is_named_not_reported_as_a_missing_profile(
    tmp_path, monkeypatch
):
    from scanner.client.sdk import RdClient
    from scanner.client.settings import Settings
    from scanner.errors import CredentialsError

    (tmp_path / ".aliyun").mkdir()
    (tmp_path / ".aliyun" / "config.json").write_text('{"profiles": [ {"name": "audit", ')
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", str(tmp_path / "none.ini"))
    settings = Settings(endpoint="127.0.0.1:1", protocol="http", profile="audit")
    with pytest.raises(CredentialsError) as info:
        RdClient(settings).caller_identity()
    assert "is not a valid aliyun CLI config" in info.value.message
    assert info.value.hint is not None and "repair" in info.value.hint


def test_demo_without_html_does_not_point_at_a_missing_report_html(tmp_path):
    out = tmp_path / "demo"
    code, output = _invoke("demo", "--format", "md", "--no-history", "--output-dir", str(out))
    assert code == 0, output
    assert not (out / "report.html").exists()
    assert "report.html" not in output
    assert f"Demo done. The reports are in {out}." in output


def test_history_diff_warns_when_the_scans_are_of_different_directories(tmp_path, sample_fixture):
    import dataclasses

    from scanner.history import History
    from scanner.report.results_file import load_results

    scan, _ = load_results(_one_member_report(tmp_path, sample_fixture))
    other = dataclasses.replace(
        scan,
        evidence=dataclasses.replace(
            scan.evidence,
            scan_id="scan-ux-0002",
            started_at="2026-11-28T10:00:00Z",
            resource_directory_id="rd-Other1",
        ),
    )
    history = tmp_path / "h.sqlite"
    History(history).record(scan)
    History(history).record(other)
    code, output = _invoke("history", "diff", "--history", str(history))
    assert code == 0, output
    assert "Warning: these scans are of different directories (rd-3G6R01 and rd-Other1)" in output
    History(history).record(
        dataclasses.replace(
            other,
            evidence=dataclasses.replace(
                other.evidence, scan_id="scan-ux-0003", started_at="2026-11-29T10:00:00Z"
            ),
        )
    )
    code, output = _invoke("history", "diff", "--history", str(history))
    assert code == 0 and "Warning" not in output


def test_scan_progress_eta_counts_from_the_first_read_not_from_the_listing(monkeypatch):
    import click

    from scanner.cli import scan_cmd

    bars: list[Any] = []
    real = click.progressbar

    def spy(*args: Any, **kwargs: Any) -> Any:
        bars.append(real(*args, **kwargs))
        return bars[-1]

    monkeypatch.setattr(scan_cmd.click, "progressbar", spy)
    with scan_cmd._progress_bar(True) as update:
        assert update is not None
        bar = bars[0]
        bar.start -= 600  # listing the directory took ten minutes before the first read
        bar.last_eta -= 600
        update(0, 100)
        update(50, 100)
        assert bar.eta < 60  # not 600 s: half the reads took no time at all


def test_a_scope_folder_or_exemption_matching_nothing_is_warned_about(tmp_path):
    import json

    entry = "    reason: r\n    owner: o\n    ticket: T-1\n    expires: 2099-01-01\n"
    exemptions = tmp_path / "ex.yaml"
    exemptions.write_text(
        "exemptions:\n"
        f"  - account_id: '{UNBOUND}'\n{entry}"  # a member: fine
        f"  - folder: Root/Production\n{entry}"  # a folder path: fine
        f"  - account_id: '1234567890123456'\n{entry}"  # no such member
        f"  - folder: fd-nosuch\n{entry}"  # no such folder
    )
    shipped = Path(__file__).parent.parent / "policies" / "secure-mobile-phone.yaml"
    policy = tmp_path / "policy.yaml"  # include: a folder path with a typo
    text = shipped.read_text(encoding="utf-8")
    assert text.count("include: []   # empty: every folder") == 1
    policy.write_text(
        text.replace("include: []   # empty: every folder", "include: [Root/Prodution]")
    )
    out = tmp_path / "out"
    code, output = _invoke(
        "demo",
        "--policy",
        str(policy),
        "--exemptions",
        str(exemptions),
        "--no-history",
        "--format",
        "json",
        "--output-dir",
        str(out),
    )
    assert code == 0, output
    warned = [line for line in output.splitlines() if line.startswith("Warning: ")]
    assert warned == [
        "Warning: policy scope folder Root/Prodution (include) matches no folder of this "
        "directory: mistyped?",
        f"Warning: exemption account:1234567890123456 (line 12 of {exemptions}) matches no "
        "member or folder of this directory: stale or mistyped?",
        f"Warning: exemption folder:fd-nosuch (line 17 of {exemptions}) matches no member or "
        "folder of this directory: stale or mistyped?",
        "Warning: every member is out of the policy's scope (SKIPPED): nothing was checked",
    ], output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["scan"]["warnings"] == [w.removeprefix("Warning: ") for w in warned]


@pytest.mark.parametrize(
    ("args", "var", "value"),
    [
        (["scan"], "RDSCAN_RATE", "abc"),
        (["scan"], "RDSCAN_CONCURRENCY", "0"),
        (["remediate", "--dry-run"], "RDSCAN_SITE", "mars"),
        (["history", "list"], "RDSCAN_HISTORY", "/"),
        (["emulator", "serve"], "RDSCAN_EMULATOR_PORT", "abc"),
    ],
    ids=["rate", "concurrency", "site", "history", "emulator-port"],
)
def test_a_bad_environment_variable_is_named(args, var, value):
    code, output = _invoke(*args, **{var: value})
    assert code == 2, output
    assert f"(from the environment variable {var})." in output
    code, output = _invoke(*args, "--help", **{var: value})
    assert code == 0  # --help still works with a broken environment
