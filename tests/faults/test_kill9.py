"""kill -9 at random points of a scan: the history passes PRAGMA integrity_check and keeps whole
scans only; every report file is the old one or a complete new one, never truncated."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

from scanner.emulator import EmulatorServer, parse_fixture

from ..client.conftest import build_fixture
from ..conftest import child_process_env
from .conftest import AUDITOR

MEMBERS = 30


def _complete(name: str, data: bytes) -> bool:
    """A whole report of its kind (the end of each format is checked, not only its start)."""
    text = data.decode("utf-8-sig")
    if name == "report.json":
        doc = json.loads(text)
        return len(doc["accounts"]) == MEMBERS
    if name == "report.html":
        return text.rstrip().endswith("</html>")
    if name == "report.csv":
        return len(list(csv.reader(io.StringIO(text)))) == MEMBERS + 1
    if name == "report.md":
        return text.rstrip().endswith("Phone numbers are masked.")
    return False


def test_kill_9_at_random_points_of_a_scan(tmp_path):
    data = build_fixture(MEMBERS, depth=1)
    cmd_tail = ["--output-dir", "out", "--history", "h.sqlite", "--concurrency", "2"]
    rng = random.Random(int(os.environ.get("RDSCAN_KILL_SEED", "10")))
    with EmulatorServer(parse_fixture(data), rate_limit=0, latency_ms=40) as srv:
        cmd = [
            sys.executable,
            "-m",
            "scanner",
            "scan",
            "--endpoint",
            srv.endpoint,
            "--protocol",
            "http",
            "--rate",
            "1000",
            *cmd_tail,
        ]
        env = child_process_env(AUDITOR, HOME=str(tmp_path / "home"))

        def run() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )

        started = time.monotonic()
        first = run()
        _, err = first.communicate(timeout=120)
        whole = time.monotonic() - started
        assert first.returncode == 1, err  # members without a phone: FAIL
        out = tmp_path / "out"
        old = {p.name: p.read_bytes() for p in out.glob("report.*") if p.is_file()}
        assert len(old) == 4
        killed_at = []
        for _ in range(5):
            proc = run()
            delay = rng.uniform(0.2, whole * 1.1)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            killed_at.append(round(delay, 2))
            with sqlite3.connect(tmp_path / "h.sqlite") as db:
                assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                for (scan_id,) in db.execute("SELECT id FROM scans"):
                    n = db.execute(
                        "SELECT count(*) FROM results WHERE scan_id = ?", (scan_id,)
                    ).fetchone()[0]
                    assert n == MEMBERS, f"scan {scan_id} kept {n} results (killed at {delay})"
            for path in out.iterdir():
                if not path.is_file() or path.name not in old:
                    continue  # a temporary or the checkpoint of the killed run
                now = path.read_bytes()
                assert now == old[path.name] or _complete(path.name, now), (
                    f"{path.name} truncated (killed at {delay:.2f} s)"
                )
        # the reports are still readable by rdscan itself after the kills
        check = subprocess.run(
            [sys.executable, "-m", "scanner", "report", "out/report.json", "--output-dir", "r2"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert check.returncode in (0, 1, 3), check.stderr
        assert "Traceback" not in check.stderr
