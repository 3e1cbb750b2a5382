"""Bad input, `rdscan remediate` as a first user meets it: one clear message naming the problem and
the fix, a non-zero exit, nothing lost or half-written, no traceback (moved here from
test_ux_regressions.py)."""

from __future__ import annotations

from ..cli_helpers import (
    OPERATOR,
    UNBOUND,
    _conn,
    _invoke,
    _one_member_report,
    _rdscan,
)


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
    proc = _rdscan(  # the operator may Send and Bind: the dry run probes them
        "remediate", "--from", str(report), "--phones", str(stale), "--dry-run", *_conn(srv),
        caller=OPERATOR,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Warning: the phones file lists 1 account(s) not in report.json" in proc.stderr
    assert "1000000000999999" in proc.stderr and "13700003333" not in proc.stdout + proc.stderr
