"""report.ocsf.json: OCSF 1.5.0 Compliance Finding events (class_uid 2003), one per member.

Shaped the way Prowler emits OCSF for cloud posture checks: a JSON array of findings, each with
``metadata.product`` naming the tool, ``finding_info.uid`` unique per scan and member,
``cloud.provider``, the member as the one ``resources`` entry, and ``compliance`` carrying the
control, the standards it supports and the result (``status_id`` 1 Pass, 3 Fail, 2 Warning for a
member that could not be evaluated, 99 Other for EXEMPT and SKIPPED, with ``status`` saying
which). An EXEMPT member's finding is ``status_id`` 3 (Suppressed) in the finding life cycle.
Times are epoch milliseconds (OCSF ``timestamp_t``). Source: ocsf/ocsf-schema tag 1.5.0
(events/findings/compliance_finding.json, objects/compliance.json).
"""

from __future__ import annotations

import json
from typing import Any

from ..clock import parse_rfc3339
from ..errors import ConfigError
from ..findings import Result, ScanResult, Severity, Status
from .control import ControlText, control_text
from .format import ReportFormat, ReportInput
from .view import row_key

OCSF_VERSION = "1.5.0"
CATEGORY_UID = 2  # Findings
CLASS_UID = 2003  # Compliance Finding
ACTIVITY_CREATE = 1
TYPE_UID = CLASS_UID * 100 + ACTIVITY_CREATE

_SEVERITY_ID = {
    Severity.INFO: (1, "Informational"),
    Severity.LOW: (2, "Low"),
    Severity.MEDIUM: (3, "Medium"),
    Severity.HIGH: (4, "High"),
    Severity.CRITICAL: (5, "Critical"),
}
_COMPLIANCE = {
    Status.PASS: (1, "Pass"),
    Status.FAIL: (3, "Fail"),
    Status.ERROR: (2, "Warning"),
    Status.EXEMPT: (99, "Exempt"),
    Status.SKIPPED: (99, "Skipped"),
}


def _ms(scan: ScanResult) -> int:
    """The scan's end as epoch milliseconds (OCSF ``time`` is required: an unreadable time in
    report.json is a ConfigError, never a made-up value)."""
    ev = scan.evidence
    moment = parse_rfc3339(ev.finished_at) or parse_rfc3339(ev.started_at)
    if moment is None:
        raise ConfigError(
            f"report.json's scan time {ev.finished_at!r} is not an RFC 3339 time, and OCSF "
            "findings need one",
            hint="re-run the scan, or write the other formats only",
        )
    return int(moment.timestamp() * 1000)


def _finding(r: Result, scan: ScanResult, control: ControlText, when: int) -> dict[str, Any]:
    ev = scan.evidence
    severity_id, severity = _SEVERITY_ID[r.severity]
    status_id, status = _COMPLIANCE[r.result]
    exempt = r.result is Status.EXEMPT
    return {
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": TYPE_UID,
        "type_name": "Compliance Finding: Create",
        "time": when,
        "severity_id": severity_id,
        "severity": severity,
        "status_id": 3 if exempt else 1,
        "status": "Suppressed" if exempt else "New",
        "status_code": r.result.value,
        "status_detail": r.reason,
        "message": f"{r.result.value}: member {r.account_id} ({r.display_name})",
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": "rdscan",
                "vendor_name": "rdscan",
                "version": ev.tool_version,
            },
            "event_code": control.id,
            "profiles": ["cloud"],
            "log_name": ev.scan_id,
        },
        "finding_info": {
            "uid": f"rdscan-{ev.scan_id}-{r.account_id}",
            "title": control.title,
            "desc": control.rationale or control.title,
            "types": ["Software and Configuration Checks"],
            "created_time": when,
            "product_uid": control.id,
        },
        "cloud": {
            "provider": "Alibaba Cloud",
            "account": {"uid": r.account_id, "name": r.display_name, "type": r.type},
            "org": {"uid": ev.resource_directory_id, "name": ev.master_account_id},
        },
        "resources": [
            {
                "uid": r.account_id,
                "name": r.display_name,
                "type": f"ResourceDirectory::{r.type or 'Member'}",
                "group": {"name": r.folder_path, "uid": r.folder_id}
                if r.folder_id
                else {"name": r.folder_path},
                "labels": [f"{k}={v}" for k, v in r.tags],
                "data": {
                    "member_status": r.member_status,
                    "has_secure_mobile_phone": r.has_secure_mobile_phone,
                    "secure_mobile_phone_masked": r.secure_mobile_phone_masked,
                    "remediation": r.remediation.value,
                },
            }
        ],
        "compliance": {
            "control": control.id,
            "standards": list(control.standards),
            "requirements": list(control.tags),
            "status_id": status_id,
            "status": status,
            "status_code": r.result.value,
            "status_detail": r.reason,
        },
        "remediation": {"desc": control.remediation or control.title},
        "unmapped": {
            "rdscan": {
                "scan_id": ev.scan_id,
                "caller_arn": ev.caller.arn,
                "site": ev.site,
                "exemption": r.exemption.to_dict() if r.exemption else None,
                "exemptions_ignored": ev.exemptions_ignored,
            }
        },
    }


def render_ocsf(data: ReportInput) -> str:
    """A JSON array of Compliance Finding events, one per member (every member, in report order)."""
    scan = data.scan  # phones masked, free text scrubbed
    control = control_text(scan)
    when = _ms(scan)
    findings = [_finding(r, scan, control, when) for r in sorted(scan.results, key=row_key)]
    return json.dumps(findings, indent=2, ensure_ascii=False) + "\n"


FORMAT = ReportFormat(
    name="ocsf",
    file_name="report.ocsf.json",
    help="OCSF 1.5.0 Compliance Findings, one per member, for security data lakes",
    default=False,
    render=render_ocsf,
)
