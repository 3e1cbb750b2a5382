"""report.csv: one row per member with the report.json fields, safe to open in a spreadsheet.

UTF-8 with a byte-order mark (so spreadsheet programs detect UTF-8), CRLF line ends; every text
cell that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with ``'``
so no formula can run. Numbers we computed (days left) stay numbers.
"""

from __future__ import annotations

import csv
import io

from .format import ReportFormat, ReportInput
from .view import row_key

CSV_COLUMNS: tuple[str, ...] = (
    "account_id",
    "display_name",
    "type",
    "status",
    "folder_id",
    "folder_path",
    "tags",
    "has_secure_mobile_phone",
    "secure_mobile_phone_masked",
    "result",
    "severity",
    "reason",
    "remediation",
    "exemption_scope",
    "exemption_reason",
    "exemption_owner",
    "exemption_ticket",
    "exemption_expires",
    "exemption_expired",
    "exemption_days_left",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str | int:
    """A spreadsheet cannot read a formula out of this cell (text only; ints stay numbers)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _bool(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def render_csv(data: ReportInput) -> str:
    """One row per member (report.json fields, exemption flattened); starts with a UTF-8 BOM."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in sorted(data.scan.results, key=row_key):
        ex = r.exemption
        writer.writerow(
            [
                csv_safe(v)
                for v in (
                    r.account_id,
                    r.display_name,
                    r.type,
                    r.member_status,
                    r.folder_id,
                    r.folder_path,
                    ";".join(f"{k}={v}" for k, v in r.tags),
                    _bool(r.has_secure_mobile_phone),
                    r.secure_mobile_phone_masked or "",
                    r.result.value,
                    r.severity.value,
                    r.reason,
                    r.remediation.value,
                    ex.scope if ex else "",
                    ex.reason if ex else "",
                    ex.owner if ex else "",
                    ex.ticket if ex else "",
                    ex.expires if ex else "",
                    _bool(ex.expired) if ex else "",
                    ex.days_left if ex else "",
                )
            ]
        )
    return buf.getvalue()


FORMAT = ReportFormat(
    name="csv",
    file_name="report.csv",
    help="one row per member, for spreadsheets",
    render=render_csv,
)
