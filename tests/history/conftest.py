"""Small scans for history tests."""

from __future__ import annotations

from scanner.findings import (
    Caller,
    Evidence,
    ExemptionInfo,
    Remediation,
    Result,
    ScanResult,
    Severity,
    Status,
)


def make_result(
    account_id: str, status: Status, name: str = "member", *, expires: str | None = None
) -> Result:
    exemption = None
    if expires is not None:
        exemption = ExemptionInfo(
            scope=f"account:{account_id}",
            reason="r",
            owner="o",
            ticket="T-1",
            expires=expires,
            expired=status is Status.FAIL,
            days_left=0,
        )
    return Result(
        account_id=account_id,
        display_name=name,
        type="ResourceAccount",
        member_status="CreateSuccess",
        folder_path="Root/Prod",
        has_secure_mobile_phone=status is Status.PASS,
        secure_mobile_phone_masked="86-139****1234" if status is Status.PASS else None,
        result=status,
        severity=Severity.HIGH,
        reason=f"{status.value} reason",
        remediation=Remediation.API if status is Status.FAIL else Remediation.NONE,
        exemption=exemption,
    )


def make_scan(
    scan_id: str, started: str, results: list[Result], directory_id: str = "rd-1"
) -> ScanResult:
    return ScanResult(
        evidence=Evidence(
            scan_id=scan_id,
            started_at=started,
            finished_at=started,
            tool_version="0.1.0",
            site="cn",
            caller=Caller("acs:ram::1:user/auditor", "1", "RAMUser"),
            resource_directory_id=directory_id,
            master_account_id="1",
            policy_id="secure-mobile-phone",
            policy_digest="sha256:00",
        ),
        results=tuple(results),
    )
