"""action-plan.csv: the work list a team fills in. One row per FAIL member, most severe and
longest failing first, with what to do (remediation path ``api``: ``rdscan remediate``;
``manual``: the member's owner binds a phone in the console) and two empty columns, ``owner``
and ``due_date``, for the team to assign.

``days_failing`` comes from the scan history (the start of the member's unbroken run of FAIL
scans, ``report.json`` ``first_failed_at``); it is empty when the scan was not recorded in a
history (unknown, never a guess). Same file conventions as report.csv: UTF-8 with a
byte-order mark, CRLF, and every text cell that could start a formula prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from ..findings import Remediation, Result, ScanResult, Status, days_between
from ..i18n import N_
from .csv_format import csv_safe
from .format import ReportFormat, ReportInput

ACTION_PLAN_COLUMNS: tuple[str, ...] = (
    N_("account_id"),
    N_("display_name"),
    N_("folder_path"),
    N_("member_type"),
    N_("severity"),
    N_("remediation_path"),
    N_("action"),
    N_("days_failing"),
    N_("failing_since"),
    N_("reason"),
    N_("expired_exemption"),
    N_("owner"),
    N_("due_date"),
)


def _action(r: Result, _: Callable[[str], str]) -> str:
    if r.remediation is Remediation.API:
        return _("rdscan remediate --from report.json --account %(id)s") % {"id": r.account_id}
    if r.remediation is Remediation.MANUAL:
        return _(
            "the member's owner binds a secure mobile phone in its console (Security Settings)"
        )
    return _("review")


def _since(scan: ScanResult, r: Result) -> tuple[str, int | None]:
    if scan.history is None:
        return "", None
    first = scan.history.first_failed_at.get(r.account_id, scan.evidence.started_at)
    return first, days_between(first, scan.evidence.started_at)


def render_action_plan(data: ReportInput) -> str:
    scan = data.scan
    rows = []
    for r in scan.results:
        if r.result is not Status.FAIL:
            continue
        first, days = _since(scan, r)
        rows.append((r, first, days))
    rows.sort(
        key=lambda x: (-x[0].severity.rank, -(x[2] if x[2] is not None else -1), x[0].folder_path)
    )
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    _ = data._
    writer.writerow([_(c) for c in ACTION_PLAN_COLUMNS])
    for r, first, days in rows:
        ex = r.exemption
        writer.writerow(
            [
                csv_safe(v)
                for v in (
                    r.account_id,
                    r.display_name,
                    r.folder_path,
                    r.type,
                    r.severity.value,
                    r.remediation.value,
                    _action(r, _),
                    days if days is not None else "",
                    first[:10],
                    data.reason(r),
                    _("%(scope)s (expired %(date)s)") % {"scope": ex.scope, "date": ex.expires}
                    if ex and ex.expired
                    else "",
                    "",
                    "",
                )
            ]
        )
    return buf.getvalue()


FORMAT = ReportFormat(
    name="action-plan",
    file_name="action-plan.csv",
    help="every FAIL with what to do and empty owner / due-date columns for the team",
    render=render_action_plan,
    aliases=("actions",),
    default=False,
)
