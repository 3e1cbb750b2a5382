"""The report stage: a scan made into files for people and machines.

``format`` (what a format is: ``ReportFormat``, and ``ReportInput``, the masked scan every
renderer takes), ``registry`` (the one list of formats), one module per format
(``html_format``, ``markdown_format``, ``json_format``, ``csv_format``), ``view`` (the display
values HTML and Markdown share), ``templates`` (jinja2 loading), ``svg`` (charts),
``md_escape`` (Markdown escaping), ``results_file`` (report.json read back), ``writer`` (the
one place files are written). Renderers return strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..findings import RemediationOutcome, ScanResult
from .csv_format import CSV_COLUMNS, csv_safe
from .format import ReportFormat, ReportInput
from .registry import (
    BY_NAME,
    DEFAULT_FORMATS,
    DEFAULT_RERENDERED,
    FILE_NAMES,
    FORMATS,
    RERENDERABLE,
    format_help,
    parse_formats,
)
from .writer import (
    check_output_dir,
    remove_other_reports,
    render_rerendered,
    sha256_hex,
    write_reports,
    write_rerendered,
)

__all__ = [
    "BY_NAME",
    "CSV_COLUMNS",
    "DEFAULT_FORMATS",
    "DEFAULT_RERENDERED",
    "FILE_NAMES",
    "FORMATS",
    "RERENDERABLE",
    "ReportFormat",
    "ReportInput",
    "check_output_dir",
    "csv_safe",
    "format_help",
    "parse_formats",
    "remove_other_reports",
    "render",
    "render_rerendered",
    "sha256_hex",
    "write_reports",
    "write_rerendered",
]


def render(
    name: str,
    scan: ScanResult,
    source_sha256: str = "",
    remediations: Sequence[RemediationOutcome] = (),
    *,
    templates_dir: Path | None = None,
) -> str:
    """One format's text for ``scan`` (masked here), without writing anything."""
    (fmt,) = parse_formats(name)
    return BY_NAME[fmt].render(ReportInput.of(scan, source_sha256, remediations, templates_dir))
