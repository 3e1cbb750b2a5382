"""Bad input, the history as a first user meets it: one clear message naming the problem and the
fix, a non-zero exit, nothing lost or half-written, no traceback (moved here from
test_ux_regressions.py)."""

from __future__ import annotations

import sqlite3

import pytest

from scanner.errors import ConfigError

from ..cli_helpers import (
    _conn,
    _invoke,
    _one_member_report,
)


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
