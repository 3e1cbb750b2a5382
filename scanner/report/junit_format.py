"""report.junit.xml: JUnit XML (the Ant/Surefire shape CI dashboards read), one testcase per
member: FAIL is a ``<failure>``, ERROR an ``<error>``, EXEMPT and SKIPPED a ``<skipped>`` with
the reason, PASS a bare testcase.

``classname`` is the member's folder path and ``name`` its account id and display name, so a
dashboard groups members by folder. Written with ``xml.etree`` (every text and attribute
escaped); characters XML 1.0 cannot hold at all (most C0 controls, lone surrogates) are
replaced by U+FFFD, so a hostile display name cannot make the file unreadable.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..findings import Status
from .control import control_text
from .format import ReportFormat, ReportInput
from .view import row_key

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: object) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def render_junit(data: ReportInput) -> str:
    """The JUnit XML document as text (UTF-8 declaration, trailing newline)."""
    scan = data.scan  # phones masked, free text scrubbed
    ev = scan.evidence
    control = control_text(scan)
    counts = scan.summary
    skipped = counts["EXEMPT"] + counts["SKIPPED"]
    totals = {
        "tests": str(len(scan.results)),
        "failures": str(counts["FAIL"]),
        "errors": str(counts["ERROR"]),
        "skipped": str(skipped),
        "time": "0",
    }
    root = ET.Element("testsuites", {"name": "rdscan", **totals})
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": xml_text(control.id),
            **totals,
            "timestamp": ev.started_at.rstrip("Z"),
            "hostname": xml_text(ev.resource_directory_id),
        },
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("scan_id", ev.scan_id),
        ("resource_directory_id", ev.resource_directory_id),
        ("site", ev.site),
        ("caller_arn", ev.caller.arn),
        ("policy_title", control.title),
        ("policy_digest", ev.policy_digest),
        ("exemptions_ignored", "true" if ev.exemptions_ignored else "false"),
        ("frameworks", ", ".join(control.tags)),
    ):
        ET.SubElement(props, "property", {"name": name, "value": xml_text(value)})
    for r in sorted(scan.results, key=row_key):
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": xml_text(r.folder_path or "(no folder)"),
                "name": xml_text(f"{r.account_id} {r.display_name}".strip()),
                "time": "0",
            },
        )
        detail = xml_text(
            f"{r.result.value}: member {r.account_id} ({r.display_name}), {r.type}, "
            f"severity {r.severity.value}, remediation {r.remediation.value}\n{r.reason}"
        )
        if r.result is Status.FAIL:
            node = ET.SubElement(
                case, "failure", {"message": xml_text(r.reason), "type": r.severity.value}
            )
            node.text = detail
        elif r.result is Status.ERROR:
            node = ET.SubElement(case, "error", {"message": xml_text(r.reason), "type": "ERROR"})
            node.text = detail
        elif r.result in (Status.EXEMPT, Status.SKIPPED):
            ET.SubElement(case, "skipped", {"message": xml_text(f"{r.result.value}: {r.reason}")})
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


FORMAT = ReportFormat(
    name="junit",
    file_name="report.junit.xml",
    help="JUnit XML, one testcase per member, for CI dashboards",
    default=False,
    render=render_junit,
    aliases=("junit-xml",),
)
