"""The notifications file (``--notify FILE`` / ``RDSCAN_NOTIFY``), checked like the policy files:
every problem with its line, before the first API call.

    channels:
      - type: dingtalk            # webhook | dingtalk | wecom | feishu | slack | teams
        url_env: RDSCAN_DINGTALK_URL   # or url: https://... (the URL is a secret: prefer _env)
        secret_env: RDSCAN_DINGTALK_SECRET  # or secret: ...; dingtalk/feishu signing, webhook HMAC
        when: changed             # always (default) | changed | failing
        report_url: https://reports.example.com/rd/latest/report.html   # optional
        timeout: 10               # seconds per attempt (default 10)

URLs and secrets are never printed: a channel is named by its type, host and line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from yaml.nodes import Node, ScalarNode, SequenceNode

from ..errors import PolicyError
from ..policy import yamlcheck as yc

CHANNEL_TYPES: tuple[str, ...] = ("webhook", "dingtalk", "wecom", "feishu", "slack", "teams")
WHEN: tuple[str, ...] = ("always", "changed", "failing")
SIGNED: tuple[str, ...] = ("webhook", "dingtalk", "feishu")  # types that take a secret
_KEYS = ("type", "url", "url_env", "secret", "secret_env", "when", "report_url", "timeout")
DEFAULT_TIMEOUT_S = 10.0
FIX_HINT = "fix the lines listed (see docs/scheduling.md, Notifications), then run again"


@dataclass(frozen=True)
class Channel:
    type: str
    url: str = field(repr=False)  # a secret: tokens live in webhook URLs
    secret: str | None = field(default=None, repr=False)
    when: str = "always"
    report_url: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    line: int = 0

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "?"

    @property
    def label(self) -> str:
        """How messages name the channel: never its URL or secret."""
        return f"{self.type} channel to {self.host} (line {self.line})"


@dataclass(frozen=True)
class NotifyConfig:
    channels: tuple[Channel, ...]
    source: str


def load_notify(path: str | Path) -> NotifyConfig:
    """Read and check a notifications file; PolicyError lists every problem as FILE:LINE."""
    ctx = yc.Problems(str(path))
    config = None
    data = yc.read_bytes(Path(path), ctx)
    if data is not None:
        root = yc.compose(data, ctx)
        if root is not None:
            config = _parse(root, ctx)
    if ctx.found or config is None:
        n = len(ctx.found)
        raise PolicyError(
            f"{path}: invalid notifications file ({n} problem{'s' if n != 1 else ''})",
            ctx.problems,
            hint=FIX_HINT,
        )
    return config


def _parse(root: Node, ctx: yc.Problems) -> NotifyConfig | None:
    keys = yc.mapping(root, ctx, "notifications file", ("channels",))
    if keys is None:
        return None
    if "channels" not in keys:
        ctx.add(root, "notifications file: missing required key 'channels'")
        return None
    node = keys["channels"][1]
    if not isinstance(node, SequenceNode) or not node.value:
        ctx.add(node, "channels must be a list of at least one channel")
        return None
    channels = [_channel(child, ctx) for child in node.value]
    if any(c is None for c in channels):
        return None
    return NotifyConfig(tuple(c for c in channels if c is not None), ctx.source)


def _value(
    keys: dict[str, tuple[Node, Node]], name: str, env_name: str, ctx: yc.Problems, what: str
) -> tuple[str | None, Node | None]:
    """A value given inline (``name``) or by environment variable (``env_name``)."""
    if name in keys and env_name in keys:
        ctx.add(keys[env_name][0], f"{what}: give {name} or {env_name}, not both")
        return None, None
    if name in keys:
        return yc.text(keys[name][1], ctx, f"{what} {name}"), keys[name][1]
    if env_name in keys:
        node = keys[env_name][1]
        var = yc.text(node, ctx, f"{what} {env_name}")
        if var is None:
            return None, node
        value = os.environ.get(var, "").strip()
        if not value:
            ctx.add(node, f"{what}: environment variable {var} is not set or empty")
            return None, node
        return value, node
    return None, None


def _channel(node: Node, ctx: yc.Problems) -> Channel | None:
    line = node.start_mark.line + 1
    what = f"channel at line {line}"
    keys = yc.mapping(node, ctx, what, _KEYS)
    if keys is None:
        return None
    before = len(ctx.found)
    kind = (
        yc.choice(keys["type"][1], ctx, f"{what} type", CHANNEL_TYPES) if "type" in keys else None
    )
    if "type" not in keys:
        ctx.add(node, f"{what}: missing required key 'type' ({', '.join(CHANNEL_TYPES)})")
    url, url_node = _value(keys, "url", "url_env", ctx, what)
    if url is None and url_node is None and "url" not in keys and "url_env" not in keys:
        ctx.add(node, f"{what}: missing required key 'url' (or 'url_env')")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            # the URL itself is a secret: name the problem, never echo the value
            ctx.add(url_node, f"{what}: url must be an http(s) URL with a host")
            url = None
    secret, secret_node = _value(keys, "secret", "secret_env", ctx, what)
    if secret_node is not None and kind is not None and kind not in SIGNED:
        ctx.add(secret_node, f"{what}: {kind} does not sign messages; leave the secret out")
    when = yc.choice(keys["when"][1], ctx, f"{what} when", WHEN) if "when" in keys else "always"
    report_url = (
        yc.text(keys["report_url"][1], ctx, f"{what} report_url") if "report_url" in keys else None
    )
    timeout = DEFAULT_TIMEOUT_S
    if "timeout" in keys:
        t = keys["timeout"][1]
        if (
            not isinstance(t, ScalarNode)
            or t.tag not in (yc.INT, yc.FLOAT)
            or not 0 < float(t.value) <= 120
        ):
            ctx.add(t, f"{what} timeout must be a number of seconds, more than 0 and at most 120")
        else:
            timeout = float(t.value)
    if len(ctx.found) > before or kind is None or url is None or when is None:
        return None
    return Channel(kind, url, secret, when, report_url, timeout, line)
