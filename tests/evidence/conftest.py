"""One real scan (emulator over HTTP, real SDKs, exemptions, history) and a remediation journal,
shared by the evidence-pack tests of this folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.emulator import EmulatorServer, load_fixture, sample_fixture_path
from scanner.remediate.journal import JournalWriter
from scanner.resources import policies_dir

from ..conftest import child_process_env

OPERATOR = "acs:ram::1512345678901234:user/operator"


@dataclass(frozen=True)
class Scanned:
    root: Path
    out: Path  # the scan's --output-dir
    history: Path
    exemptions: Path
    journal: Path
    failing_id: str


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    root = tmp_path_factory.mktemp("evidence")
    exemptions = root / "my-exemptions.yaml"
    shutil.copy(policies_dir() / "exemptions.example.yaml", exemptions)
    out, history = root / "out", root / "history.sqlite"
    with EmulatorServer(load_fixture(sample_fixture_path()), host="127.0.0.1", port=0) as srv:
        proc = subprocess.run(
            [
                *(sys.executable, "-m", "scanner", "scan", "--endpoint", srv.endpoint),
                *("--protocol", "http", "--exemptions", str(exemptions), "--output-dir", str(out)),
                *("--history", str(history), "--no-progress", "--fail-on", "none"),
            ],
            env=child_process_env(("LTAI-auditor", "auditor-secret"), HOME=str(root)),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    import json

    accounts = json.loads((out / "report.json").read_text(encoding="utf-8"))["accounts"]
    assert any(a["result"] == "EXEMPT" for a in accounts)
    failing = next(a["account_id"] for a in accounts if a["result"] == "FAIL")
    journal = root / "remediation-journal.jsonl"
    with JournalWriter(journal, operator_arn=OPERATOR) as w:
        w.append("session_start", "started")
        w.append("confirm", "confirmed", account_id=failing, phone_masked="86-139****4321")
        w.append("send", "sent", account_id=failing, phone_masked="86-139****4321")
        w.append("bind", "bound", account_id=failing, phone_masked="86-139****4321")
        w.append("verify", "verified", account_id=failing, phone_masked="86-139****4321")
        w.append("session_end", "finished")
    return Scanned(root, out, history, exemptions, journal, failing)


def run(*args: str) -> tuple[int, str]:
    """``rdscan ARGS`` in this process: (exit code, stdout + stderr)."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output
