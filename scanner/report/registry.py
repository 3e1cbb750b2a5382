"""The one list of report formats. Adding a format: write its module (a renderer and a
``FORMAT = ReportFormat(...)``), then add ``FORMAT`` to ``REGISTERED`` below. ``scan``,
``report`` and ``demo`` take their ``--format`` choices, file names and help text from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import ConfigError
from . import (
    action_plan_format,
    csv_format,
    html_format,
    json_format,
    junit_format,
    markdown_format,
    ocsf_format,
    sarif_format,
)
from .format import ReportFormat

REGISTERED: tuple[ReportFormat, ...] = (
    html_format.FORMAT,
    markdown_format.FORMAT,
    json_format.FORMAT,
    csv_format.FORMAT,
    action_plan_format.FORMAT,
    sarif_format.FORMAT,
    ocsf_format.FORMAT,
    junit_format.FORMAT,
)

BY_NAME: Mapping[str, ReportFormat] = {f.name: f for f in REGISTERED}
FORMATS: tuple[str, ...] = tuple(f.name for f in REGISTERED)  # every format, in this order
DEFAULT_FORMATS: tuple[str, ...] = tuple(f.name for f in REGISTERED if f.default)
RERENDERABLE: tuple[str, ...] = tuple(f.name for f in REGISTERED if not f.record)
DEFAULT_RERENDERED: tuple[str, ...] = tuple(n for n in RERENDERABLE if BY_NAME[n].default)
FILE_NAMES: Mapping[str, str] = {f.name: f.file_name for f in REGISTERED}
RECORD: ReportFormat = next(f for f in REGISTERED if f.record)

_ALIASES: Mapping[str, str] = {a: f.name for f in REGISTERED for a in (f.name, *f.aliases)}


def parse_formats(value: str | Sequence[str], allowed: Sequence[str] = FORMATS) -> list[str]:
    """``"html,md"`` or ``["html", "md"]`` -> ``["html", "md"]`` (aliases resolved, duplicates
    dropped, order kept); an unknown or disallowed name, or none at all: ConfigError."""
    items = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for item in items:
        text = item.strip().lower()
        if not text:
            continue
        name = _ALIASES.get(text, text)
        if name not in allowed:
            raise ConfigError(
                f"unknown report format {item.strip()!r}",
                hint=f"use a comma-separated list of: {', '.join(allowed)}",
            )
        if name not in names:
            names.append(name)
    if not names:
        raise ConfigError(
            "no report format given", hint=f"use one or more of: {', '.join(allowed)}"
        )
    return names


def format_help(allowed: Sequence[str] = FORMATS) -> str:
    """``--format`` help: the choices, each with its file and what it is for."""
    parts = [f"{n} ({BY_NAME[n].file_name}: {BY_NAME[n].help})" for n in allowed]
    return "Comma-separated report formats to write: " + "; ".join(parts) + "."
