"""End to end: `rdscan remediate` as a real process in a pseudo-terminal (pexpect), against the
emulator running in this test process; codes are read from the emulator's SMS outbox, and the
result is checked through GetAccount of the official SDK."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path
from typing import Any

import pexpect
import pytest

from scanner.remediate.journal import read_journal, verify_journal

from .conftest import CLOUD_ACCOUNT, ROOT, UNBOUND

A, B = UNBOUND[0], UNBOUND[1]
SEND = "SendVerificationCodeForBindSecureMobilePhone"
BIND = "BindSecureMobilePhone"
NUMBER = "86-13700002222"
MASKED = "86-137****2222"
TIMEOUT = 15
CONFIRM = r"Send a verification code to \S+ and bind it to (\d+)\? \[y/N\]"
CODE = r"Code from the SMS to \S+ \(6 digits; r: new code; empty: give up\)"


@pytest.fixture
def run_cli(rdscan_argv, cli_env, tmp_path):
    children: list[pexpect.spawn] = []

    def spawn(srv: Any, *args: str, caller: tuple[str, str] | None = None) -> pexpect.spawn:
        env = cli_env(caller) if caller else cli_env()
        argv = [*rdscan_argv, *args, "--endpoint", srv.endpoint, "--protocol", "http"]
        child = pexpect.spawn(
            argv[0],
            argv[1:],
            env=env,
            cwd=str(tmp_path),
            encoding="utf-8",
            timeout=TIMEOUT,
            dimensions=(60, 220),
        )
        children.append(child)
        return child

    yield spawn
    for child in children:
        if child.isalive():
            child.terminate(force=True)


def _phones_csv(tmp_path: Path, ids: list[str], number: str = NUMBER) -> Path:
    path = tmp_path / "phones.csv"
    path.write_text("account_id,phone\n" + "".join(f"{i},{number}\n" for i in ids))
    return path


def _finish(child: pexpect.spawn) -> tuple[str, int]:
    child.expect(pexpect.EOF)
    child.close()
    output = child.before or ""
    return output, child.exitstatus if child.exitstatus is not None else -child.signalstatus


def _code(srv: Any, account_id: str) -> str:
    codes = [m["code"] for m in srv.outbox() if m["account_id"] == account_id]
    assert codes
    return str(codes[-1])


def _no_full_number(*texts: str) -> None:
    for text in texts:
        assert "13700002222" not in text


def test_confirmed_member_bound_declined_untouched(
    emulator, run_cli, report_file, sdk_phone_flag, tmp_path
):
    srv = emulator()
    report = report_file([A, B, CLOUD_ACCOUNT])
    phones = _phones_csv(tmp_path, [A, B])
    child = run_cli(srv, "remediate", "--from", str(report), "--phones", str(phones))
    child.expect(CONFIRM)
    assert child.match.group(1) == A
    child.sendline("y")
    child.expect(r"expires at \S+Z")
    child.expect(CODE)
    child.sendline(_code(srv, A))
    child.expect("bound and verified")
    child.expect(CONFIRM)
    assert child.match.group(1) == B
    child.sendline("")  # Enter: the default is No
    child.expect("declined: nothing sent")
    output, status = _finish(child)
    assert status == 0, output
    assert re.search(rf"{CLOUD_ACCOUNT}.*manual", output)
    assert re.search(rf"{A}\s.*{re.escape(MASKED)}\s+verified", output)
    assert re.search(rf"{B}\s.*declined", output)
    assert sdk_phone_flag(srv, A) is True
    assert sdk_phone_flag(srv, B) is False
    assert sdk_phone_flag(srv, CLOUD_ACCOUNT) is False
    assert [m["account_id"] for m in srv.outbox()] == [A]
    journal = report.parent / "remediation-journal.jsonl"
    assert verify_journal(journal).members == 3
    _no_full_number(output, journal.read_text())


def test_wrong_code_then_right(emulator, run_cli, report_file, sdk_phone_flag, tmp_path):
    srv = emulator()
    report = report_file([A])
    child = run_cli(
        srv, "remediate", "--from", str(report), "--phones", str(_phones_csv(tmp_path, [A]))
    )
    child.expect(CONFIRM)
    child.sendline("y")
    child.expect(CODE)
    right = _code(srv, A)
    child.sendline("000000" if right != "000000" else "111111")
    child.expect(r"the code was refused: mistyped, or no longer valid \(2 tries left\)")
    child.expect(CODE)
    child.sendline(right)
    child.expect("bound and verified")
    output, status = _finish(child)
    assert status == 0, output
    assert sdk_phone_flag(srv, A) is True
    assert srv.call_counts()[BIND] == 2


def test_expired_code_and_resend(emulator, run_cli, report_file, sdk_phone_flag, tmp_path):
    srv = emulator()
    report = report_file([A])
    child = run_cli(
        srv, "remediate", "--from", str(report), "--phones", str(_phones_csv(tmp_path, [A]))
    )
    child.expect(CONFIRM)
    child.sendline("y")
    child.expect(CODE)
    stale = _code(srv, A)
    srv.expire_codes()
    child.sendline(stale)
    child.expect("refused")
    child.expect(CODE)
    child.sendline("r")  # ask for a new code
    child.expect(r"new code requested\. Send a new code\? \[y/N\]")
    child.sendline("y")
    child.expect(r"code sent to \S+; it expires at")
    child.expect(CODE)
    fresh = _code(srv, A)
    assert len(srv.outbox()) == 2
    child.sendline(fresh)
    child.expect("bound and verified")
    output, status = _finish(child)
    assert status == 0, output
    assert sdk_phone_flag(srv, A) is True


def test_daily_send_limit(emulator, run_cli, report_file, sdk_phone_flag, tmp_path):
    srv = emulator(daily_send_limit=1)
    report = report_file([A, B])
    child = run_cli(
        srv, "remediate", "--from", str(report), "--phones", str(_phones_csv(tmp_path, [A, B]))
    )
    child.expect(CONFIRM)
    child.sendline("y")
    child.expect(CODE)
    child.sendline("r")
    child.expect(r"Send a new code\? \[y/N\]")
    child.sendline("y")
    child.expect("SendValidateCodeExceedsLimitForAccount: The daily limit")
    child.expect("Next: Wait until tomorrow")
    output, status = _finish(child)  # no further Send: B is not run, with the reason
    assert status == 1, output
    assert re.search(rf"{B}\s.*not_run", output), output
    assert sdk_phone_flag(srv, A) is False
    assert sdk_phone_flag(srv, B) is False
    assert [m["account_id"] for m in srv.outbox()] == [A]


def test_member_bound_by_someone_else_meanwhile(
    emulator, run_cli, report_file, sdk_phone_flag, tmp_path
):
    srv = emulator()
    report = report_file([A])
    child = run_cli(
        srv, "remediate", "--from", str(report), "--phones", str(_phones_csv(tmp_path, [A]))
    )
    child.expect(CONFIRM)
    child.sendline("y")
    child.expect(CODE)
    srv.state.bind_phone(A, "86-13600009999")  # another admin binds it while we wait
    child.sendline(_code(srv, A))
    child.expect("already has a secure mobile phone")
    output, status = _finish(child)
    assert status == 0, output
    assert re.search(rf"{A}\s.*already_bound", output)
    entries = read_journal(report.parent / "remediation-journal.jsonl")
    assert ("bind", "already_bound") in [(e.action, e.outcome) for e in entries]
    assert sdk_phone_flag(srv, A) is True


def test_cloud_account_listed_manual_never_sent(emulator, run_cli, report_file, tmp_path):
    srv = emulator()
    report = report_file([CLOUD_ACCOUNT])
    phones = _phones_csv(tmp_path, [CLOUD_ACCOUNT])
    child = run_cli(srv, "remediate", "--from", str(report), "--phones", str(phones))
    child.expect("skipped: CloudAccount: Bind cannot fix it")
    child.expect("the account's owner binds a secure phone in their own console")
    output, status = _finish(child)
    assert status == 0, output
    assert "[y/N]" not in output
    assert srv.call_counts().get(SEND, 0) == 0 and srv.outbox() == []


def test_number_breaking_site_rule_makes_no_call(emulator, run_cli, report_file, tmp_path):
    srv = emulator()
    report = report_file([A])
    phones = _phones_csv(tmp_path, [A], number="44-7700900123")
    child = run_cli(srv, "remediate", "--from", str(report), "--phones", str(phones))
    child.expect("breaks the China-site rule: only Chinese mainland numbers")
    output, status = _finish(child)
    assert status == 1, output  # the member could not be remediated
    assert re.search(rf"{A}\s.*invalid_number", output)
    assert "[y/N]" not in output
    assert srv.call_counts().get(SEND, 0) == 0
    assert srv.call_counts().get(BIND, 0) == 0
    assert "7700900123" not in output


def test_root_identity_caller_refused(emulator, run_cli, report_file, sdk_phone_flag, tmp_path):
    srv = emulator()
    report = report_file([A])
    child = run_cli(
        srv,
        "remediate",
        "--from",
        str(report),
        "--phones",
        str(_phones_csv(tmp_path, [A])),
        caller=ROOT,
    )
    output, status = _finish(child)
    assert status == 2, output
    assert "Error: cannot remediate: the caller acs:ram::1512345678901234:root" in output
    assert "not a RAM user or role" in output and "Nothing was sent" in output
    assert "Fix: " in output and "Traceback" not in output
    assert srv.call_counts().get(SEND, 0) == 0
    assert sdk_phone_flag(srv, A) is False


def test_crash_between_send_and_bind_then_resume(
    emulator, run_cli, report_file, sdk_phone_flag, tmp_path
):
    srv = emulator()
    report = report_file([A, B])
    phones = str(_phones_csv(tmp_path, [A, B]))
    journal = report.parent / "remediation-journal.jsonl"
    child = run_cli(srv, "remediate", "--from", str(report), "--phones", phones)
    child.expect(CONFIRM)
    child.sendline("y")
    child.expect(CODE)
    child.sendline(_code(srv, A))
    child.expect("bound and verified")
    child.expect(CONFIRM)
    child.sendline("y")
    child.expect(CODE)  # B: the code was sent, Bind not yet called
    child.kill(signal.SIGKILL)
    child.expect(pexpect.EOF)
    child.close()
    check = verify_journal(journal)  # still a valid chain after the kill
    last = read_journal(journal)[-1]
    assert (last.account_id, last.action, last.outcome) == (B, "send", "sent")
    assert check.lines == last.seq

    child = run_cli(srv, "remediate", "--from", str(report), "--phones", phones, "--resume")
    child.expect("skipped: verified per the journal")
    # B's code is still valid per the journal: asked for, not sent again, no confirmation
    child.expect("type that code \\(no new code is sent\\)")
    child.expect(CODE)
    child.sendline(_code(srv, B))
    child.expect("bound and verified")
    output, status = _finish(child)
    assert status == 0, output
    assert re.search(rf"{A}\s.*verified \(journal\)", output)
    assert sdk_phone_flag(srv, A) is True and sdk_phone_flag(srv, B) is True
    assert srv.call_counts()[BIND] == 2
    verify_journal(journal)
    # a dry run of a resume says what the journal already settled
    child = run_cli(
        srv, "remediate", "--from", str(report), "--phones", phones, "--resume", "--dry-run"
    )
    output, status = _finish(child)
    assert status == 0, output
    assert output.count("would: skip: verified per the journal") == 2


def test_ctrl_c_between_members_stops_cleanly(emulator, run_cli, report_file, tmp_path):
    srv = emulator()
    report = report_file([A, B])
    child = run_cli(
        srv, "remediate", "--from", str(report), "--phones", str(_phones_csv(tmp_path, [A, B]))
    )
    child.expect(CONFIRM)
    child.sendintr()
    output, status = _finish(child)
    assert status == 130, output
    assert "Remediation summary" in output and "Interrupted: run again with --resume" in output
    journal = report.parent / "remediation-journal.jsonl"
    assert read_journal(journal)[-1].outcome == "interrupted"
    assert srv.call_counts().get(SEND, 0) == 0


def test_tampered_journal_detected(emulator, run_cli, report_file, rdscan_argv, cli_env, tmp_path):
    srv = emulator()
    report = report_file([A, B])
    child = run_cli(
        srv, "remediate", "--from", str(report), "--phones", str(_phones_csv(tmp_path, [A, B]))
    )
    child.expect(CONFIRM)
    child.sendline("n")
    child.expect(CONFIRM)
    child.sendline("n")
    _finish(child)
    journal = report.parent / "remediation-journal.jsonl"
    ok = subprocess.run(
        [*rdscan_argv, "verify-journal", str(journal)],
        env=cli_env(),
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and "chain intact" in ok.stdout
    lines = journal.read_text().splitlines()
    entry = json.loads(lines[2])
    assert entry["outcome"] == "declined"
    entry["outcome"] = "confirmed"  # rewrite history
    lines[2] = json.dumps(entry, separators=(",", ":"))
    journal.write_text("\n".join(lines) + "\n")
    bad = subprocess.run(
        [*rdscan_argv, "verify-journal", str(journal)],
        env=cli_env(),
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert "line 4" in bad.stderr and "hash chain is broken" in bad.stderr
    resumed = subprocess.run(
        [
            *rdscan_argv,
            "remediate",
            "--from",
            str(report),
            "--resume",
            "--endpoint",
            srv.endpoint,
            "--protocol",
            "http",
        ],
        env=cli_env(),
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 2 and "hash chain is broken" in resumed.stderr
    assert srv.call_counts().get(SEND, 0) == 0


def test_dry_run_changes_nothing(emulator, run_cli, report_file, tmp_path):
    srv = emulator()
    report = report_file([A, B, CLOUD_ACCOUNT])
    child = run_cli(
        srv,
        "remediate",
        "--from",
        str(report),
        "--phones",
        str(_phones_csv(tmp_path, [A])),
        "--dry-run",
    )
    output, status = _finish(child)
    assert status == 0, output
    assert "DRY RUN: nothing will be sent or bound." in output
    assert "Caller check: OK" in output
    assert (
        f"SendVerificationCodeForBindSecureMobilePhone(AccountId={A}, SecureMobilePhone={MASKED})"
        in output
    )
    assert "(asked at the prompt)" in output  # B has no number in the CSV
    assert "skip: manual" in output
    assert srv.outbox() == []
    counts = srv.call_counts()  # Send and Bind probed once each, for the management account
    assert counts.get(SEND, 0) == 1 and counts.get(BIND, 0) == 1
    assert "Summary: 2 ready, 0 blocked, 1 skipped (of 3)" in output
    assert "Exit 0: nothing found that would stop the real run." in output
    assert counts.get("GetAccount", 0) == 2 and counts.get("GetCallerIdentity", 0) == 1
    assert not (report.parent / "remediation-journal.jsonl").exists()
    _no_full_number(output)


def test_unknown_account_is_a_clear_error(emulator, run_cli, report_file):
    srv = emulator()
    report = report_file([A])
    child = run_cli(srv, "remediate", "--from", str(report), "--account", "1234")
    output, status = _finish(child)
    assert status == 2
    assert "Error: account(s) 1234 not found in the scan results" in output
    assert "Fix: check the --account ids" in output


def test_fresh_scan_then_remediate(emulator, run_cli, sdk_phone_flag, tmp_path):
    srv = emulator(rate_limit=1000)
    out = tmp_path / "out"
    child = run_cli(
        srv,
        "remediate",
        "--output-dir",
        str(out),
        "--account",
        A,
        "--phones",
        str(_phones_csv(tmp_path, [A])),
        "--rate",
        "500",
    )
    child.expect(r"Results: \S+report.json \(\d+ FAIL\)")
    child.expect(CONFIRM)
    assert child.match.group(1) == A
    child.sendline("y")
    child.expect(CODE)
    child.sendline(_code(srv, A))
    child.expect("bound and verified")
    output, status = _finish(child)
    assert status == 0, output
    assert sdk_phone_flag(srv, A) is True
    assert (out / "report.json").exists()
    assert verify_journal(out / "remediation-journal.jsonl").members == 1
    assert srv.call_counts()[SEND] == 1


def test_number_typed_at_prompt_validated_first(emulator, run_cli, report_file, sdk_phone_flag):
    srv = emulator()
    report = report_file([A])
    child = run_cli(srv, "remediate", "--from", str(report))
    prompt = r"Secure phone number as <country code>-<number> \(empty: skip this member\)"
    child.expect(prompt)
    child.sendline("13700002222")
    child.expect(r"not in the form <country code>-<number>")
    child.expect(prompt)
    child.sendline("1-2025550100")
    child.expect("breaks the China-site rule")
    child.expect(prompt)
    assert srv.call_counts().get(SEND, 0) == 0
    child.sendline(NUMBER)
    child.expect(CONFIRM)
    child.sendline("y")
    child.expect(CODE)
    child.sendline(_code(srv, A))
    child.expect("bound and verified")
    output, status = _finish(child)
    assert status == 0, output
    assert sdk_phone_flag(srv, A) is True
    assert srv.outbox()[0]["phone"] == NUMBER
