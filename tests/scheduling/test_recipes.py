"""docs/scheduling.md: each recipe is read from the page, checked, and run against the emulator.

Paths of the recipes are moved into a temporary folder (/var/lib/rdscan -> tmp/var, /etc/rdscan
-> tmp/etc) and `rdscan` is this checkout's; everything else runs as written.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scanner.emulator import EmulatorServer, sample_fixture_path
from scanner.history import History

from ..conftest import SAMPLE_CALLERS, child_process_env

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "scheduling.md"
BIN = Path(sys.executable).parent
_RECIPE = re.compile(r"<!-- recipe: (\S+) -->\s*```[\w-]*\n(.*?)```", re.S)
_CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\d+(-\d+)?)(/\d+)?)*$")


def recipes() -> dict[str, str]:
    return dict(_RECIPE.findall(DOC.read_text(encoding="utf-8")))


def test_the_page_names_every_recipe_once() -> None:
    names = [n for n, _ in _RECIPE.findall(DOC.read_text(encoding="utf-8"))]
    assert sorted(names) == sorted(set(names))
    assert set(names) == {
        "crontab", "systemd-service", "systemd-timer", "kubernetes-cronjob", "github-actions",
        "gitlab-ci",
    }  # fmt: skip


def _valid_cron(expr: str) -> bool:
    fields = expr.split()
    return len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields)


class Site:
    """A temporary /etc/rdscan and /var/lib/rdscan, the emulator, and a webhook receiver."""

    def __init__(self, tmp: Path, srv: EmulatorServer, hook_url: str) -> None:
        self.tmp, self.srv = tmp, srv
        self.etc, self.var = tmp / "etc", tmp / "var"
        self.etc.mkdir()
        self.var.mkdir()
        key_id, secret = SAMPLE_CALLERS["auditor"]
        # what an operator puts in /etc/rdscan/env (KEY=VALUE lines: systemd and `set -a; .`)
        self.env_lines = {
            "ALIBABA_CLOUD_ACCESS_KEY_ID": key_id,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret,
            "RDSCAN_SITE": "cn",
            "RDSCAN_ENDPOINT": srv.endpoint,  # the emulator instead of the cloud
            "RDSCAN_PROTOCOL": "http",
        }
        (self.etc / "env").write_text(
            "".join(f"{k}={v}\n" for k, v in self.env_lines.items()), encoding="utf-8"
        )
        (self.etc / "notify.yaml").write_text(
            f"channels:\n  - type: webhook\n    url: {hook_url}\n", encoding="utf-8"
        )

    def localize(self, text: str) -> str:
        return (
            text.replace("/usr/local/bin/rdscan", "rdscan")
            .replace("/var/lib/rdscan", str(self.var))
            .replace("/etc/rdscan", str(self.etc))
        )

    def env(self, *, with_keys: bool) -> dict[str, str]:
        env = child_process_env(None, HOME=str(self.tmp / "home"))
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        if with_keys:
            env.update(self.env_lines)
        return env

    def sh(self, command: str, *, with_keys: bool, cwd: Path | None = None) -> Any:
        return subprocess.run(
            ["bash", "-c", self.localize(command)],
            env=self.env(with_keys=with_keys),
            cwd=cwd or self.tmp,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )


@pytest.fixture
def site(emulator: Callable[..., EmulatorServer], httpserver: HTTPServer, tmp_path: Path) -> Site:
    posts: list[Request] = []

    def handler(request: Request) -> Response:
        request.get_data()
        posts.append(request)
        return Response("", status=204)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handler)
    s = Site(tmp_path, emulator(rate_limit=1000), httpserver.url_for("/hook"))
    s.posts = posts  # type: ignore[attr-defined]
    return s


def test_crontab_line(site: Site) -> None:
    [line] = [
        ln for ln in recipes()["crontab"].splitlines() if ln.strip() and not ln.startswith("#")
    ]
    fields = line.split(None, 5)
    assert _valid_cron(" ".join(fields[:5])), line
    proc = site.sh(fields[5], with_keys=False)  # cron's environment: the env file only
    assert proc.returncode == 1, proc.stderr  # the sample directory has FAIL members
    assert proc.stdout == ""
    [verdict] = proc.stderr.splitlines()
    assert verdict.startswith("rdscan rd-3G6R01: Exit code 1: non-compliant")
    assert (site.var / "report" / "report.html").is_file()
    assert len(History(site.var / "history.sqlite").scans()) == 1
    assert len(site.posts) == 1  # type: ignore[attr-defined]


def _unit(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


def test_systemd_service_and_timer(site: Site) -> None:
    service = _unit(recipes()["systemd-service"])
    svc = service["Service"]
    assert svc["Type"] == "oneshot"
    assert svc["User"] not in ("root", "0") and svc["Group"] not in ("root", "0")
    assert svc["EnvironmentFile"] == "/etc/rdscan/env"
    assert svc["ReadWritePaths"] == "/var/lib/rdscan" and svc["ProtectSystem"] == "strict"
    success = {int(c) for c in svc["SuccessExitStatus"].split()}
    assert success == {1}  # FAIL members: a finding; 2 and 3: a failed unit
    argv = shlex.split(site.localize(svc["ExecStart"]))
    assert argv[0] == "rdscan"
    env = site.env(with_keys=False)
    for line in (site.etc / "env").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    workdir = Path(site.localize(svc["WorkingDirectory"]))
    proc = subprocess.run(
        argv, env=env, cwd=workdir, capture_output=True, text=True, timeout=180, check=False
    )
    assert proc.returncode in {0} | success, proc.stderr
    assert proc.stdout == "" and len(proc.stderr.splitlines()) == 1
    assert (site.var / "report" / "report.json").is_file()

    timer = _unit(recipes()["systemd-timer"])
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"
    calendar = timer["Timer"]["OnCalendar"]
    analyze = shutil.which("systemd-analyze")
    if analyze:
        check = subprocess.run(
            [analyze, "calendar", calendar], capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, check.stderr
    else:  # no systemd here: the shape only (DAYS YYYY-MM-DD HH:MM:SS)
        assert re.fullmatch(r"[A-Za-z.,]+ \*-\*-\* \d\d:\d\d:\d\d", calendar), calendar


def test_kubernetes_cronjob(site: Site) -> None:
    doc = yaml.safe_load(recipes()["kubernetes-cronjob"])
    assert (doc["apiVersion"], doc["kind"]) == ("batch/v1", "CronJob")
    spec = doc["spec"]
    assert _valid_cron(spec["schedule"]) and spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    [container] = pod["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    for name in (
        "ALIBABA_CLOUD_ROLE_ARN",
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
    ):
        assert env[name], name
    assert not any(k.startswith("ALIBABA_CLOUD_ACCESS_KEY") for k in env)  # no AccessKey
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    token_dir = str(Path(env["ALIBABA_CLOUD_OIDC_TOKEN_FILE"]).parent)
    token_volume = volumes[mounts[token_dir]]["projected"]["sources"][0]["serviceAccountToken"]
    assert token_volume["audience"] == "sts.aliyuncs.com"
    assert Path(env["ALIBABA_CLOUD_OIDC_TOKEN_FILE"]).name == token_volume["path"]
    args = container["args"]
    history = Path(args[args.index("--history") + 1])
    assert "persistentVolumeClaim" in volumes[mounts[str(history.parent)]]
    notify = Path(args[args.index("--notify") + 1])
    assert "secret" in volumes[mounts[str(notify.parent)]]
    # the container's command, run here with the emulator's AccessKey instead of RRSA
    run_env = site.env(with_keys=True)
    run_env["RDSCAN_SITE"] = env["RDSCAN_SITE"]
    argv = ["rdscan", *(site.localize(a) for a in args)]
    proc = subprocess.run(
        argv, env=run_env, cwd=site.tmp, capture_output=True, text=True, timeout=180, check=False
    )
    assert proc.returncode == 0, proc.stderr  # --fail-on none: findings do not fail the job
    assert len(History(site.var / "history.sqlite").scans()) == 1
    assert len(site.posts) == 1  # type: ignore[attr-defined]


def _regressed_fixture() -> dict[str, Any]:
    """The sample directory with one bound member losing its phone: a new FAIL."""
    data = yaml.safe_load(sample_fixture_path().read_text(encoding="utf-8"))
    victim = next(
        a
        for a in data["accounts"]
        if a.get("secure_mobile_phone") and a["type"] == "ResourceAccount"
        and a["status"] == "CreateSuccess" and "team" not in (a.get("tags") or {})
    )  # fmt: skip
    victim["secure_mobile_phone"] = None
    return data


def _ci_commands(lines: list[str]) -> list[str]:
    assert any(line.strip() == "pip install ." for line in lines)  # installs this project
    return [line for line in lines if line.strip().startswith("rdscan ")]


def _run_ci(site: Site, commands: list[str], work: Path) -> list[int]:
    codes = []
    for command in commands:
        proc = site.sh(command, with_keys=True, cwd=work)
        assert "Traceback" not in proc.stderr
        codes.append(proc.returncode)
    return codes


def _three_ci_runs(
    site: Site, commands: list[str], emulator: Callable[..., EmulatorServer]
) -> None:
    work = site.tmp / "checkout"
    work.mkdir()
    assert _run_ci(site, commands, work) == [0, 0]  # first run: nothing to compare yet
    assert _run_ci(site, commands, work) == [0, 0]  # nothing changed
    worse = emulator(_regressed_fixture(), rate_limit=1000)
    site.env_lines["RDSCAN_ENDPOINT"] = worse.endpoint
    assert _run_ci(site, commands, work) == [0, 1]  # a regression fails the job
    diff = json.loads((work / "rdscan-report" / "diff.json").read_text(encoding="utf-8"))
    assert diff["counts"]["new_fail"] == 1


def test_github_actions_workflow(site: Site, emulator: Callable[..., EmulatorServer]) -> None:
    doc = yaml.safe_load(recipes()["github-actions"])
    triggers = doc[True]  # YAML 1.1 reads the key `on` as true
    assert _valid_cron(triggers["schedule"][0]["cron"])
    [job] = doc["jobs"].values()
    steps = job["steps"]
    cache = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache"))
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload"))
    runs = [s["run"] for s in steps if "run" in s]
    commands = _ci_commands(runs)
    assert f"--history {cache['with']['path']}/" in commands[0]
    assert f"--output-dir {upload['with']['path']}" in commands[0]
    scan_step = next(s for s in steps if s.get("run") == commands[0])
    assert "secrets." in scan_step["env"]["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]
    _three_ci_runs(site, commands, emulator)


def test_gitlab_ci_job(site: Site, emulator: Callable[..., EmulatorServer]) -> None:
    doc = yaml.safe_load(recipes()["gitlab-ci"])
    [job] = doc.values()
    assert job["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "schedule"'
    commands = _ci_commands(job["script"])
    history_dir = job["cache"]["paths"][0].rstrip("/")
    assert f"--history {history_dir}/" in commands[0]
    assert job["artifacts"]["when"] == "always"
    _three_ci_runs(site, commands, emulator)
