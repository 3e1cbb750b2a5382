"""What a scheduled run needs: --quiet, nothing evaluated is exit 3, one scan per report folder."""

from __future__ import annotations

import json
from pathlib import Path

from scanner.emulator import generate_fixture


def test_quiet_prints_one_verdict_line_on_stderr(emulator, rdscan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    srv = emulator(rate_limit=1000)
    proc = rdscan(srv, "scan", "--quiet", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    [line] = proc.stderr.splitlines()
    assert line.startswith("rdscan rd-3G6R01: Exit code 1: non-compliant: ")
    assert line.endswith("reports in rdscan-report")
    again = rdscan(srv, "scan", "--quiet", "--format", "json")
    [line] = again.stderr.splitlines()
    assert "since the last scan: 0 new failures, 0 fixed" in line


def test_every_member_skipped_is_incomplete(emulator, rdscan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = generate_fixture(accounts=4, seed=3)
    for account in data["accounts"]:
        account["status"] = "CreateVerifying"  # out of the shipped policy's scope
    proc = rdscan(emulator(data, rate_limit=1000), "scan", "--no-history", "--format", "json")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert (
        "Exit code 3: incomplete: every member is out of the policy's scope (SKIPPED): "
        "nothing was checked"
    ) in proc.stdout
    quiet = rdscan(emulator(data, rate_limit=1000), "scan", "--no-history", "--quiet")
    assert quiet.returncode == 3 and "nothing was checked" in quiet.stderr


def test_a_report_folder_holds_one_scan_only(emulator, rdscan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    srv = emulator(rate_limit=1000)
    first = rdscan(srv, "scan", "--no-history")
    assert first.returncode == 1
    out = tmp_path / "rdscan-report"
    assert sorted(p.name for p in out.iterdir()) == [
        "report.csv", "report.html", "report.json", "report.md",
    ]  # fmt: skip
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    second = rdscan(srv, "scan", "--no-history", "--format", "md")
    assert second.returncode == 1
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "report.json", "report.md"]
    assert "removed rdscan-report/report.html (an earlier scan's" in second.stdout
    scan_id = json.loads((out / "report.json").read_text(encoding="utf-8"))["scan"]["id"]
    assert scan_id in (out / "report.md").read_text(encoding="utf-8")
