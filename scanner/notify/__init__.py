"""Notifications after a scan: a short summary posted to chat services and webhooks.

``load_notify`` reads the channels file; ``notify`` sends to each channel whose ``when``
matches and returns one ``Delivery`` per channel. A delivery problem is an outcome, never an
exception, and never changes the scan's exit code.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .config import CHANNEL_TYPES, WHEN, Channel, NotifyConfig, load_notify
from .message import Summary, build_request, build_summary, should_send
from .send import Delivery, deliver

__all__ = [
    "CHANNEL_TYPES",
    "WHEN",
    "Channel",
    "Delivery",
    "NotifyConfig",
    "Summary",
    "build_summary",
    "load_notify",
    "notify",
]


def notify(
    config: NotifyConfig,
    summary: Summary,
    *,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    out: list[Delivery] = []
    for channel in config.channels:
        if not should_send(channel.when, summary):
            reason = (
                "nothing changed since the previous scan"
                if channel.when == "changed"
                else ("nothing fails")
            )
            out.append(
                Delivery(channel, False, True, 0, f"not sent (when: {channel.when}): {reason}")
            )
            continue
        out.append(deliver(channel, build_request(channel, summary, now_s=now()), sleep=sleep))
    return out
