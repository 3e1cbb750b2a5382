"""report.json: the record of a scan (schema_version 1; every key in docs/report-json.md).

Always written by a scan, first; the other formats name it by the SHA-256 of its exact bytes,
and ``rdscan report`` re-renders them from it. Reading it back: ``results_file``.
"""

from __future__ import annotations

from .format import ReportFormat, ReportInput
from .results_file import dumps


def render_json(data: ReportInput) -> str:
    """report.json's text: the evidence indented, one member per line, UTF-8 (not ASCII-escaped),
    one trailing newline."""
    return dumps(data.scan)


FORMAT = ReportFormat(
    name="json",
    file_name="report.json",
    help="the record: every member, result and the evidence (always written)",
    render=render_json,
    record=True,
)
