"""What a notification says, and each chat service's request for it (pure; the clock is passed
in).

Wire facts (each vendor's documentation for custom/incoming webhooks; none of them is reached
from this machine, the tests play the receiver):
- DingTalk custom robot: POST JSON ``{"msgtype": "text", "text": {"content": ...}}``; with a
  signing secret, ``timestamp`` (epoch milliseconds) and ``sign`` =
  urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))) are added to the URL
  query. Success: HTTP 200 with ``errcode`` 0 in the body.
- Feishu/Lark custom bot: POST JSON ``{"msg_type": "text", "content": {"text": ...}}``; with a
  signing secret the body also carries ``timestamp`` (epoch seconds, as text) and ``sign`` =
  base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")). Success: HTTP 200 with ``code``
  0 (older answers: ``StatusCode`` 0).
- WeCom group robot: POST JSON ``{"msgtype": "text", "text": {"content": ...}}``; success: HTTP
  200 with ``errcode`` 0. Text is limited to 2048 bytes (UNVERIFIED figure; rdscan keeps
  messages under 2,000 bytes).
- Slack incoming webhook: POST JSON ``{"text": ...}`` where ``&``, ``<`` and ``>`` must be
  escaped as HTML entities; success: HTTP 200 (body ``ok``).
- Microsoft Teams Workflows ("Post to a channel when a webhook request is received"): POST JSON
  ``{"type": "message", "attachments": [{"contentType":
  "application/vnd.microsoft.card.adaptive", "content": <Adaptive Card 1.4>}]}``; success: any
  2xx (the flow answers 202 Accepted).
- Generic webhook (rdscan's own): POST the summary as JSON (``rdscan.notification/1``); with a
  secret, header ``X-Rdscan-Signature: sha256=<hex HMAC-SHA256(key=secret, msg=body)>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from urllib.parse import quote_plus, urlsplit, urlunsplit

from ..changes import compliance_share
from ..findings import ScanResult, Status
from ..report.view import scrub_text
from .config import Channel

NAMED = 10  # members named per list in a message; the rest are counted
_MAX_BYTES = 2000


@dataclass(frozen=True)
class Summary:
    directory_id: str
    target: str
    scan_id: str
    started_at: str
    counts: dict[str, int]
    members: int
    evaluated: int
    errors: int
    compliance: float | None
    exit_code: int
    verdict: str
    previous_id: str | None  # None: no earlier scan of this directory in the history
    new_fail: tuple[tuple[str, str], ...]  # (account id, display name)
    fixed: tuple[tuple[str, str], ...]
    changed: bool  # any member in a class other than still_failing (or no previous scan)
    report: str  # the report's URL from the channel config, else its path

    @property
    def failing(self) -> bool:
        return (
            self.counts.get("FAIL", 0) > 0
            or self.counts.get("ERROR", 0) > 0
            or (self.exit_code != 0)
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "schema": "rdscan.notification/1",
            "directory_id": self.directory_id,
            "target": self.target,
            "scan_id": self.scan_id,
            "started_at": self.started_at,
            "summary": dict(self.counts),
            "coverage": {
                "members": self.members,
                "evaluated": self.evaluated,
                "errors": self.errors,
            },
            "compliance": self.compliance,
            "exit_code": self.exit_code,
            "verdict": self.verdict,
            "previous_scan_id": self.previous_id,
            "new_fail": [{"account_id": i, "display_name": n} for i, n in self.new_fail],
            "fixed": [{"account_id": i, "display_name": n} for i, n in self.fixed],
            "report": self.report,
        }


def build_summary(
    scan: ScanResult, *, exit_code: int, verdict: str, report: str, target: str = ""
) -> Summary:
    names = {r.account_id: scrub_text(r.display_name) for r in scan.results}
    prev = scan.history.since_previous if scan.history else None
    if prev is not None:
        new_fail = prev.classes.get("new_fail", ())
        fixed = prev.classes.get("fixed", ())
        changed = any(ids for name, ids in prev.classes.items() if name != "still_failing")
    else:  # no history to compare with: every FAIL is news
        new_fail = tuple(r.account_id for r in scan.results if r.result is Status.FAIL)
        fixed = ()
        changed = True
    cov = scan.coverage
    return Summary(
        directory_id=scan.evidence.resource_directory_id,
        target=target,
        scan_id=scan.evidence.scan_id,
        started_at=scan.evidence.started_at,
        counts=scan.summary,
        members=cov.members,
        evaluated=cov.evaluated,
        errors=cov.errors,
        compliance=compliance_share(scan.summary),
        exit_code=exit_code,
        verdict=verdict,
        previous_id=prev.scan_id if prev else None,
        new_fail=tuple((i, names.get(i, "")) for i in new_fail),
        fixed=tuple((i, names.get(i, "")) for i in fixed),
        changed=changed,
        report=report,
    )


def should_send(when: str, summary: Summary) -> bool:
    if when == "changed":
        return summary.changed
    if when == "failing":
        return summary.failing
    return True


def _members(items: tuple[tuple[str, str], ...]) -> list[str]:
    lines = [f"  {i} {n}".rstrip() for i, n in items[:NAMED]]
    if len(items) > NAMED:
        lines.append(f"  and {len(items) - NAMED:,} more")
    return lines


def text(summary: Summary, report: str) -> str:
    """The plain-text message (every chat service gets this text)."""
    c = summary.counts
    share = "n/a" if summary.compliance is None else f"{summary.compliance * 100:.1f}%"
    where = f" ({summary.target})" if summary.target else ""
    lines = [
        f"rdscan: Resource Directory {summary.directory_id}{where}: {summary.verdict}",
        f"FAIL {c.get('FAIL', 0):,}, ERROR {c.get('ERROR', 0):,}, EXEMPT {c.get('EXEMPT', 0):,}, "
        f"SKIPPED {c.get('SKIPPED', 0):,}, PASS {c.get('PASS', 0):,}; compliance {share}",
        f"Coverage: {summary.evaluated:,} / {summary.members:,} members evaluated",
    ]
    if summary.previous_id is None:
        lines.append("No earlier scan of this directory to compare with.")
    if summary.new_fail:
        lines.append(f"New failures ({len(summary.new_fail):,}):")
        lines += _members(summary.new_fail)
    if summary.fixed:
        lines.append(f"Fixed ({len(summary.fixed):,}):")
        lines += _members(summary.fixed)
    lines.append(f"Report: {report}")
    lines.append(f"Scan {summary.scan_id} at {summary.started_at}")
    out = "\n".join(lines)
    while len(out.encode("utf-8")) > _MAX_BYTES and len(lines) > 4:
        lines.pop(-3)  # drop named members from the end, keep report and scan lines
        out = "\n".join(lines)
    return out


@dataclass(frozen=True)
class Request:
    url: str = field(repr=False)  # may carry tokens and the signature
    body: bytes
    headers: dict[str, str]


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), not yet URL-encoded."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _with_query(url: str, extra: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _slack_escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _teams_card(summary: Summary, body_text: str) -> dict[str, object]:
    lines = body_text.split("\n")
    blocks: list[dict[str, object]] = [
        {"type": "TextBlock", "text": lines[0], "weight": "Bolder", "wrap": True},
    ]
    blocks += [
        {"type": "TextBlock", "text": line, "wrap": True, "spacing": "None"} for line in lines[1:]
    ]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": blocks,
                },
            }
        ],
    }


def build_request(channel: Channel, summary: Summary, *, now_s: float) -> Request:
    """The HTTP request that posts ``summary`` to ``channel`` at time ``now_s`` (epoch s)."""
    report = channel.report_url or summary.report
    message = text(summary, report)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    url = channel.url
    payload: dict[str, object]
    if channel.type == "dingtalk":
        payload = {"msgtype": "text", "text": {"content": message}}
        if channel.secret:
            ts = int(now_s * 1000)
            url = _with_query(
                url, f"timestamp={ts}&sign={quote_plus(dingtalk_sign(channel.secret, ts))}"
            )
    elif channel.type == "feishu":
        payload = {"msg_type": "text", "content": {"text": message}}
        if channel.secret:
            ts = int(now_s)
            payload = {"timestamp": str(ts), "sign": feishu_sign(channel.secret, ts), **payload}
    elif channel.type == "wecom":
        payload = {"msgtype": "text", "text": {"content": message}}
    elif channel.type == "slack":
        payload = {"text": _slack_escape(message)}
    elif channel.type == "teams":
        payload = _teams_card(summary, message)
    else:
        payload = {**summary.to_dict(), "report": report, "text": message}
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    if channel.type == "webhook" and channel.secret:
        sig = hmac.new(channel.secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        headers["X-Rdscan-Signature"] = f"sha256={sig}"
    return Request(url, body, headers)
