"""Options and helpers shared by the commands that talk to the cloud."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..client.settings import SITES, Settings

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
)


def connection_options(func: F) -> F:
    """Add --site/--endpoint/--protocol/--profile/--role-arn/--rate/--concurrency.

    The wrapped command receives one ``settings: Settings`` keyword instead of those options.
    Every option also reads an ``RDSCAN_*`` environment variable.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {key: kwargs.pop(key) for key in _CONNECTION_KEYS}
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
            default=20.0,
            show_default=True,
            envvar="RDSCAN_RATE",
            help="Client-side requests per second, per API action.",
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
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(value: object) -> str:
    """Make an API value safe for a terminal: no escape sequences, no line breaks."""
    return _CONTROL.sub("?", str(value))
