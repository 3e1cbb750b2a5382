"""Post a notification with bounded retries, a timeout per attempt, and the vendor's success
check. Never raises for a delivery problem: the outcome says what happened, without the URL
or the secret (webhook URLs carry tokens)."""

from __future__ import annotations

import json
import random
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from .config import Channel
from .message import Request

ATTEMPTS = 3  # first attempt included
BACKOFF_S = 0.5  # ceiling of the first wait; doubles per attempt (full jitter)
_RETRY_STATUS = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Delivery:
    channel: Channel
    sent: bool  # False: not attempted (its `when` did not match)
    ok: bool
    attempts: int
    detail: str  # what went wrong, or why it was not sent; "" when delivered

    def to_dict(self) -> dict[str, object]:
        return {
            "type": self.channel.type,
            "host": self.channel.host,
            "line": self.channel.line,
            "when": self.channel.when,
            "sent": self.sent,
            "ok": self.ok,
            "attempts": self.attempts,
            "detail": self.detail,
        }


class _Failed(Exception):
    def __init__(self, detail: str, *, retry: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry = retry


def _vendor_error(channel: Channel, status: int, body: bytes) -> str | None:
    """The vendor's own error in a 2xx answer (DingTalk/WeCom errcode, Feishu code)."""
    if channel.type not in ("dingtalk", "wecom", "feishu"):
        return None
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return f"HTTP {status} with a body that is not JSON"
    if not isinstance(data, dict):
        return f"HTTP {status} with an unexpected body"
    if channel.type == "feishu":
        code = data.get("code", data.get("StatusCode"))
        message = data.get("msg", data.get("StatusMessage", ""))
    else:
        code, message = data.get("errcode"), data.get("errmsg", "")
    if code == 0:
        return None
    return f"the service answered error {code}: {str(message)[:200]}"


def _attempt(channel: Channel, request: Request) -> None:
    req = urllib.request.Request(request.url, data=request.body, headers=request.headers)
    try:
        with urllib.request.urlopen(req, timeout=channel.timeout) as resp:
            status, body = resp.status, resp.read(65536)
    except urllib.error.HTTPError as exc:
        raise _Failed(f"HTTP {exc.code}", retry=exc.code in _RETRY_STATUS) from None
    except TimeoutError:
        raise _Failed(f"no answer within {channel.timeout:g} s", retry=True) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise _Failed(f"no answer within {channel.timeout:g} s", retry=True) from None
        detail = (
            reason.strerror
            if isinstance(reason, OSError) and reason.strerror
            else type(reason).__name__
        )
        raise _Failed(f"cannot connect: {detail}", retry=True) from None
    except (OSError, ValueError) as exc:  # reset mid-answer, malformed answer
        raise _Failed(f"connection failed: {type(exc).__name__}", retry=True) from None
    if not 200 <= status < 300:
        raise _Failed(f"HTTP {status}", retry=status in _RETRY_STATUS)
    problem = _vendor_error(channel, status, body)
    if problem:
        raise _Failed(problem, retry=False)


def deliver(
    channel: Channel,
    request: Request,
    *,
    attempts: int = ATTEMPTS,
    backoff_s: float = BACKOFF_S,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    detail = ""
    for n in range(1, attempts + 1):
        try:
            _attempt(channel, request)
            return Delivery(channel, True, True, n, "")
        except _Failed as exc:
            detail = exc.detail
            if not exc.retry or n == attempts:
                return Delivery(channel, True, False, n, detail)
        sleep(random.uniform(0, backoff_s * 2 ** (n - 1)))
    return Delivery(channel, True, False, attempts, detail)
