"""Options and helpers shared by the commands that talk to the cloud."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..client.settings import SITES, Settings
from ..client.transport import resolve_ca_bundle
from ..errors import ScannerError
from ..safe_text import clip, strip_unsafe

F = TypeVar("F", bound=Callable[..., Any])

_CONNECTION_KEYS = (
    "site",
    "endpoint",
    "protocol",
    "profile",
    "role_arn",
    "rate",
    "concurrency",
    "max_attempts",
    "retry_budget_s",
    "ca_bundle",
    "attempt_timeout_s",
)


def connection_options(func: F) -> F:
    """Add --site/--endpoint/--protocol/--profile/--role-arn/--rate/--concurrency/--ca-bundle.

    The wrapped command receives one ``settings: Settings`` keyword instead of those options.
    Every option also reads an ``RDSCAN_*`` environment variable.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {key: kwargs.pop(key) for key in _CONNECTION_KEYS}
        bundle = resolve_ca_bundle(values.pop("ca_bundle"), os.environ)
        values.update(ca_bundle=bundle.path, ca_bundle_source=bundle.source)
        kwargs["settings"] = Settings(**{k: v for k, v in values.items() if v is not None})
        return func(*args, **kwargs)

    options = [
        click.option(
            "--site",
            type=click.Choice(SITES),
            default="cn",
            show_default=True,
            envvar="RDSCAN_SITE",
            help="cn: China site (resourcedirectory.aliyuncs.com, 86- numbers only); "
            "intl: international site (resourcedirectory-intl.aliyuncs.com, 86- refused).",
        ),
        click.option(
            "--endpoint",
            envvar="RDSCAN_ENDPOINT",
            metavar="HOST:PORT",
            help="Send every API call to this host (the emulator, or a proxy).",
        ),
        click.option(
            "--protocol",
            type=click.Choice(["https", "http"]),
            default="https",
            show_default=True,
            envvar="RDSCAN_PROTOCOL",
        ),
        click.option(
            "--profile",
            envvar="RDSCAN_PROFILE",
            help="aliyun CLI (~/.aliyun/config.json) or credentials.ini profile name.",
        ),
        click.option(
            "--role-arn",
            envvar="RDSCAN_ROLE_ARN",
            metavar="ARN",
            help="Assume this RAM role (of the management account) on top of the credentials.",
        ),
        click.option(
            "--rate",
            type=click.FloatRange(min=0.1),
            default=None,
            envvar="RDSCAN_RATE",
            help="Requests per second for every API action (default: each action at its "
            "documented quota: GetAccount 50/s, ListAccounts 20/s, Send 10/s, ...; see "
            "`rdscan doctor`). Lower to leave room for other tools of the account; raise after "
            "raising the quota in Quota Center.",
        ),
        click.option(
            "--concurrency",
            type=click.IntRange(min=1, max=256),
            default=None,
            envvar="RDSCAN_CONCURRENCY",
            help="Parallel GetAccount calls (default sized to keep the rate limit busy).",
        ),
        click.option(
            "--max-attempts",
            type=click.IntRange(min=1, max=50),
            default=None,
            envvar="RDSCAN_MAX_ATTEMPTS",
            help="Attempts per API call on throttling, 5xx and connection errors (default 6).",
        ),
        click.option(
            "--retry-budget",
            "retry_budget_s",
            type=click.FloatRange(min=0),
            default=None,
            envvar="RDSCAN_RETRY_BUDGET",
            metavar="SECONDS",
            help="Longest time one API call may spend retrying (default 60).",
        ),
        click.option(
            "--ca-bundle",
            metavar="FILE",
            help="PEM file of the CA certificates to trust for HTTPS (a corporate TLS "
            "proxy's CA, the emulator's DIR/ca.pem). Default: RDSCAN_CA_BUNDLE, then "
            "REQUESTS_CA_BUNDLE, then SSL_CERT_FILE, then the SDK's bundled CAs.",
        ),
        click.option(
            "--timeout",
            "attempt_timeout_s",
            type=click.FloatRange(min=0.1, max=600),
            default=None,
            envvar="RDSCAN_TIMEOUT",
            metavar="SECONDS",
            help="Longest time one attempt of an API call may take, connect to last byte "
            "(default 30); a slower answer is retried, then that member's ERROR.",
        ),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


PRINT_LIMIT = 2000  # characters of one value or message line on the terminal


def printable(value: object, limit: int = PRINT_LIMIT) -> str:
    """Make a value from the API or a file safe for a terminal: no escape sequences, no
    bidirectional overrides, no line breaks, at most ``limit`` characters."""
    return strip_unsafe(clip(str(value), limit))


MAX_MESSAGE_LINES = 200  # lines of one error message (a policy file with thousands of problems)


def safe_message(text: str) -> str:
    """Messages may quote API answers, file names and file contents: no escape sequence may
    reach the terminal raw (line breaks of a multi-line message are kept), no line is longer
    than PRINT_LIMIT and no message longer than MAX_MESSAGE_LINES lines (a 10 MB field in a
    crafted file stays off stderr)."""
    lines = text.split("\n")
    shown = [printable(line) for line in lines[:MAX_MESSAGE_LINES]]
    if len(lines) > MAX_MESSAGE_LINES:
        shown.append(f"... and {len(lines) - MAX_MESSAGE_LINES} more line(s)")
    return "\n".join(shown)


def echo_error(exc: ScannerError) -> None:
    """``Error: <message>`` and ``Fix: <hint>`` on stderr, made safe and bounded."""
    click.echo(f"Error: {safe_message(str(exc))}", err=True)
    if exc.hint:
        click.echo(f"Fix: {safe_message(exc.hint)}", err=True)
