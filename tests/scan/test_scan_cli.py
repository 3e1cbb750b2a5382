"""`rdscan scan` end to end: a real process, the real SDKs, the emulator over HTTP."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.emulator import generate_fixture

AS_OF = "2026-11-27"


def _folder_paths(data: dict[str, Any]) -> dict[str, str]:
    root = data["resource_directory"]["root_folder_id"]
    parents = {f["id"]: (f["parent"], f["name"]) for f in data["folders"]}

    def path(fid: str) -> str:
        if fid == root:
            return "Root"
        parent, name = parents[fid]
        return f"{path(parent)}/{name}"

    return {fid: path(fid) for fid in [root, *parents]}


def _expected(
    data: dict[str, Any],
    exemptions: list[dict[str, str]],
    excluded_folder: str,
    statuses: list[str],
    today: dt.date,
) -> dict[str, str]:
    """An independent statement of the policy, for the generated directory."""
    paths = _folder_paths(data)
    by_account = {e["account_id"]: e for e in exemptions if "account_id" in e}
    by_folder = {e["folder"]: e for e in exemptions if "folder" in e}
    expected = {}
    for a in data["accounts"]:
        path = paths[a["folder"]]
        if a["status"] not in statuses:
            expected[a["id"]] = "SKIPPED"
            continue
        if path == excluded_folder or path.startswith(excluded_folder + "/"):
            expected[a["id"]] = "SKIPPED"
            continue
        if a.get("tags", {}).get("team") == "search":
            expected[a["id"]] = "SKIPPED"
            continue
        if a.get("secure_mobile_phone"):
            expected[a["id"]] = "PASS"
            continue
        ex = by_account.get(a["id"])
        if ex is None:
            for fpath, fex in by_folder.items():
                if path == fpath or path.startswith(fpath + "/"):
                    ex = fex
        valid = ex is not None and dt.date.fromisoformat(ex["expires"]) >= today
        expected[a["id"]] = "EXEMPT" if valid else "FAIL"
    return expected


def test_large_directory_every_member_checked_against_the_fixture(emulator, rdscan, tmp_path):
    data = generate_fixture(accounts=1200, seed=7, missing_ratio=0.35)
    srv = emulator(data, rate_limit=2000)
    missing = [a for a in data["accounts"][1:] if not a.get("secure_mobile_phone")]
    exemptions = [
        {"account_id": missing[0]["id"], "expires": "2027-01-31"},  # valid
        {"account_id": missing[1]["id"], "expires": "2026-10-01"},  # expired
        {"folder": "Root/Sandbox", "expires": "2027-05-01"},  # a folder and its sub-folders
    ]
    for e in exemptions:
        e.update(reason="migration", owner="secops@example.com", ticket="SEC-1")
    (tmp_path / "exemptions.yaml").write_text(yaml.safe_dump({"exemptions": exemptions}))
    policy = yaml.safe_load(Path("policies/secure-mobile-phone.yaml").read_text())
    policy["scope"]["folders"]["exclude"] = ["Root/Legacy"]
    policy["scope"]["tags"]["exclude"] = ["team=search"]
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))

    proc = rdscan(
        srv,
        "scan",
        "--policy", "policy.yaml",
        "--exemptions", "exemptions.yaml",
        "--rate", "1000",
        "--concurrency", "16",
        "--as-of", AS_OF,
        "--no-history",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    report = json.loads((tmp_path / "rdscan-report" / "report.json").read_text())
    got = {a["account_id"]: a["result"] for a in report["accounts"]}
    statuses = policy["scope"]["statuses"]
    want = _expected(data, exemptions, "Root/Legacy", statuses, dt.date.fromisoformat(AS_OF))
    assert len(report["accounts"]) == len(data["accounts"]) == 1200
    assert got == want
    assert {"PASS", "FAIL", "EXEMPT", "SKIPPED"} <= set(got.values())
    assert any(a["status"] not in statuses for a in data["accounts"])  # the status rule is used
    expired = next(a for a in report["accounts"] if a["account_id"] == missing[1]["id"])
    if expired["result"] == "FAIL":
        assert expired["exemption"]["expired"] is True
    assert report["scan"]["coverage"] == {
        "members": 1200,
        "evaluated": 1200,
        "errors": 0,
        "unlisted": 0,
    }
    assert report["scan"]["api_calls"]["GetAccount"] >= 1200
    assert report["scan"]["caller"]["arn"].endswith(":user/auditor")
    assert report["scan"]["policy"]["digest"].startswith("sha256:")
    assert report["scan"]["as_of"] == AS_OF
    assert report["scan"]["exemptions"] == {  # the base name: never where the file sat
        "name": "exemptions.yaml",
        "digest": report["scan"]["policy"]["exemptions_digest"],
        "count": 3,
    }
    for name in ("report.html", "report.md", "report.csv"):
        assert (tmp_path / "rdscan-report" / name).stat().st_size > 0
    assert "Top failing members" in proc.stdout


def test_compliant_directory_exits_zero_and_fail_on_thresholds(emulator, rdscan):
    srv = emulator()
    assert rdscan(srv, "scan", "--no-history").returncode == 1
    # the shipped policy is "high": a threshold above it does not fail the run
    assert rdscan(srv, "scan", "--no-history", "--fail-on", "critical").returncode == 0
    assert rdscan(srv, "scan", "--no-history", "--fail-on", "none").returncode == 0
    data = generate_fixture(accounts=30, seed=3, missing_ratio=0.0)
    assert rdscan(emulator(data), "scan", "--no-history").returncode == 0


def test_permission_denied_members_are_errors_and_exit_3(emulator, rdscan, tmp_path):
    srv = emulator()
    proc = rdscan(srv, "scan", "--no-history", key=("LTAI-lister", "lister-secret"))
    assert proc.returncode == 3, proc.stderr
    report = json.loads((tmp_path / "rdscan-report" / "report.json").read_text())
    # out-of-scope members need no phone read and stay SKIPPED; every other one is an ERROR
    errors = [a for a in report["accounts"] if a["result"] == "ERROR"]
    assert {a["result"] for a in report["accounts"]} == {"ERROR", "SKIPPED"}
    assert len(errors) > 40
    assert all("NoPermission" in a["reason"] for a in errors)
    assert report["scan"]["coverage"]["errors"] == len(errors)


def test_throttling_beyond_the_retry_budget_ends_as_error_and_exit_3(emulator, rdscan, tmp_path):
    srv = emulator(rate_limit=1000)
    srv.script_fault(action="GetAccount", count=5, code="Throttling.User", status=400)
    proc = rdscan(
        srv, "scan", "--no-history", "--max-attempts", "1", "--concurrency", "1", "--rate", "100"
    )
    assert proc.returncode == 3, proc.stderr
    report = json.loads((tmp_path / "rdscan-report" / "report.json").read_text())
    errors = [a for a in report["accounts"] if a["result"] == "ERROR"]
    assert len(errors) == 5
    assert all("Throttling.User" in a["reason"] for a in errors)
    assert report["scan"]["coverage"]["evaluated"] == len(report["accounts"]) - 5


def test_history_records_each_scan_and_diffs(emulator, rdscan, tmp_path):
    srv = emulator()
    hist = str(tmp_path / "hist.sqlite")
    assert rdscan(srv, "scan", "--history", hist).returncode == 1
    srv.state.bind_phone("1000000000015838", "86-13900009999")
    assert rdscan(srv, "scan", "--history", hist).returncode == 1
    proc = rdscan(None, "history", "diff", "--history", hist)
    assert proc.returncode == 0, proc.stderr
    assert "fixed" in proc.stdout and "1000000000015838" in proc.stdout
    assert "FAIL" in proc.stdout


def test_a_history_that_fails_to_record_after_the_scan_ran_keeps_the_scan_exit_code(
    emulator, rdscan, tmp_path
):
    """The history write fails after the scan (disk full, I/O error: simulated by a trigger):
    the scan ran and its reports are written, so the exit code is the scan's (1), never 2,
    which means "nothing scanned, nothing written"."""
    import sqlite3
    from contextlib import closing

    from scanner.history import History

    srv = emulator()
    hist = tmp_path / "hist.sqlite"
    assert rdscan(srv, "scan", "--history", str(hist), "--format", "json").returncode == 1
    with closing(sqlite3.connect(hist)) as conn, conn:
        conn.execute(
            "CREATE TRIGGER full BEFORE INSERT ON results "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    (tmp_path / "rdscan-report" / "report.json").unlink()
    proc = rdscan(srv, "scan", "--history", str(hist), "--format", "json")
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "not recorded in the history" in proc.stderr
    assert "disk is full" in proc.stderr and "Fix: " in proc.stderr
    assert (tmp_path / "rdscan-report" / "report.json").is_file()
    assert len(History(hist).scans()) == 1  # the failed write left the store as it was


def test_a_listing_with_no_member_is_not_a_silent_pass(emulator, rdscan, tmp_path):
    """Every resource directory lists at least its management account: an empty listing means
    nothing was checked, and the summary and report.json must say so."""
    data = generate_fixture(accounts=3, seed=1)
    data["accounts"] = []
    data["folders"] = []
    proc = rdscan(emulator(data), "scan", "--no-history", "--format", "json")
    assert proc.returncode == 3, proc.stderr  # nothing evaluated is incomplete, not compliant
    assert "Warning: ListAccounts listed no member: nothing was checked" in proc.stdout
    assert "Exit code 3: incomplete: ListAccounts listed no member" in proc.stdout
    report = json.loads((tmp_path / "rdscan-report" / "report.json").read_text())
    assert report["scan"]["coverage"] == {"members": 0, "evaluated": 0, "errors": 0, "unlisted": 0}
    assert any("listed no member" in w for w in report["scan"]["warnings"])


BAD_INPUT = [
    # (name, args, key, message fragment)
    ("no credentials", [], (None, None), "credentials"),
    ("wrong secret", [], ("LTAI-auditor", "not-the-secret"), "SignatureDoesNotMatch"),
    ("unknown key", [], ("LTAI-nobody", "x"), "InvalidAccessKeyId"),
    ("outsider", [], ("LTAI-outsider", "outsider-secret"), "management account"),
    ("unknown site", ["--site", "mars"], None, "mars"),
    ("bad fail-on", ["--fail-on", "severe"], None, "--fail-on"),
    ("bad format", ["--format", "pdf"], None, "pdf"),
    ("missing policy", ["--policy", "nope.yaml"], None, "nope.yaml"),
]


@pytest.mark.parametrize(
    ("name", "args", "key", "fragment"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT]
)
def test_bad_input_is_one_clear_message_exit_2_and_nothing_written(
    emulator, rdscan, tmp_path, name, args, key, fragment
):
    srv = emulator()
    kwargs = {"key": key} if key else {}
    proc = rdscan(srv, "scan", "--no-history", *args, **kwargs)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert fragment in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "rdscan-report").exists()
    assert "not-the-secret" not in proc.stderr + proc.stdout


def test_malformed_policy_and_exemptions_are_refused_before_any_call(emulator, rdscan, tmp_path):
    srv = emulator()
    (tmp_path / "bad-policy.yaml").write_text("id: x\nseverity: extreme\nbogus: 1\n")
    entry = "    reason: r\n    owner: o\n    ticket: t\n    expires: 2027-01-01\n"
    (tmp_path / "bad-ex.yaml").write_text(
        "exemptions:\n"
        f"  - account_id: '1000000000015838'\n{entry}"
        f"  - account_id: '1000000000015838'\n{entry}"
        "  - account_id: '1000000000047514'\n    reason: r\n"
    )
    proc = rdscan(srv, "scan", "--no-history", "--policy", "bad-policy.yaml")
    assert proc.returncode == 2 and "bad-policy.yaml:2" in proc.stderr, proc.stderr
    assert "bogus" in proc.stderr
    proc = rdscan(srv, "scan", "--no-history", "--exemptions", "bad-ex.yaml")
    assert proc.returncode == 2, proc.stderr
    assert "owner" in proc.stderr and "duplicate" in proc.stderr.lower()
    assert "Traceback" not in proc.stderr
    assert srv.call_counts().get("ListAccounts", 0) == 0
    assert not (tmp_path / "rdscan-report").exists()


def test_unreachable_endpoint_is_a_clear_error(rdscan, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = rdscan(
        None,
        "scan",
        "--endpoint", f"127.0.0.1:{port}",
        "--protocol", "http",
        "--no-history",
        "--max-attempts", "2",
    )  # fmt: skip
    # an endpoint that stopped answering is an outage (3: retry later), not a setup error (2)
    assert proc.returncode == 3, proc.stderr
    assert f"cannot reach 127.0.0.1:{port}: connection refused" in proc.stderr
    assert "retry later" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_demo_runs_the_whole_job(rdscan, tmp_path):
    proc = rdscan(None, "demo", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "rdscan-report"
    for name in ("report.json", "report.html", "report.md", "report.csv"):
        assert (out / name).is_file(), name
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["EXEMPT"] > 0 and report["summary"]["FAIL"] > 0
    assert "report.html" in proc.stdout
    # the control checked, as the shipped policy describes it (issue 8, point 4)
    shipped = yaml.safe_load(Path("policies/secure-mobile-phone.yaml").read_text())
    policy = report["scan"]["policy"]
    assert policy["title"] == shipped["title"] and policy["severity"] == shipped["severity"]
    assert policy["rationale"] == shipped["rationale"].strip()
    assert policy["remediation"] == shipped["remediation"].strip()
    assert policy["related_controls"] == [
        {
            "framework": c["framework"],
            "id": c["control"],
            "title": c["title"],
            "relation": c["relation"],
            "translations": {"zh-CN": c["zh-CN"]},
        }
        for c in shipped["related_controls"]
    ]
    assert policy["translations"] == {"zh-CN": {k: v.strip() for k, v in shipped["zh-CN"].items()}}
    assert {c["relation"] for c in policy["related_controls"]} == {"supporting"}
    assert report["scan"]["as_of"] == report["scan"]["started_at"][:10]
    assert report["scan"]["exemptions"]["name"] == "exemptions.example.yaml"
    assert report["scan"]["exemptions"]["count"] > 0
    html = (out / "report.html").read_text()
    assert "<dt>Control</dt>" in html and "<dt>Related controls</dt>" in html
    assert "Judged as of" not in html  # as of the scan date: not repeated


@pytest.mark.parametrize(
    ("field", "value"),
    [("has_secure_mobile_phone", "false"), ("has_secure_mobile_phone", 0), ("expired", "false")],
)
def test_a_report_json_with_a_non_boolean_flag_is_refused_not_read_as_true(tmp_path, field, value):
    """report.json says true|false|null: a string "false" must not be re-read as true (a member
    without a phone rendered as having one) but refused as corrupt."""
    from scanner.errors import ResultsFileError
    from scanner.report.results_file import load_results

    account = {
        "account_id": "1000000000000001",
        "display_name": "prod-web",
        "type": "ResourceAccount",
        "status": "CreateSuccess",
        "folder_path": "Root",
        "has_secure_mobile_phone": False,
        "secure_mobile_phone_masked": None,
        "result": "FAIL",
        "severity": "high",
        "reason": "expired exemption",
        "remediation": "api",
        "exemption": {
            "scope": "account:1000000000000001",
            "reason": "r",
            "owner": "o",
            "ticket": "T-1",
            "expires": "2026-01-01",
            "expired": True,
            "days_left": -3,
        },
    }
    if field == "expired":
        account["exemption"]["expired"] = value
    else:
        account[field] = value
    report = {
        "schema_version": 1,
        "scan": {
            "id": "scan-1",
            "started_at": "2026-11-27T00:00:00Z",
            "finished_at": "2026-11-27T00:00:01Z",
            "tool_version": "0.1.0",
            "site": "cn",
            "caller": {"arn": "acs:ram::1:user/a", "account_id": "1", "identity_type": "RAMUser"},
            "resource_directory": {"id": "rd-1", "master_account_id": "1"},
            "policy": {"id": "p", "digest": "sha256:00"},
            "api_calls": {},
            "coverage": {"members": 1, "evaluated": 1, "errors": 0},
        },
        "accounts": [account],
        "summary": {"PASS": 0, "FAIL": 1, "EXEMPT": 0, "SKIPPED": 0, "ERROR": 0},
    }
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    with pytest.raises(ResultsFileError) as info:
        load_results(path)
    assert field in str(info.value)
    account[field if field != "expired" else "has_secure_mobile_phone"] = False
    if field == "expired":
        account["exemption"]["expired"] = True
    path.write_text(json.dumps(report))
    scan, _ = load_results(path)  # the well-formed file still loads
    assert scan.results[0].has_secure_mobile_phone is False
