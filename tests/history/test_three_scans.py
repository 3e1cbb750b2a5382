"""Done-when of issue 12: three scans of one emulated directory while it changes between them.

Scan 1 -> 2: a phone is bound through the emulator (Send + Bind, code from its outbox), a member
is added, one is removed. Scan 2 -> 3: an exemption expires (--as-of), a member becomes
unreadable (GetAccount leaves out HasSecureMobilePhone), one becomes exempt, one leaves the
policy's scope. The history's scans are moved back in time between scans (14 and 7 days), as a
weekly schedule would have spaced them, so days_failing has something to count.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from scanner.client.sdk import RdClient
from scanner.client.settings import Settings
from scanner.emulator import EmulatorServer, sample_fixture_path

from ..conftest import SAMPLE_CALLERS, child_process_env

MGMT = "1512345678901234"
A, B, C, D, E, F, G, H = (f"20000000000000{n:02d}" for n in range(1, 9))


def _fixture_v1() -> dict[str, Any]:
    sample = yaml.safe_load(sample_fixture_path().read_text(encoding="utf-8"))
    data = {k: sample[k] for k in ("site", "resource_directory", "callers")}
    data["folders"] = []
    root = sample["resource_directory"]["root_folder_id"]

    def member(account_id: str, name: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": account_id,
            "display_name": name,
            "type": "ResourceAccount",
            "status": "CreateSuccess",
            "folder": root,
            **extra,
        }

    data["accounts"] = [
        member(MGMT, "management", secure_mobile_phone="86-13800000001"),
        member(A, "alpha"),  # FAIL, then bound through the emulator: fixed
        member(B, "bravo"),  # FAIL throughout: still_failing, 14 days
        member(C, "charlie", secure_mobile_phone="86-13800000003"),  # PASS, then unreadable
        member(D, "delta"),  # EXEMPT until its exemption expires
        member(E, "echo"),  # FAIL, then removed
        member(G, "golf"),  # FAIL, then exempt
        member(H, "hotel", secure_mobile_phone="86-13800000008"),  # PASS, then out of scope
    ]
    return data


def _exemptions(tmp_path: Path, name: str, accounts: dict[str, str]) -> Path:
    path = tmp_path / name
    entries = [
        {
            "account_id": a,
            "reason": "test",
            "owner": "secops@example.com",
            "ticket": "SEC-1",
            "expires": expires,
        }
        for a, expires in accounts.items()
    ]
    path.write_text(yaml.safe_dump({"exemptions": entries}), encoding="utf-8")
    return path


def _scan(
    srv: EmulatorServer, tmp_path: Path, n: int, exemptions: Path, as_of: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "scanner",
            "scan",
            "--endpoint",
            srv.endpoint,
            "--protocol",
            "http",
            "--history",
            str(tmp_path / "history.sqlite"),
            "--output-dir",
            str(tmp_path / f"r{n}"),
            "--exemptions",
            str(exemptions),
            "--as-of",
            as_of,
            "--no-progress",
        ],
        env=child_process_env(SAMPLE_CALLERS["auditor"], HOME=str(tmp_path / "home")),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _move_back(tmp_path: Path, days: int) -> None:
    """Every recorded scan started ``days`` days earlier than it did."""
    conn = sqlite3.connect(tmp_path / "history.sqlite")
    conn.execute(
        "UPDATE scans SET started_at = strftime('%Y-%m-%dT%H:%M:%SZ', started_at, ?), "
        "finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', finished_at, ?)",
        (f"-{days} days", f"-{days} days"),
    )
    conn.commit()
    conn.close()


def _bind_through_emulator(srv: EmulatorServer, account_id: str, phone: str) -> None:
    key_id, secret = SAMPLE_CALLERS["operator"]
    client = RdClient(
        Settings(
            endpoint=srv.endpoint,
            protocol="http",
            access_key_id=key_id,
            access_key_secret=secret,
        )
    )
    client.send_verification_code(account_id, phone)
    code = next(m["code"] for m in reversed(srv.outbox()) if m["account_id"] == account_id)
    client.bind_secure_mobile_phone(account_id, phone, code)


def _report(tmp_path: Path, n: int) -> dict[str, Any]:
    return json.loads((tmp_path / f"r{n}" / "report.json").read_text(encoding="utf-8"))


def test_three_scans_of_a_changing_directory(
    emulator: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    v1 = _fixture_v1()
    ex_d = _exemptions(tmp_path, "ex1.yaml", {D: "2026-11-30"})
    ex_dg = _exemptions(tmp_path, "ex3.yaml", {D: "2026-11-30", G: "2027-06-30"})

    first = _scan(emulator(v1, rate_limit=1000), tmp_path, 1, ex_d, "2026-11-01")
    assert first.returncode == 1, first.stderr
    r1 = _report(tmp_path, 1)
    assert r1["since_previous"] is None
    assert {
        a["account_id"]: a["days_failing"] for a in r1["accounts"] if a["result"] == "FAIL"
    } == {
        A: 0,
        B: 0,
        E: 0,
        G: 0,
    }
    _move_back(tmp_path, 7)

    v2 = copy.deepcopy(v1)
    v2["accounts"] = [a for a in v2["accounts"] if a["id"] != E]
    v2["accounts"].append({**v2["accounts"][1], "id": F, "display_name": "foxtrot"})
    srv2 = emulator(v2, rate_limit=1000)
    _bind_through_emulator(srv2, A, "86-13900000001")
    second = _scan(srv2, tmp_path, 2, ex_d, "2026-11-01")
    assert second.returncode == 1, second.stderr
    r2 = _report(tmp_path, 2)
    assert r2["since_previous"]["id"] == r1["scan"]["id"]
    classes2 = r2["since_previous"]["classes"]
    assert classes2["fixed"] == [A]
    assert classes2["added"] == [F] and classes2["new_fail"] == [F]
    assert classes2["removed"] == [E]
    assert classes2["still_failing"] == [B, G]
    _move_back(tmp_path, 7)

    v3 = copy.deepcopy(v2)
    for a in v3["accounts"]:
        if a["id"] == A:
            a["secure_mobile_phone"] = "86-13900000001"  # kept from the bind before scan 2
        if a["id"] == C:
            a["omit_phone_flag"] = True
        if a["id"] == H:
            a["status"] = "CreateVerifying"
    third = _scan(emulator(v3, rate_limit=1000), tmp_path, 3, ex_dg, "2026-12-31")
    assert third.returncode == 3, third.stderr  # C could not be evaluated
    r3 = _report(tmp_path, 3)
    prev = r3["since_previous"]
    assert prev["id"] == r2["scan"]["id"]
    assert prev["classes"] == {
        "new_fail": [D],
        "fixed": [],
        "still_failing": [B, F],
        "newly_exempt": [G],
        "exemption_expired": [D],
        "added": [],
        "removed": [],
        "became_error": [C],
        "error_cleared": [],
        "became_skipped": [H],
        "left_skipped": [],
    }
    rows = {a["account_id"]: a for a in r3["accounts"]}
    history = sqlite3.connect(tmp_path / "history.sqlite")
    started = dict(history.execute("SELECT id, started_at FROM scans").fetchall())
    history.close()
    assert rows[B]["first_failed_at"] == started[r1["scan"]["id"]]
    assert rows[B]["days_failing"] == 14
    assert rows[F]["first_failed_at"] == started[r2["scan"]["id"]]
    assert rows[F]["days_failing"] == 7
    assert rows[D]["first_failed_at"] == r3["scan"]["started_at"] and rows[D]["days_failing"] == 0
    assert "days_failing" not in rows[A] and "days_failing" not in rows[C]
    trend = r3["trend"]
    assert [p["scan_id"] for p in trend] == [r1["scan"]["id"], r2["scan"]["id"], r3["scan"]["id"]]
    assert [(p["PASS"], p["FAIL"], p["EXEMPT"], p["ERROR"], p["SKIPPED"]) for p in trend] == [
        (3, 4, 1, 0, 0),
        (4, 3, 1, 0, 0),
        (2, 3, 1, 1, 1),
    ]

    # The reports open with the block; the HTML has the trend chart and its table.
    md = (tmp_path / "r3" / "report.md").read_text(encoding="utf-8")
    assert md.index("## Since the last scan") < md.index("## Summary")
    assert "| Exemption expired | 1 | " + D in md
    html = (tmp_path / "r3" / "report.html").read_text(encoding="utf-8")
    assert html.index('id="since"') < html.index('id="summary"')
    assert 'class="chart trend"' in html and html.count('<circle class="dot"') == 3
    assert "Days failing" in html

    # history trend and diff agree with the reports
    base = [sys.executable, "-m", "scanner", "history"]
    hist = ["--history", str(tmp_path / "history.sqlite")]
    env = child_process_env(None, HOME=str(tmp_path / "home"))
    out = subprocess.run(
        [*base, "trend", "--directory", "rd-3G6R01", "--format", "json", *hist],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    shares = [p["compliance"] for p in json.loads(out.stdout)["trend"]]
    assert shares == [4 / 8, 5 / 8, 3 / 7]
    out = subprocess.run(
        [*base, "diff", "--format", "json", *hist],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1, out.stderr  # D newly fails
    diff = json.loads(out.stdout)
    assert diff["counts"] == {k: len(v) for k, v in prev["classes"].items()}
    assert [c["account_id"] for c in diff["classes"]["became_error"]] == [C]
