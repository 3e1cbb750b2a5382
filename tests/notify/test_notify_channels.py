"""Each channel's payload and signature, checked by a local receiver; retries and failures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from urllib.parse import parse_qs, unquote_plus

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scanner.errors import PolicyError
from scanner.notify import Summary, load_notify, notify
from scanner.notify.config import Channel, NotifyConfig
from scanner.notify.message import build_request, should_send, text

NOW = 1_764_500_000.25  # a fixed clock: signatures are reproducible


def _summary(**kw: object) -> Summary:
    base: dict[str, object] = dict(
        directory_id="rd-3G6R01",
        target="",
        scan_id="scan-1",
        started_at="2026-11-30T02:00:00Z",
        counts={"PASS": 5, "FAIL": 2, "EXEMPT": 1, "SKIPPED": 0, "ERROR": 0},
        members=8,
        evaluated=8,
        errors=0,
        compliance=0.75,
        exit_code=1,
        verdict="non-compliant: 2 members FAIL",
        previous_id="scan-0",
        new_fail=(("1000000000000001", "pay <b>&</b> prod"),),
        fixed=(("1000000000000002", "data"),),
        changed=True,
        report="/srv/rdscan/report.html",
    )
    base.update(kw)
    return Summary(**base)  # type: ignore[arg-type]


def _config(*channels: Channel) -> NotifyConfig:
    return NotifyConfig(tuple(channels), "test")


def _send(channel: Channel, summary: Summary | None = None) -> list:  # type: ignore[type-arg]
    return notify(_config(channel), summary or _summary(), now=lambda: NOW, sleep=lambda s: None)


def _record(server: HTTPServer, answer: Response | dict | str = "ok") -> list[Request]:  # type: ignore[type-arg]
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        request.get_data()
        seen.append(request)
        if isinstance(answer, Response):
            return answer
        if isinstance(answer, dict):
            return Response(json.dumps(answer), content_type="application/json")
        return Response(answer)

    server.expect_request("/hook", method="POST").respond_with_handler(handler)
    return seen


def test_dingtalk_signed_url_and_text(httpserver: HTTPServer) -> None:
    seen = _record(httpserver, {"errcode": 0, "errmsg": "ok"})
    url = httpserver.url_for("/hook") + "?access_token=tok123"
    [d] = _send(Channel("dingtalk", url, "SECabc", line=3))
    assert d.ok and d.attempts == 1
    req = seen[0]
    query = parse_qs(req.query_string.decode())
    assert query["access_token"] == ["tok123"]
    ts = query["timestamp"][0]
    assert ts == str(int(NOW * 1000))
    expected = base64.b64encode(
        hmac.new(b"SECabc", f"{ts}\nSECabc".encode(), hashlib.sha256).digest()
    ).decode()
    # the sign arrives URL-encoded once: after one decoding it is the base64 text
    raw = req.query_string.decode().split("sign=")[1].split("&")[0]
    assert unquote_plus(raw) == expected
    body = json.loads(req.data)
    assert body["msgtype"] == "text"
    content = body["text"]["content"]
    assert "rd-3G6R01" in content and "1000000000000001 pay <b>&</b> prod" in content
    assert "Fixed (1)" in content and "/srv/rdscan/report.html" in content


def test_feishu_signature_in_body(httpserver: HTTPServer) -> None:
    seen = _record(httpserver, {"code": 0, "msg": "success"})
    [d] = _send(Channel("feishu", httpserver.url_for("/hook"), "fs-secret", line=4))
    assert d.ok
    body = json.loads(seen[0].data)
    ts = body["timestamp"]
    assert ts == str(int(NOW))
    expected = base64.b64encode(
        hmac.new(f"{ts}\nfs-secret".encode(), b"", hashlib.sha256).digest()
    ).decode()
    assert body["sign"] == expected
    assert body["msg_type"] == "text" and "New failures (1)" in body["content"]["text"]


def test_feishu_without_secret_has_no_signature(httpserver: HTTPServer) -> None:
    seen = _record(httpserver, {"StatusCode": 0, "StatusMessage": "success"})
    [d] = _send(Channel("feishu", httpserver.url_for("/hook")))
    assert d.ok and "sign" not in json.loads(seen[0].data)


def test_wecom_text(httpserver: HTTPServer) -> None:
    seen = _record(httpserver, {"errcode": 0, "errmsg": "ok"})
    [d] = _send(Channel("wecom", httpserver.url_for("/hook") + "?key=k"))
    assert d.ok
    body = json.loads(seen[0].data)
    assert body["msgtype"] == "text" and "compliance 75.0%" in body["text"]["content"]
    assert len(body["text"]["content"].encode()) <= 2000


def test_slack_escapes_control_characters(httpserver: HTTPServer) -> None:
    seen = _record(httpserver, "ok")
    [d] = _send(Channel("slack", httpserver.url_for("/hook")))
    assert d.ok
    body = json.loads(seen[0].data)
    assert set(body) == {"text"}
    assert "pay &lt;b&gt;&amp;&lt;/b&gt; prod" in body["text"] and "<b>" not in body["text"]


def test_teams_adaptive_card(httpserver: HTTPServer) -> None:
    seen = _record(httpserver, Response("", status=202))
    [d] = _send(Channel("teams", httpserver.url_for("/hook")))
    assert d.ok
    body = json.loads(seen[0].data)
    assert body["type"] == "message"
    [att] = body["attachments"]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = att["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert all(b["type"] == "TextBlock" for b in card["body"])
    assert card["body"][0]["text"].startswith("rdscan: Resource Directory rd-3G6R01")


def test_generic_webhook_json_and_hmac_header(httpserver: HTTPServer) -> None:
    seen = _record(httpserver, Response("", status=204))
    channel = Channel(
        "webhook", httpserver.url_for("/hook"), "hook-secret", report_url="https://r.example/x"
    )
    [d] = _send(channel)
    assert d.ok
    req = seen[0]
    sig = hmac.new(b"hook-secret", req.data, hashlib.sha256).hexdigest()
    assert req.headers["X-Rdscan-Signature"] == f"sha256={sig}"
    body = json.loads(req.data)
    assert body["schema"] == "rdscan.notification/1"
    assert body["new_fail"] == [
        {"account_id": "1000000000000001", "display_name": "pay <b>&</b> prod"}
    ]
    assert body["report"] == "https://r.example/x" and body["coverage"]["evaluated"] == 8


def test_a_500_is_retried_then_reported(httpserver: HTTPServer) -> None:
    seen = _record(httpserver, Response("boom", status=500))
    [d] = _send(Channel("slack", httpserver.url_for("/hook")))
    assert not d.ok and d.sent and d.attempts == 3 and len(seen) == 3
    assert d.detail == "HTTP 500"


def test_a_vendor_error_in_a_200_is_a_failure_not_retried(httpserver: HTTPServer) -> None:
    seen = _record(httpserver, {"errcode": 310000, "errmsg": "sign not match"})
    [d] = _send(Channel("dingtalk", httpserver.url_for("/hook") + "?access_token=t", "bad"))
    assert not d.ok and d.attempts == 1 and len(seen) == 1
    assert "310000" in d.detail and "access_token" not in d.detail


def test_a_receiver_that_never_answers_times_out(silent_receiver: str) -> None:
    [d] = _send(Channel("webhook", silent_receiver, timeout=0.3))
    assert not d.ok and d.attempts == 3 and "no answer within 0.3 s" in d.detail


def test_when() -> None:
    quiet = _summary(new_fail=(), fixed=(), changed=False, counts={"PASS": 3}, exit_code=0)
    assert should_send("always", quiet)
    assert not should_send("changed", quiet) and not should_send("failing", quiet)
    assert should_send("changed", _summary()) and should_send("failing", _summary())
    [d] = notify(_config(Channel("slack", "http://127.0.0.1:9/x", when="changed")), quiet)
    assert not d.sent and d.ok and "nothing changed" in d.detail


def test_long_lists_are_cut_and_counted() -> None:
    many = tuple((f"10000000000000{i:02d}", "x" * 30) for i in range(60))
    body = text(_summary(new_fail=many), "/r")
    assert "and 50 more" in body and len(body.encode()) <= 2000
    assert body.rstrip().endswith("2026-11-30T02:00:00Z")


def test_request_never_repr_shows_the_url() -> None:
    req = build_request(
        Channel("slack", "https://hooks.example/T/B/SECRETPART"), _summary(), now_s=NOW
    )
    assert "SECRETPART" not in repr(req)
    assert "SECRETPART" not in repr(Channel("slack", "https://hooks.example/T/B/SECRETPART"))


# --- the file -----------------------------------------------------------------------------------


def test_file_problems_name_their_lines_and_never_the_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOPE_URL", raising=False)
    path = tmp_path / "notify.yaml"
    path.write_text(
        "channels:\n"
        "  - type: dingtalk\n"  # 2: fine
        "    url: https://oapi.example/robot/send?access_token=TOPSECRET\n"
        "    secret: SECRETSIGN\n"
        "  - type: pager\n"  # 5: unknown type
        "    url: https://x.example/\n"
        "  - type: slack\n"  # 7: secret on slack
        "    url: https://hooks.example/TOPSECRET2\n"
        "    secret: SECRETSIGN2\n"
        "  - type: wecom\n"  # 10: env missing, bad when
        "    url_env: NOPE_URL\n"
        "    when: sometimes\n"
        "  - type: teams\n"  # 13: not a URL, unknown key
        "    url: ftp://TOPSECRET3\n"
        "    colour: red\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as info:
        load_notify(path)
    problems = "\n".join(info.value.problems)
    assert f"{path}:5:" in problems and "'pager' is not one of" in problems
    assert f"{path}:9:" in problems and "slack does not sign" in problems
    assert f"{path}:11:" in problems and "NOPE_URL is not set" in problems
    assert f"{path}:12:" in problems and "'sometimes'" in problems
    assert f"{path}:14:" in problems and "http(s) URL" in problems
    assert f"{path}:15:" in problems and "unknown key 'colour'" in problems
    assert "TOPSECRET" not in str(info.value) and "SECRETSIGN" not in str(info.value)


def test_file_with_env_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RD_HOOK", "https://hooks.example/abc")
    monkeypatch.setenv("RD_SIGN", "s3")
    path = tmp_path / "n.yaml"
    path.write_text(
        "channels:\n  - type: feishu\n    url_env: RD_HOOK\n    secret_env: RD_SIGN\n"
        "    when: failing\n    timeout: 2.5\n",
        encoding="utf-8",
    )
    [c] = load_notify(path).channels
    assert (c.type, c.url, c.secret, c.when, c.timeout, c.line) == (
        "feishu", "https://hooks.example/abc", "s3", "failing", 2.5, 2,
    )  # fmt: skip
    assert c.label == "feishu channel to hooks.example (line 2)"
