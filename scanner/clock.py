"""The one clock helper: the current UTC time, RFC 3339 text and back.

Every timestamp rdscan writes (report.json, the journal, the emulator's wire answers) is UTC
with a ``Z`` suffix, e.g. ``2026-05-01T09:30:00Z``; only the fraction of a second differs by
use (the journal keeps microseconds, the emulator's wire answers milliseconds as the API does).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

Precision = Literal["seconds", "milliseconds", "microseconds"]


def utc_now() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def utc_today() -> dt.date:
    """Today's date in UTC (the day exemption expiry is judged against by default)."""
    return utc_now().date()


def rfc3339(moment: dt.datetime | float, precision: Precision = "seconds") -> str:
    """``moment`` (an aware datetime, a naive one taken as UTC, or epoch seconds) as RFC 3339
    UTC text: ``YYYY-MM-DDTHH:MM:SS[.fff|.ffffff]Z``."""
    if isinstance(moment, int | float):
        moment = dt.datetime.fromtimestamp(moment, tz=dt.timezone.utc)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    text = moment.astimezone(dt.timezone.utc).isoformat(timespec=precision)
    return text.replace("+00:00", "Z")


def parse_rfc3339(text: str) -> dt.datetime | None:
    """An RFC 3339 / ISO 8601 timestamp as an aware datetime (no offset: UTC, as the APIs
    speak); None when ``text`` is not one."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
