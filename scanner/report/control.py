"""The control a scan checked, as the machine formats describe it (SARIF rule, OCSF
compliance, JUnit suite): id, title, rationale, remediation and the framework items it supports.

Pure: built from report.json's ``scan.policy`` and ``scan.frameworks``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..findings import FrameworkItem, ScanResult


@dataclass(frozen=True)
class ControlText:
    id: str
    title: str
    rationale: str
    remediation: str
    items: tuple[FrameworkItem, ...]

    @property
    def standards(self) -> tuple[str, ...]:
        """``"ISO/IEC 27001 Annex A 2022"``, each framework once, in mapping order."""
        return tuple(dict.fromkeys(f"{i.framework} {i.version}" for i in self.items))

    @property
    def tags(self) -> tuple[str, ...]:
        """``"iso27001:A.8.5"`` for each framework item (short, stable, for CI dashboards)."""
        return tuple(f"{i.framework_key}:{i.id}" for i in self.items)


def control_text(scan: ScanResult) -> ControlText:
    ev = scan.evidence
    mapping = ev.frameworks
    return ControlText(
        id=ev.policy_id,
        title=ev.policy_title or ev.policy_id,
        rationale=" ".join(ev.policy_rationale.split()),
        remediation=ev.policy_remediation.strip(),
        items=mapping.items if mapping else (),
    )
