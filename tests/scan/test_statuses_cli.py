"""Member statuses end to end: the emulator serves SwitchSuccess, Removed and a status nobody
documented; the scan evaluates, skips or warns, and the reports say it."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

from ..conftest import child_process_env

SWITCHED = "1000000000015838"  # data-prod-02: unbound ResourceAccount
REMOVED = "1000000000055433"  # billing-prod-07: unbound ResourceAccount
ODD = "1000000000087109"  # identity-prod-11: unbound ResourceAccount


def test_switch_success_removed_and_an_unknown_status(tmp_path, emulator, sample_fixture):
    statuses = {SWITCHED: "SwitchSuccess", REMOVED: "Removed", ODD: "Frozen"}
    accounts = tuple(
        dataclasses.replace(a, status=statuses[a.id]) if a.id in statuses else a
        for a in sample_fixture.accounts
    )
    srv = emulator(dataclasses.replace(sample_fixture, accounts=accounts))
    conn = ["--endpoint", srv.endpoint, "--protocol", "http"]
    proc = subprocess.run(
        [sys.executable, "-m", "scanner", "scan", *conn, "--no-history", "--format", "json,md"],
        env=child_process_env(("LTAI-auditor", "auditor-secret"), HOME=str(tmp_path / "h")),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 member had a status rdscan does not know ('Frozen': 1)" in proc.stdout
    report = json.loads((tmp_path / "rdscan-report" / "report.json").read_text())
    by_id = {a["account_id"]: a for a in report["accounts"]}
    assert by_id[SWITCHED]["result"] == "FAIL"
    assert by_id[REMOVED]["result"] == "SKIPPED"
    assert "member status Removed is not one the policy covers" in by_id[REMOVED]["reason"]
    assert by_id[ODD]["result"] == "FAIL"
    assert "'Frozen' is not one rdscan knows" in by_id[ODD]["reason"]
    assert any("Frozen" in w for w in report["scan"]["warnings"])
    assert "Frozen" in (tmp_path / "rdscan-report" / "report.md").read_text()
