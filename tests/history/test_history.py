"""History store: record, list, resolve, diff; and the `rdscan history` commands."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.errors import ConfigError
from scanner.findings import (
    Caller,
    Evidence,
    Remediation,
    Result,
    ScanResult,
    Severity,
    Status,
)
from scanner.history import History, MemberRow, diff_members


def _result(account_id: str, status: Status, name: str = "member") -> Result:
    return Result(
        account_id=account_id,
        display_name=name,
        type="ResourceAccount",
        member_status="CreateSuccess",
        folder_path="Root/Prod",
        has_secure_mobile_phone=status is Status.PASS,
        secure_mobile_phone_masked="86-139****1234" if status is Status.PASS else None,
        result=status,
        severity=Severity.HIGH,
        reason=f"{status.value} reason",
        remediation=Remediation.API if status is Status.FAIL else Remediation.NONE,
    )


def _scan(scan_id: str, started: str, results: list[Result]) -> ScanResult:
    return ScanResult(
        evidence=Evidence(
            scan_id=scan_id,
            started_at=started,
            finished_at=started,
            tool_version="0.1.0",
            site="cn",
            caller=Caller("acs:ram::1:user/auditor", "1", "RAMUser"),
            resource_directory_id="rd-1",
            master_account_id="1",
            policy_id="secure-mobile-phone",
            policy_digest="sha256:00",
        ),
        results=tuple(results),
    )


@pytest.fixture
def store(tmp_path: Path) -> History:
    h = History(tmp_path / "h" / "history.sqlite")
    h.record(
        _scan(
            "scan-a",
            "2026-11-01T00:00:00Z",
            [_result("1", Status.FAIL), _result("2", Status.PASS), _result("3", Status.FAIL)],
        )
    )
    h.record(
        _scan(
            "scan-b",
            "2026-11-08T00:00:00Z",
            [_result("1", Status.PASS), _result("2", Status.FAIL), _result("4", Status.ERROR)],
        )
    )
    return h


def test_list_is_newest_first_with_counts(store: History) -> None:
    rows = store.scans()
    assert [r.id for r in rows] == ["scan-b", "scan-a"]
    assert rows[1].counts == {"PASS": 1, "FAIL": 2, "EXEMPT": 0, "SKIPPED": 0, "ERROR": 0}
    assert rows[0].evaluated == 2 and rows[0].errors == 1 and rows[0].members == 3


def test_resolve_aliases_and_prefixes(store: History) -> None:
    assert store.resolve("latest").id == "scan-b"
    assert store.resolve("previous").id == "scan-a"
    assert store.resolve("latest~1").id == "scan-a"
    assert store.resolve("scan-a").id == "scan-a"
    with pytest.raises(ConfigError, match="several"):
        store.resolve("scan-")
    with pytest.raises(ConfigError, match="no scan"):
        store.resolve("nope")
    with pytest.raises(ConfigError, match="2 scan"):
        store.resolve("latest~5")


def test_diff_classifies_every_change(store: History) -> None:
    d = store.diff("previous", "latest")
    kinds = {c.account_id: c.classes for c in d.changes}
    assert kinds == {
        "1": ("fixed",),
        "2": ("new_fail",),
        "3": ("removed",),
        "4": ("added", "became_error"),
    }
    assert d.counts()["new_fail"] == 1 and d.counts()["still_failing"] == 0


def test_diff_members_ignores_unchanged() -> None:
    a = [MemberRow("1", "x", "Root", "PASS", "")]
    assert diff_members(a, a) == []


def test_missing_and_corrupt_history_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no scan history"):
        History(tmp_path / "absent.sqlite").scans()
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(ConfigError, match="not a usable rdscan history"):
        History(junk).scans()


def test_recording_a_scan_twice_replaces_it(tmp_path: Path) -> None:
    h = History(tmp_path / "h.sqlite")
    scan = _scan("scan-a", "2026-11-01T00:00:00Z", [_result("1", Status.PASS)])
    h.record(scan)
    h.record(scan)
    conn = sqlite3.connect(h.path)
    assert conn.execute("select count(*) from results").fetchone() == (1,)
    assert conn.execute("select count(*) from scans").fetchone() == (1,)
    conn.close()


def test_history_stores_no_phone_numbers(store: History) -> None:
    raw = store.path.read_bytes()
    assert b"1234" not in raw


def test_cli_list_show_diff(store: History) -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["history", "list", "--history", str(store.path)])
    assert out.exit_code == 0, out.output
    assert "scan-b" in out.output and "scan-a" in out.output
    out = runner.invoke(main, ["history", "show", "scan-b", "--history", str(store.path)])
    assert out.exit_code == 0, out.output
    assert "FAIL" in out.output and "ERROR" in out.output
    out = runner.invoke(main, ["history", "diff", "--history", str(store.path)])
    assert out.exit_code == 1, out.output  # a new_fail
    assert "new_fail" in out.output and "fixed" in out.output and "added" in out.output


def test_cli_unknown_scan_is_an_error_without_traceback(store: History) -> None:
    out = CliRunner().invoke(main, ["history", "show", "zzz", "--history", str(store.path)])
    assert out.exit_code == 2
    assert "Error: no scan 'zzz'" in out.output
    assert "Traceback" not in out.output


def test_a_history_locked_by_another_program_is_not_called_unusable(store: History) -> None:
    """A history another program holds a write lock on (a SQLite browser, a scan stuck while
    recording) is a good history in use: the hint must not tell the user to move it away.
    (The write waits out the lock timeout before it gives up.)"""
    store = History(store.path, lock_timeout=0.3)
    holder = sqlite3.connect(store.path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(ConfigError) as info:
            store.record(_scan("scan-c", "2026-11-15T00:00:00Z", [_result("1", Status.PASS)]))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "in use by another program" in info.value.message
    assert "move the file away" not in (info.value.hint or "")
    assert len(store.scans()) == 2  # and it is intact
