"""`rdscan scan --notify` end to end: a real process, the emulator, local receivers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scanner.emulator import EmulatorServer

from ..conftest import SAMPLE_CALLERS, child_process_env

TOKENS = ("TOKEN-DING", "TOKEN-WECOM", "TOKEN-SLACK", "TOKEN-TEAMS", "SIGN-SECRET", "HOOK-SECRET")


def _scan(srv: EmulatorServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
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
            "--output-dir",
            str(tmp_path / "out"),
            "--history",
            str(tmp_path / "history.sqlite"),
            *args,
        ],
        env=child_process_env(SAMPLE_CALLERS["auditor"], HOME=str(tmp_path / "home")),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_every_channel_posted_and_failures_leave_the_exit_code(
    emulator: Callable[..., EmulatorServer],
    httpserver: HTTPServer,
    silent_receiver: str,
    tmp_path: Path,
) -> None:
    seen: dict[str, list[Request]] = {}

    def answer(name: str, reply: Response, path: str = "") -> None:
        def handler(request: Request) -> Response:
            request.get_data()
            seen.setdefault(name, []).append(request)
            return reply

        httpserver.expect_request(path or f"/{name}", method="POST").respond_with_handler(handler)

    ok_json = '{"errcode": 0, "errmsg": "ok"}'
    answer("dingtalk", Response(ok_json, content_type="application/json"))
    answer("wecom", Response(ok_json, content_type="application/json"))
    answer("feishu", Response('{"code": 0, "msg": "success"}', content_type="application/json"))
    answer("slack", Response("ok"), "/slack/TOKEN-SLACK")
    answer("teams", Response("", status=202))
    answer("webhook", Response("", status=204))
    answer("broken", Response("no", status=500))
    url = httpserver.url_for
    config = tmp_path / "notify.yaml"
    config.write_text(
        f"""channels:
  - type: dingtalk
    url: {url("/dingtalk")}?access_token=TOKEN-DING
    secret: SIGN-SECRET
  - type: wecom
    url: {url("/wecom")}?key=TOKEN-WECOM
  - type: feishu
    url_env: FEISHU_URL
    secret_env: FEISHU_SECRET
  - type: slack
    url: {url("/slack/TOKEN-SLACK")}
    report_url: https://reports.example.com/rd/report.html
  - type: teams
    url: {url("/teams")}?sig=TOKEN-TEAMS
  - type: webhook
    url: {url("/webhook")}
    secret: HOOK-SECRET
  - type: webhook
    url: {url("/broken")}?token=TOKEN-DING
    timeout: 1
  - type: slack
    url: {silent_receiver}/TOKEN-SLACK
    timeout: 0.3
  - type: slack
    url: {url("/slack/TOKEN-SLACK")}
    when: changed
""",
        encoding="utf-8",
    )
    srv = emulator(rate_limit=1000)
    plain = _scan(srv, tmp_path, "--no-history", "--format", "json")
    env_extra = {"FEISHU_URL": url("/feishu") + "?x=TOKEN-WECOM", "FEISHU_SECRET": "SIGN-SECRET"}
    proc = subprocess.run(
        [
            sys.executable, "-m", "scanner", "scan", "--endpoint", srv.endpoint,
            "--protocol", "http", "--output-dir", str(tmp_path / "out"),
            "--history", str(tmp_path / "history.sqlite"), "--notify", str(config), "--quiet",
        ],
        env=child_process_env(SAMPLE_CALLERS["auditor"], HOME=str(tmp_path / "home"), **env_extra),
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert proc.returncode == plain.returncode == 1, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 3, proc.stderr  # two failed channels, one verdict
    assert "webhook channel to 127.0.0.1 (line 18)" in lines[0] and "HTTP 500" in lines[0]
    assert "after 3 attempts" in lines[0]
    assert "slack channel to 127.0.0.1 (line 21)" in lines[1] and "no answer within" in lines[1]
    assert lines[2].startswith("rdscan rd-3G6R01: Exit code 1: non-compliant")
    assert {k: len(v) for k, v in seen.items()} == {
        "dingtalk": 1, "wecom": 1, "feishu": 1, "slack": 2, "teams": 1, "webhook": 1,
        "broken": 3,
    }  # fmt: skip
    text = json.loads(seen["slack"][0].data)["text"]
    assert "https://reports.example.com/rd/report.html" in text
    hook = json.loads(seen["webhook"][0].data)
    assert hook["report"] == str((tmp_path / "out" / "report.html").absolute())
    assert hook["exit_code"] == 1 and hook["previous_scan_id"] is None
    assert len(hook["new_fail"]) == hook["summary"]["FAIL"] > 0

    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    outcomes = report["notifications"]
    assert [(n["type"], n["ok"], n["attempts"]) for n in outcomes] == [
        ("dingtalk", True, 1), ("wecom", True, 1), ("feishu", True, 1), ("slack", True, 1),
        ("teams", True, 1), ("webhook", True, 1), ("webhook", False, 3), ("slack", False, 3),
        ("slack", True, 1),
    ]  # fmt: skip
    assert sum("notification to the" in w for w in report["scan"]["warnings"]) == 2
    # no URL token or secret anywhere rdscan wrote or printed
    written = [p.read_bytes() for p in (tmp_path / "out").iterdir()]
    written.append((tmp_path / "history.sqlite").read_bytes())
    for token in TOKENS:
        assert token not in proc.stderr
        assert all(token.encode() not in blob for blob in written), token

    # a second scan: nothing changed, so the `when: changed` channel stays silent
    for v in seen.values():
        v.clear()
    env = child_process_env(SAMPLE_CALLERS["auditor"], HOME=str(tmp_path / "home"), **env_extra)
    again = subprocess.run(
        [*proc.args], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert again.returncode == 1
    assert len(seen["slack"]) == 1  # the `always` one only
    last = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert last["notifications"][-1]["sent"] is False
    assert "0 new failures" in again.stderr.strip().splitlines()[-1]


def test_a_bad_notify_file_stops_before_the_first_api_call(
    emulator: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    config = tmp_path / "notify.yaml"
    config.write_text("channels:\n  - type: sms\n    url: https://x.example/\n", encoding="utf-8")
    srv = emulator(rate_limit=1000)
    proc = _scan(srv, tmp_path, "--notify", str(config))
    assert proc.returncode == 2
    assert f"{config}:2:" in proc.stderr and "'sms' is not one of" in proc.stderr
    assert srv.call_counts() == {}
