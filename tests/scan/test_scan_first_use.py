"""Bad input, `rdscan scan` and `demo` as a first user meets them: one clear message naming the
problem and the fix, a non-zero exit, nothing lost or half-written, no traceback (moved here
from test_ux_regressions.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from scanner.emulator import generate_fixture

from ..cli_helpers import (
    AUDITOR,
    UNBOUND,
    _conn,
    _invoke,
)
from ..conftest import child_process_env


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
    assert stderr.strip().endswith("Interrupted."), stderr
    assert "with --resume to continue" in stderr
    assert "Traceback" not in stdout + stderr
    # no report and no history entry: only the checkpoint that --resume continues from
    assert [p.name for p in out.iterdir()] == ["scan-checkpoint.jsonl"]
    assert not history.exists()
    # the reads still queued were dropped, not all performed before exiting
    assert srv.call_counts()["GetAccount"] < members


def test_demo_without_html_does_not_point_at_a_missing_report_html(tmp_path):
    out = tmp_path / "demo"
    code, output = _invoke("demo", "--format", "md", "--no-history", "--output-dir", str(out))
    assert code == 0, output
    assert not (out / "report.html").exists()
    assert "report.html" not in output
    assert f"Demo done. The reports are in {out}." in output


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
    shipped = Path(__file__).parents[2] / "policies" / "secure-mobile-phone.yaml"
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
