"""Security sweep, end to end: what rdscan prints and writes never carries a secret or a full
phone number, and names that came from the API cannot drive the terminal.

One run over the bundled sample (one display name and one folder name made hostile): demo,
scan, history, a real guided remediation in a pseudo-terminal (code read from the SMS outbox),
a scan after it, report re-rendered with the journal, verify-journal. Then every file under the
run's folder (reports, history SQLite, journal) and every captured stdout/stderr is searched.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest
import yaml

from scanner.client.settings import Settings
from scanner.emulator import sample_fixture_path

from .conftest import child_process_env

AUDITOR = ("LTAI-auditor", "auditor-secret")
OPERATOR = ("LTAI-operator", "operator-secret")
SECRETS = ("auditor-secret", "operator-secret", "root-secret", "sts-secret", "sts-token-auditor")
HOSTILE_MEMBER = "1000000000015838"  # data-prod-02: ResourceAccount, no phone
HOSTILE_NAME = "evil\x1b[31mRED\x1b[0m\x07\u202eman"
HOSTILE_FOLDER = "Prod\x1b]0;owned\x07"
NEW_NUMBER = "86-13700002222"  # typed by the operator during the remediation
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def _sample_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(sample_fixture_path().read_text(encoding="utf-8"))
    return data


def _full_numbers(data: dict[str, Any]) -> set[str]:
    """Every full number of the fixture, with and without its country code, and the new one."""
    numbers = {NEW_NUMBER, NEW_NUMBER.split("-", 1)[1]}
    for account in data["accounts"]:
        phone = account.get("secure_mobile_phone")
        if phone:
            numbers |= {phone, phone.split("-", 1)[1]}
    return numbers


class Run:
    """Runs rdscan as a real process and keeps everything it printed."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.printed: list[tuple[str, str]] = []  # (command, output)

    def __call__(
        self, *args: str, caller: tuple[str, str] = AUDITOR
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "scanner", *args],
            env=child_process_env(caller),
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.printed.append((" ".join(args[:2]), proc.stdout + proc.stderr))
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
        return proc


@pytest.fixture
def hostile_sample() -> dict[str, Any]:
    data = _sample_data()
    member = next(a for a in data["accounts"] if a["id"] == HOSTILE_MEMBER)
    member["display_name"] = HOSTILE_NAME
    folder = next(f for f in data["folders"] if f["id"] == member["folder"])
    folder["name"] = HOSTILE_FOLDER
    return data


def test_settings_repr_shows_no_secret():
    s = Settings(
        access_key_id="LTAI-visible", access_key_secret="s3cr3t-value", security_token="t0k"
    )
    for text in (repr(s), str(s)):
        assert "s3cr3t-value" not in text and "t0k" not in text
        assert "access_key_secret" not in text and "security_token" not in text
        assert "LTAI-visible" in text  # the key id is not a secret: it names the key


def test_wrong_secret_or_key_is_explained_without_any_secret(emulator, tmp_path):
    srv = emulator()
    run = Run(tmp_path)
    conn = ["--endpoint", srv.endpoint, "--protocol", "http", "--no-history"]
    wrong = ("LTAI-auditor", "wrong-secret-4711")
    proc = run("scan", *conn, caller=wrong)
    assert proc.returncode == 2
    assert "SignatureDoesNotMatch" in proc.stderr and "Fix:" in proc.stderr
    unknown = ("LTAI-nobody", "nobody-secret-0815")
    proc = run("scan", *conn, caller=unknown)
    assert proc.returncode == 2 and "InvalidAccessKeyId.NotFound" in proc.stderr
    for _, text in run.printed:
        for secret in (*SECRETS, "wrong-secret-4711", "nobody-secret-0815"):
            assert secret not in text
    assert not (tmp_path / "rdscan-report").exists()


def test_no_secret_full_number_or_raw_control_character_escapes(emulator, hostile_sample, tmp_path):
    numbers = _full_numbers(hostile_sample)
    outbox = tmp_path / "sms-outbox.jsonl"  # the emulator's: holds full numbers by design
    srv = emulator(hostile_sample, sms_outbox=outbox, rate_limit=1000)
    work = tmp_path / "work"
    work.mkdir()
    run = Run(work)
    conn = ["--endpoint", srv.endpoint, "--protocol", "http", "--rate", "500"]
    history = ["--history", str(work / "history.sqlite")]

    # demo (its own emulator on the bundled sample) and a scan of the hostile directory
    assert run("demo", "--output-dir", "demo").returncode == 0
    first = run("scan", *conn, *history, "--output-dir", "scan1")
    assert first.returncode == 1
    assert "evil?[31mRED?[0m??man" in first.stdout  # shown, neutralised

    # a real guided remediation of the hostile member, at a terminal
    phones = tmp_path / "phones.csv"  # the operator's input file: holds the number by design
    phones.write_text(f"account_id,phone\n{HOSTILE_MEMBER},{NEW_NUMBER}\n")
    argv = ["-m", "scanner", "remediate", "--from", "scan1/report.json", *conn]
    argv += ["--account", HOSTILE_MEMBER, "--phones", str(phones)]
    child = pexpect.spawn(
        sys.executable,
        argv,
        env=child_process_env(OPERATOR),
        cwd=str(work),
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 200),
    )
    child.logfile_read = io.StringIO()  # the whole transcript
    try:
        child.expect(r"\[y/N\]")
        child.sendline("y")
        child.expect(r"Code from the SMS")
        codes = [m["code"] for m in srv.outbox() if m["account_id"] == HOSTILE_MEMBER]
        child.sendline(str(codes[-1]))
        child.expect("bound and verified")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    transcript = child.logfile_read.getvalue()
    run.printed.append(("remediate (pty)", transcript))
    assert child.exitstatus == 0, transcript
    assert "evil?[31mRED?[0m??man" in transcript  # the member header, neutralised

    # after it: a scan that sees the new binding, history, re-rendered report, journal check
    second = run("scan", *conn, *history, "--output-dir", "scan2")
    assert second.returncode == 1
    journal = work / "scan1" / "remediation-journal.jsonl"
    assert run("report", "scan1/report.json", "--journal", str(journal)).returncode == 0
    assert run("verify-journal", str(journal)).returncode == 0
    assert run("history", "list", *history).returncode == 0
    assert run("history", "show", "previous", "--all", *history).returncode == 0
    diff = run("history", "diff", *history)
    assert diff.returncode == 0 and HOSTILE_MEMBER in diff.stdout
    dry = run("remediate", "--from", "scan1/report.json", "--dry-run", *conn, caller=OPERATOR)
    assert HOSTILE_MEMBER in dry.stdout

    # what was printed: no secret, no full number, no raw control character
    for command, text in run.printed:
        for needle in (*SECRETS, *numbers):
            assert needle not in text, f"{needle!r} printed by {command}"
        assert not CONTROL.search(text.replace("\r\n", "\n")), f"raw control char from {command}"

    # what was written: every file of the run (reports, history SQLite, journal)
    written = [p for p in work.rglob("*") if p.is_file()]
    names = {p.name for p in written}
    assert {"report.json", "report.html", "report.md", "report.csv"} <= names
    assert {"history.sqlite", "remediation-journal.jsonl"} <= names
    for path in written:
        data = path.read_bytes()
        for needle in (*SECRETS, *numbers):
            assert needle.encode() not in data, f"{needle!r} in {path}"
    # the masked form of the new number is what the evidence carries
    assert "86-137****2222" in journal.read_text(encoding="utf-8")


def test_sdk_debug_logging_prints_no_token_or_header(emulator, tmp_path):
    # DEBUG=sdk makes the Alibaba SDKs dump every request's headers and query (the STS token;
    # for Send/Bind the full number) through handlers of their own: rdscan silences them
    srv = emulator(rate_limit=1000)
    env = child_process_env(("STS.auditor-session", "sts-secret"))
    env.update(ALIBABA_CLOUD_SECURITY_TOKEN="sts-token-auditor", DEBUG="sdk")
    args = ["scan", "--endpoint", srv.endpoint, "--protocol", "http", "--no-history"]
    args += ["--format", "json", "--rate", "500"]
    proc = subprocess.run(
        [sys.executable, "-m", "scanner", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert "caller acs:ram::1512345678901234:assumed-role/" in proc.stdout
    printed = proc.stdout + proc.stderr
    assert "sts-token-auditor" not in printed and "sts-secret" not in printed
    assert "x-acs-" not in printed and "Authorization" not in printed
