"""Many directories in one run: `rdscan scan --targets`, and `rdscan targets validate`."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.emulator import EmulatorServer, generate_fixture
from scanner.errors import PolicyError
from scanner.history import History
from scanner.targets import load_targets

from ..conftest import SAMPLE_CALLERS, child_process_env


def _directory(n: int, accounts: int) -> dict:  # type: ignore[type-arg]
    data = generate_fixture(accounts=accounts, seed=n)
    data["resource_directory"]["id"] = f"rd-Target{n}"
    return data


def _targets_file(tmp_path: Path, servers: list[EmulatorServer]) -> Path:
    names = ["prod", "staging", "lab"]
    lines = ["targets:"]
    for i, (name, srv) in enumerate(zip(names, servers, strict=True)):
        lines += [
            f"  - name: {name}",
            f"    endpoint: {srv.endpoint}",
            "    protocol: http",
            f"    access_key_id_env: RD_{i}_KEY",
            f"    access_key_secret_env: RD_{i}_SECRET",
        ]
    path = tmp_path / "targets.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_three_directories_one_with_bad_credentials(
    emulator: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    servers = [emulator(_directory(n, 12 + n), rate_limit=1000) for n in (1, 2, 3)]
    path = _targets_file(tmp_path, servers)
    key_id, secret = SAMPLE_CALLERS["auditor"]
    env = child_process_env(
        None,
        HOME=str(tmp_path / "home"),
        RD_0_KEY=key_id,
        RD_0_SECRET=secret,
        RD_1_KEY=key_id,
        RD_1_SECRET="not-the-secret",  # staging: refused
        RD_2_KEY=key_id,
        RD_2_SECRET=secret,
    )
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable, "-m", "scanner", "scan", "--targets", str(path), "--per-target",
            "--output-dir", str(out), "--history", str(tmp_path / "h.sqlite"),
            "--format", "json,html",
        ],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Error: target staging could not be scanned" in proc.stderr
    assert "Exit code 3: incomplete: not scanned: staging (the worst of the targets)" in proc.stdout
    assert "not-the-secret" not in proc.stdout + proc.stderr
    doc = json.loads((out / "targets.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "rdscan.targets/1" and doc["exit_code"] == 3
    by_name = {t["name"]: t for t in doc["targets"]}
    assert by_name["staging"]["ok"] is False and "signature" in by_name["staging"]["error"]
    for name, n, count in (("prod", 1, 13), ("lab", 3, 15)):
        t = by_name[name]
        assert t["ok"] and t["directory_id"] == f"rd-Target{n}"
        cov = t["coverage"]
        assert (cov["members"], cov["evaluated"], cov["errors"]) == (count, count, 0)
        assert t["caller"]["arn"].endswith("user/auditor")
        rows = [a for a in doc["accounts"] if a["target"] == name]
        assert len(rows) == count and {a["directory_id"] for a in rows} == {t["directory_id"]}
        own = json.loads((out / name / "report.json").read_text(encoding="utf-8"))
        assert own["scan"]["resource_directory"]["id"] == t["directory_id"]
        assert (out / name / "report.html").is_file()
    assert not (out / "staging").exists()
    assert doc["summary"]["PASS"] + doc["summary"]["FAIL"] == 28
    # each target got its own client: both good emulators were read in full
    assert servers[0].call_counts()["GetAccount"] == 13
    assert servers[2].call_counts()["GetAccount"] == 15
    rows = list(csv.DictReader(io.StringIO((out / "targets.csv").read_text("utf-8-sig"))))
    assert {r["target"] for r in rows} == {"prod", "lab"} and len(rows) == 28
    html = (out / "targets.html").read_text(encoding="utf-8")
    assert "Target staging could not be scanned" in html and "<script" not in html
    md = (out / "targets.md").read_text(encoding="utf-8")
    assert "| staging | not scanned |" in md
    scans = History(tmp_path / "h.sqlite").scans()
    assert sorted(s.target for s in scans) == ["lab", "prod"]


def test_validate_lists_every_problem_without_calling_the_cloud(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOPE", raising=False)
    monkeypatch.setenv("HAVE", "x")
    bad_policy = tmp_path / "bad-policy.yaml"
    bad_policy.write_text("id: x\n", encoding="utf-8")
    path = tmp_path / "targets.yaml"
    path.write_text(
        "targets:\n"
        "  - name: prod\n"  # 2
        "    profile: rd-prod\n"
        "  - name: prod\n"  # 4: duplicate
        "    profile: other\n"
        "  - name: bad name!\n"  # 6
        "    site: mars\n"  # 7
        "  - name: keys\n"  # 8
        "    access_key_id_env: HAVE\n"
        "    access_key_secret_env: NOPE\n"  # 10
        "  - name: pol\n"  # 11
        "    policy: bad-policy.yaml\n"  # 12
        "    protocl: http\n",  # 13
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as info:
        load_targets(path)
    problems = "\n".join(info.value.problems)
    assert f"{path}:4: duplicate target name 'prod'" in problems
    assert f"{path}:6:" in problems and "letters, digits" in problems
    assert f"{path}:7:" in problems and "'mars'" in problems
    assert f"{path}:10:" in problems and "NOPE is not set" in problems
    assert f"{path}:12:" in problems and "bad-policy.yaml" in problems
    assert f"{path}:13:" in problems and "did you mean 'protocol'" in problems
    result = CliRunner().invoke(main, ["targets", "validate", str(path)])
    assert result.exit_code == 2 and "invalid targets file" in result.output

    good = tmp_path / "good.yaml"
    good.write_text(
        "targets:\n  - name: prod\n    profile: rd-prod\n  - name: lab\n"
        "    access_key_id_env: HAVE\n    access_key_secret_env: HAVE\n    site: intl\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["targets", "validate", str(good)])
    assert result.exit_code == 0, result.output
    assert "2 targets, valid" in result.output and "keys from env" in result.output
