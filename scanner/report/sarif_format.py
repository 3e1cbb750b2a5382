"""report.sarif: SARIF 2.1.0 (OASIS, errata 01) for code-scanning dashboards and pipelines.

One run; the tool's single rule is the control (id = policy id; short and full description,
help = the remediation text, tags = the framework items it supports). One result per FAIL member
(``kind: fail``, level by severity) and per ERROR member (``kind: open``, level ``none``: the
check could not decide). The member is a logical location (no file): ``fullyQualifiedName`` is
``<folder path>/<account id>``. Only ``text`` messages are written (never ``markdown``), so no
value from the API or a policy file is ever rendered as markup; JSON encoding escapes the rest.
Schema: ``sarif-schema-2.1.0.json`` of oasis-tcs/sarif-spec (validated in tests).
"""

from __future__ import annotations

import json
from typing import Any

from ..findings import Result, Severity, Status
from .control import control_text
from .format import ReportFormat, ReportInput
from .view import row_key

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SARIF_VERSION = "2.1.0"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning reads "security-severity" (0.0-10.0) from a rule's properties.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def _result(r: Result, directory_id: str) -> dict[str, Any]:
    failed = r.result is Status.FAIL
    location = f"{r.folder_path or '(no folder)'}/{r.account_id}"
    out: dict[str, Any] = {
        "ruleId": "",  # filled by the caller
        "ruleIndex": 0,
        "kind": "fail" if failed else "open",
        "level": _LEVEL[r.severity] if failed else "none",
        "message": {
            "text": (
                f"Member {r.account_id} ({r.display_name}): {r.reason}"
                if failed
                else f"Member {r.account_id} ({r.display_name}) could not be evaluated: {r.reason}"
            )
        },
        "locations": [
            {
                "logicalLocations": [
                    {
                        "name": r.account_id,
                        "fullyQualifiedName": location,
                        "kind": "resource",
                    }
                ]
            }
        ],
        "partialFingerprints": {"rdscanMember/v1": f"{directory_id}/{r.account_id}"},
        "properties": {
            "accountId": r.account_id,
            "displayName": r.display_name,
            "memberType": r.type,
            "folderPath": r.folder_path,
            "result": r.result.value,
            "severity": r.severity.value,
            "remediation": r.remediation.value,
        },
    }
    return out


def render_sarif(data: ReportInput) -> str:
    """The SARIF log as JSON text (two-space indent, UTF-8, trailing newline)."""
    scan = data.scan  # phones masked, free text scrubbed
    ev = scan.evidence
    control = control_text(scan)
    results = []
    for r in sorted(scan.results, key=row_key):
        if r.result not in (Status.FAIL, Status.ERROR):
            continue
        item = _result(r, ev.resource_directory_id)
        item["ruleId"] = control.id
        results.append(item)
    severity = max((r.severity for r in scan.results), key=lambda s: s.rank, default=Severity.HIGH)
    rule = {
        "id": control.id,
        "name": "".join(p.capitalize() for p in control.id.replace("_", "-").split("-")),
        "shortDescription": {"text": control.title},
        "fullDescription": {"text": control.rationale or control.title},
        "help": {"text": control.remediation or control.title},
        "defaultConfiguration": {"level": _LEVEL[severity]},
        "properties": {
            "tags": ["security", "compliance", *control.tags],
            "security-severity": _SECURITY_SEVERITY[severity],
            "frameworks": [
                {
                    "framework": i.framework,
                    "version": i.version,
                    "id": i.id,
                    "title": i.title,
                    "relation": i.relation,
                }
                for i in control.items
            ],
        },
    }
    counts = scan.summary
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "rdscan",
                        "version": ev.tool_version,
                        "semanticVersion": ev.tool_version,
                        "rules": [rule],
                    }
                },
                "automationDetails": {"id": f"rdscan/{ev.resource_directory_id}/{ev.scan_id}"},
                "invocations": [
                    {
                        "executionSuccessful": counts["ERROR"] == 0,
                        "startTimeUtc": ev.started_at,
                        "endTimeUtc": ev.finished_at,
                        "properties": {
                            "callerArn": ev.caller.arn,
                            "site": ev.site,
                            "resourceDirectoryId": ev.resource_directory_id,
                            "policyDigest": ev.policy_digest,
                            "exemptionsIgnored": ev.exemptions_ignored,
                        },
                    }
                ],
                "results": results,
                "properties": {"summary": counts},
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


FORMAT = ReportFormat(
    name="sarif",
    file_name="report.sarif",
    help="SARIF 2.1.0 for code-scanning dashboards (FAIL and ERROR members)",
    default=False,
    render=render_sarif,
)
